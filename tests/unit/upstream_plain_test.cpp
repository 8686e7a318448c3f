// The plain HTTP/1.1 client behind perform() for http:// upstreams, against
// a scripted server that answers raw bytes: framing (Content-Length,
// chunked, to the end of the connection, HEAD, 204/304, 1xx), connection
// reuse and its limits, and the retry of a kept-alive connection the
// upstream closed meanwhile; bodies streamed from a BodySource.

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "upstream/plain_http.hpp"
#include "upstream_test_support.hpp"

namespace relais::upstream {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using testing::fetch;
using testing::get;
using testing::pieces_text;
using testing::PiecesSource;
using testing::streamed;

/// A request as the scripted server read it.
struct Seen {
    int connection = 0;  ///< 0 for the first connection accepted
    int index = 0;       ///< 0 for the first request on its connection
    std::string head;    ///< request line and headers
    std::string body;
};

/// What the server answers: raw bytes, then it closes the connection if
/// asked; `later` is written 20 ms after them, unasked.
struct Reply {
    std::string bytes;
    bool close = false;
    std::string later{};
};

/// A loopback server on its own thread that answers each request with
/// what the script returns.
class ScriptedUpstream {
public:
    using Script = std::function<Reply(const Seen&)>;

    explicit ScriptedUpstream(Script script)
        : script_(std::move(script)), acceptor_(context_, {net::ip::make_address("127.0.0.1"), 0}) {
        port_ = acceptor_.local_endpoint().port();
        net::co_spawn(context_, accept_loop(), net::detached);
        thread_ = std::thread([this] { context_.run(); });
    }

    ~ScriptedUpstream() {
        context_.stop();
        thread_.join();
    }

    ScriptedUpstream(const ScriptedUpstream&) = delete;
    ScriptedUpstream& operator=(const ScriptedUpstream&) = delete;

    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }

    std::vector<Seen> seen() const {
        const std::lock_guard lock(mutex_);
        return seen_;
    }

private:
    net::awaitable<void> accept_loop() {
        for (int connection = 0;; ++connection) {
            auto [error, socket] =
                co_await acceptor_.async_accept(net::as_tuple(net::use_awaitable));
            if (error) {
                co_return;
            }
            net::co_spawn(context_, serve(std::move(socket), connection), net::detached);
        }
    }

    net::awaitable<void> serve(tcp::socket socket, int connection) {
        std::string buffer;
        constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
        for (int index = 0;; ++index) {
            auto [error, n] = co_await net::async_read_until(socket, net::dynamic_buffer(buffer),
                                                             "\r\n\r\n", use_tuple);
            if (error) {
                co_return;
            }
            Seen request{connection, index, buffer.substr(0, n), {}};
            buffer.erase(0, n);
            const std::size_t length = content_length(request.head);
            if (buffer.size() < length) {
                std::tie(error, n) = co_await net::async_read(
                    socket, net::dynamic_buffer(buffer),
                    net::transfer_exactly(length - buffer.size()), use_tuple);
                if (error) {
                    co_return;
                }
            }
            request.body = buffer.substr(0, length);
            buffer.erase(0, length);
            const Reply reply = script_(request);
            {
                const std::lock_guard lock(mutex_);
                seen_.push_back(std::move(request));
            }
            std::tie(error, n) =
                co_await net::async_write(socket, net::buffer(reply.bytes), use_tuple);
            if (!error && !reply.later.empty()) {
                net::steady_timer pause(context_, std::chrono::milliseconds(20));
                co_await pause.async_wait(use_tuple);
                std::tie(error, n) =
                    co_await net::async_write(socket, net::buffer(reply.later), use_tuple);
            }
            if (error || reply.close) {
                co_return;
            }
        }
    }

    static std::size_t content_length(const std::string& head) {
        std::string lower = head;
        for (char& c : lower) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        const auto at = lower.find("\r\ncontent-length:");
        return at == std::string::npos ? 0 : std::stoul(lower.substr(at + 17));
    }

