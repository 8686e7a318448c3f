#include "delivery/engine.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <map>
#include <random>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/log.hpp"
#include "core/runtime.hpp"
#include "delivery/attempt.hpp"
#include "delivery/error_pause.hpp"
#include "outbox/outbox.hpp"

namespace relais::delivery {

namespace {

using boost::asio::awaitable;
using outbox::Kind;
using SteadyClock = std::chrono::steady_clock;

constexpr std::array<Kind, 3> kinds{Kind::push, Kind::trigger, Kind::demand};

/// A poll interval of zero would spin.
constexpr std::chrono::milliseconds shortest_poll{10};
struct Intervals {
    std::chrono::milliseconds poll;
    std::chrono::milliseconds sweep;
};

std::string_view verdict_name(outbox::AttemptRecord::Verdict verdict) noexcept {
    switch (verdict) {
        case outbox::AttemptRecord::Verdict::delivered:
            return "delivered";
        case outbox::AttemptRecord::Verdict::retry:
            return "retry";
        case outbox::AttemptRecord::Verdict::dead:
            return "dead";
    }
    return "unknown";
}

void log_attempt(const std::string& family, const outbox::MessageInfo& info,
                 const AttemptOutcome& outcome) {
    const auto& record = outcome.record;
    const std::optional<unsigned> status =
        record.status != 0 ? std::optional<unsigned>(record.status) : std::nullopt;
    const std::optional<std::string_view> error_class =
        record.error_class.empty() ? std::nullopt
                                   : std::optional<std::string_view>(record.error_class);
    const double upstream_ms =
        std::chrono::duration<double, std::milli>(outcome.upstream_elapsed).count();
    log::write(record.verdict == outbox::AttemptRecord::Verdict::dead ? log::Level::warn
                                                                      : log::Level::info,
               "delivery",
               {{"tracking_id", info.tracking_id},
                {"family", family},
                {"kind", outbox::name(info.kind)},
                {"connector", info.connector},
                {"endpoint", info.endpoint},
                {"attempt", info.attempts + 1},
                {"status", status},
                {"err_class", error_class},
                {"verdict", verdict_name(record.verdict)},
                {"upstream_ms", upstream_ms}});
}

}  // namespace

struct Engine::Impl {
    Impl(outbox::Outbox& store, RuntimeSource source, AttemptObserver attempt_observer)
        : outbox(store),
          runtime(std::move(source)),
          observer(std::move(attempt_observer)),
          timer(io) {}

    /// Pushes, triggers and demands of one connector take slots apart: a
    /// business application that is down must not hold up the reports
    /// relayed to the GRU core, nor the other way round; and a form the GRU
    /// keeps failing to create must not hold up status reports either.
    using Slot = std::pair<Kind, std::string>;

    struct InProgress {
        Slot slot;
        std::shared_ptr<boost::asio::cancellation_signal> cancel;
    };

    awaitable<void> run();
    awaitable<void> start_due_attempts(const std::shared_ptr<const Runtime>& current);
    awaitable<void> housekeeping(const Intervals& intervals);
    void launch(std::shared_ptr<const Runtime> current, const ConnectorEntry& entry,
                const std::string& family, outbox::DueMessage message);
    awaitable<void> attempt(std::shared_ptr<const Runtime> current, const ConnectorEntry& entry,
                            std::string family, outbox::DueMessage message);
    void finished(const std::string& tracking_id);
    void outbox_failed(const std::exception& error);
    void poke();
    void cancel_all();
    /// Whether no attempt may start now: stopping, or paused after an error
    /// (an attempt that failed while the due messages were being read).
    bool halted() const { return stopping || pause.active(SteadyClock::now()); }
    unsigned running_in(const Slot& slot) const {
        const auto found = busy.find(slot);
        return found == busy.end() ? 0 : found->second;
    }
    /// The settings in force (they change on reload).
    Intervals intervals(const Runtime* current) const {
        const OutboxSettings& settings =
            current != nullptr ? current->config().outbox : outbox.settings();
        return {std::max(settings.poll_interval, shortest_poll), settings.sweep_interval};
    }

    outbox::Outbox& outbox;
    RuntimeSource runtime;
    AttemptObserver observer;
    boost::asio::io_context io;
    boost::asio::steady_timer timer;
    std::thread thread;
    /// A wake() is queued on the io_context: later ones need not queue another.
    std::atomic<bool> wake_queued{false};

