#pragma once
/// @file
/// How long the delivery engine stops after an outbox error (a full disk, a
/// damaged database): no attempt starts until the pause ends. Kept apart
/// from the engine, with the time passed in, so that every rule is
/// unit-tested without waiting.
///
/// The first error pauses 1 s. Each further error that comes within the
/// longest pause (32 s) of the end of the previous pause doubles it, up to
/// 32 s: deliveries made while the disk is full cannot be recorded and are
/// made again after the pause, and the doubling spaces them out. An attempt
/// whose outcome is recorded ends the episode; so does an error more than
/// 32 s after the last pause. Errors during a pause (the attempts that
/// were in flight failing one after the other) do not lengthen it.

#include <algorithm>
#include <chrono>

namespace relais::delivery {

/// The pause state of one delivery engine; used by its thread only.
class ErrorPause {
public:
    using Clock = std::chrono::steady_clock;
    /// The pause after the first error of an episode.
    static constexpr std::chrono::seconds first_pause{1};
    /// Doublings after which the pause stops growing.
    static constexpr unsigned max_doublings = 5;
    /// The longest pause (32 s), also how long after a pause an error still
    /// belongs to the same episode.
    static constexpr auto longest_pause = first_pause * (1U << max_doublings);

    /// Records an outbox error at `now`.
    void failed(Clock::time_point now) noexcept {
        if (now < until_) {
            return;
        }
        if (now - until_ > longest_pause) {
            in_a_row_ = 0;
        }
        until_ = now + first_pause * (1U << std::min(in_a_row_, max_doublings));
        ++in_a_row_;
    }

    /// Records an attempt whose outcome reached the outbox. A pause under
    /// way goes on: only the next one is shorter.
    void succeeded() noexcept { in_a_row_ = 0; }

    /// Whether no attempt may start at `now`.
    bool active(Clock::time_point now) const noexcept { return now < until_; }

    /// When the current or last pause ends.
    Clock::time_point until() const noexcept { return until_; }

private:
    Clock::time_point until_{};
    /// Pauses in a row, each soon followed by another error.
    unsigned in_a_row_ = 0;
};

}  // namespace relais::delivery
