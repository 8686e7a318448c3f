#include "phonecalls/call_request.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <string_view>
#include <vector>

#include "core/json.hpp"

namespace relais::phonecalls {

namespace {

constexpr bool is_separator(char c) noexcept {
    return c == ' ' || c == '.' || c == '-' || c == '(' || c == ')';
}

constexpr bool is_dialled(char c) noexcept {
    return (c >= '0' && c <= '9') || c == '*' || c == '#';
}

constexpr bool is_name_char(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
           c == '.' || c == '-';
}

Refusal refuse(ErrorClass error, std::string_view name, std::string_view why) {
    std::string text(name);
    text += ' ';
    text += why;
    return Refusal{error, std::move(text)};
}

/// The only value of parameter `name`; a repeated parameter is refused
/// rather than one of its values picked silently.
Checked<std::string> read_number(const QueryParams& query, std::string_view name) {
    const std::string* found = nullptr;
    for (const auto& [key, value] : query) {
        if (key != name) {
            continue;
        }
        if (found != nullptr) {
            return refuse(ErrorClass::invalid_parameter, name, "is given more than once");
        }
        found = &value;
    }
    if (found == nullptr || found->empty()) {
        return refuse(ErrorClass::missing_parameter, name, "is required");
    }
    if (!is_phone_number(*found)) {
        return refuse(ErrorClass::invalid_parameter, name,
                      "must be a phone number: at most 32 digits, +, *, #, spaces, dots, "
                      "dashes or parentheses");
    }
    return *found;
}

/// The extra query parameters, checked; their values are written later,
/// where their encoding is checked.
Checked<std::vector<const QueryParams::value_type*>> read_extras(const QueryParams& query) {
    std::vector<const QueryParams::value_type*> extras;
    for (const auto& param : query) {
        if (param.first == "caller" || param.first == "callee") {
            continue;
        }
        if (extras.size() == max_extra_parameters) {
            return Refusal{ErrorClass::invalid_parameter,
                           "at most 20 query parameters besides caller and callee are kept as "
                           "the call's data"};
        }
        const std::string& name = param.first;
        // Names are never quoted: a phone system may send anything as a
        // name, a number included.
        if (name.empty() || name.size() > max_extra_name_length ||
            !std::all_of(name.begin(), name.end(), is_name_char)) {
            return Refusal{ErrorClass::invalid_parameter,
                           "query parameter names must be 1 to 64 letters, digits, '_', '.' or "
                           "'-'"};
        }
        if (std::any_of(extras.begin(), extras.end(),
                        [&](const auto* seen) { return seen->first == name; })) {
            return Refusal{ErrorClass::invalid_parameter,
                           "a query parameter besides caller and callee is given more than once"};
        }
        if (param.second.size() > max_extra_value_bytes) {
            return Refusal{ErrorClass::invalid_parameter,
                           "query parameters besides caller and callee must be at most 256 bytes"};
        }
        extras.push_back(&param);
    }
    return extras;
}

/// Whether an object anywhere in `root` has two members of one name, which
/// readers of the data would understand differently. Iterative: no depth
/// can exhaust the stack.
bool has_repeated_member(const rapidjson::Value& root) {
    std::vector<const rapidjson::Value*> pending{&root};
    std::set<std::string_view> names;
    while (!pending.empty()) {
        const rapidjson::Value* value = pending.back();
        pending.pop_back();
        if (value->IsObject()) {
            names.clear();
            for (const auto& member : value->GetObject()) {
                if (!names.emplace(member.name.GetString(), member.name.GetStringLength()).second) {
                    return true;
                }
                pending.push_back(&member.value);
            }
        } else if (value->IsArray()) {
            for (const auto& item : value->GetArray()) {
                pending.push_back(&item);
            }
        }
    }
    return false;
}

}  // namespace

bool is_phone_number(std::string_view text) noexcept {
    if (text.empty() || text.size() > max_number_length) {
        return false;
    }
    const bool allowed = std::all_of(text.begin(), text.end(), [](char c) {
        return is_dialled(c) || c == '+' || is_separator(c);
    });
    return allowed && std::any_of(text.begin(), text.end(), is_dialled);
}

Checked<Parties> read_parties(const QueryParams& query) {
    auto caller = read_number(query, "caller");
    if (auto* refusal = std::get_if<Refusal>(&caller)) {
        return std::move(*refusal);
    }
    auto callee = read_number(query, "callee");
    if (auto* refusal = std::get_if<Refusal>(&callee)) {
        return std::move(*refusal);
    }
    return Parties{std::move(std::get<std::string>(caller)),
                   std::move(std::get<std::string>(callee))};
}

Checked<std::string> read_callee(const QueryParams& query) {
    return read_number(query, "callee");
}

Checked<std::size_t> read_limit(const QueryParams& query) {
    const std::string* text = find_param(query, "limit");
    if (text == nullptr) {
        return default_limit;
    }
    std::size_t limit = 0;
    const char* last = text->data() + text->size();
    const auto [end, ec] = std::from_chars(text->data(), last, limit);
    if (text->empty() || ec != std::errc{} || end != last || limit > max_limit) {
        return refuse(ErrorClass::invalid_parameter, "limit", "must be an integer from 0 to 100");
    }
    return limit;
}

Checked<Listing> read_listing(const QueryParams& query) {
    auto callee = read_callee(query);
    if (auto* r = std::get_if<Refusal>(&callee)) {
        return std::move(*r);
    }
    auto limit = read_limit(query);
    if (auto* r = std::get_if<Refusal>(&limit)) {
        return std::move(*r);
    }
    return Listing{std::move(std::get<std::string>(callee)), std::get<std::size_t>(limit)};
}

Checked<std::string> read_data(const QueryParams& query, std::string_view body) {
    auto extras = read_extras(query);
    if (auto* r = std::get_if<Refusal>(&extras)) {
        return std::move(*r);
    }
    if (body.size() > max_data_bytes) {
        return Refusal{ErrorClass::payload_too_large,
                       "the call's data must be a JSON object of at most 4096 bytes"};
    }
    rapidjson::Document doc;
    if (body.empty()) {
        doc.SetObject();
    } else if (const auto parsed = parse_untrusted_json(body, doc); !parsed) {
        return Refusal{ErrorClass::invalid_json, describe(parsed.fault, "the body")};
    } else if (!doc.IsObject()) {
        return Refusal{ErrorClass::invalid_body,
                       "the body (the call's data) must be a JSON object"};
    } else if (has_repeated_member(doc)) {
        return Refusal{ErrorClass::invalid_body,
                       "an object in the body has the same member twice: its value is ambiguous"};
    }
    // Written again rather than kept as sent: the writer puts no line break
    // in an event, and nothing after the object survives. Writing recurses,
    // as deep as the parse allows (max_json_depth).
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::UTF8<>,
                      rapidjson::CrtAllocator, rapidjson::kWriteValidateEncodingFlag>
        writer(out);
    writer.StartObject();
    for (const auto* extra : std::get<0>(extras)) {
        const auto& [name, value] = *extra;
        if (doc.HasMember(name.c_str())) {
            continue;
        }
        writer.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
        if (!writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()))) {
            return Refusal{ErrorClass::invalid_parameter,
                           "query parameters besides caller and callee must be UTF-8 text"};
        }
    }
    for (const auto& member : doc.GetObject()) {
        writer.Key(member.name.GetString(), member.name.GetStringLength());
        member.value.Accept(writer);
    }
    writer.EndObject();
    if (out.GetSize() > max_data_bytes) {
        return Refusal{std::get<0>(extras).empty() ? ErrorClass::payload_too_large
                                                   : ErrorClass::invalid_parameter,
                       "the call's data (query parameters besides caller and callee, and the "
                       "body) must be at most 4096 bytes"};
    }
    return std::string(out.GetString(), out.GetSize());
}

}  // namespace relais::phonecalls
