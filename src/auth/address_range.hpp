#pragma once
/// @file
/// Source-address allow-lists: CIDR blocks matched against a peer address.

#include <array>
#include <boost/asio/ip/address.hpp>
#include <optional>
#include <string_view>

namespace relais::auth {

/// An IPv4 or IPv6 block, e.g. `10.0.0.0/8`, `2001:db8::/32`, or a single
/// address written without a prefix length. Bits past the prefix are
/// ignored (`10.1.2.3/8` is `10.0.0.0/8`).
///
/// An IPv4-mapped IPv6 peer (`::ffff:10.1.2.3`, what a dual-stack socket
/// reports for an IPv4 client) is matched as the IPv4 address it carries,
/// so IPv4 blocks keep working whatever the listening socket.
class AddressRange {
public:
    /// nullopt if `text` is not an address or `address/prefix`.
    static std::optional<AddressRange> parse(std::string_view text);

    bool contains(const boost::asio::ip::address& address) const noexcept;

private:
    AddressRange() = default;

    /// Peers with an IPv4-mapped address are matched as IPv4 (contains()):
    /// a range written in that form is kept as the IPv4 range it covers.
    void unmap_v4() noexcept;

    std::array<unsigned char, 16> bytes_{};
    unsigned prefix_ = 0;
    bool v6_ = false;
};

}  // namespace relais::auth
