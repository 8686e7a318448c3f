// The call book of a phonecalls connector with a clock the tests drive:
// start, stop and restart, retention, the maximum duration, the max_calls
// bound, and the events its streams receive.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/event_channel.hpp"
#include "phonecalls/call_book.hpp"

namespace relais::phonecalls {
namespace {

using namespace std::chrono_literals;

/// 2024-05-17T09:30:00Z on the wall clock.
Instant t0() {
    return Instant{std::chrono::steady_clock::time_point(1000h),
                   std::chrono::system_clock::time_point(1715938200s)};
}

rapidjson::Document parse(const std::string& json) {
    rapidjson::Document doc;
    doc.Parse(json.c_str());
    EXPECT_FALSE(doc.HasParseError()) << json;
    return doc;
}

/// Callers of the current and past calls of `callee`, most recent first.
struct Listed {
    std::vector<std::string> current;
    std::vector<std::string> past;
};

Listed listed(CallBook& book, const std::string& callee, Instant now, std::size_t limit = 20) {
    const auto doc = parse(book.calls(callee, limit, now));
    Listed out;
    for (const auto& c : doc["current"].GetArray()) {
        out.current.emplace_back(c["caller"].GetString());
    }
    for (const auto& c : doc["past"].GetArray()) {
        out.past.emplace_back(c["caller"].GetString());
    }
    return out;
}

using Callers = std::vector<std::string>;

TEST(PhonecallsCallBook, FormatsTimesAsIso8601Utc) {
    EXPECT_EQ(iso8601_utc(t0().wall), "2024-05-17T09:30:00Z");
}

TEST(PhonecallsCallBook, StartListStopRoundTrip) {
    CallBook book(Settings{});
    const auto started = book.start("0612345678", "1001", R"({"name":"x"})", t0());
    ASSERT_TRUE(started);
    EXPECT_EQ(*started, R"({"caller":"0612345678","callee":"1001","start":"2024-05-17T09:30:00Z",)"
                        R"("end":null,"data":{"name":"x"}})");
    EXPECT_EQ(book.calls("1001", 20, t0() + 1s), R"({"current":[)" + *started + R"(],"past":[]})");
    EXPECT_EQ(book.calls("1002", 20, t0() + 1s), R"({"current":[],"past":[]})");

    const auto stopped = book.stop("0612345678", "1001", t0() + 65s);
    ASSERT_TRUE(stopped);
    const auto doc = parse(*stopped);
    EXPECT_STREQ(doc["end"].GetString(), "2024-05-17T09:31:05Z");
    EXPECT_STREQ(doc["data"]["name"].GetString(), "x");
    const Listed after = listed(book, "1001", t0() + 66s);
    EXPECT_EQ(after.current, Callers{});
    EXPECT_EQ(after.past, Callers{"0612345678"});
}

TEST(PhonecallsCallBook, StopOfAnUnknownCallFindsNothing) {
    CallBook book(Settings{});
    EXPECT_FALSE(book.stop("0612345678", "1001", t0()));
    book.start("0612345678", "1001", "{}", t0());
    EXPECT_FALSE(book.stop("0699999999", "1001", t0()));
    EXPECT_FALSE(book.stop("0612345678", "1002", t0()));
    EXPECT_TRUE(book.stop("0612345678", "1001", t0()));
    EXPECT_FALSE(book.stop("0612345678", "1001", t0()));
}

TEST(PhonecallsCallBook, StartOfACurrentCallRestartsIt) {
    CallBook book(Settings{});
    book.start("0612345678", "1001", R"({"n":1})", t0());
    book.start("0612345678", "1001", R"({"n":2})", t0() + 10s);
    const auto doc = parse(book.calls("1001", 20, t0() + 11s));
    ASSERT_EQ(doc["current"].Size(), 1u);
    EXPECT_EQ(doc["current"][0]["data"]["n"].GetInt(), 2);
    EXPECT_STREQ(doc["current"][0]["start"].GetString(), "2024-05-17T09:30:10Z");
    ASSERT_EQ(doc["past"].Size(), 1u);
    EXPECT_EQ(doc["past"][0]["data"]["n"].GetInt(), 1);
    EXPECT_STREQ(doc["past"][0]["end"].GetString(), "2024-05-17T09:30:10Z");
    EXPECT_EQ(book.size(), 2u);
}

TEST(PhonecallsCallBook, ListsMostRecentFirstWithinLimit) {
    CallBook book(Settings{});
    for (int i = 1; i <= 5; ++i) {
        const std::string caller = "060000000" + std::to_string(i);
        book.start(caller, "1001", "{}", t0() + std::chrono::seconds(i));
        if (i <= 3) {
            book.stop(caller, "1001", t0() + std::chrono::seconds(10 + i));
        }
    }
    const Listed all = listed(book, "1001", t0() + 20s);
    EXPECT_EQ(all.current, (Callers{"0600000005", "0600000004"}));
    EXPECT_EQ(all.past, (Callers{"0600000003", "0600000002", "0600000001"}));
    EXPECT_EQ(listed(book, "1001", t0() + 20s, 2).past, (Callers{"0600000003", "0600000002"}));
    EXPECT_EQ(listed(book, "1001", t0() + 20s, 0).past, Callers{});
}

TEST(PhonecallsCallBook, EndedCallsAreForgottenAfterRetention) {
    Settings settings;
    settings.retention = 10min;
    CallBook book(settings);
    book.start("0600000001", "1001", "{}", t0());
    book.stop("0600000001", "1001", t0() + 1min);
    book.start("0600000002", "1001", "{}", t0() + 2min);
    book.stop("0600000002", "1001", t0() + 3min);
    EXPECT_EQ(listed(book, "1001", t0() + 10min).past, (Callers{"0600000002", "0600000001"}));
    EXPECT_EQ(listed(book, "1001", t0() + 11min).past, Callers{"0600000002"});
    book.sweep(t0() + 13min);
    EXPECT_EQ(book.size(), 0u);
    EXPECT_EQ(book.calls("1001", 20, t0() + 13min), R"({"current":[],"past":[]})");
}

TEST(PhonecallsCallBook, ZeroRetentionKeepsNoEndedCall) {
    Settings settings;
    settings.retention = 0ms;
    CallBook book(settings);
    book.start("0600000001", "1001", "{}", t0());
    EXPECT_TRUE(book.stop("0600000001", "1001", t0() + 1s));
    EXPECT_EQ(book.size(), 0u);
}

TEST(PhonecallsCallBook, CallsOverMaxDurationAreStoppedBySweep) {
    Settings settings;
    settings.max_call_duration = 2h;
    CallBook book(settings);
    book.start("0600000001", "1001", "{}", t0());
    book.start("0600000002", "1001", "{}", t0() + 1h);
    EXPECT_EQ(book.sweep(t0() + (2h - 1ms)), 0u);
    EXPECT_EQ(book.sweep(t0() + 2h), 1u);
    const Listed after = listed(book, "1001", t0() + 2h);
    EXPECT_EQ(after.current, Callers{"0600000002"});
    EXPECT_EQ(after.past, Callers{"0600000001"});
    EXPECT_EQ(book.sweep(t0() + 3h), 1u);
    EXPECT_EQ(listed(book, "1001", t0() + 3h).current, Callers{});
}

TEST(PhonecallsCallBook, MaxCallsForgetsOldestEndedThenRefuses) {
    Settings settings;
    settings.max_calls = 3;
    CallBook book(settings);
    book.start("0600000001", "1001", "{}", t0());
    book.stop("0600000001", "1001", t0() + 1s);
    book.start("0600000002", "1002", "{}", t0() + 2s);
    book.stop("0600000002", "1002", t0() + 3s);
    book.start("0600000003", "1001", "{}", t0() + 4s);
    EXPECT_TRUE(book.start("0600000004", "1001", "{}", t0() + 5s));
    EXPECT_EQ(book.size(), 3u);
    EXPECT_EQ(listed(book, "1001", t0() + 6s).past, Callers{});
    EXPECT_EQ(listed(book, "1002", t0() + 6s).past, Callers{"0600000002"});
    EXPECT_TRUE(book.start("0600000005", "1003", "{}", t0() + 6s));
    EXPECT_FALSE(book.start("0600000006", "1003", "{}", t0() + 7s));
    EXPECT_EQ(book.size(), 3u);
}

TEST(PhonecallsCallBook, SweepIntervalFollowsTheShortestDuration) {
    Settings settings;
    settings.max_call_duration = 2h;
    settings.retention = 1s;
    CallBook book(settings);
    EXPECT_EQ(book.sweep_interval(), 250ms);
    settings.retention = 10min;
    book.apply(settings, 1);
    EXPECT_EQ(book.sweep_interval(), 1000ms);
    settings.max_call_duration = 1s;
    settings.retention = 0ms;
    book.apply(settings, 2);
    EXPECT_EQ(book.sweep_interval(), 250ms);
}

TEST(PhonecallsCallBook, SettingsOfAnEarlierGenerationAreIgnored) {
    CallBook book(Settings{});
    Settings later;
    later.max_calls = 7;
    book.apply(later, 5);
    Settings earlier;
    earlier.max_calls = 3;
    book.apply(earlier, 4);
    EXPECT_EQ(book.settings().max_calls, 7u);
    book.apply(earlier, 6);
    EXPECT_EQ(book.settings().max_calls, 3u);
}

// -- streams ---------------------------------------------------------------

class PhonecallsStreams : public ::testing::Test {
protected:
    std::shared_ptr<EventChannel> channel() {
        EventChannel::Options options;
        options.heartbeat = 1h;
        return EventChannel::create(io.get_executor(), options);
    }

