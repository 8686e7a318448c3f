#include "delivery/demand.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "core/json.hpp"
#include "core/url_encoding.hpp"

namespace relais::delivery {

namespace {

constexpr std::size_t longest_formdef = 64;
constexpr std::size_t longest_channel = 32;

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

std::optional<std::string> submit_body(std::string_view data_json, std::string_view channel) {
    rapidjson::Document data;
    if (!parse_untrusted_json(data_json, data) || !data.IsObject()) {
        return std::nullopt;
    }
    // The text is one whole JSON object (no trailing text, valid UTF-8):
    // spliced as it is, it cannot change the envelope around it, and no
    // recursive writer walks a nesting the iterative parser accepted.
    std::string body;
    body.reserve(data_json.size() + channel.size() + 32);
    body.append(R"({"data":)").append(data_json);
    if (!channel.empty()) {
        rapidjson::StringBuffer context;
        rapidjson::Writer<rapidjson::StringBuffer> writer(context);
        writer.StartObject();
        writer.Key("channel");
        writer.String(channel.data(), static_cast<rapidjson::SizeType>(channel.size()));
        writer.EndObject();
        body.append(R"(,"context":)").append(context.GetString(), context.GetSize());
    }
    body.append("}");
    return body;
}

std::variant<DemandEnvelope, std::string_view> prepare_demand(std::string_view gru_url,
                                                              const GruDemand& demand) {
    if (!is_channel_name(demand.channel)) {
        return std::string_view("channel is not a channel name");
    }
    auto url = submit_url(gru_url, demand.formdef);
    if (!url) {
        return std::string_view("formdef is not a form slug");
    }
    auto body = submit_body(demand.data_json, demand.channel);
    if (!body) {
        return std::string_view("data is not a JSON object");
    }
    return DemandEnvelope{std::move(*url), std::move(*body)};
}

}  // namespace relais::delivery
