#pragma once
/// @file
/// One request in flight on a CurlMultiService. The easy handle's options
/// point into the Transfer (URL, body, callbacks' user data), so a Transfer
/// is heap-allocated and never moves while curl holds its handle.

#include <curl/curl.h>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "upstream/http_client.hpp"
#include "upstream/streamed_body.hpp"

namespace relais::upstream {

using PerformHandler = boost::asio::any_completion_handler<void(boost::system::error_code, Result)>;

struct Transfer {
    std::uint64_t id = 0;
    CURL* easy = nullptr;
    Request request;
    curl_slist* header_list = nullptr;
    /// The body when the request has a BodySource; it may outlive the
    /// transfer while a piece is awaited.
    std::shared_ptr<StreamedBody> streamed_body;
    Response response;
    std::size_t header_bytes = 0;
    bool body_too_large = false;
    bool headers_too_large = false;
    PerformHandler handler;
    boost::asio::cancellation_slot slot;

    Transfer() = default;
    Transfer(const Transfer&) = delete;
    Transfer& operator=(const Transfer&) = delete;
    ~Transfer() {
        curl_slist_free_all(header_list);
        if (streamed_body) {
            streamed_body->detach();
        }
    }
};

/// Sets every option of `transfer.easy` (a fresh or reset handle) for
/// `transfer.request`, already accepted by check_request(). Returns why curl
/// cannot send it (malformed URL, out of memory), or nullopt when it is ready.
std::optional<std::string> configure_easy(Transfer& transfer);

}  // namespace relais::upstream
