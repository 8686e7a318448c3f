#pragma once
/// @file
/// Memory of the Publik nonces recently accepted, to refuse replays.

#include <array>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace relais::auth {

/// Nonces seen recently, shared by every I/O thread and kept across
/// configuration reloads (create one per process).
///
/// Each entry is forgotten at the time given when it was recorded (a few
/// tens of seconds later); until then the same nonce is refused. Memory is
/// bounded: at most `capacity` live entries of a fixed size (nonces are
/// stored as 128-bit digests, whatever their length). When full, new nonces
/// are refused (`full`) rather than live ones forgotten, since forgetting
/// a live nonce would reopen the replay it guards against.
class NonceCache {
public:
    /// 30 s of 10 000 signed requests per second; about 25 MB when full.
    static constexpr std::size_t default_capacity = 300'000;

    enum class Outcome {
        recorded,  ///< first use: the request may proceed
        replayed,  ///< a live entry exists: refuse the request
        full,      ///< no room for another live entry: refuse the request
    };

    NonceCache() : NonceCache(default_capacity) {}
    explicit NonceCache(std::size_t capacity) : capacity_(capacity) {}

    NonceCache(const NonceCache&) = delete;
    NonceCache& operator=(const NonceCache&) = delete;

    /// Records `nonce` until `forget_at` (included), unless it is already live.
    /// Entries whose time is at or before `now` are dropped first.
    Outcome remember(std::string_view nonce, std::chrono::system_clock::time_point now,
                     std::chrono::system_clock::time_point forget_at);

    /// Live entries (and expired ones not yet dropped).
    std::size_t size() const;

private:
    using Digest = std::array<unsigned char, 16>;
    struct DigestHash {
        std::size_t operator()(const Digest& d) const noexcept;
    };
    using Expiry = std::pair<std::chrono::system_clock::time_point, Digest>;

    void drop_expired(std::chrono::system_clock::time_point now);

    const std::size_t capacity_;
    mutable std::mutex mutex_;
    std::unordered_set<Digest, DigestHash> live_;
    std::vector<Expiry> expiries_;  ///< min-heap on time, one per entry of live_
};

}  // namespace relais::auth