    /// What `stream` yields until it has nothing more queued.
    std::vector<std::string> received(const std::shared_ptr<EventChannel>& stream) {
        std::vector<std::string> out;
        bool ended = false;
        boost::asio::co_spawn(
            io,
            [&]() -> boost::asio::awaitable<void> {
                for (;;) {
                    auto text = co_await stream->next();
                    if (!text) {
                        ended = true;
                        co_return;
                    }
                    out.push_back(std::move(*text));
                }
            },
            boost::asio::detached);
        io.run_for(100ms);
        stream->stop();
        io.restart();
        io.run_for(100ms);
        io.restart();
        ended_ = ended;
        return out;
    }

    boost::asio::io_context io;
    bool ended_ = false;
};

TEST_F(PhonecallsStreams, SubscribeReturnsTheSnapshotEvent) {
    CallBook book(Settings{});
    book.start("0612345678", "1001", "{}", t0());
    const auto snapshot = book.subscribe("1001", channel(), 20, t0() + 1s);
    ASSERT_TRUE(snapshot);
    EXPECT_EQ(*snapshot, "event: calls\ndata: " + book.calls("1001", 20, t0() + 1s) + "\n\n");
    EXPECT_EQ(book.open_streams(), 1u);
}

// Data that cannot be sent (a line break would split an event; read_data
// never lets one through) makes the event fail: the book must not change.
TEST_F(PhonecallsStreams, AnEventThatFailsLeavesTheBookAsItWas) {
    CallBook book(Settings{});
    const std::string unsendable = "{\"a\":\n1}";
    ASSERT_TRUE(book.start("0600000001", "1001", unsendable, t0()));
    const std::string before = book.calls("1001", 20, t0());
    EXPECT_THROW(book.subscribe("1001", channel(), 20, t0()), std::invalid_argument);
    EXPECT_EQ(book.open_streams(), 0u);

    const auto stream = channel();
    ASSERT_TRUE(book.subscribe("1002", stream, 20, t0()));
    EXPECT_THROW(book.start("0600000002", "1002", unsendable, t0()), std::invalid_argument);
    EXPECT_EQ(book.calls("1002", 20, t0()), R"({"current":[],"past":[]})");
    ASSERT_TRUE(book.start("0600000002", "1002", "{}", t0()));
    // A restart whose start fails does not end the current call either.
    EXPECT_THROW(book.start("0600000002", "1002", unsendable, t0() + 1s), std::invalid_argument);
    EXPECT_EQ(listed(book, "1002", t0() + 1s).current, Callers{"0600000002"});
    EXPECT_EQ(listed(book, "1002", t0() + 1s).past, Callers{});
    EXPECT_EQ(book.size(), 2u);
    EXPECT_EQ(book.calls("1001", 20, t0()), before);
    EXPECT_EQ(book.open_streams(), 1u);
    const auto events = received(stream);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].rfind("event: call-start\n", 0), 0u);
}

