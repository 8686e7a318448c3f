#pragma once
/// @file
/// A coroutine waiting for an OAuth2 token that another coroutine fetches,
/// possibly on another I/O thread. The fetcher may fulfil the wait from any
/// thread; the waiter always resumes on its own executor. If the waiter's
/// io_context is destroyed first, the wait is abandoned there (the waiting
/// coroutine is destroyed, as Asio does with its own pending operations) so
/// that the fetcher never posts into a dead context.

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace relais::upstream {

/// What a token request gave: a token, or why there is none.
struct TokenOutcome {
    std::string token;
    std::string failure;  ///< empty on success; words only, never secrets
};

class WaiterRegistry;

/// One-shot: fulfilled once, awaited once.
class TokenWaiter : public std::enable_shared_from_this<TokenWaiter> {
public:
    /// Must be created on the thread running `context`, which is the
    /// waiter's own.
    explicit TokenWaiter(boost::asio::io_context& context);

    /// Completes with `(error_code, TokenOutcome)`; the error is set only on
    /// cancellation (terminal or partial).
    template <typename CompletionToken>
    auto async_wait(CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken,
                                           void(boost::system::error_code, TokenOutcome)>(
            [self = shared_from_this()](auto handler) { self->start(std::move(handler)); }, token);
    }

    /// Hands the outcome over. Safe from any thread.
    void fulfil(const TokenOutcome& outcome);

    /// The waiter's io_context is shutting down: drop the waiting handler.
    void abandon();

private:
    using Handler =
        boost::asio::any_completion_handler<void(boost::system::error_code, TokenOutcome)>;

    void start(Handler handler);
    void cancel();
    void deliver(Handler handler, boost::system::error_code error, TokenOutcome outcome);

    boost::asio::io_context& context_;
    WaiterRegistry& registry_;
    std::mutex mutex_;
    std::optional<TokenOutcome> early_outcome_;  ///< fulfilled before the wait began
    Handler handler_;
    bool abandoned_ = false;
    /// Touched only on the waiter's thread.
    boost::asio::cancellation_slot slot_;
};

}  // namespace relais::upstream
