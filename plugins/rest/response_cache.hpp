#pragma once
/// @file
/// Cache of mapped answers for endpoints declared free of personal data.
/// Bounded in entries and in bytes (least recently used entries go first),
/// entries expire after the endpoint's `cache_ttl`, and it is shared by
/// every I/O thread.

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace relais::rest {

class ResponseCache {
public:
    using Clock = std::chrono::steady_clock;

    /// Default bound on entries per endpoint.
    static constexpr std::size_t default_capacity = 1000;
    /// Bound on the bytes of keys and answers kept per endpoint; a larger
    /// answer is not cached.
    static constexpr std::size_t default_max_bytes = 64 * 1024 * 1024;

    ResponseCache(std::size_t capacity, std::chrono::milliseconds ttl,
                  std::size_t max_bytes = default_max_bytes);

    /// The data stored under `key` if it has not expired.
    std::optional<std::string> find(const std::string& key, Clock::time_point now);
    /// Stores `data` under `key`, evicting the least recently used entries
    /// while over a bound.
    void store(const std::string& key, std::string data, Clock::time_point now);

    std::size_t size() const;
    std::size_t bytes() const;

private:
    struct Entry {
        std::string key;
        std::string data;
        Clock::time_point expires;
    };
    using Order = std::list<Entry>;  ///< most recently used first

    void erase(Order::iterator entry);

    const std::size_t capacity_;
    const std::chrono::milliseconds ttl_;
    const std::size_t max_bytes_;
    mutable std::mutex mutex_;
    std::size_t bytes_ = 0;
    Order order_;
    std::unordered_map<std::string, Order::iterator> index_;
};

}  // namespace relais::rest
