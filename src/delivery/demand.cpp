#include "delivery/demand.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "core/json.hpp"
#include "core/strings.hpp"
#include "core/url_encoding.hpp"

namespace relais::delivery {

namespace {

constexpr std::size_t longest_formdef = 64;
constexpr std::size_t longest_channel = 32;
constexpr std::size_t longest_reference = 256;
/// How a submit body starts; the demand's data follows as it is.
constexpr std::string_view submit_body_start = R"({"data":)";

bool is_lower_or_digit(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_name_char(char c) noexcept {
    return is_lower_or_digit(c) || c == '_' || c == '-';
}

}  // namespace

bool is_formdef_slug(std::string_view formdef) noexcept {
    return !formdef.empty() && formdef.size() <= longest_formdef &&
           is_lower_or_digit(formdef.front()) &&
           std::all_of(formdef.begin(), formdef.end(), is_name_char);
}

bool is_channel_name(std::string_view channel) noexcept {
    if (channel.empty()) {
        return true;
    }
    return channel.size() <= longest_channel && channel.front() >= 'a' && channel.front() <= 'z' &&
           std::all_of(channel.begin(), channel.end(), is_name_char);
}

bool is_demand_reference(std::string_view reference) noexcept {
    return reference.size() <= longest_reference && !has_control_chars(reference);
}

bool is_demand_url(std::string_view url, std::string_view gru_url) noexcept {
    if (url.size() <= gru_url.size() || !url.starts_with(gru_url)) {
        return false;
    }
    const bool clean = std::none_of(url.begin(), url.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u >= 0x7f || c == '?' || c == '#' || c == '\\';
    });
    return clean && url.find("/../") == std::string_view::npos && !url.ends_with("/..");
}

std::optional<std::string> opened_demand_url(std::string_view answer, std::string_view gru_url) {
    rapidjson::Document document;
    if (!parse_untrusted_object(answer, document, InexactNumbers::as_text)) {
        return std::nullopt;
    }
    const auto data = document.FindMember("data");
    if (data == document.MemberEnd() || !data->value.IsObject()) {
        return std::nullopt;
    }
    const auto url = data->value.FindMember("url");
    if (url == data->value.MemberEnd() || !url->value.IsString()) {
        return std::nullopt;
    }
    std::string text(url->value.GetString(), url->value.GetStringLength());
    if (!is_demand_url(text, gru_url)) {
        return std::nullopt;
    }
    if (!text.ends_with('/')) {
        text += '/';
    }
    return text;
}

std::optional<std::string> submit_url(std::string_view gru_url, std::string_view formdef) {
    if (!is_formdef_slug(formdef)) {
        return std::nullopt;
    }
    std::string url(gru_url);
    url += "api/formdefs/";
    // The slug's characters are all unreserved; escaping still keeps any
    // future relaxation of is_formdef_slug from reaching another path.
    append_path_segment(url, formdef);
    url += "/submit";
    return url;
}

bool append_submit_body(std::string& out, std::string_view data_json, std::string_view channel) {
    if (!is_untrusted_json_object(data_json)) {
        return false;
    }
    // The text is one whole JSON object (no trailing text, valid UTF-8):
    // spliced as it is, it cannot change the envelope around it, and no
    // recursive writer walks a nesting the iterative parser accepted.
    out.append(submit_body_start).append(data_json);
    if (!channel.empty()) {
        rapidjson::StringBuffer context;
        rapidjson::Writer<rapidjson::StringBuffer> writer(context);
        writer.StartObject();
        writer.Key("channel");
        writer.String(channel.data(), static_cast<rapidjson::SizeType>(channel.size()));
        writer.EndObject();
        out.append(R"(,"context":)").append(context.GetString(), context.GetSize());
    }
    out.append("}");
    return true;
}

std::variant<std::string, std::string_view> prepare_demand(std::string_view gru_url,
                                                           const GruDemand& demand) {
    if (!is_channel_name(demand.channel)) {
        return std::string_view("channel is not a channel name");
    }
    const auto url = submit_url(gru_url, demand.formdef);
    if (!url) {
        return std::string_view("formdef is not a form slug");
    }
    if (!is_demand_reference(demand.reference)) {
        return std::string_view("reference is not 1 to 256 bytes without control characters");
    }
    if (demand.document && demand.document_at > demand.data_json.size()) {
        return std::string_view("document offset outside the data");
    }
    const std::size_t data_offset = submit_body_start.size();
    std::string payload =
        demand_head(*url, demand.reference,
                    demand.document ? std::optional<std::size_t>(data_offset + demand.document_at)
                                    : std::nullopt);
    payload.reserve(payload.size() + demand.data_json.size() + demand.channel.size() + 64);
    if (!append_submit_body(payload, demand.data_json, demand.channel)) {
        return std::string_view("data is not a JSON object");
    }
    return payload;
}

}  // namespace relais::delivery
