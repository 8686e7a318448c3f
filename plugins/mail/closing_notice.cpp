#include "mail/closing_notice.hpp"

#include <rapidjson/document.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "delivery/demand.hpp"
#include "rest/body_json.hpp"
#include "rest/text_template.hpp"

namespace relais::mail {

using rest::CallError;

std::variant<rest::StoredPush, CallError> closing_notice(const rest::UpstreamSpec& upstream,
                                                         const NotifySpec& notify,
                                                         std::string_view body) {
    rapidjson::Document json;
    if (auto error = rest::parse_body(body, nullptr, json)) {
        return std::move(*error);
    }
    if (!json.IsObject()) {
        return CallError{ErrorClass::invalid_json, "the body is not a JSON object"};
    }
    const auto member = json.FindMember("reference");
    if (member == json.MemberEnd() || member->value.IsNull()) {
        return CallError{ErrorClass::missing_parameter,
                         "'reference' (the mail's reference) is required"};
    }
    const rapidjson::Value& reference = member->value;
    if (!reference.IsString() || reference.GetStringLength() == 0 ||
        !delivery::is_demand_reference({reference.GetString(), reference.GetStringLength()})) {
        return CallError{
            ErrorClass::invalid_parameter,
            "'reference' must be a string of " + std::string(delivery::demand_reference_rule)};
    }
    std::array<std::optional<rest::TypedValue>, 1> parameters;
    parameters[0].emplace().text.assign(reference.GetString(), reference.GetStringLength());
    std::vector<const rapidjson::Value*> body_values;
    body_values.reserve(notify.body_pointers.size());
    for (const auto& pointer : notify.body_pointers) {
        body_values.push_back(pointer.Get(json));
    }
    const rest::CallValues values{notify.parameters, parameters, notify.body_pointer_texts,
                                  body_values};

    rest::StoredPush push;
    push.method = notify.method;
    if (auto error = notify.path.append_to(push.target, values)) {
        return std::move(*error);
    }
    if (auto error = notify.headers.append_to(push.headers, values)) {
        return std::move(*error);
    }
    if (notify.body) {
        if (auto error = notify.body->render(values, push.body)) {
            return std::move(*error);
        }
        if (find_header(push.headers, "Content-Type") == nullptr &&
            find_header(upstream.headers, "Content-Type") == nullptr) {
            push.headers.push_back(Header{"Content-Type", "application/json"});
        }
    }
    return push;
}

}  // namespace relais::mail
