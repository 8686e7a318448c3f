#pragma once
/// @file
/// What a business application sends relais about demands — a status report
/// (`callbacks:`) or a new demand for the GRU core (`demands:`) — in one
/// form whatever the protocol: the REST routes read it from JSON, the SOAP
/// service from its envelope, and both hand it to the same checks and to
/// the same delivery code (server/delivery_routes.hpp). See docs/delivery.md.

#include <rapidjson/fwd.h>

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/delivery_settings.hpp"
#include "core/http_types.hpp"

namespace relais::server {

/// One named value of a report or a demand.
struct NamedValue {
    std::string name;
    std::string json;  ///< the value, serialized as JSON
};

/// A status report. A member the caller did not send is nullopt.
struct StatusReport {
    std::optional<std::string> reference;
    std::optional<std::string> status;
    std::optional<std::string> message;
    std::vector<NamedValue> fields;  ///< in the order received
};

/// A demand to open in the GRU core.
struct DemandCall {
    std::optional<std::string> reference;  ///< the business reference, if any
    std::vector<NamedValue> fields;        ///< form varname -> value, in the order received
};

/// A value read from a caller's message, or the refusal to answer.
template <typename T>
using ReadOrRefused = std::variant<T, HttpResponse>;

/// A report from a JSON body: `{"reference", "status", "message"?,
/// "fields"?: {name: any JSON}}`. Refuses what is not a JSON object
/// (invalid-json), members of the wrong type and unknown members
/// (invalid-parameter). Presence and lengths are checked by check_report.
ReadOrRefused<StatusReport> read_report_json(std::string_view body);

/// A demand from a JSON body: `{"reference"?, "fields"?: {name: string,
/// number, boolean or null}}`, refused as read_report_json does.
ReadOrRefused<DemandCall> read_demand_json(std::string_view body);

/// Member `name` of the JSON object `object` as an identifier (a report's
/// reference or status, a closed demand's reference): a string of 1 to 256
/// bytes. Absent: missing-parameter; anything else: invalid-parameter.
ReadOrRefused<std::string> read_identifier(const rapidjson::Value& object, std::string_view name);

/// The checks every report passes, REST or SOAP: reference and status
/// present (missing-parameter) and of 1 to 256 bytes, only fields declared
/// in `callbacks.fields`, none twice (invalid-parameter). nullopt: accepted.
std::optional<HttpResponse> check_report(const CallbackSpec& callbacks, const StatusReport& report);

/// The checks every demand passes: a reference, if any, of 1 to 256 bytes
/// without control characters, only fields declared in `demands.fields`,
/// none twice (invalid-parameter). nullopt: accepted.
std::optional<HttpResponse> check_demand(const DemandSpec& demands, const DemandCall& demand);

/// The body relayed to the GRU for a checked report: reference, status,
/// message and the fields, flat in one JSON object.
std::string trigger_body(const StatusReport& report);

/// The `data` object of a checked demand: its fields as one JSON object.
std::string demand_data(const DemandCall& demand);

}  // namespace relais::server
