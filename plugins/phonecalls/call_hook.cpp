#include "phonecalls/call_hook.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/json.hpp"

namespace relais::phonecalls {

namespace {

constexpr std::string_view data_prefix = "data.";

std::string text_of(const rapidjson::Value& value) {
    return {value.GetString(), value.GetStringLength()};
}

HookField read_field(const ConnectorSource& source,
                     const rapidjson::Value::ConstMemberIterator& m) {
    HookField field;
    field.varname = text_of(m->name);
    const std::string from = text_of(m->value);
    if (from == "caller") {
        field.source = HookField::Source::caller;
    } else if (from == "callee") {
        field.source = HookField::Source::callee;
    } else if (from.starts_with(data_prefix) && from.size() > data_prefix.size()) {
        field.source = HookField::Source::data;
        field.data_name = from.substr(data_prefix.size());
    } else {
        // The schema's pattern admits nothing else: reached only by a file
        // that skipped it (unit tests).
        throw source.error_at("/on_call_start/fields/" + field.varname,
                              "a field comes from caller, callee or data.<name>");
    }
    return field;
}

void write_string(rapidjson::Writer<rapidjson::StringBuffer>& writer, std::string_view text) {
    writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

bool is_scalar(const rapidjson::Value& value) noexcept {
    return value.IsString() || value.IsBool() || value.IsNumber();
}

void write_scalar(rapidjson::Writer<rapidjson::StringBuffer>& writer,
                  const rapidjson::Value& value) {
    if (value.IsString()) {
        writer.String(value.GetString(), value.GetStringLength());
    } else if (value.IsBool()) {
        writer.Bool(value.GetBool());
    } else if (value.IsInt64()) {
        writer.Int64(value.GetInt64());
    } else if (value.IsUint64()) {
        writer.Uint64(value.GetUint64());
    } else {
        writer.Double(value.GetDouble());
    }
}

}  // namespace

std::optional<CallHook> read_call_hook(const ConnectorSource& source) {
    const auto it = source.document.FindMember("on_call_start");
    if (it == source.document.MemberEnd() || !it->value.IsObject()) {
        return std::nullopt;
    }
    const rapidjson::Value& spec = it->value;
    CallHook hook;
    if (const auto formdef = spec.FindMember("formdef");
        formdef != spec.MemberEnd() && formdef->value.IsString()) {
        hook.formdef = text_of(formdef->value);
    }
    if (const auto channel = spec.FindMember("channel");
        channel != spec.MemberEnd() && channel->value.IsString()) {
        hook.channel = text_of(channel->value);
    }
    if (const auto fields = spec.FindMember("fields");
        fields != spec.MemberEnd() && fields->value.IsObject()) {
        for (auto m = fields->value.MemberBegin(); m != fields->value.MemberEnd(); ++m) {
            if (m->value.IsString()) {
                hook.fields.push_back(read_field(source, m));
            }
        }
    }
    if (hook.formdef.empty() || hook.fields.empty()) {
        throw source.error_at("/on_call_start", "on_call_start needs a formdef and fields");
    }
    return hook;
}

GruDemand hook_demand(const CallHook& hook, std::string_view caller, std::string_view callee,
                      std::string_view data_json, std::string request_id) {
    rapidjson::Document data;
    // The call book's own serialization: a failure means no data to take from.
    if (!parse_untrusted_object(data_json, data)) {
        data.SetObject();
    }
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.StartObject();
    for (const HookField& field : hook.fields) {
        switch (field.source) {
            case HookField::Source::caller:
                write_string(writer, field.varname);
                write_string(writer, caller);
                break;
            case HookField::Source::callee:
                write_string(writer, field.varname);
                write_string(writer, callee);
                break;
            case HookField::Source::data: {
                const auto member = data.FindMember(
                    rapidjson::StringRef(field.data_name.data(),
                                         static_cast<rapidjson::SizeType>(field.data_name.size())));
                if (member == data.MemberEnd() || !is_scalar(member->value)) {
                    break;
                }
                write_string(writer, field.varname);
                write_scalar(writer, member->value);
                break;
            }
        }
    }
    writer.EndObject();
    return GruDemand{hook.formdef,
                     std::string(buffer.GetString(), buffer.GetSize()),
                     hook.channel,
                     std::move(request_id),
                     {}};
}

}  // namespace relais::phonecalls
