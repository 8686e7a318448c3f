#include "base-adresse/adopted_state.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace relais::base_adresse {

namespace {

/// Weak references by a key made of everything the object depends on.
template <typename T>
class Registry {
public:
    std::shared_ptr<T> adopt(const std::string& key,
                             const std::function<std::shared_ptr<T>()>& make) {
        const std::lock_guard lock(mutex_);
        std::erase_if(live_, [](const auto& entry) { return entry.second.expired(); });
        std::weak_ptr<T>& slot = live_[key];
        if (auto live = slot.lock()) {
            return live;
        }
        auto made = make();
        slot = made;
        return made;
    }

private:
    std::mutex mutex_;
    std::unordered_map<std::string, std::weak_ptr<T>> live_;
};

/// Fields joined with a byte none of them holds (slugs, checked URLs,
/// numbers and hex are all printable).
class Key {
public:
    Key& operator<<(std::string_view field) {
        text_ += field;
        text_ += '\n';
        return *this;
    }
    Key& operator<<(double number) {
        std::array<char, 32> buffer{};
        const auto end = std::to_chars(buffer.data(), buffer.data() + buffer.size(), number).ptr;
        return *this << std::string_view(buffer.data(),
                                         static_cast<std::size_t>(end - buffer.data()));
    }
    Key& operator<<(std::chrono::milliseconds duration) {
        return *this << std::to_string(duration.count());
    }
    const std::string& text() const noexcept { return text_; }

private:
    std::string text_;
};

Registry<ResponseCache>& caches() {
    static Registry<ResponseCache> instance;
    return instance;
}

Registry<upstream::RateLimiter>& rate_limiters() {
    static Registry<upstream::RateLimiter> instance;
    return instance;
}

}  // namespace

std::shared_ptr<ResponseCache> adopt_cache(std::string_view slug, Endpoint endpoint,
                                           const UpstreamSpec& upstream, const CacheSpec& cache,
                                           std::string_view id_fingerprint) {
    Key key;
    key << slug << name_of(endpoint) << upstream.base_url << cache.ttl << cache.max_stale
        << std::to_string(cache.max_entries);
    // Only the answers of streets hold ids.
    if (endpoint == Endpoint::streets) {
        key << id_fingerprint;
    }
    return caches().adopt(key.text(), [&] {
        return std::make_shared<ResponseCache>(cache.max_entries, cache.ttl,
                                               ResponseCache::default_max_bytes, cache.max_stale);
    });
}

std::shared_ptr<upstream::RateLimiter> adopt_rate_limiter(std::string_view slug,
                                                          std::string_view name,
                                                          const UpstreamSpec& upstream) {
    const RateLimitSpec& rate = upstream.rate_limit;
    Key key;
    key << slug << name << upstream.base_url << rate.per_second << std::to_string(rate.burst)
        << rate.max_wait;
    return rate_limiters().adopt(key.text(), [&] {
        return std::make_shared<upstream::RateLimiter>(rate.per_second, rate.burst, rate.max_wait);
    });
}

}  // namespace relais::base_adresse
