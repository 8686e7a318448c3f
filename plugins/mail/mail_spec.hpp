#pragma once
/// @file
/// The typed form of a `kind: mail` connector file (schemas/mail.schema.json),
/// built once when the connector is created: the GEC's upstream block and
/// notification templates (those of kind rest), the JSON Pointers of a
/// posted mail, and the demand each mail opens, with every name resolved
/// to an index.

#include <rapidjson/pointer.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/connector.hpp"
#include "rest/json_template.hpp"
#include "rest/parameters.hpp"
#include "rest/text_template.hpp"
#include "rest/upstream_spec.hpp"

namespace relais::mail {

/// `inbound.max_document_bytes` when absent: 20 MiB.
inline constexpr std::size_t default_max_document_bytes = 20 * 1024 * 1024;
/// Room a posted mail has besides its base64 document (reference, file
/// name, metadata, JSON syntax).
inline constexpr std::size_t metadata_allowance = 256 * 1024;
/// Longest file name of a document, in bytes.
inline constexpr std::size_t max_filename_bytes = 255;
/// File name of a document whose mail gives none.
inline constexpr std::string_view default_filename = "courrier.pdf";

/// A value of a JSON body, found by a pointer compiled at load.
struct BodyValue {
    std::string pointer_text;  ///< as written in YAML, for refusals
    rapidjson::Pointer pointer;
};

/// `inbound:` — how to read a mail the GEC posts.
struct InboundSpec {
    std::size_t max_document_bytes = default_max_document_bytes;  ///< decoded
    BodyValue reference;
    BodyValue document;
    std::optional<BodyValue> filename;
    struct Metadata {
        std::string name;
        BodyValue value;
    };
    std::vector<Metadata> metadata;  ///< in the YAML order
};

/// `demand:` — the w.c.s. demand each mail opens.
struct DemandSpec {
    std::string formdef;
    std::string channel = "mail";
    std::string document_field;   ///< varname of the file field
    std::string reference_field;  ///< varname receiving the reference
    struct Field {
        std::string varname;
        std::size_t metadata = 0;  ///< index in InboundSpec::metadata
    };
    std::vector<Field> fields;  ///< in the YAML order
};

/// `notify:` — the request sent to the GEC when the GRU closes a demand,
/// made of kind rest's templates. `{reference}` is parameter 0 of
/// `parameters`; `{body:…}` values are read with `body_pointers`.
struct NotifySpec {
    std::string method = "POST";
    rest::ParameterList parameters;               ///< `reference` alone
    std::vector<std::string> body_pointer_texts;  ///< "" is the whole body
    std::vector<rapidjson::Pointer> body_pointers;
    rest::PathTemplate path;
    rest::HeaderTemplate headers;
    std::optional<rest::JsonTemplate> body;
};

struct MailSpec {
    rest::UpstreamSpec upstream;
    InboundSpec inbound;
    DemandSpec demand;
    NotifySpec notify;
};

/// Builds the spec from a document already valid against the kind's
/// schema. Throws ConfigError at the line of the first semantic error.
MailSpec load_mail_spec(const ConnectorSource& source);

/// The largest body of a `mails` call: the base64 text of the largest
/// document (4 characters per 3 bytes, rounded up) plus metadata_allowance.
std::size_t max_mail_body_bytes(std::size_t max_document_bytes) noexcept;

}  // namespace relais::mail
