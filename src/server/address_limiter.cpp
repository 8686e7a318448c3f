#include "server/address_limiter.hpp"

#include <algorithm>
#include <string_view>

namespace relais::server {

namespace {

/// An IPv4 address as its IPv4-mapped IPv6 form; an IPv6 address by its
/// first 64 bits.
std::array<unsigned char, 16> key_of(const boost::asio::ip::address& address) {
    if (address.is_v4()) {
        return boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, address.to_v4())
            .to_bytes();
    }
    auto bytes = address.to_v6().to_bytes();
    if (!address.to_v6().is_v4_mapped()) {
        std::fill(bytes.begin() + 8, bytes.end(), 0);
    }
    return bytes;
}

}  // namespace

std::size_t AddressLimiter::KeyHash::operator()(const Key& key) const noexcept {
    return std::hash<std::string_view>{}(
        std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

std::optional<AddressLimiter::Clock::duration> AddressLimiter::take(
    const boost::asio::ip::address& address, double per_second, unsigned burst,
    Clock::time_point now) {
    const auto interval = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(1.0 / per_second));
    const Clock::duration tolerance = interval * (burst - 1);
    const Key key = key_of(address);
    const std::lock_guard lock(mutex_);
    auto found = next_.find(key);
    if (found == next_.end()) {
        // A full table is swept at most once a second: a flood of new
        // addresses must not make every request walk it.
        if (next_.size() >= capacity_ && now - last_sweep_ >= std::chrono::seconds(1)) {
            last_sweep_ = now;
            std::erase_if(next_, [now](const auto& entry) { return entry.second <= now; });
        }
        if (next_.size() >= capacity_) {
            return interval;
        }
        found = next_.emplace(key, now).first;
    }
    const Clock::time_point turn = std::max(found->second, now);
    if (turn - now > tolerance) {
        return turn - tolerance - now;
    }
    found->second = turn + interval;
    return std::nullopt;
}

std::size_t AddressLimiter::size() const {
    const std::lock_guard lock(mutex_);
    return next_.size();
}

}  // namespace relais::server
