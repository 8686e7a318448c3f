#include <gtest/gtest.h>

#include "auth/address_range.hpp"

namespace relais::auth {
namespace {

boost::asio::ip::address ip(const char* text) {
    return boost::asio::ip::make_address(text);
}

bool contains(const char* range, const char* address) {
    const auto r = AddressRange::parse(range);
    EXPECT_TRUE(r) << range;
    return r && r->contains(ip(address));
}

TEST(AuthAddressRange, Ipv4) {
    EXPECT_TRUE(contains("10.0.0.0/8", "10.1.2.3"));
    EXPECT_TRUE(contains("10.0.0.0/8", "10.255.255.255"));
    EXPECT_FALSE(contains("10.0.0.0/8", "11.0.0.0"));
    EXPECT_FALSE(contains("10.0.0.0/8", "127.0.0.1"));
    EXPECT_TRUE(contains("192.168.1.0/25", "192.168.1.127"));
    EXPECT_FALSE(contains("192.168.1.0/25", "192.168.1.128"));
    EXPECT_TRUE(contains("127.0.0.1/32", "127.0.0.1"));
    EXPECT_FALSE(contains("127.0.0.1/32", "127.0.0.2"));
    EXPECT_TRUE(contains("0.0.0.0/0", "203.0.113.9"));
}

TEST(AuthAddressRange, Ipv6) {
    EXPECT_TRUE(contains("2001:db8::/32", "2001:db8:1::5"));
    EXPECT_FALSE(contains("2001:db8::/32", "2001:db9::1"));
    EXPECT_TRUE(contains("::1/128", "::1"));
    EXPECT_FALSE(contains("::1/128", "::2"));
    EXPECT_TRUE(contains("fe80::/10", "febf::1"));
    EXPECT_FALSE(contains("fe80::/10", "fec0::1"));
    EXPECT_TRUE(contains("::/0", "2001:db8::1"));
}

TEST(AuthAddressRange, FamiliesDoNotMix) {
    EXPECT_FALSE(contains("0.0.0.0/0", "::1"));
    EXPECT_FALSE(contains("::/0", "127.0.0.1"));
}

TEST(AuthAddressRange, MappedIpv4MatchesIpv4Blocks) {
    EXPECT_TRUE(contains("10.0.0.0/8", "::ffff:10.9.8.7"));
    EXPECT_FALSE(contains("10.0.0.0/8", "::ffff:127.0.0.1"));
}

TEST(AuthAddressRange, RangesWrittenAsMappedIpv4AreIpv4Ranges) {
    for (const char* peer : {"10.9.8.7", "::ffff:10.9.8.7"}) {
        EXPECT_TRUE(contains("::ffff:10.0.0.0/104", peer)) << peer;
        EXPECT_TRUE(contains("::ffff:10.9.8.7", peer)) << peer;
        EXPECT_TRUE(contains("::ffff:0:0/96", peer)) << peer;
        EXPECT_FALSE(contains("::ffff:11.0.0.0/104", peer)) << peer;
    }
    EXPECT_FALSE(contains("::ffff:10.0.0.0/104", "::1"));
    // Wider than the mapped block: an IPv6 range, which IPv4 peers are not in.
    EXPECT_FALSE(contains("::ffff:0:0/95", "10.9.8.7"));
}

TEST(AuthAddressRange, BareAddressIsOneHost) {
    EXPECT_TRUE(contains("127.0.0.1", "127.0.0.1"));
    EXPECT_FALSE(contains("127.0.0.1", "127.0.0.2"));
    EXPECT_TRUE(contains("::1", "::1"));
}

TEST(AuthAddressRange, HostBitsAreIgnored) {
    EXPECT_TRUE(contains("10.1.2.3/8", "10.200.0.1"));
}

TEST(AuthAddressRange, RejectsGarbage) {
    for (const char* bad : {"", "10.0.0.0/33", "::/129", "10.0.0/8", "10.0.0.0/", "host/8",
                            "10.0.0.0/8/8", "1.2.3.4/-1"}) {
        EXPECT_FALSE(AddressRange::parse(bad)) << bad;
    }
}

}  // namespace
}  // namespace relais::auth
