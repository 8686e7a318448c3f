#pragma once

#include <memory>
#include <mutex>

namespace relais {

/// A shared_ptr that several threads read while another replaces it: a
/// load() keeps what it got alive for as long as the caller holds it, and a
/// store() or exchange() is seen by every later load().
///
/// Not std::atomic<std::shared_ptr>: libstdc++ 12 releases the lock of its
/// load() with relaxed ordering, so nothing orders the load's read of the
/// pointer before a later store's write. ThreadSanitizer reports that as a
/// data race (docs/testing.md). Here a mutex is held only to copy or swap
/// the pointer; the value a store replaces is released after it.
template <class T>
class SharedSlot {
public:
    SharedSlot() = default;
    explicit SharedSlot(std::shared_ptr<T> initial) : value_(std::move(initial)) {}

    std::shared_ptr<T> load() const {
        const std::lock_guard lock(mutex_);
        return value_;
    }
    /// Installs `next`; returns the previous value.
    std::shared_ptr<T> exchange(std::shared_ptr<T> next) {
        {
            const std::lock_guard lock(mutex_);
            value_.swap(next);
        }
        return next;
    }
    void store(std::shared_ptr<T> next) { exchange(std::move(next)); }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<T> value_;
};

}  // namespace relais
