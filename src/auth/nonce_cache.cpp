#include "auth/nonce_cache.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/digest.hpp"

namespace relais::auth {

namespace {

/// Earliest expiry on top of the heap.
constexpr auto later = [](const auto& a, const auto& b) { return a.at > b.at; };

}  // namespace

std::size_t NonceCache::DigestHash::operator()(const Digest& d) const noexcept {
    // The digest is already uniformly distributed: any 8 bytes of it will do.
    std::size_t h = 0;
    std::memcpy(&h, d.data(), sizeof h);
    return h;
}

NonceCache::Outcome NonceCache::remember(std::string_view scope, std::string_view nonce,
                                         std::chrono::system_clock::time_point now,
                                         std::chrono::system_clock::time_point forget_at) {
    // A digest keeps entries small and of one size whatever the nonce, and
    // keeps a caller from choosing which hash bucket its nonces land in.
    // The scope's length first: no scope and nonce pair reads as another.
    std::string scoped = std::to_string(scope.size());
    scoped.append(":").append(scope).append(nonce);
    const Sha256 full_digest = sha256(scoped);
    Digest digest;
    std::copy_n(full_digest.begin(), digest.size(), digest.begin());

    const std::scoped_lock lock(mutex_);
    drop_expired(now);
    if (live_.contains(digest)) {
        return Outcome::replayed;
    }
    const std::uint32_t index = scope_index(scope);
    if (live_.size() >= capacity_ || scope_counts_[index] >= per_scope_) {
        return Outcome::full;
    }
    live_.insert(digest);
    ++scope_counts_[index];
    expiries_.push_back({forget_at, digest, index});
    std::push_heap(expiries_.begin(), expiries_.end(), later);
    return Outcome::recorded;
}

std::uint32_t NonceCache::scope_index(std::string_view scope) {
    const auto found = scope_indexes_.find(scope);
    if (found != scope_indexes_.end()) {
        return found->second;
    }
    const auto index = static_cast<std::uint32_t>(scope_counts_.size());
    scope_indexes_.emplace(std::string(scope), index);
    scope_counts_.push_back(0);
    return index;
}

std::size_t NonceCache::size() const {
    const std::scoped_lock lock(mutex_);
    return live_.size();
}

void NonceCache::drop_expired(std::chrono::system_clock::time_point now) {
    // An entry lives through its expiry: a timestamp exactly at the edge of
    // its window still passes, so its nonce must still be known then.
    while (!expiries_.empty() && expiries_.front().at < now) {
        live_.erase(expiries_.front().digest);
        --scope_counts_[expiries_.front().scope];
        std::pop_heap(expiries_.begin(), expiries_.end(), later);
        expiries_.pop_back();
    }
}

}  // namespace relais::auth