    Script script_;
    net::io_context context_;
    tcp::acceptor acceptor_;
    unsigned short port_ = 0;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::vector<Seen> seen_;
};

Reply json_ok(const std::string& body = R"({"ok":true})") {
    return {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body};
}

/// Runs the requests one after the other on one io_context, as one I/O
/// thread would.
std::vector<Result> fetch_in_turn(const std::vector<Request>& requests) {
    net::io_context context;
    return testing::run_on(context, [&]() -> net::awaitable<std::vector<Result>> {
        std::vector<Result> results;
        for (const Request& request : requests) {
            results.push_back(co_await perform(request));
        }
        co_return results;
    }());
}

TEST(UpstreamPlainTargetTest, PlainHttpUrlsAreServedWithoutLibcurl) {
    Request request = get("http://127.0.0.1:8080/a/b?q=1#frag");
    auto target = plain_target_of(request);
    ASSERT_TRUE(target);
    EXPECT_EQ(target->host, "127.0.0.1");
    EXPECT_EQ(target->port, 8080);
    EXPECT_TRUE(target->literal);
    EXPECT_EQ(target->host_header, "127.0.0.1:8080");
    EXPECT_EQ(target->target, "/a/b?q=1");

    target = plain_target_of(get("http://[::1]"));
    ASSERT_TRUE(target);
    EXPECT_EQ(target->host, "::1");
    EXPECT_EQ(target->port, 80);
    EXPECT_EQ(target->host_header, "[::1]");
    EXPECT_EQ(target->target, "/");

    target = plain_target_of(get("http://api.example/?x"));
    ASSERT_TRUE(target);
    EXPECT_FALSE(target->literal);
    EXPECT_EQ(target->target, "/?x");

    target = plain_target_of(get("http://api.example?x=/?#f/?"));
    ASSERT_TRUE(target);
    EXPECT_EQ(target->host_header, "api.example");
    EXPECT_EQ(target->target, "/?x=/?");
}

TEST(UpstreamPlainTargetTest, EachOriginKeepsItsOwnHost) {
    // Origins are remembered per thread: asking again, or for another
    // port of the same host, must give each its own answer.
    for (int round = 0; round < 2; ++round) {
        const auto first = plain_target_of(get("http://127.0.0.1:8080/a"));
        const auto second = plain_target_of(get("http://127.0.0.1:8081/b?c"));
        const auto refused = plain_target_of(get("http://user@127.0.0.1:8080/a"));
        ASSERT_TRUE(first);
        ASSERT_TRUE(second);
        EXPECT_FALSE(refused);
        EXPECT_EQ(first->port, 8080);
        EXPECT_EQ(first->target, "/a");
        EXPECT_EQ(second->port, 8081);
        EXPECT_EQ(second->host_header, "127.0.0.1:8081");
        EXPECT_EQ(second->target, "/b?c");
    }
    // More origins than are remembered: the memory starts again, answers stay right.
    for (int port = 1; port <= 600; ++port) {
        const auto target = plain_target_of(get("http://10.0.0.1:" + std::to_string(port) + "/"));
        ASSERT_TRUE(target);
        ASSERT_EQ(target->port, port);
    }
}

TEST(UpstreamPlainTargetTest, OtherUrlsAreLeftToLibcurl) {
    for (const char* url :
         {"https://127.0.0.1/", "http://user:pw@127.0.0.1/", "ftp://127.0.0.1/", "http://[::1",
          "http:///path", "relative/path", "http://127.0.0.1/a b", "http://127.0.0.1/a%zz",
          "http://127.0.0.1/?q=\"", "http://127.0.0.1/#a#b", "http://127.0.0.1:0/",
          "http://127.0.0.1:99999/",
          // Names that start like an address, ports followed by letters.
          "http://127.0.0.1.nip.io:8080/api", "http://10.0.0.1x/api", "http://h:8080abc/api",
          "http://[::1]x/api"}) {
        EXPECT_FALSE(plain_target_of(get(url))) << url;
    }
    Request proxied = get("http://127.0.0.1/");
    proxied.proxy = "http://127.0.0.1:3128";
    EXPECT_FALSE(plain_target_of(proxied));
}