TEST_F(PhonecallsStreams, ARefusedStartChangesNothing) {
    Settings settings;
    settings.max_calls = 1;
    CallBook book(settings);
    const auto stream = channel();
    book.subscribe("1001", stream, 20, t0());
    ASSERT_TRUE(book.start("0600000001", "1001", "{}", t0()));
    EXPECT_FALSE(book.start("0600000002", "1001", "{}", t0() + 1s));
    // A restart frees the place of the call it ends.
    EXPECT_TRUE(book.start("0600000001", "1001", "{}", t0() + 2s));
    EXPECT_EQ(listed(book, "1001", t0() + 2s).current, Callers{"0600000001"});
    EXPECT_EQ(received(stream).size(), 3u);
}

TEST_F(PhonecallsStreams, EventsReachEveryStreamOfTheCalleeOnly) {
    CallBook book(Settings{});
    const auto a1 = channel();
    const auto a2 = channel();
    const auto b = channel();
    book.subscribe("1001", a1, 20, t0());
    book.subscribe("1001", a2, 20, t0());
    book.subscribe("1002", b, 20, t0());
    const auto started = book.start("0612345678", "1001", "{}", t0());
    const auto stopped = book.stop("0612345678", "1001", t0() + 5s);
    const std::vector<std::string> expected{"event: call-start\ndata: " + *started + "\n\n",
                                            "event: call-stop\ndata: " + *stopped + "\n\n"};
    EXPECT_EQ(received(a1), expected);
    EXPECT_EQ(received(a2), expected);
    EXPECT_EQ(received(b), std::vector<std::string>{});
}

