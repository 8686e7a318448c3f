#pragma once
/// @file
/// Per-address rate limit of the requests that reach relais without
/// credentials: the browser endpoints (a FranceConnect login) are open to
/// anyone, and each login holds memory for minutes and may make relais
/// call the identity provider. One address is held to `per_second`
/// requests on average, `burst` at once (GCRA, as upstream::RateLimiter);
/// an IPv6 address counts by its /64, which one subscriber usually holds
/// whole.
///
/// Memory is bounded: at most `capacity` addresses are remembered (32 bytes
/// each). When the table is full, the addresses whose turns are all back
/// are forgotten (at most once a second); if none is, a new address is
/// refused — a flood from that many addresses at once is refused rather
/// than let through.

#include <array>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace relais::server {

class AddressLimiter {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::size_t default_capacity = 100'000;

    AddressLimiter() : AddressLimiter(default_capacity) {}
    explicit AddressLimiter(std::size_t capacity) : capacity_(capacity) {}

    /// Takes a turn for `address`: nullopt when the request may go, else
    /// how long until the address has a turn again. `per_second` > 0,
    /// `burst` >= 1; they may change from one call to the next (a reload).
    std::optional<Clock::duration> take(const boost::asio::ip::address& address, double per_second,
                                        unsigned burst, Clock::time_point now);

    /// Addresses remembered.
    std::size_t size() const;

private:
    using Key = std::array<unsigned char, 16>;
    struct KeyHash {
        std::size_t operator()(const Key& key) const noexcept;
    };

    const std::size_t capacity_;
    mutable std::mutex mutex_;
    /// Theoretical time of each address's next turn.
    std::unordered_map<Key, Clock::time_point, KeyHash> next_;
    Clock::time_point last_sweep_{};
};

}  // namespace relais::server
