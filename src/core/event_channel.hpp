#pragma once
/// @file
/// A ResponseStream fed from any thread: publishers `push` pieces of text
/// (Server-Sent Events), the connection that owns the channel sends them in
/// order. A client that does not read is dropped rather than buffered
/// forever: when `max_queued` pieces wait, the channel closes and the
/// client reconnects to fresh state (EventSource does so by itself).
///
/// When nothing was sent for `heartbeat`, the channel yields
/// `heartbeat_text` (an SSE comment by default): proxies keep the
/// connection open, and a client that went away is noticed at the next
/// write.

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/response_stream.hpp"

namespace relais {

class EventChannel final : public ResponseStream {
public:
    struct Options {
        std::chrono::milliseconds heartbeat{15'000};
        std::size_t max_queued = 256;
        std::string heartbeat_text = ":\n\n";
    };

    /// A channel consumed on `executor`: the connection's, which `handle`
    /// gets with `co_await boost::asio::this_coro::executor`.
    static std::shared_ptr<EventChannel> create(boost::asio::any_io_executor executor,
                                                Options options);
    ~EventChannel() override;
    EventChannel(const EventChannel&) = delete;
    EventChannel& operator=(const EventChannel&) = delete;

    /// Queues `text` to be sent. Safe from any thread. False when the
    /// channel is closed or stopped, or has just closed because its queue
    /// was full.
    bool push(std::string text);

    /// Ends the stream once the queued pieces are sent. Safe from any thread.
    void close();

    /// True once `close`, `stop` or a full queue ended the channel: a
    /// publisher can forget it.
    bool closed() const;

    boost::asio::awaitable<std::optional<std::string>> next() override;
    void stop() noexcept override;

    struct State;

private:
    explicit EventChannel(std::shared_ptr<State> state);
    std::shared_ptr<State> state_;
};

/// One Server-Sent Event: `event: <event>` (omitted when empty), then
/// `data: <data>` and a blank line. `event` and `data` must not contain
/// line breaks (JSON from a writer has none); those that do are refused
/// with std::invalid_argument rather than split the stream.
std::string format_sse_event(std::string_view event, std::string_view data);

}  // namespace relais
