#include "core/response_cache.hpp"

#include <iterator>

namespace relais {

ResponseCache::ResponseCache(std::size_t capacity, std::chrono::milliseconds ttl,
                             std::size_t max_bytes, std::chrono::milliseconds max_stale)
    : capacity_(capacity == 0 ? 1 : capacity),
      ttl_(ttl),
      max_bytes_(max_bytes),
      max_stale_(max_stale) {}

void ResponseCache::erase(Order::iterator entry) {
    bytes_ -= weight(entry->key.size(), entry->data.size());
    index_.erase(entry->key);
    order_.erase(entry);
}

std::optional<std::string> ResponseCache::find(const std::string& key, Clock::time_point now) {
    const std::lock_guard lock(mutex_);
    const auto it = index_.find(key);
    if (it == index_.end()) {
        return std::nullopt;
    }
    if (it->second->expires <= now) {
        // A stale entry stays for `lookup` until max_stale is over too.
        if (it->second->expires + max_stale_ <= now) {
            erase(it->second);
        }
        return std::nullopt;
    }
    order_.splice(order_.begin(), order_, it->second);
    return it->second->data;
}

std::optional<ResponseCache::Lookup> ResponseCache::lookup(const std::string& key,
                                                           Clock::time_point now) {
    const std::lock_guard lock(mutex_);
    const auto it = index_.find(key);
    if (it == index_.end()) {
        return std::nullopt;
    }
    Entry& entry = *it->second;
    if (entry.expires + max_stale_ <= now) {
        erase(it->second);
        return std::nullopt;
    }
    order_.splice(order_.begin(), order_, it->second);
    Lookup found{entry.data};
    if (entry.expires <= now) {
        found.stale = true;
        if (!entry.refreshing && entry.retry_at <= now) {
            entry.refreshing = true;
            found.refresh = true;
        }
    }
    return found;
}

void ResponseCache::refresh_failed(const std::string& key, Clock::time_point retry_at) {
    const std::lock_guard lock(mutex_);
    if (const auto it = index_.find(key); it != index_.end()) {
        it->second->refreshing = false;
        it->second->retry_at = retry_at;
    }
}

void ResponseCache::store(const std::string& key, std::string data, Clock::time_point now) {
    const std::size_t size = weight(key.size(), data.size());
    const std::lock_guard lock(mutex_);
    if (const auto it = index_.find(key); it != index_.end()) {
        erase(it->second);
    }
    if (size > max_bytes_) {
        return;
    }
    while (!order_.empty() && (order_.size() >= capacity_ || bytes_ + size > max_bytes_)) {
        erase(std::prev(order_.end()));
    }
    order_.push_front(Entry{key, std::move(data), now + ttl_, false, {}});
    index_.emplace(key, order_.begin());
    bytes_ += size;
}

std::size_t ResponseCache::size() const {
    const std::lock_guard lock(mutex_);
    return order_.size();
}

std::size_t ResponseCache::bytes() const {
    const std::lock_guard lock(mutex_);
    return bytes_;
}

}  // namespace relais
