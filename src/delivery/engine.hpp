#pragma once
/// @file
/// The background delivery of the outbox. One thread with its own event
/// loop (and its own upstream connection pool) takes the due messages of
/// every family, at most `delivery.concurrency` at once per connector so
/// that one slow business application never holds up the others, and
/// records each attempt's outcome:
/// - pushes go through the connector's `deliver`; on success the
///   business reference is read from the answer (`callbacks.reference`)
///   and correlated with the push's GRU demand;
/// - triggers are POSTed to the GRU core, Publik-signed with `gru` of
///   relais.yaml; a delivered terminal trigger drops its correlation;
/// - demands (ConnectorServices::submit_demand) are POSTed, signed the same
///   way, to the GRU core's submit API.
/// Each kind has its own `delivery.concurrency` slots per connector.
/// Messages of a connector that is no longer configured wait (and age).
/// Every attempt is logged (`delivery` event: tracking id, family,
/// connector, endpoint, attempt, status, error class, verdict): never a
/// payload, a reference or a URL.

#include <functional>
#include <memory>
#include <string_view>

namespace relais {
class Runtime;
}
namespace relais::outbox {
class Outbox;
}

namespace relais::delivery {

class Engine {
public:
    /// Returns the configuration in force (it changes on SIGHUP).
    using RuntimeSource = std::function<std::shared_ptr<const Runtime>()>;

    /// Told of every attempt once recorded (for metrics), on the delivery
    /// thread: connector slug, kind and verdict names.
    using AttemptObserver = std::function<void(std::string_view connector, std::string_view kind,
                                               std::string_view verdict)>;

    /// `outbox` must outlive the engine: stop the engine first.
    Engine(outbox::Outbox& outbox, RuntimeSource runtime, AttemptObserver observer = {});
    /// Stops if still running.
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    /// Starts the delivery thread.
    void start();
    /// A message was enqueued: look for due messages now rather than at the
    /// next poll. Thread-safe, never blocks.
    void wake() noexcept;
    /// Cancels the attempts in progress (their messages stay pending and
    /// are attempted again at the next start) and joins the thread.
    void stop();

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace relais::delivery
