// Request bodies streamed from a BodySource through libcurl (an https
// upstream: tests/support/fake_upstream.py with its test CA). The plain
// client's side is in upstream_plain_test.cpp.

#include <gtest/gtest.h>

#include <memory>

#include "upstream_test_support.hpp"

namespace relais::upstream {
namespace {

using testing::json_of;
using testing::pieces_text;
using testing::streamed;
using testing::string_at;

class UpstreamCurlBodySourceTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        fake_ = std::make_unique<testing::FakeUpstreamProcess>(
            testing::FakeUpstreamProcess::Options{.tls = true});
    }
    static void TearDownTestSuite() { fake_.reset(); }

    static Request request(testing::PiecesSource::Options options,
                           const std::string& method = "POST") {
        Request out = streamed(fake_->url("/echo/submit"), options, method);
        out.tls.ca_file = fake_->ca_file;
        return out;
    }

    static inline std::unique_ptr<testing::FakeUpstreamProcess> fake_;
};

TEST_F(UpstreamCurlBodySourceTest, StreamedBodyArrivesWhole) {
    constexpr std::uint64_t total = 3 * 1024 * 1024;
    const Result result = testing::fetch(request({.total = total}));

    ASSERT_EQ(result.failure, Failure::none) << result.detail;
    EXPECT_EQ(result.response.status, 200);
    const auto echo = json_of(result);
    EXPECT_EQ(string_at(echo, "/method"), "POST");
    EXPECT_EQ(string_at(echo, "/headers/content-length"), "3145728");
    EXPECT_EQ(string_at(echo, "/headers/content-type"), "text/plain");
    EXPECT_EQ(string_at(echo, "/headers/expect"), "<absent>");
    EXPECT_EQ(string_at(echo, "/headers/transfer-encoding"), "<absent>");
    EXPECT_TRUE(string_at(echo, "/body") == pieces_text(total));
}

TEST_F(UpstreamCurlBodySourceTest, OtherMethodsAndSmallPiecesToo) {
    for (const char* method : {"PUT", "PATCH"}) {
        const Result result = testing::fetch(request({.total = 100'000, .piece = 1000}, method));
        ASSERT_EQ(result.failure, Failure::none) << method << ": " << result.detail;
        const auto echo = json_of(result);
        EXPECT_EQ(string_at(echo, "/method"), method);
        EXPECT_EQ(string_at(echo, "/headers/content-length"), "100000");
        EXPECT_TRUE(string_at(echo, "/body") == pieces_text(100'000)) << method;
    }
}

TEST_F(UpstreamCurlBodySourceTest, FailingBodySourceIsInternal) {
    const Result result = testing::fetch(request({.total = 1024 * 1024, .throw_at = 4}));
    EXPECT_EQ(result.failure, Failure::internal);
    EXPECT_EQ(result.detail, "request body unavailable");
}

TEST_F(UpstreamCurlBodySourceTest, BodySourceOfAnotherSizeIsInternal) {
    // Shorter than announced, longer after a piece that ends at the announced
    // size, longer within a piece.
    for (const std::uint64_t announced : {300'000U, 131'072U, 199'999U}) {
        const Result result = testing::fetch(request({.total = 200'000, .announced = announced}));
        EXPECT_EQ(result.failure, Failure::internal) << announced;
        EXPECT_EQ(result.detail, "request body not of its announced size") << announced;
    }
}

TEST_F(UpstreamCurlBodySourceTest, BodySourceWithABodyOrOnHeadIsRefused) {
    Request both = request({.total = 10});
    both.body = "whole";
    Request head = request({.total = 10}, "HEAD");
    for (const auto& [refused, detail] :
         {std::pair{both, "a request has a body or a body source, not both"},
          std::pair{head, "a HEAD request has no body"}}) {
        const Result result = testing::fetch(refused);
        EXPECT_EQ(result.failure, Failure::internal);
        EXPECT_EQ(result.detail, detail);
    }
}

TEST_F(UpstreamCurlBodySourceTest, PieceAwaitedPastTheDeadlineTimesOut) {
    Request stalled = request({.total = 300'000, .stall_at = 2});
    stalled.timeout = std::chrono::milliseconds(500);
    const Result result = testing::fetch(stalled);
    EXPECT_EQ(result.failure, Failure::timeout);
}

TEST_F(UpstreamCurlBodySourceTest, CancellationEndsTheWaitForAPiece) {
    EXPECT_TRUE(testing::cancelled_while_waiting(request({.total = 300'000, .stall_at = 2})));
}

}  // namespace
}  // namespace relais::upstream
