#include "franceconnect/identity.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/json.hpp"
#include "franceconnect/redirects.hpp"

namespace relais::franceconnect {

namespace {

std::optional<std::string> string_member(const rapidjson::Value& object, const char* name) {
    const auto found = object.FindMember(name);
    if (found == object.MemberEnd() || !found->value.IsString() ||
        found->value.GetStringLength() == 0) {
        return std::nullopt;
    }
    return std::string(found->value.GetString(), found->value.GetStringLength());
}

/// N of "eidasN" (N a single digit), else nullopt.
std::optional<int> eidas_level(std::string_view acr) {
    constexpr std::string_view prefix = "eidas";
    if (acr.size() != prefix.size() + 1 || !acr.starts_with(prefix) || acr.back() < '0' ||
        acr.back() > '9') {
        return std::nullopt;
    }
    return acr.back() - '0';
}

bool is_string(const rapidjson::Value& value, std::string_view expected) {
    return value.IsString() &&
           std::string_view(value.GetString(), value.GetStringLength()) == expected;
}

}  // namespace

std::optional<TokenAnswer> read_token_answer(std::string_view body) {
    rapidjson::Document doc;
    if (!parse_untrusted_object(body, doc)) {
        return std::nullopt;
    }
    auto access = string_member(doc, "access_token");
    auto id = string_member(doc, "id_token");
    if (!access || !id) {
        return std::nullopt;
    }
    return TokenAnswer{std::move(*access), std::move(*id)};
}

std::string token_refusal_code(std::string_view body) {
    rapidjson::Document doc;
    if (!parse_untrusted_object(body, doc)) {
        return "no error code";
    }
    const auto error = string_member(doc, "error");
    return error ? std::string(provider_error_code(*error)) : "no error code";
}

std::optional<std::string> subject_of(std::string_view payload_json) {
    rapidjson::Document doc;
    if (!parse_untrusted_object(payload_json, doc)) {
        return std::nullopt;
    }
    return string_member(doc, "sub");
}

bool acr_satisfies(std::string_view payload_json, std::string_view acr_values) {
    if (acr_values.find_first_not_of(' ') == std::string_view::npos) {
        return true;
    }
    rapidjson::Document doc;
    if (!parse_untrusted_object(payload_json, doc)) {
        return false;
    }
    const auto acr = string_member(doc, "acr");
    if (!acr) {
        return false;
    }
    const std::optional<int> level = eidas_level(*acr);
    std::size_t start = 0;
    while (start < acr_values.size()) {
        std::size_t end = acr_values.find(' ', start);
        if (end == std::string_view::npos) {
            end = acr_values.size();
        }
        const std::string_view requested = acr_values.substr(start, end - start);
        const std::optional<int> requested_level = eidas_level(requested);
        if ((!requested.empty() && requested == *acr) ||
            (level && requested_level && *level >= *requested_level)) {
            return true;
        }
        start = end + 1;
    }
    return false;
}

std::optional<UserinfoProblem> check_signed_userinfo(std::string_view payload_json,
                                                     std::string_view issuer,
                                                     std::string_view client_id) {
    rapidjson::Document doc;
    if (!parse_untrusted_object(payload_json, doc)) {
        return UserinfoProblem::malformed;
    }
    if (const auto iss = doc.FindMember("iss");
        iss != doc.MemberEnd() && !is_string(iss->value, issuer)) {
        return UserinfoProblem::wrong_issuer;
    }
    if (const auto aud = doc.FindMember("aud"); aud != doc.MemberEnd()) {
        const rapidjson::Value& value = aud->value;
        bool found = is_string(value, client_id);
        if (value.IsArray()) {
            for (const auto& item : value.GetArray()) {
                found = found || is_string(item, client_id);
            }
        }
        if (!found) {
            return UserinfoProblem::wrong_audience;
        }
    }
    return std::nullopt;
}

std::string_view describe(UserinfoProblem problem) noexcept {
    switch (problem) {
        case UserinfoProblem::malformed:
            return "userinfo is not a JSON object";
        case UserinfoProblem::wrong_subject:
            return "userinfo is about another subject than the ID token";
        case UserinfoProblem::wrong_issuer:
            return "the signed userinfo comes from another issuer";
        case UserinfoProblem::wrong_audience:
            return "the signed userinfo is for another audience";
    }
    return "userinfo refused";
}

std::variant<std::string, UserinfoProblem> handover_data(std::string_view userinfo_json,
                                                         std::string_view subject,
                                                         std::string_view id_token) {
    rapidjson::Document doc;
    if (!parse_untrusted_object(userinfo_json, doc)) {
        return UserinfoProblem::malformed;
    }
    if (string_member(doc, "sub") != std::optional<std::string>(subject)) {
        return UserinfoProblem::wrong_subject;
    }
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.StartObject();
    writer.Key("sub");
    writer.String(subject.data(), static_cast<rapidjson::SizeType>(subject.size()));
    for (const char* claim : pivot_claims) {
        const auto found = doc.FindMember(claim);
        if (found == doc.MemberEnd()) {
            continue;
        }
        const rapidjson::Value& value = found->value;
        if (value.IsString() || value.IsNumber() || value.IsBool()) {
            writer.Key(claim);
            value.Accept(writer);
        }
    }
    writer.Key("id_token");
    writer.String(id_token.data(), static_cast<rapidjson::SizeType>(id_token.size()));
    writer.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace relais::franceconnect
