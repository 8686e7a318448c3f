#include <algorithm>
#include <limits>
#include <string_view>

#include "core/strings.hpp"
#include "upstream/curl_failure.hpp"
#include "upstream/exchange_rules.hpp"
#include "upstream/transfer.hpp"

namespace relais::upstream {

namespace {

/// A header line's text without its line end and surrounding whitespace.
std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.back() == '\r' || text.back() == '\n')) {
        text.remove_suffix(1);
    }
    return trim_ows(text);
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto& transfer = *static_cast<Transfer*>(user);
    const std::size_t bytes = size * count;
    std::string& body = transfer.response.body;
    if (bytes > transfer.request.max_response_bytes - body.size()) {
        transfer.body_too_large = true;
        return 0;
    }
    if (body.empty()) {
        curl_off_t announced = -1;
        curl_easy_getinfo(transfer.easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced);
        if (announced > 0 &&
            static_cast<std::size_t>(announced) <= transfer.request.max_response_bytes) {
            body.reserve(static_cast<std::size_t>(announced));
        }
    }
    body.append(data, bytes);
    return bytes;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto& transfer = *static_cast<Transfer*>(user);
    const std::size_t bytes = size * count;
    transfer.header_bytes += bytes;
    if (transfer.header_bytes > max_header_bytes) {
        transfer.headers_too_large = true;
        return 0;
    }
    const std::string_view line(data, bytes);
    auto& headers = transfer.response.headers;
    if (line.starts_with("HTTP/")) {
        // A new status line: whatever came before belonged to an interim
        // response (100 Continue) and is not part of the final one.
        headers.clear();
        return bytes;
    }
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
        // Obsolete line folding continues the previous header's value.
        if (!headers.empty()) {
            headers.back().value.append(" ").append(trim(line));
        }
        return bytes;
    }
    const auto colon = line.find(':');
    if (colon != std::string_view::npos && colon > 0) {
        headers.push_back(
            {std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1)))});
    }
    return bytes;
}

bool append_line(Transfer& transfer, const char* line) {
    curl_slist* grown = curl_slist_append(transfer.header_list, line);
    if (grown == nullptr) {
        return false;
    }
    transfer.header_list = grown;
    return true;
}

std::optional<std::string> build_header_list(Transfer& transfer) {
    const Request& request = transfer.request;
    bool has_content_type = false;
    for (const Header& header : request.headers) {
        has_content_type = has_content_type || iequals_ascii(header.name, "Content-Type");
        // "Name:" would make curl drop the header; "Name;" sends it empty.
        const std::string line =
            header.value.empty() ? header.name + ";" : header.name + ": " + header.value;
        if (!append_line(transfer, line.c_str())) {
            return "out of memory";
        }
    }
    // curl would wait for "100 Continue" before a large body (a streamed one
    // included), and announce a form-encoded body when the caller named no
    // type: neither is wanted.
    if (!append_line(transfer, "Expect:")) {
        return "out of memory";
    }
    if (sends_body(request) && !has_content_type && !append_line(transfer, "Content-Type:")) {
        return "out of memory";
    }
    return std::nullopt;
}

void set_method(Transfer& transfer) {
    CURL* easy = transfer.easy;
    const Request& request = transfer.request;
    if (request.method == "HEAD") {
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
        return;
    }
    if (sends_body(request)) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(body_size(request)));
        if (transfer.streamed_body) {
            // A POST read from the callback; CURLOPT_CUSTOMREQUEST below
            // names the method when it is another.
            curl_easy_setopt(easy, CURLOPT_POST, 1L);
            transfer.streamed_body->attach(easy);
        } else {
            curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());
        }
    } else {
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    }
    if (request.method != "GET" && request.method != "POST") {
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    } else if (request.method == "GET" && sends_body(request)) {
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, "GET");
    }
    // A body limit from Content-Length would also refuse HEAD answers.
    curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(std::min<std::size_t>(
                         request.max_response_bytes,
                         static_cast<std::size_t>(std::numeric_limits<curl_off_t>::max()))));
}

void set_tls(CURL* easy, const TlsOptions& tls) {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, tls.verify ? 1L : 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, tls.verify ? 2L : 0L);
    if (!tls.ca_file.empty()) {
        // A configured CA replaces the system store instead of adding to it.
        curl_easy_setopt(easy, CURLOPT_CAINFO, tls.ca_file.c_str());
        curl_easy_setopt(easy, CURLOPT_CAPATH, nullptr);
    }
    // The blobs point into strings the request keeps alive for the whole
    // transfer: no copy, no file read when curl opens a connection.
    if (tls.client_cert) {
        curl_blob blob{const_cast<char*>(tls.client_cert->data()), tls.client_cert->size(),
                       CURL_BLOB_NOCOPY};
        curl_easy_setopt(easy, CURLOPT_SSLCERT_BLOB, &blob);
        curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
    }
    if (tls.client_key) {
        curl_blob blob{const_cast<char*>(tls.client_key->data()), tls.client_key->size(),
                       CURL_BLOB_NOCOPY};
        curl_easy_setopt(easy, CURLOPT_SSLKEY_BLOB, &blob);
        curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
    }
}

}  // namespace

std::optional<std::string> configure_easy(Transfer& transfer) {
    CURL* easy = transfer.easy;
    const Request& request = transfer.request;
    set_method(transfer);
    if (auto error = build_header_list(transfer)) {
        return error;
    }
    if (curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str()) != CURLE_OK) {
        return "malformed URL";
    }
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer.header_list);
    if (find_header(request.headers, "User-Agent") == nullptr) {
        curl_easy_setopt(easy, CURLOPT_USERAGENT, "relais/" RELAIS_VERSION);
    }
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    // Set explicitly, even empty, so that curl never reads http_proxy,
    // ALL_PROXY or no_proxy from the environment.
    curl_easy_setopt(easy, CURLOPT_PROXY, request.proxy.c_str());
    curl_easy_setopt(easy, CURLOPT_NOPROXY, "");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    // Without it, a transfer ended (timeout, cancel) while its name is still
    // resolving would join the resolver thread: a blocking wait on the I/O
    // thread. With it, the thread is detached and frees itself when done.
    curl_easy_setopt(easy, CURLOPT_QUICK_EXIT, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(request.connect_timeout.count()));
    set_tls(easy, request.tls);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, &transfer);
    return std::nullopt;
}

}  // namespace relais::upstream