TEST_F(PhonecallsStreams, RestartSendsStopThenStart) {
    CallBook book(Settings{});
    const auto stream = channel();
    book.start("0612345678", "1001", "{}", t0());
    book.subscribe("1001", stream, 20, t0());
    book.start("0612345678", "1001", "{}", t0() + 1s);
    const auto events = received(stream);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].rfind("event: call-stop\n", 0), 0u);
    EXPECT_EQ(events[1].rfind("event: call-start\n", 0), 0u);
}

TEST_F(PhonecallsStreams, AutoStopIsPushed) {
    Settings settings;
    settings.max_call_duration = 1s;
    CallBook book(settings);
    const auto stream = channel();
    book.subscribe("1001", stream, 20, t0());
    book.start("0612345678", "1001", "{}", t0());
    book.sweep(t0() + 1s);
    const auto events = received(stream);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].rfind("event: call-stop\n", 0), 0u);
    EXPECT_NE(events[1].find("\"end\":\"2024-05-17T09:30:01Z\""), std::string::npos);
}

TEST_F(PhonecallsStreams, MaxStreamsRefusesUntilOneCloses) {
    Settings settings;
    settings.max_streams = 2;
    CallBook book(settings);
    const auto first = channel();
    const auto second = channel();
    auto third = channel();
    EXPECT_TRUE(book.subscribe("1001", first, 20, t0()));
    EXPECT_TRUE(book.subscribe("1002", second, 20, t0()));
    EXPECT_FALSE(book.subscribe("1003", third, 20, t0()));
    first->stop();
    EXPECT_TRUE(book.subscribe("1003", third, 20, t0()));
    EXPECT_EQ(book.open_streams(), 2u);
    // A stream whose connection let go of it frees its place too.
    third.reset();
    const auto fourth = channel();
    EXPECT_TRUE(book.subscribe("1004", fourth, 20, t0()));
    EXPECT_EQ(book.open_streams(), 2u);
}

TEST_F(PhonecallsStreams, ClosedStreamsArePrunedBySweepAndPublish) {
    CallBook book(Settings{});
    const auto a = channel();
    const auto b = channel();
    book.subscribe("1001", a, 20, t0());
    book.subscribe("1002", b, 20, t0());
    a->stop();
    b->stop();
    book.start("0612345678", "1001", "{}", t0());
    EXPECT_EQ(book.open_streams(), 1u);
    book.sweep(t0());
    EXPECT_EQ(book.open_streams(), 0u);
}

TEST_F(PhonecallsStreams, DestroyingTheBookEndsItsStreams) {
    const auto stream = channel();
    {
        CallBook book(Settings{});
        book.subscribe("1001", stream, 20, t0());
    }
    EXPECT_TRUE(stream->closed());
    EXPECT_EQ(received(stream), std::vector<std::string>{});
    EXPECT_TRUE(ended_);
}

}  // namespace
}  // namespace relais::phonecalls
