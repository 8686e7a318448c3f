#pragma once
/// @file
/// A mail the GEC posts to `mails`: its JSON body, split by a BodySplitter,
/// checked once, and the w.c.s. demand it opens. The scanned document's
/// base64 text goes from the body into the demand's data as it is (w.c.s.
/// file fields take base64): the splitter checks it without decoding it,
/// and says where it goes in the data (GruDemand::document_at).

#include <cstddef>
#include <variant>

#include "core/connector.hpp"
#include "mail/body_splitter.hpp"
#include "mail/mail_spec.hpp"
#include "rest/parameters.hpp"

namespace relais::mail {

/// A posted mail, accepted.
struct ReceivedMail {
    /// formdef, channel, reference, data_json and document_at (between
    /// the quotes of the document's `b64_content`, "" in data_json), for
    /// ConnectorServices::submit_demand (request_id and the stored document
    /// are left to the caller).
    GruDemand demand;
    std::size_t document_bytes = 0;  ///< decoded size of the document
};

/// Checks the body of a `mails` call, split by a BodySplitter for
/// `inbound.document` (which checked the document's text), and builds its
/// demand. data_json is `{<document_field>: {"filename", "content_type":
/// "application/pdf", "b64_content"}, <reference_field>: <reference>,
/// <field>: <metadata>…}`. Refusals, whose descriptions name pointers and
/// metadata, never values: invalid_json (the skeleton is not a JSON
/// object), missing_parameter (no reference or document), invalid_parameter
/// (a reference, document, file name or metadata value of the wrong shape).
std::variant<ReceivedMail, rest::CallError> read_mail(const InboundSpec& inbound,
                                                      const DemandSpec& demand,
                                                      const SplitBody& body);

}  // namespace relais::mail
