#include "outbox/message_json.hpp"

#include "auth/publik_signature.hpp"
#include "core/http_types.hpp"

namespace relais::outbox {

namespace {

void member(std::string& out, std::string_view name) {
    out += out.size() > 1 ? "," : "";
    append_json_string(out, name);
    out += ':';
}

void string_member(std::string& out, std::string_view name, std::string_view value) {
    member(out, name);
    append_json_string(out, value);
}

void time_member(std::string& out, std::string_view name, Clock::time_point t) {
    string_member(out, name, auth::format_timestamp(t));
}

}  // namespace

std::string to_json(const MessageInfo& info, Audience audience) {
    std::string out = "{";
    string_member(out, "tracking_id", info.tracking_id);
    if (audience == Audience::operator_) {
        string_member(out, "family", info.family);
    }
    string_member(out, "kind", name(info.kind));
    string_member(out, "connector", info.connector);
    string_member(out, "endpoint", info.endpoint);
    string_member(out, "state", name(info.state));
    member(out, "attempts");
    out += std::to_string(info.attempts);
    member(out, "last_status");
    out += std::to_string(info.last_status);
    string_member(out, "error_class", info.error_class);
    string_member(out, "reason", info.reason);
    time_member(out, "created", info.created);
    time_member(out, "updated", info.updated);
    if (info.state == State::pending) {
        time_member(out, "next_attempt", info.next_attempt);
    }
    if (info.payload_erase_at) {
        time_member(out, "payload_erase_at", *info.payload_erase_at);
    }
    if (audience == Audience::operator_) {
        string_member(out, "request_id", info.request_id);
        member(out, "has_payload");
        out += info.has_payload ? "true" : "false";
    }
    out += '}';
    return out;
}

}  // namespace relais::outbox
