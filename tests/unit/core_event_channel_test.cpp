#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/event_channel.hpp"

using namespace relais;
using namespace std::chrono_literals;
namespace net = boost::asio;

namespace {

/// Runs `next` until the stream ends or `limit` pieces came; returns them.
std::vector<std::string> drain(net::io_context& io, EventChannel& channel, std::size_t limit) {
    std::vector<std::string> pieces;
    auto done = net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            while (pieces.size() < limit) {
                auto piece = co_await channel.next();
                if (!piece) {
                    co_return;
                }
                pieces.push_back(std::move(*piece));
            }
        },
        net::use_future);
    io.run();
    io.restart();
    done.get();
    return pieces;
}

EventChannel::Options quiet() {
    EventChannel::Options options;
    options.heartbeat = 1h;
    return options;
}

}  // namespace

TEST(CoreEventChannel, QueuedPiecesComeInOrderThenTheEnd) {
    net::io_context io;
    auto channel = EventChannel::create(io.get_executor(), quiet());
    EXPECT_TRUE(channel->push("a"));
    EXPECT_TRUE(channel->push("b"));
    channel->close();
    EXPECT_TRUE(channel->closed());
    EXPECT_FALSE(channel->push("c"));
    EXPECT_EQ(drain(io, *channel, 10), (std::vector<std::string>{"a", "b"}));
}

TEST(CoreEventChannel, PushFromAnotherThreadWakesTheConsumer) {
    net::io_context io;
    auto channel = EventChannel::create(io.get_executor(), quiet());
    std::thread publisher([channel] {
        for (int i = 0; i < 100; ++i) {
            channel->push(std::to_string(i));
            if (i % 10 == 0) {
                std::this_thread::sleep_for(1ms);
            }
        }
        channel->close();
    });
    const auto pieces = drain(io, *channel, 1000);
    publisher.join();
    ASSERT_EQ(pieces.size(), 100U);
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(pieces[static_cast<std::size_t>(i)], std::to_string(i));
    }
}

TEST(CoreEventChannel, SilenceYieldsHeartbeats) {
    net::io_context io;
    EventChannel::Options options;
    options.heartbeat = 5ms;
    auto channel = EventChannel::create(io.get_executor(), options);
    EXPECT_EQ(drain(io, *channel, 2), (std::vector<std::string>{":\n\n", ":\n\n"}));
}

TEST(CoreEventChannel, AFullQueueClosesTheChannel) {
    net::io_context io;
    EventChannel::Options options = quiet();
    options.max_queued = 3;
    auto channel = EventChannel::create(io.get_executor(), options);
    EXPECT_TRUE(channel->push("1"));
    EXPECT_TRUE(channel->push("2"));
    EXPECT_TRUE(channel->push("3"));
    EXPECT_FALSE(channel->push("4"));
    EXPECT_TRUE(channel->closed());
    // A client that fell behind gets nothing more: it reconnects to fresh state.
    EXPECT_TRUE(drain(io, *channel, 10).empty());
}

TEST(CoreEventChannel, StopEndsAWaitingConsumer) {
    net::io_context io;
    auto channel = EventChannel::create(io.get_executor(), quiet());
    std::optional<std::optional<std::string>> got;
    net::co_spawn(
        io, [&]() -> net::awaitable<void> { got = co_await channel->next(); }, net::detached);
    io.poll();
    EXPECT_FALSE(got.has_value());
    channel->stop();
    io.run();
    ASSERT_TRUE(got.has_value());
    EXPECT_FALSE(got->has_value());
    EXPECT_FALSE(channel->push("late"));
}

TEST(CoreEventChannel, PendingWakeUpsOutliveTheChannel) {
    net::io_context io;
    auto channel = EventChannel::create(io.get_executor(), quiet());
    channel->push("x");
    channel->push("y");  // one wake-up is pending already: no second one
    channel.reset();
    // The wake-up runs on the state it shares, after the channel is gone.
    EXPECT_EQ(io.run(), 1U);
}

TEST(CoreEventChannel, SseEventFormat) {
    EXPECT_EQ(format_sse_event("call-start", R"({"a":1})"),
              "event: call-start\ndata: {\"a\":1}\n\n");
    EXPECT_EQ(format_sse_event("", "x"), "data: x\n\n");
    EXPECT_THROW(format_sse_event("a\nb", "x"), std::invalid_argument);
    EXPECT_THROW(format_sse_event("a", "x\ry"), std::invalid_argument);
}
