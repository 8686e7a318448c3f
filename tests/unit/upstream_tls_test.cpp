// TLS towards upstreams: certificate verification and client certificates,
// against tests/support/fake_upstream.py with its throwaway test CA.

#include <gtest/gtest.h>

#include "upstream_test_support.hpp"

namespace relais::upstream {
namespace {

using testing::FakeUpstreamProcess;
using testing::fetch;
using testing::get;
using testing::json_of;
using testing::string_at;

TEST(UpstreamTlsTest, UnknownCertificateAuthorityFailsVerification) {
    FakeUpstreamProcess fake({.tls = true});
    const Result result = fetch(get(fake.url("/echo/tls")));

    EXPECT_EQ(result.failure, Failure::unreachable);
    EXPECT_EQ(result.detail, "TLS certificate verification failed");
}

TEST(UpstreamTlsTest, ConfiguredCaIsTrusted) {
    FakeUpstreamProcess fake({.tls = true});
    Request request = get(fake.url("/echo/tls"));
    request.tls.ca_file = fake.ca_file;
    const Result result = fetch(request);

    ASSERT_EQ(result.failure, Failure::none) << result.detail;
    EXPECT_EQ(string_at(json_of(result), "/path"), "/echo/tls");
}

TEST(UpstreamTlsTest, HostNameIsResolvedAndChecked) {
    FakeUpstreamProcess fake({.tls = true});
    Request request = get("https://localhost:" + std::to_string(fake.port) + "/echo/name");
    request.tls.ca_file = fake.ca_file;
    const Result result = fetch(request);

    ASSERT_EQ(result.failure, Failure::none) << result.detail;
    EXPECT_EQ(result.response.status, 200);
}

TEST(UpstreamTlsTest, VerificationCanBeTurnedOff) {
    FakeUpstreamProcess fake({.tls = true});
    Request request = get(fake.url("/echo/insecure"));
    request.tls.verify = false;
    const Result result = fetch(request);

    ASSERT_EQ(result.failure, Failure::none) << result.detail;
    EXPECT_EQ(result.response.status, 200);
}

TEST(UpstreamTlsTest, ClientCertificateRequiredAndProvided) {
    FakeUpstreamProcess fake({.tls = true, .require_client_cert = true});
    Request request = get(fake.url("/echo/mtls"));
    request.tls.ca_file = fake.ca_file;
    request.tls.client_cert = read_pem_file(fake.client_cert_file);
    request.tls.client_key = read_pem_file(fake.client_key_file);
    ASSERT_TRUE(request.tls.client_cert && request.tls.client_key);
    const Result result = fetch(request);

    ASSERT_EQ(result.failure, Failure::none) << result.detail;
    EXPECT_EQ(result.response.status, 200);
}

TEST(UpstreamTlsTest, ClientCertificateRequiredButMissing) {
    FakeUpstreamProcess fake({.tls = true, .require_client_cert = true});
    Request request = get(fake.url("/echo/mtls"));
    request.tls.ca_file = fake.ca_file;
    const Result result = fetch(request);

    EXPECT_EQ(result.failure, Failure::unreachable) << result.detail;
}

TEST(UpstreamTlsTest, UnreadableCaFileIsInternal) {
    FakeUpstreamProcess fake({.tls = true});
    Request request = get(fake.url("/echo/tls"));
    request.tls.ca_file = "/nonexistent/ca.pem";
    const Result result = fetch(request);

    EXPECT_EQ(result.failure, Failure::internal);
    EXPECT_EQ(result.detail, "CA file could not be loaded");
}

}  // namespace
}  // namespace relais::upstream