TEST(UpstreamPlainTest, RequestHeadCarriesHostLengthAndNoEncoding) {
    ScriptedUpstream upstream([](const Seen&) { return json_ok(); });
    Request request = get(upstream.url("/items?x=1"));
    request.method = "POST";
    request.body = "{}";
    request.headers = {{"Content-Type", "application/json"}, {"X-Empty", ""}};
    const Result result = fetch(request);
    ASSERT_EQ(result.failure, Failure::none) << result.detail;
    EXPECT_EQ(result.response.status, 200);
    EXPECT_EQ(result.response.body, R"({"ok":true})");
    const std::vector<Seen> seen = upstream.seen();
    ASSERT_EQ(seen.size(), 1U);
    const std::string& head = seen[0].head;
    EXPECT_TRUE(head.starts_with("POST /items?x=1 HTTP/1.1\r\n")) << head;
    EXPECT_NE(head.find("\r\nHost: 127.0.0.1:"), std::string::npos) << head;
    EXPECT_NE(head.find("\r\nContent-Length: 2\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("\r\nX-Empty: \r\n"), std::string::npos) << head;
    EXPECT_EQ(head.find("Accept-Encoding"), std::string::npos) << head;
    EXPECT_EQ(head.find("Expect"), std::string::npos) << head;
    EXPECT_EQ(seen[0].body, "{}");
}

TEST(UpstreamPlainTest, HostNamesAreResolved) {
    ScriptedUpstream upstream([](const Seen&) { return json_ok(); });
    // localhost may resolve to ::1 first, where nobody listens: the next
    // address is tried.
    std::string url = upstream.url("/named");
    url.replace(url.find("127.0.0.1"), 9, "localhost");
    const Result result = fetch(get(url));
    ASSERT_EQ(result.failure, Failure::none) << result.detail;
    const std::vector<Seen> seen = upstream.seen();
    ASSERT_EQ(seen.size(), 1U);
    EXPECT_NE(seen[0].head.find("\r\nHost: localhost:"), std::string::npos) << seen[0].head;
}

TEST(UpstreamPlainTest, AnswersWithoutBodyKeepTheConnection) {
    ScriptedUpstream upstream([](const Seen& seen) -> Reply {
        switch (seen.index) {
            case 0:
                return {"HTTP/1.1 204 No Content\r\n\r\n"};
            case 1:
                return {"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"};
            case 2:
                // A HEAD answer announces the body it does not send.
                return {"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"};
            default:
                return json_ok();
        }
    });
    Request head = get(upstream.url("/h"));
    head.method = "HEAD";
    const auto results = fetch_in_turn(
        {get(upstream.url("/a")), get(upstream.url("/b")), head, get(upstream.url("/c"))});
    ASSERT_EQ(results.size(), 4U);
    EXPECT_EQ(results[0].response.status, 204);
    EXPECT_EQ(results[1].response.status, 304);
    EXPECT_EQ(results[2].response.status, 200);
    EXPECT_TRUE(results[2].response.body.empty());
    EXPECT_EQ(results[3].response.body, R"({"ok":true})");
    for (const Result& result : results) {
        EXPECT_EQ(result.failure, Failure::none) << result.detail;
    }
    for (const Seen& seen : upstream.seen()) {
        EXPECT_EQ(seen.connection, 0);
    }
}

TEST(UpstreamPlainTest, ChunkedAndInterimAnswersAreAssembled) {
    ScriptedUpstream upstream([](const Seen&) -> Reply {
        return {
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
            "X-Final: yes\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"};
    });
    const Result result = fetch(get(upstream.url("/chunked")));
    ASSERT_EQ(result.failure, Failure::none) << result.detail;
    EXPECT_EQ(result.response.status, 200);
    EXPECT_EQ(result.response.body, "abcde");
    const std::string* final_header = find_header(result.response.headers, "x-final");
    ASSERT_NE(final_header, nullptr);
    EXPECT_EQ(*final_header, "yes");
}

TEST(UpstreamPlainTest, ConnectionCloseAndBodyToEofAreNotReused) {
    ScriptedUpstream upstream([](const Seen& seen) -> Reply {
        if (seen.connection == 0) {
            return {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", true};
        }
        if (seen.connection == 1) {
            return {"HTTP/1.1 200 OK\r\n\r\nuntil the end", true};
        }
        return json_ok();
    });
    const auto results =
        fetch_in_turn({get(upstream.url("/1")), get(upstream.url("/2")), get(upstream.url("/3"))});
    ASSERT_EQ(results.size(), 3U);
    EXPECT_EQ(results[0].response.body, "ok");
    EXPECT_EQ(results[1].response.body, "until the end");
    EXPECT_EQ(results[2].failure, Failure::none) << results[2].detail;
    const std::vector<Seen> seen = upstream.seen();
    ASSERT_EQ(seen.size(), 3U);
    EXPECT_EQ(seen[2].connection, 2);
}

/// A GET, a pause, then `request`, which the pool would send on the GET's
/// connection: what the upstream did meanwhile (close it, send more) has
/// reached this side by then.
Result perform_after_a_pause(ScriptedUpstream& upstream, const Request& request) {
    net::io_context context;
    const auto results = testing::run_on(context, [&]() -> net::awaitable<std::vector<Result>> {
        std::vector<Result> out;
        out.push_back(co_await perform(get(upstream.url("/first"))));
        net::steady_timer pause(context, std::chrono::milliseconds(50));
        co_await pause.async_wait(net::use_awaitable);
        out.push_back(co_await perform(request));
        co_return out;
    }());
    EXPECT_EQ(results.size(), 2U);
    return results.back();
}

/// POSTs "once" with perform_after_a_pause(), which must succeed; what the
/// upstream saw.
std::vector<Seen> post_once_after_a_pause(ScriptedUpstream& upstream) {
    Request post = get(upstream.url("/post"));
    post.method = "POST";
    post.body = "once";
    const Result result = perform_after_a_pause(upstream, post);
    EXPECT_EQ(result.failure, Failure::none) << result.detail;
    return upstream.seen();
}

TEST(UpstreamPlainTest, ConnectionClosedWhileIdleIsNotReused) {
    // The first answer keeps the connection alive, then the server closes it
    // anyway, as an upstream does when its keep-alive timeout is shorter.
    ScriptedUpstream upstream([](const Seen& seen) -> Reply {
        Reply reply = json_ok();
        reply.close = seen.connection == 0;
        return reply;
    });
    const std::vector<Seen> seen = post_once_after_a_pause(upstream);
    ASSERT_EQ(seen.size(), 2U);
    EXPECT_EQ(seen[1].connection, 1);
    EXPECT_EQ(seen[1].body, "once");
}

/// Keeps the first connection alive, then closes it without an answer when
/// the next request arrives on it (the upstream's keep-alive timeout ending
/// just then); answers everything else.
Reply close_on_the_second_request(const Seen& seen) {
    if (seen.connection == 0 && seen.index == 1) {
        return {"", true};
    }
    return json_ok();
}

TEST(UpstreamPlainTest, IdempotentRequestOnAConnectionClosedAsItArrivesIsSentOnceMore) {
    ScriptedUpstream upstream(close_on_the_second_request);
    Request put = get(upstream.url("/put"));
    put.method = "PUT";
    put.body = "twice is once";
    const Result result = perform_after_a_pause(upstream, put);
    EXPECT_EQ(result.failure, Failure::none) << result.detail;
    const std::vector<Seen> seen = upstream.seen();
    ASSERT_EQ(seen.size(), 3U);
    EXPECT_EQ(seen[1].connection, 0);
    EXPECT_EQ(seen[2].connection, 1);
    EXPECT_EQ(seen[2].body, "twice is once");
}

TEST(UpstreamPlainTest, PostOnAConnectionClosedAsItArrivesIsNotSentAgain) {
    // The upstream may have applied it before closing: a second POST could
    // apply it twice (RFC 9110 9.2.2).
    for (const std::string method : {"POST", "PATCH"}) {
        ScriptedUpstream upstream(close_on_the_second_request);
        Request post = get(upstream.url("/post"));
        post.method = method;
        post.body = "once";
        const Result result = perform_after_a_pause(upstream, post);
        EXPECT_EQ(result.failure, Failure::unreachable) << method;
        EXPECT_EQ(result.detail, "connection closed without a response") << method;
        EXPECT_EQ(upstream.seen().size(), 2U) << method;
    }
}

TEST(UpstreamPlainTest, ConnectionThatSpokeWhileIdleIsNotReused) {
    // After its answer, the upstream sends more on the idle connection: a
    // body longer than announced, or a whole second answer. The next request
    // must neither receive those bytes nor see its own answer shifted.
    for (const std::string& later :
         {std::string("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n\"SMUGGLED\""),
          std::string("trailing")}) {
        ScriptedUpstream upstream([&](const Seen& seen) -> Reply {
            Reply reply =
                json_ok(R"({"path":")" + seen.head.substr(4, seen.head.find(' ', 4) - 4) + R"("})");
            if (seen.connection == 0 && seen.index == 0) {
                reply.later = later;
            }
            return reply;
        });
        const Result second = perform_after_a_pause(upstream, get(upstream.url("/second")));
        EXPECT_EQ(second.failure, Failure::none) << second.detail;
        EXPECT_EQ(second.response.body, R"({"path":"/second"})") << later;
        const std::vector<Seen> seen = upstream.seen();
        ASSERT_EQ(seen.size(), 2U);
        EXPECT_EQ(seen[1].connection, 1) << "the connection that spoke was reused";
    }
}

TEST(UpstreamPlainTest, FreshConnectionThatAnswersNothingIsNotRetried) {
    ScriptedUpstream upstream([](const Seen&) { return Reply{"", true}; });
    const Result result = fetch(get(upstream.url("/nothing")));
    EXPECT_EQ(result.failure, Failure::unreachable);
    EXPECT_EQ(result.detail, "connection closed without a response");
    EXPECT_EQ(upstream.seen().size(), 1U);
}

TEST(UpstreamPlainTest, BrokenAnswersAreFailures) {
    struct Case {
        std::string bytes;
        Failure failure;
        std::string detail;
    };
    const std::vector<Case> cases = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", Failure::unreachable,
         "connection closed before the end of the response"},
        {"not http at all\r\n\r\n", Failure::unreachable, "malformed HTTP response"},
        {"HTTP/1.1 200 OK\r\nX-Big: " + std::string(70 * 1024, 'x') + "\r\n\r\n",
         Failure::too_large, "response headers larger than 65536 bytes"},
        // Framing past the head is bounded too: a chunk size line, trailers.
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;x=" + std::string(300 * 1024, 'a'),
         Failure::too_large, "response headers larger than 65536 bytes"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-T: " +
             std::string(300 * 1024, 'a'),
         Failure::too_large, "response headers larger than 65536 bytes"},
    };
    for (const Case& c : cases) {
        ScriptedUpstream upstream([&](const Seen&) { return Reply{c.bytes, true}; });
        const Result result = fetch(get(upstream.url("/broken")));
        EXPECT_EQ(result.failure, c.failure) << c.detail;
        EXPECT_EQ(result.detail, c.detail);
    }
}

