#pragma once
/// @file
/// Cache of answers free of personal data (REST endpoints with `cache_ttl`,
/// reference data of base-adresse).
/// Bounded in entries and in bytes (least recently used entries go first),
/// entries expire after the endpoint's `cache_ttl`, and it is shared by
/// every I/O thread.
///
/// With a `max_stale` window, an entry past its TTL is not dropped at once:
/// `lookup` still returns it, marked stale, for `max_stale` more, and hands
/// the task of refreshing it to one caller at a time (serve-stale: reference
/// data stays available while its upstream is down).

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace relais {

class ResponseCache {
public:
    using Clock = std::chrono::steady_clock;

    /// Default bound on entries per endpoint.
    static constexpr std::size_t default_capacity = 1000;
    /// Bound on the bytes kept per endpoint (see weight); a larger answer is
    /// not cached.
    static constexpr std::size_t default_max_bytes = 64 * 1024 * 1024;

    ResponseCache(std::size_t capacity, std::chrono::milliseconds ttl,
                  std::size_t max_bytes = default_max_bytes,
                  std::chrono::milliseconds max_stale = {});

    /// The data stored under `key` if it has not expired.
    std::optional<std::string> find(const std::string& key, Clock::time_point now);
    /// Stores `data` under `key`, evicting the least recently used entries
    /// while over a bound. Ends the refresh of `key` if one was running.
    void store(const std::string& key, std::string data, Clock::time_point now);

    /// What `lookup` found.
    struct Lookup {
        std::string data;
        bool stale = false;  ///< past its TTL, within `max_stale`
        /// The caller was chosen to refresh this stale entry: it must end
        /// with `store` or `refresh_failed`. At most one caller at a time
        /// holds this for a key.
        bool refresh = false;
    };
    /// The data stored under `key`, fresh or stale; nothing once past
    /// `max_stale` too.
    std::optional<Lookup> lookup(const std::string& key, Clock::time_point now);
    /// The refresh `lookup` asked for failed: the stale entry stays as it
    /// is, and no refresh of it is asked for before `retry_at`.
    void refresh_failed(const std::string& key, Clock::time_point retry_at);

    std::size_t size() const;
    /// The weight of every entry kept.
    std::size_t bytes() const;

private:
    struct Entry {
        std::string key;
        std::string data;
        Clock::time_point expires;
        bool refreshing = false;
        Clock::time_point retry_at;  ///< no refresh asked for before
    };
    using Order = std::list<Entry>;  ///< most recently used first

public:
    /// What an entry of `key` and `data` counts against max_bytes: its text
    /// (the key twice: the index holds a copy) and its bookkeeping, the
    /// list's node (the entry and two links) and the index's node (a key,
    /// an iterator, a link, the hash) with its bucket.
    static constexpr std::size_t weight(std::size_t key_bytes, std::size_t data_bytes) noexcept {
        constexpr std::size_t bookkeeping = sizeof(Entry) + 2 * sizeof(void*) +
                                            sizeof(std::string) + sizeof(Order::iterator) +
                                            3 * sizeof(void*);
        return 2 * key_bytes + data_bytes + bookkeeping;
    }

private:
    void erase(Order::iterator entry);

    const std::size_t capacity_;
    const std::chrono::milliseconds ttl_;
    const std::size_t max_bytes_;
    const std::chrono::milliseconds max_stale_;
    mutable std::mutex mutex_;
    std::size_t bytes_ = 0;
    Order order_;
    std::unordered_map<std::string, Order::iterator> index_;
};

}  // namespace relais
