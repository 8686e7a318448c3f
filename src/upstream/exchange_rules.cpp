#include "upstream/exchange_rules.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <string_view>

namespace relais::upstream {

namespace {

constexpr std::array<std::string_view, 6> supported_methods = {"GET", "HEAD",  "POST",
                                                               "PUT", "PATCH", "DELETE"};

bool is_token_char(char c) {
    static constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           extra.find(c) != std::string_view::npos;
}

}  // namespace

std::optional<std::string> check_request(const Request& request) {
    if (std::ranges::find(supported_methods, request.method) == supported_methods.end()) {
        return "unsupported method";
    }
    if (request.method == "HEAD" && (!request.body.empty() || request.body_source)) {
        return "a HEAD request has no body";
    }
    if (!request.body.empty() && request.body_source) {
        return "a request has a body or a body source, not both";
    }
    for (const Header& header : request.headers) {
        if (header.name.empty() || !std::ranges::all_of(header.name, is_token_char)) {
            return "invalid header name";
        }
        if (header.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
            return "header value contains a line break";
        }
    }
    return std::nullopt;
}

bool sends_body(const Request& request) noexcept {
    const bool has_body = !request.body.empty() || request.body_source != nullptr;
    return request.method == "POST" || request.method == "PUT" || request.method == "PATCH" ||
           (has_body && (request.method == "GET" || request.method == "DELETE"));
}

std::uint64_t body_size(const Request& request) noexcept {
    return request.body_source ? request.body_source->size() : request.body.size();
}

std::pair<Failure, std::string> body_unavailable() {
    return {Failure::internal, "request body unavailable"};
}

std::pair<Failure, std::string> body_size_mismatch() {
    return {Failure::internal, "request body not of its announced size"};
}

std::pair<Failure, std::string> body_too_large(std::size_t max_response_bytes) {
    return {Failure::too_large,
            "response body larger than " + std::to_string(max_response_bytes) + " bytes"};
}

std::pair<Failure, std::string> headers_too_large() {
    return {Failure::too_large,
            "response headers larger than " + std::to_string(max_header_bytes) + " bytes"};
}

std::pair<Failure, std::string> could_not_connect(long os_errno) {
    switch (os_errno) {
        case ECONNREFUSED:
            return {Failure::unreachable, "connection refused"};
        case ENETUNREACH:
        case EHOSTUNREACH:
            return {Failure::unreachable, "host unreachable"};
        default:
            return {Failure::unreachable, "could not connect"};
    }
}

}  // namespace relais::upstream
