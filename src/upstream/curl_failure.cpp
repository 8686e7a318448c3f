#include "upstream/curl_failure.hpp"

namespace relais::upstream {

std::pair<Failure, std::string> classify(CURLcode code, const TransferFacts& facts) {
    switch (code) {
        case CURLE_UNSUPPORTED_PROTOCOL:
            return {Failure::internal, "URL scheme is not http or https"};
        case CURLE_URL_MALFORMAT:
            return {Failure::internal, "malformed URL"};
        case CURLE_OUT_OF_MEMORY:
            return {Failure::internal, "out of memory"};
        case CURLE_SSL_CACERT_BADFILE:
            return {Failure::internal, "CA file could not be loaded"};
        case CURLE_SSL_CERTPROBLEM:
            return {Failure::internal, "client certificate or key could not be loaded"};
        case CURLE_COULDNT_RESOLVE_PROXY:
            return {Failure::unreachable, "could not resolve proxy"};
        case CURLE_COULDNT_RESOLVE_HOST:
            return {Failure::unreachable, "could not resolve host"};
        case CURLE_COULDNT_CONNECT:
            return could_not_connect(facts.os_errno);
        case CURLE_OPERATION_TIMEDOUT:
            return {Failure::timeout, facts.connected ? "no complete response within the timeout"
                                                      : "connection timed out"};
        case CURLE_SEND_ERROR:
            return {Failure::unreachable, "connection lost while sending the request"};
        case CURLE_RECV_ERROR:
            return {Failure::unreachable, "connection lost while receiving the response"};
        case CURLE_GOT_NOTHING:
            return {Failure::unreachable, "connection closed without a response"};
        case CURLE_PARTIAL_FILE:
            return {Failure::unreachable, "connection closed before the end of the response"};
        case CURLE_WEIRD_SERVER_REPLY:
            return {Failure::unreachable, "malformed HTTP response"};
        case CURLE_SSL_CONNECT_ERROR:
            return {Failure::unreachable, "TLS handshake failed"};
        case CURLE_SSL_CIPHER:
            return {Failure::unreachable, "no TLS cipher in common"};
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
            return {Failure::unreachable, "TLS certificate verification failed"};
        case CURLE_FILESIZE_EXCEEDED:
            return body_too_large(facts.max_response_bytes);
        case CURLE_WRITE_ERROR:
            if (facts.body_too_large) {
                return body_too_large(facts.max_response_bytes);
            }
            if (facts.headers_too_large) {
                return headers_too_large();
            }
            return {Failure::internal, "response could not be stored"};
        default:
            // curl's generic texts name the condition, never the host or URL.
            return {Failure::unreachable, curl_easy_strerror(code)};
    }
}

}  // namespace relais::upstream
