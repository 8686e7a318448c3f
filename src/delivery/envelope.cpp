#include "delivery/envelope.hpp"

#include <rapidjson/document.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/url_encoding.hpp"

namespace relais::delivery {

namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void write_member(JsonWriter& writer, std::string_view name, std::string_view value) {
    writer.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

std::string text_of(const rapidjson::StringBuffer& buffer) {
    return {buffer.GetString(), buffer.GetSize()};
}

/// The object `text` holds, or a non-object document if it is not one.
rapidjson::Document parse_object(std::string_view text) {
    rapidjson::Document document;
    document.Parse(text.data(), text.size());
    if (document.HasParseError() || !document.IsObject()) {
        document.SetNull();
    }
    return document;
}

/// The string member `name` of `object`; nullopt if absent or not a string.
std::optional<std::string> string_member(const rapidjson::Value& object, const char* name) {
    const auto member = object.FindMember(name);
    if (member == object.MemberEnd() || !member->value.IsString()) {
        return std::nullopt;
    }
    return std::string(member->value.GetString(), member->value.GetStringLength());
}

constexpr std::string_view trigger_path = "jump/trigger/";

}  // namespace

// The push message is opaque bytes (a connector may store anything), and
// JSON strings are text: it travels as base64.
std::string encode(const PushEnvelope& envelope) {
    rapidjson::StringBuffer buffer;
    JsonWriter writer(buffer);
    writer.StartObject();
    write_member(writer, "demand_url", envelope.demand_url);
    const std::string message = base64_encode(
        {reinterpret_cast<const unsigned char*>(envelope.message.data()), envelope.message.size()});
    write_member(writer, "message", message);
    writer.EndObject();
    return text_of(buffer);
}

std::string encode(const TriggerEnvelope& envelope) {
    rapidjson::StringBuffer buffer;
    JsonWriter writer(buffer);
    writer.StartObject();
    write_member(writer, "url", envelope.url);
    write_member(writer, "body", envelope.body);
    write_member(writer, "reference", envelope.reference);
    writer.Key("terminal");
    writer.Bool(envelope.terminal);
    writer.EndObject();
    return text_of(buffer);
}

std::string demand_head(std::string_view url, std::string_view reference,
                        std::optional<std::size_t> document_at) {
    rapidjson::StringBuffer buffer;
    JsonWriter writer(buffer);
    writer.StartObject();
    write_member(writer, "url", url);
    write_member(writer, "reference", reference);
    if (document_at) {
        writer.Key("document_at");
        writer.Uint64(*document_at);
    }
    writer.EndObject();
    return text_of(buffer) + '\n';
}

std::string trigger_url(std::string_view demand_url, std::string_view trigger) {
    std::string url(demand_url);
    url.append(trigger_path).append(trigger).append(1, '/');
    return url;
}

std::string_view demand_url_of(std::string_view trigger_url) {
    return trigger_url.substr(0, trigger_url.rfind(trigger_path));
}

std::optional<PushEnvelope> decode_push(std::string_view text) {
    const rapidjson::Document document = parse_object(text);
    if (!document.IsObject()) {
        return std::nullopt;
    }
    auto demand_url = string_member(document, "demand_url");
    const auto message = string_member(document, "message");
    if (!demand_url || !message) {
        return std::nullopt;
    }
    auto bytes = base64_decode(*message);
    if (!bytes) {
        return std::nullopt;
    }
    return PushEnvelope{std::move(*demand_url), std::move(*bytes)};
}

std::optional<TriggerEnvelope> decode_trigger(std::string_view text) {
    const rapidjson::Document document = parse_object(text);
    if (!document.IsObject()) {
        return std::nullopt;
    }
    auto url = string_member(document, "url");
    auto body = string_member(document, "body");
    auto reference = string_member(document, "reference");
    const auto terminal = document.FindMember("terminal");
    if (!url || !body || !reference || terminal == document.MemberEnd() ||
        !terminal->value.IsBool()) {
        return std::nullopt;
    }
    return TriggerEnvelope{std::move(*url), std::move(*body), std::move(*reference),
                           terminal->value.GetBool()};
}

std::optional<DemandEnvelope> decode_demand(std::string_view text) {
    rapidjson::MemoryStream stream(text.data(), text.size());
    rapidjson::Document head;
    head.ParseStream<rapidjson::kParseStopWhenDoneFlag>(stream);
    if (head.HasParseError() || !head.IsObject()) {
        return std::nullopt;
    }
    auto url = string_member(head, "url");
    if (!url) {
        return std::nullopt;
    }
    const std::string_view rest = text.substr(stream.Tell());
    // Demands queued before the body followed the head kept it inside.
    if (rest.empty()) {
        auto body = string_member(head, "body");
        if (!body) {
            return std::nullopt;
        }
        return DemandEnvelope{std::move(*url), std::move(*body), {}};
    }
    auto reference = string_member(head, "reference");
    if (!reference || rest.front() != '\n') {
        return std::nullopt;
    }
    DemandEnvelope envelope{std::move(*url), std::string(rest.substr(1)), std::move(*reference)};
    if (const auto at = head.FindMember("document_at"); at != head.MemberEnd()) {
        if (!at->value.IsUint64() || at->value.GetUint64() > envelope.body.size()) {
            return std::nullopt;
        }
        envelope.document_at = static_cast<std::size_t>(at->value.GetUint64());
    }
    return envelope;
}

}  // namespace relais::delivery
