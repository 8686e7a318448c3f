#pragma once
/// @file
/// Memory of the Publik nonces recently accepted, to refuse replays.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/string_map.hpp"

namespace relais::auth {

/// Nonces seen recently, shared by every I/O thread and kept across
/// configuration reloads (create one per process).
///
/// Each entry belongs to a scope (the caller whose nonce it is: a Publik
/// orig, a UsernameToken user) and is forgotten at the time given when it
/// was recorded (a few tens of seconds later); until then the same nonce is
/// refused in that scope. Memory is bounded: at most `capacity` live
/// entries of a fixed size (nonces are stored as 128-bit digests, whatever
/// their length), and at most `per_scope` of them for one scope, so that
/// one caller cannot take the room of all the others. When either is
/// reached, new nonces are refused (`full`) rather than live ones
/// forgotten, since forgetting a live nonce would reopen the replay it
/// guards against.
class NonceCache {
public:
    /// 30 s of 10 000 signed requests per second; about 25 MB when full.
    static constexpr std::size_t default_capacity = 300'000;
    /// One caller may use half of the room.
    static constexpr std::size_t default_per_scope = default_capacity / 2;

    enum class Outcome {
        recorded,  ///< first use: the request may proceed
        replayed,  ///< a live entry exists: refuse the request
        full,      ///< no room for another live entry: refuse the request
    };

    NonceCache() : NonceCache(default_capacity, default_per_scope) {}
    NonceCache(std::size_t capacity, std::size_t per_scope)
        : capacity_(capacity), per_scope_(per_scope) {}

    NonceCache(const NonceCache&) = delete;
    NonceCache& operator=(const NonceCache&) = delete;

    /// Records `nonce` of `scope` until `forget_at` (included), unless it is
    /// already live. Entries whose time is before `now` are dropped first.
    Outcome remember(std::string_view scope, std::string_view nonce,
                     std::chrono::system_clock::time_point now,
                     std::chrono::system_clock::time_point forget_at);

    /// Live entries (and expired ones not yet dropped).
    std::size_t size() const;

private:
    using Digest = std::array<unsigned char, 16>;
    struct DigestHash {
        std::size_t operator()(const Digest& d) const noexcept;
    };
    struct Expiry {
        std::chrono::system_clock::time_point at;
        Digest digest;
        std::uint32_t scope;  ///< index in scope_counts_
    };

    void drop_expired(std::chrono::system_clock::time_point now);
    /// The index of `scope`, given on its first use and kept (scopes are
    /// the callers of the configuration: few).
    std::uint32_t scope_index(std::string_view scope);

    const std::size_t capacity_;
    const std::size_t per_scope_;
    mutable std::mutex mutex_;
    std::unordered_set<Digest, DigestHash> live_;
    std::vector<Expiry> expiries_;  ///< min-heap on time, one per entry of live_
    StringMap<std::uint32_t> scope_indexes_;
    std::vector<std::size_t> scope_counts_;  ///< live entries per scope
};

}  // namespace relais::auth