TEST(UpstreamPlainTest, StreamedBodyArrivesWholeAndKeepsTheConnection) {
    ScriptedUpstream upstream([](const Seen&) { return json_ok(); });
    constexpr std::uint64_t total = 3 * 1024 * 1024;
    const auto results = fetch_in_turn(
        {streamed(upstream.url("/submit"), {.total = total}), get(upstream.url("/after"))});
    ASSERT_EQ(results.size(), 2U);
    EXPECT_EQ(results[0].failure, Failure::none) << results[0].detail;
    EXPECT_EQ(results[0].response.status, 200);
    EXPECT_EQ(results[1].failure, Failure::none) << results[1].detail;
    const std::vector<Seen> seen = upstream.seen();
    ASSERT_EQ(seen.size(), 2U);
    const std::string& head = seen[0].head;
    EXPECT_TRUE(head.starts_with("POST /submit HTTP/1.1\r\n")) << head;
    EXPECT_NE(head.find("\r\nContent-Length: 3145728\r\n"), std::string::npos) << head;
    EXPECT_EQ(head.find("Expect"), std::string::npos) << head;
    EXPECT_EQ(head.find("Transfer-Encoding"), std::string::npos) << head;
    EXPECT_TRUE(seen[0].body == pieces_text(total));
    EXPECT_EQ(seen[1].connection, 0);
}

