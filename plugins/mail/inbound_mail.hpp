#pragma once
/// @file
/// A mail the GEC posts to `mails`: its JSON body checked once, and the
/// w.c.s. demand it opens. The scanned document's base64 text goes from the
/// body into the demand's data as it is (w.c.s. file fields take base64):
/// it is checked without being decoded.

#include <cstddef>
#include <string_view>
#include <variant>

#include "core/connector.hpp"
#include "mail/mail_spec.hpp"
#include "rest/parameters.hpp"

namespace relais::mail {

/// A posted mail, accepted.
struct ReceivedMail {
    /// formdef, channel, reference and data_json, for
    /// ConnectorServices::submit_demand (request_id is left to the caller).
    GruDemand demand;
    std::size_t document_bytes = 0;  ///< decoded size of the document
};

/// Checks the body of a `mails` call and builds its demand. data_json is
/// `{<document_field>: {"filename", "content_type": "application/pdf",
/// "b64_content"}, <reference_field>: <reference>, <field>: <metadata>…}`.
/// Refusals, whose descriptions name pointers and metadata, never values:
/// invalid_json (not a JSON object), missing_parameter (no reference or
/// document), invalid_parameter (a reference, document, file name or
/// metadata value of the wrong shape, a document that is not base64 or not
/// a PDF), payload_too_large (a document larger than max_document_bytes).
std::variant<ReceivedMail, rest::CallError> read_mail(const InboundSpec& inbound,
                                                      const DemandSpec& demand,
                                                      std::string_view body);

}  // namespace relais::mail
