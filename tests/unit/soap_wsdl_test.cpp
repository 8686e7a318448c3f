// The WSDL served at /{kind}/{slug}/soap?wsdl and the address it gives
// (soap/wsdl_document.hpp).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "soap/wsdl_document.hpp"

namespace relais::soap {
namespace {

std::size_t count(std::string_view text, std::string_view needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string_view::npos;
         at = text.find(needle, at + 1)) {
        ++n;
    }
    return n;
}

TEST(SoapWsdl, BothPortsGetTheAddress) {
    const std::string wsdl = wsdl_document("http://127.0.0.1:8080/rest/urba/soap");
    EXPECT_EQ(count(wsdl, "location=\"http://127.0.0.1:8080/rest/urba/soap\""), 2U);
    EXPECT_EQ(count(wsdl, "relais.example.org"), 0U);
    EXPECT_NE(wsdl.find("<soap12:address location=\"http://127.0.0.1:8080/rest/urba/soap\"/>"),
              std::string::npos);
    EXPECT_TRUE(wsdl.starts_with("<?xml"));
}

TEST(SoapWsdl, AddressIsXmlEscaped) {
    const std::string wsdl = wsdl_document("https://a.example/x?a=1&b=\"<2>\"");
    EXPECT_EQ(count(wsdl, "location=\"https://a.example/x?a=1&amp;b=&quot;&lt;2&gt;&quot;\""), 2U);
}

TEST(SoapWsdl, AddressFromThePublicUrl) {
    const std::string host = "ignored.example";
    EXPECT_EQ(service_address("https://relais.example.org/gru/", "http", &host, "rest", "urba"),
              "https://relais.example.org/gru/rest/urba/soap");
    EXPECT_EQ(service_address("https://relais.example.org/", "http", nullptr, "rest", "urba"),
              "https://relais.example.org/rest/urba/soap");
}

TEST(SoapWsdl, AddressFromTheListenerAndHost) {
    for (const std::string host : {"relais.example.org", "relais.example.org:8443", "127.0.0.1",
                                   "127.0.0.1:65535", "[::1]", "[::1]:8080", "[::ffff:10.0.0.1]"}) {
        EXPECT_TRUE(is_host_header(host)) << host;
        EXPECT_EQ(service_address("", "https", &host, "rest", "urba"),
                  "https://" + host + "/rest/urba/soap");
    }
}

TEST(SoapWsdl, HostHeaderIsValidatedStrictly) {
    for (const std::string& host : std::vector<std::string>{
             "", "a b", "relais.example.org:", "relais.example.org:0", "relais.example.org:65536",
             "relais.example.org:123456", "relais.example.org:80x", "evil\"><x", "a/b", "user@host",
             "[::1", "[]", "[::1]x", "[::1]:", "[zz::1]", "host:8080:90", std::string(254, 'a')}) {
        EXPECT_FALSE(is_host_header(host)) << host;
        EXPECT_FALSE(service_address("", "http", &host, "rest", "urba")) << host;
    }
    EXPECT_FALSE(service_address("", "http", nullptr, "rest", "urba"));
}

}  // namespace
}  // namespace relais::soap
