#include "upstream/token_waiter.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <unordered_map>

#include "upstream/take_handler.hpp"

namespace relais::upstream {

/// The waits pending on one io_context, so that they can be abandoned when
/// it shuts down. Used only from that context's thread (and from its
/// destruction, once that thread has stopped), hence no lock.
class WaiterRegistry final : public boost::asio::execution_context::service {
public:
    using key_type = WaiterRegistry;
    static boost::asio::execution_context::id id;

    explicit WaiterRegistry(boost::asio::io_context& context)
        : boost::asio::execution_context::service(context) {}

    void add(std::shared_ptr<TokenWaiter> waiter) {
        TokenWaiter* raw = waiter.get();
        waiting_.emplace(raw, std::move(waiter));
    }
    void remove(TokenWaiter* waiter) { waiting_.erase(waiter); }

private:
    void shutdown() override {
        auto waiting = std::move(waiting_);
        waiting_.clear();
        for (auto& [raw, waiter] : waiting) {
            waiter->abandon();
        }
    }

    std::unordered_map<TokenWaiter*, std::shared_ptr<TokenWaiter>> waiting_;
};

boost::asio::execution_context::id WaiterRegistry::id;

TokenWaiter::TokenWaiter(boost::asio::io_context& context)
    : context_(context), registry_(boost::asio::use_service<WaiterRegistry>(context)) {}

void TokenWaiter::start(Handler handler) {
    std::unique_lock lock(mutex_);
    if (early_outcome_) {
        TokenOutcome outcome = std::move(*early_outcome_);
        early_outcome_.reset();
        lock.unlock();
        deliver(std::move(handler), {}, std::move(outcome));
        return;
    }
    slot_ = boost::asio::get_associated_cancellation_slot(handler);
    handler_.swap(handler);
    registry_.add(shared_from_this());
    if (slot_.is_connected()) {
        slot_.assign([weak = weak_from_this()](boost::asio::cancellation_type type) {
            using boost::asio::cancellation_type;
            if ((type & (cancellation_type::terminal | cancellation_type::partial)) ==
                cancellation_type::none) {
                return;
            }
            if (auto self = weak.lock()) {
                self->cancel();
            }
        });
    }
}

void TokenWaiter::fulfil(const TokenOutcome& outcome) {
    // The lock is held while posting: abandon() takes it before the
    // context's scheduler goes away, so a post here always lands in a live
    // context.
    std::lock_guard lock(mutex_);
    if (abandoned_) {
        return;
    }
    if (!handler_) {
        early_outcome_ = outcome;
        return;
    }
    deliver(take_handler(handler_), {}, outcome);
}

void TokenWaiter::abandon() {
    Handler handler;
    {
        std::lock_guard lock(mutex_);
        abandoned_ = true;
        handler.swap(handler_);
    }
    // `handler` is destroyed here, outside the lock: destroying the waiting
    // coroutine may release the last other reference to this waiter.
}

void TokenWaiter::cancel() {
    Handler handler;
    {
        std::lock_guard lock(mutex_);
        if (!handler_) {
            return;
        }
        handler.swap(handler_);
    }
    deliver(std::move(handler), boost::asio::error::operation_aborted, {});
}

void TokenWaiter::deliver(Handler handler, boost::system::error_code error, TokenOutcome outcome) {
    // Only the io_context is touched from the fulfilling thread; the
    // handler's own executor is looked up once back on the waiter's thread.
    boost::asio::post(context_, [self = shared_from_this(), handler = std::move(handler), error,
                                 outcome = std::move(outcome)]() mutable {
        self->registry_.remove(self.get());
        if (self->slot_.is_connected()) {
            self->slot_.clear();
        }
        auto executor =
            boost::asio::get_associated_executor(handler, self->context_.get_executor());
        boost::asio::dispatch(executor, [handler = std::move(handler), error,
                                         outcome = std::move(outcome)]() mutable {
            std::move(handler)(error, std::move(outcome));
        });
    });
}

}  // namespace relais::upstream