    // Owned by the delivery thread.
    bool stopping = false;
    bool woken = false;
    bool payload_deleted = false;
    SteadyClock::time_point next_sweep{};
    SteadyClock::time_point next_checkpoint{};
    /// After an outbox error (a full disk...), the disk or the operator
    /// get a moment: see error_pause.hpp.
    ErrorPause pause;
    std::unordered_map<std::string, InProgress> in_progress;  ///< by tracking id
    std::map<Slot, unsigned> busy;
    std::mt19937_64 random{std::random_device{}()};
};

awaitable<void> Engine::Impl::run() {
    next_sweep = SteadyClock::now();
    while (!stopping) {
        const std::shared_ptr<const Runtime> current = runtime();
        const Intervals every = intervals(current.get());
        auto wait = every.poll;
        try {
            if (current && !halted()) {
                co_await start_due_attempts(current);
            }
            co_await housekeeping(every);
        } catch (const std::exception& error) {
            if (stopping) {
                break;
            }
            outbox_failed(error);
            woken = false;
        }
        if (const auto now = SteadyClock::now(); pause.active(now)) {
            wait = std::chrono::ceil<std::chrono::milliseconds>(pause.until() - now);
            woken = false;
        }
        if (!woken && !stopping) {
            timer.expires_after(wait);
            co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        }
        woken = false;
    }
}

awaitable<void> Engine::Impl::start_due_attempts(const std::shared_ptr<const Runtime>& current) {
    std::unordered_map<std::string_view, const ConnectorEntry*> by_slug;
    for (const auto& entry : current->connectors()) {
        by_slug.emplace(entry->slug, entry.get());
    }
    for (const std::string& family : outbox.families()) {
        for (const Kind kind : kinds) {
            const auto connectors = co_await outbox.pending_connectors(family, kind);
            for (const std::string& name : connectors) {
                if (halted()) {
                    co_return;
                }
                const auto found = by_slug.find(name);
                // A connector removed from the configuration, or moved to
                // another family, leaves its messages waiting.
                if (found == by_slug.end() || found->second->family != family) {
                    continue;
                }
                const ConnectorEntry& entry = *found->second;
                Slot slot{kind, name};
                const unsigned running = running_in(slot);
                if (running >= entry.delivery.concurrency) {
                    continue;
                }
                std::vector<std::string> skip;
                for (const auto& [tracking_id, attempt] : in_progress) {
                    if (attempt.slot == slot) {
                        skip.push_back(tracking_id);
                    }
                }
                auto due = co_await outbox.due(
                    family, name, kind, entry.delivery.concurrency - running, std::move(skip));
                for (auto& message : due) {
                    // The outbox answered after other attempts may have
                    // started, failed (and paused the engine) or stopping
                    // began: all is checked again.
                    if (halted()) {
                        co_return;
                    }
                    if (in_progress.contains(message.info.tracking_id) ||
                        running_in(slot) >= entry.delivery.concurrency) {
                        continue;
                    }
                    launch(current, entry, family, std::move(message));
                }
            }
        }
    }
}

awaitable<void> Engine::Impl::housekeeping(const Intervals& every) {
    const auto now = SteadyClock::now();
    if (payload_deleted && now >= next_checkpoint) {
        payload_deleted = false;
        next_checkpoint = now + every.poll;
        co_await outbox.checkpoint_if_deleted();
    }
    if (now >= next_sweep) {
        next_sweep = now + every.sweep;
        const outbox::SweepCounts counts = co_await outbox.sweep();
        if (counts.messages_expired != 0 || counts.payloads_erased != 0 ||
            counts.messages_purged != 0 || counts.correlations_purged != 0 ||
            counts.orphan_pieces_dropped != 0) {
            log::info("outbox_sweep", {{"messages_expired", counts.messages_expired},
                                       {"payloads_erased", counts.payloads_erased},
                                       {"messages_purged", counts.messages_purged},
                                       {"correlations_purged", counts.correlations_purged},
                                       {"orphan_pieces_dropped", counts.orphan_pieces_dropped}});
        }
    }
}

void Engine::Impl::launch(std::shared_ptr<const Runtime> current, const ConnectorEntry& entry,
                          const std::string& family, outbox::DueMessage message) {
    std::string tracking_id = message.info.tracking_id;
    Slot slot{message.info.kind, message.info.connector};
    auto cancel = std::make_shared<boost::asio::cancellation_signal>();
    ++busy[slot];
    in_progress.emplace(tracking_id, InProgress{std::move(slot), cancel});
    boost::asio::co_spawn(io, attempt(std::move(current), entry, family, std::move(message)),
                          boost::asio::bind_cancellation_slot(
                              cancel->slot(), [this, id = std::move(tracking_id)](
                                                  std::exception_ptr) { finished(id); }));
}

awaitable<void> Engine::Impl::attempt(std::shared_ptr<const Runtime> current,
                                      const ConnectorEntry& entry, std::string family,
                                      outbox::DueMessage message) {
    // `current` keeps `entry` (and the plugin behind it) alive across a reload.
    try {
        AttemptOutcome outcome;
        switch (message.info.kind) {
            case Kind::push:
                outcome = co_await attempt_push(outbox, entry, family, message, random);
                break;
            case Kind::trigger:
                outcome = co_await attempt_trigger(outbox, current->config().gru, entry, family,
                                                   message, random);
                break;
            case Kind::demand:
                outcome = co_await attempt_demand(outbox, current->config().gru, entry, family,
                                                  message, random);
                break;
        }
        co_await outbox.record(family, message.info.tracking_id, outcome.record);
        pause.succeeded();
        if (outcome.record.verdict == outbox::AttemptRecord::Verdict::delivered) {
            payload_deleted = true;
        }
        log_attempt(family, message.info, outcome);
        if (observer) {
            observer(message.info.connector, outbox::name(message.info.kind),
                     verdict_name(outcome.record.verdict));
        }
    } catch (const std::exception& error) {
        // Stopping aborts attempts on purpose: their messages stay pending.
        if (!stopping) {
            outbox_failed(error);
        }
    }
}

void Engine::Impl::finished(const std::string& tracking_id) {
    const auto found = in_progress.find(tracking_id);
    if (found != in_progress.end()) {
        const auto slot = busy.find(found->second.slot);
        if (slot != busy.end() && --slot->second == 0) {
            busy.erase(slot);
        }
        in_progress.erase(found);
    }
    // A slot is free: another message of that connector may be due.
    poke();
}

void Engine::Impl::outbox_failed(const std::exception& error) {
    // The database's message names the file and the failure, no value.
    log::error("outbox_error", {{"error", error.what()}});
    pause.failed(SteadyClock::now());
}

void Engine::Impl::poke() {
    woken = true;
    timer.cancel();
}

void Engine::Impl::cancel_all() {
    stopping = true;
    timer.cancel();
    // Copied first: a cancelled attempt may finish, and leave the map,
    // while its signal is being emitted.
    std::vector<std::shared_ptr<boost::asio::cancellation_signal>> signals;
    signals.reserve(in_progress.size());
    for (const auto& [tracking_id, attempt] : in_progress) {
        signals.push_back(attempt.cancel);
    }
    for (const auto& signal : signals) {
        signal->emit(boost::asio::cancellation_type::terminal);
    }
}

Engine::Engine(outbox::Outbox& outbox, RuntimeSource runtime, AttemptObserver observer)
    : impl_(std::make_unique<Impl>(outbox, std::move(runtime), std::move(observer))) {}

Engine::~Engine() {
    stop();
}

void Engine::start() {
    if (impl_->thread.joinable()) {
        return;
    }
    impl_->io.restart();
    impl_->stopping = false;
    impl_->thread = std::thread([impl = impl_.get()] {
        boost::asio::co_spawn(impl->io, impl->run(), [](std::exception_ptr error) {
            if (error) {
                try {
                    std::rethrow_exception(error);
                } catch (const std::exception& e) {
                    log::error("delivery_stopped", {{"error", e.what()}});
                }
            }
        });
        impl->io.run();
    });
}

void Engine::wake() noexcept {
    if (impl_->wake_queued.exchange(true)) {
        return;
    }
    try {
        boost::asio::post(impl_->io, [impl = impl_.get()] {
            impl->wake_queued = false;
            impl->poke();
        });
    } catch (...) {
        // Out of memory: the next poll finds the message anyway.
        impl_->wake_queued = false;
    }
}

void Engine::stop() {
    if (!impl_->thread.joinable()) {
        return;
    }
    boost::asio::post(impl_->io, [impl = impl_.get()] { impl->cancel_all(); });
    // run() returns once the loop and every attempt have ended.
    impl_->thread.join();
}

}  // namespace relais::delivery
