#pragma once
/// @file
/// A bounded in-memory map of single-use values that expire: the pending
/// logins (by state) and the identities awaiting hand-over (by code).
/// Shared by every I/O thread; nothing ever reaches the disk.

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace relais::franceconnect {

template <typename Value>
class OneTimeStore {
public:
    using Clock = std::chrono::steady_clock;

    /// Holds at most `capacity` values, each for `ttl`.
    OneTimeStore(std::size_t capacity, Clock::duration ttl) : capacity_(capacity), ttl_(ttl) {}

    OneTimeStore(const OneTimeStore&) = delete;
    OneTimeStore& operator=(const OneTimeStore&) = delete;

    /// Keeps `value` under `key` (a fresh random token) until `now + ttl`.
    /// False, and nothing kept, when the store is full of live values or
    /// the key is already taken.
    bool put(std::string key, Value value, Clock::time_point now) {
        const std::lock_guard lock(mutex_);
        sweep(now);
        if (by_key_.size() >= capacity_ || by_key_.contains(key)) {
            return false;
        }
        order_.push_back(Entry{key, std::move(value), now + ttl_});
        try {
            by_key_.emplace(std::move(key), std::prev(order_.end()));
        } catch (...) {
            order_.pop_back();
            throw;
        }
        return true;
    }

    /// Removes the value of `key` and returns it, unless it is unknown or
    /// expired: a key works once.
    std::optional<Value> take(std::string_view key, Clock::time_point now) {
        const std::lock_guard lock(mutex_);
        sweep(now);
        const auto found = by_key_.find(std::string(key));
        if (found == by_key_.end()) {
            return std::nullopt;
        }
        // The sweep stops at the first live entry: do not rely on the order
        // alone to tell whether this one has expired.
        const bool live = found->second->expires > now;
        std::optional<Value> value;
        if (live) {
            value.emplace(std::move(found->second->value));
        }
        order_.erase(found->second);
        by_key_.erase(found);
        return value;
    }

    /// Live values at `now`.
    std::size_t size(Clock::time_point now) {
        const std::lock_guard lock(mutex_);
        sweep(now);
        return by_key_.size();
    }

    std::size_t capacity() const noexcept { return capacity_; }
    Clock::duration ttl() const noexcept { return ttl_; }

private:
    struct Entry {
        std::string key;
        Value value;
        Clock::time_point expires;
    };

    // Every value lives for the same ttl, so insertion order is expiry
    // order: the expired ones are at the front.
    void sweep(Clock::time_point now) {
        while (!order_.empty() && order_.front().expires <= now) {
            by_key_.erase(order_.front().key);
            order_.pop_front();
        }
    }

    std::mutex mutex_;
    std::size_t capacity_;
    Clock::duration ttl_;
    std::list<Entry> order_;
    std::unordered_map<std::string, typename std::list<Entry>::iterator> by_key_;
};

}  // namespace relais::franceconnect
