#include "core/http_types.hpp"

#include <algorithm>
#include <cstdio>

namespace relais {

bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    return std::ranges::equal(a, b, [&](char x, char y) { return lower(x) == lower(y); });
}

const std::string* find_header(const std::vector<Header>& headers, std::string_view name) noexcept {
    for (const auto& h : headers) {
        if (iequals_ascii(h.name, name)) {
            return &h.value;
        }
    }
    return nullptr;
}

const std::string* find_param(const QueryParams& params, std::string_view name) noexcept {
    for (const auto& [key, value] : params) {
        if (key == name) {
            return &value;
        }
    }
    return nullptr;
}

void append_json_string(std::string& out, std::string_view text) {
    out.push_back('"');
    for (char c : text) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
                    out += buf;
                } else {
                    out.push_back(c);
                }
        }
    }
    out.push_back('"');
}

HttpResponse HttpResponse::data(std::string_view data_json) {
    HttpResponse r;
    r.body.reserve(data_json.size() + 20);
    r.body += R"({"err":0,"data":)";
    r.body += data_json;
    r.body += '}';
    return r;
}

HttpResponse HttpResponse::accepted(std::string_view tracking_id) {
    std::string data = "{\"tracking_id\":";
    append_json_string(data, tracking_id);
    data += '}';
    HttpResponse response = HttpResponse::data(data);
    response.status = 202;
    return response;
}

HttpResponse HttpResponse::failure(ErrorClass error, std::string_view description) {
    const auto info = describe(error);
    HttpResponse r;
    r.status = info.http_status;
    r.error = error;
    r.body = R"({"err":1,"err_class":)";
    append_json_string(r.body, info.slug);
    r.body += R"(,"err_desc":)";
    append_json_string(r.body, description);
    r.body += R"(,"data":null})";
    return r;
}

}  // namespace relais
