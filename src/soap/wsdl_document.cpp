#include "soap/wsdl_document.hpp"

#include <algorithm>
#include <charconv>

#include "config/embedded_schemas.hpp"
#include "core/url_encoding.hpp"
#include "core/xml_text.hpp"

namespace relais::soap {

namespace {

/// The location both ports have in schemas/relais.wsdl.
constexpr std::string_view placeholder = "location=\"https://relais.example.org/KIND/SLUG/soap\"";

bool is_name_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
}

bool is_ipv6_char(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
           c == '.';
}

}  // namespace

bool is_host_header(std::string_view host) noexcept {
    std::string_view name = host;
    std::string_view port;
    if (host.starts_with('[')) {
        const std::size_t close = host.find(']');
        if (close == std::string_view::npos || close < 3) {
            return false;
        }
        const std::string_view inside = host.substr(1, close - 1);
        if (!std::all_of(inside.begin(), inside.end(), is_ipv6_char)) {
            return false;
        }
        name = {};
        const std::string_view after = host.substr(close + 1);
        if (!after.empty()) {
            if (!after.starts_with(':')) {
                return false;
            }
            port = after.substr(1);
            if (port.empty()) {
                return false;
            }
        }
    } else if (const std::size_t colon = host.find(':'); colon != std::string_view::npos) {
        name = host.substr(0, colon);
        port = host.substr(colon + 1);
        if (port.empty()) {
            return false;
        }
    }
    if (!host.starts_with('[') && (name.empty() || name.size() > 253 ||
                                   !std::all_of(name.begin(), name.end(), is_name_char))) {
        return false;
    }
    if (port.empty()) {
        return true;
    }
    unsigned number = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
    return error == std::errc() && end == port.data() + port.size() && port.size() <= 5 &&
           number >= 1 && number <= 65535;
}

std::optional<std::string> service_address(std::string_view public_url, std::string_view scheme,
                                           const std::string* host, std::string_view kind,
                                           std::string_view slug) {
    std::string address;
    if (!public_url.empty()) {
        address = public_url;
    } else {
        if (host == nullptr || !is_host_header(*host)) {
            return std::nullopt;
        }
        address.append(scheme).append("://").append(*host).append("/");
    }
    append_path_segment(address, kind);
    address += '/';
    append_path_segment(address, slug);
    address += "/soap";
    return address;
}

std::string wsdl_document(std::string_view address) {
    std::string location = "location=\"";
    append_xml_attribute(location, address);
    location += '"';
    const std::string_view source = embedded::relais_wsdl;
    std::string out;
    out.reserve(source.size() + 2 * location.size());
    std::size_t from = 0;
    for (std::size_t at = source.find(placeholder); at != std::string_view::npos;
         at = source.find(placeholder, from)) {
        out.append(source.substr(from, at - from)).append(location);
        from = at + placeholder.size();
    }
    out.append(source.substr(from));
    return out;
}

}  // namespace relais::soap
