#pragma once
/// @file
/// One curl multi handle per io_context, driven by that context's reactor:
/// curl tells which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to
/// wake it up (CURLMOPT_TIMERFUNCTION); Asio waits on them and hands the
/// events back with curl_multi_socket_action. An io_context is run by one
/// thread, so nothing here needs a lock. The multi handle keeps the
/// connection cache, hence connections are reused within one I/O thread.

#include <curl/curl.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "upstream/transfer.hpp"

namespace relais::upstream {

class CurlMultiService final : public boost::asio::execution_context::service {
public:
    using key_type = CurlMultiService;
    static boost::asio::execution_context::id id;

    explicit CurlMultiService(boost::asio::io_context& context);
    ~CurlMultiService() override;

    /// Runs `request` to completion; completes with `(error_code, Result)`,
    /// the error being set only when the operation was cancelled.
    template <typename CompletionToken>
    auto async_perform(Request request, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken,
                                           void(boost::system::error_code, Result)>(
            [this](auto handler, Request r) {
                // A streamed body is produced on the caller's executor.
                boost::asio::any_io_executor caller;
                if (r.body_source) {
                    caller = boost::asio::get_associated_executor(handler, context_.get_executor());
                }
                start(std::move(r), std::move(caller), std::move(handler));
            },
            token, std::move(request));
    }

private:
    struct SocketWatch;

    void shutdown() override;
    void start(Request request, boost::asio::any_io_executor caller, PerformHandler handler);
    void cancel(std::uint64_t transfer_id);
    void complete(Transfer& transfer, boost::system::error_code error, Result result);
    void drain_finished();
    void watch_socket(curl_socket_t socket, int what);
    void arm(const std::shared_ptr<SocketWatch>& watch);
    void on_socket_ready(const std::shared_ptr<SocketWatch>& watch, boost::system::error_code error,
                         int event);
    void schedule_timeout(long timeout_ms);
    void on_timeout();
    CURL* take_easy();
    void recycle_easy(CURL* easy);

    static int socket_callback(CURL* easy, curl_socket_t socket, int what, void* self, void* watch);
    static int timer_callback(CURLM* multi, long timeout_ms, void* self);

    boost::asio::io_context& context_;
    CURLM* multi_ = nullptr;
    boost::asio::steady_timer timer_;
    bool timeout_posted_ = false;  ///< a zero timeout is queued on the context
    std::unordered_map<curl_socket_t, std::shared_ptr<SocketWatch>> sockets_;
    std::unordered_map<std::uint64_t, std::unique_ptr<Transfer>> transfers_;
    std::vector<CURL*> idle_easy_;
    std::uint64_t next_id_ = 1;
};

}  // namespace relais::upstream
