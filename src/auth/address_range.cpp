#include "auth/address_range.hpp"

#include <algorithm>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <string>

namespace relais::auth {

namespace {

using boost::asio::ip::address;

/// Whether the first `prefix` bits of `a` and `b` agree.
bool same_prefix(const unsigned char* a, const unsigned char* b, unsigned prefix) noexcept {
    const unsigned whole = prefix / 8;
    if (!std::equal(a, a + whole, b)) {
        return false;
    }
    const unsigned rest = prefix % 8;
    if (rest == 0) {
        return true;
    }
    const auto mask = static_cast<unsigned char>(0xFFu << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

std::optional<AddressRange> AddressRange::parse(std::string_view text) {
    const std::string spec(text);
    boost::system::error_code ec;
    AddressRange range;
    if (spec.find('/') == std::string::npos) {
        const address host = boost::asio::ip::make_address(spec, ec);
        if (ec) {
            return std::nullopt;
        }
        range.v6_ = host.is_v6();
        range.prefix_ = range.v6_ ? 128 : 32;
        if (range.v6_) {
            range.bytes_ = host.to_v6().to_bytes();
        } else {
            const auto v4 = host.to_v4().to_bytes();
            std::copy(v4.begin(), v4.end(), range.bytes_.begin());
        }
        range.unmap_v4();
        return range;
    }
    if (spec.find(':') == std::string::npos) {
        const auto network = boost::asio::ip::make_network_v4(spec, ec);
        if (ec) {
            return std::nullopt;
        }
        const auto v4 = network.address().to_bytes();
        std::copy(v4.begin(), v4.end(), range.bytes_.begin());
        range.prefix_ = network.prefix_length();
        return range;
    }
    const auto network = boost::asio::ip::make_network_v6(spec, ec);
    if (ec) {
        return std::nullopt;
    }
    range.v6_ = true;
    range.bytes_ = network.address().to_bytes();
    range.prefix_ = network.prefix_length();
    range.unmap_v4();
    return range;
}

void AddressRange::unmap_v4() noexcept {
    // ::ffff:a.b.c.d/96+n covers exactly the IPv4 range a.b.c.d/n.
    if (!v6_ || prefix_ < 96 || !boost::asio::ip::address_v6(bytes_).is_v4_mapped()) {
        return;
    }
    std::copy(bytes_.begin() + 12, bytes_.end(), bytes_.begin());
    std::fill(bytes_.begin() + 4, bytes_.end(), 0);
    prefix_ -= 96;
    v6_ = false;
}

bool AddressRange::contains(const address& peer) const noexcept {
    if (peer.is_v6() && peer.to_v6().is_v4_mapped()) {
        return contains(
            address(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, peer.to_v6())));
    }
    if (peer.is_v6() != v6_) {
        return false;
    }
    if (v6_) {
        const auto bytes = peer.to_v6().to_bytes();
        return same_prefix(bytes.data(), bytes_.data(), prefix_);
    }
    const auto bytes = peer.to_v4().to_bytes();
    return same_prefix(bytes.data(), bytes_.data(), prefix_);
}

}  // namespace relais::auth
