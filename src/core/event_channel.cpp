#include "core/event_channel.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace relais {

namespace net = boost::asio;

/// Shared with the wake-up handlers that publishers post, which may run
/// after the channel itself is gone.
struct EventChannel::State {
    State(net::any_io_executor executor, Options settings)
        : options(std::move(settings)), timer(executor) {}

    const Options options;
    /// Used only on the consumer's executor.
    net::steady_timer timer;
    bool stopped = false;

    mutable std::mutex mutex;
    std::deque<std::string> queue;
    bool closed = false;
    bool wake_posted = false;

    /// Wakes the consumer if it waits. Called with `mutex` held.
    void wake(const std::shared_ptr<State>& self) {
        if (wake_posted) {
            return;
        }
        wake_posted = true;
        net::post(timer.get_executor(), [self] {
            {
                const std::lock_guard lock(self->mutex);
                self->wake_posted = false;
            }
            self->timer.cancel();
        });
    }
};

std::shared_ptr<EventChannel> EventChannel::create(net::any_io_executor executor, Options options) {
    return std::shared_ptr<EventChannel>(
        new EventChannel(std::make_shared<State>(std::move(executor), std::move(options))));
}

EventChannel::EventChannel(std::shared_ptr<State> state) : state_(std::move(state)) {}

EventChannel::~EventChannel() = default;

bool EventChannel::push(std::string text) {
    const std::lock_guard lock(state_->mutex);
    if (state_->closed) {
        return false;
    }
    if (state_->queue.size() >= state_->options.max_queued) {
        // The client does not keep up: end its stream rather than buffer.
        state_->queue.clear();
        state_->closed = true;
        state_->wake(state_);
        return false;
    }
    state_->queue.push_back(std::move(text));
    state_->wake(state_);
    return true;
}

void EventChannel::close() {
    const std::lock_guard lock(state_->mutex);
    if (!state_->closed) {
        state_->closed = true;
        state_->wake(state_);
    }
}

bool EventChannel::closed() const {
    const std::lock_guard lock(state_->mutex);
    return state_->closed;
}

net::awaitable<std::optional<std::string>> EventChannel::next() {
    // Keeps the state (and its timer) alive while suspended, whatever the
    // connection does with the channel meanwhile.
    const std::shared_ptr<State> state = state_;
    while (!state->stopped) {
        {
            const std::lock_guard lock(state->mutex);
            if (!state->queue.empty()) {
                std::string text = std::move(state->queue.front());
                state->queue.pop_front();
                co_return text;
            }
            if (state->closed) {
                co_return std::nullopt;
            }
        }
        // A push after the check posts a cancel, which runs after this wait
        // has started: no wake-up is lost.
        state->timer.expires_after(state->options.heartbeat);
        auto [ec] = co_await state->timer.async_wait(net::as_tuple(net::use_awaitable));
        if (!ec && !state->stopped) {
            co_return state->options.heartbeat_text;
        }
    }
    co_return std::nullopt;
}

void EventChannel::stop() noexcept {
    state_->stopped = true;
    {
        const std::lock_guard lock(state_->mutex);
        state_->closed = true;
        state_->queue.clear();
    }
    state_->timer.cancel();
}

std::string format_sse_event(std::string_view event, std::string_view data) {
    constexpr std::string_view line_breaks("\r\n\0", 3);
    if (event.find_first_of(line_breaks) != std::string_view::npos ||
        data.find_first_of(line_breaks) != std::string_view::npos) {
        throw std::invalid_argument("an event or its data contains a line break");
    }
    std::string out;
    out.reserve(event.size() + data.size() + 16);
    if (!event.empty()) {
        out.append("event: ").append(event).append("\n");
    }
    out.append("data: ").append(data).append("\n\n");
    return out;
}

}  // namespace relais