TEST(UpstreamPlainTest, FailingBodySourceIsInternalAndItsConnectionIsClosed) {
    ScriptedUpstream upstream([](const Seen&) { return json_ok(); });
    const auto results =
        fetch_in_turn({get(upstream.url("/before")),
                       streamed(upstream.url("/submit"), {.total = 1024 * 1024, .throw_at = 4}),
                       get(upstream.url("/after"))});
    ASSERT_EQ(results.size(), 3U);
    EXPECT_EQ(results[1].failure, Failure::internal);
    EXPECT_EQ(results[1].detail, "request body unavailable");
    EXPECT_EQ(results[2].failure, Failure::none) << results[2].detail;
    const std::vector<Seen> seen = upstream.seen();
    ASSERT_EQ(seen.size(), 2U);
    EXPECT_EQ(seen[0].connection, 0);
    // The half-sent request's connection was not used again.
    EXPECT_EQ(seen[1].connection, 1);
}

TEST(UpstreamPlainTest, BodySourceOfAnotherSizeIsInternal) {
    ScriptedUpstream upstream([](const Seen&) { return json_ok(); });
    for (const std::uint64_t announced : {300'000U, 131'072U, 199'999U}) {
        const Result result =
            fetch(streamed(upstream.url("/submit"), {.total = 200'000, .announced = announced}));
        EXPECT_EQ(result.failure, Failure::internal) << announced;
        EXPECT_EQ(result.detail, "request body not of its announced size") << announced;
    }
}

TEST(UpstreamPlainTest, BodySourceStartsAgainOnANewConnection) {
    ScriptedUpstream upstream(close_on_the_second_request);
    constexpr std::uint64_t total = 512 * 1024;
    Request put = streamed(upstream.url("/submit"), {.total = total}, "PUT");
    const auto& source = static_cast<const PiecesSource&>(*put.body_source);
    const Result result = perform_after_a_pause(upstream, put);
    EXPECT_EQ(result.failure, Failure::none) << result.detail;
    EXPECT_EQ(source.rewinds, 1);
    const std::vector<Seen> seen = upstream.seen();
    ASSERT_EQ(seen.size(), 3U);
    EXPECT_EQ(seen[2].connection, 1);
    EXPECT_TRUE(seen[2].body == pieces_text(total));
}

TEST(UpstreamPlainTest, PieceAwaitedPastTheDeadlineTimesOut) {
    ScriptedUpstream upstream([](const Seen&) { return json_ok(); });
    Request request = streamed(upstream.url("/submit"), {.total = 300'000, .stall_at = 2});
    request.timeout = std::chrono::milliseconds(300);
    const Result result = fetch(request);
    EXPECT_EQ(result.failure, Failure::timeout);
    EXPECT_EQ(result.detail, "no complete response within the timeout");
}

TEST(UpstreamPlainTest, CancellationEndsTheWaitForAPiece) {
    ScriptedUpstream upstream([](const Seen&) { return json_ok(); });
    EXPECT_TRUE(testing::cancelled_while_waiting(
        streamed(upstream.url("/submit"), {.total = 300'000, .stall_at = 2})));
}

}  // namespace
}  // namespace relais::upstream
