#pragma once
/// @file
/// `on_call_start:` of a phonecalls connector: each call that starts opens
/// a demand in the GRU core (e.g. a phone-channel form pre-filled with the
/// caller's number), queued through the core's outbox
/// (ConnectorServices::submit_demand).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/connector.hpp"

namespace relais::phonecalls {

/// One form field of the demand and where its value comes from.
struct HookField {
    enum class Source { caller, callee, data };
    std::string varname;  ///< the w.c.s. field's varname
    Source source = Source::caller;
    std::string data_name;  ///< for Source::data: the member of the call's data
};

struct CallHook {
    std::string formdef;            ///< slug of the w.c.s. form
    std::string channel = "phone";  ///< submission channel
    std::vector<HookField> fields;
};

/// The hook of a connector file valid against phonecalls.schema.json, if it
/// declares one. Throws ConfigError on what the schema cannot check.
std::optional<CallHook> read_call_hook(const ConnectorSource& source);

/// The demand `hook` opens for a call: each field's value, as a JSON object
/// (`data_json` is the call's data, a serialized JSON object). A `data.…`
/// source absent from the call's data, or not a string, number or boolean,
/// leaves its field out.
GruDemand hook_demand(const CallHook& hook, std::string_view caller, std::string_view callee,
                      std::string_view data_json, std::string request_id);

}  // namespace relais::phonecalls
