#pragma once
/// @file
/// The core's ConnectorServices in the daemon: connectors open demands in
/// the GRU core through the durable outbox.
///
/// Connectors are built before the Server exists (at start-up) and on the
/// reload thread, so the object is made first, handed to load_runtime, and
/// bound by the Server to its outbox, its delivery engine and the
/// configuration in force once they exist. Unbound (before start-up ends,
/// after shutdown began) it queues nothing.

#include <functional>
#include <memory>
#include <optional>

#include "core/connector.hpp"
#include "core/delivery_settings.hpp"
#include "core/shared_slot.hpp"

namespace relais::outbox {
class Outbox;
}

namespace relais::server {

class GruDemands final : public ConnectorServices {
public:
    /// The `gru:` of the configuration in force (it changes on SIGHUP).
    using GruSource = std::function<std::optional<GruSettings>()>;

    /// Demands are queued in `outbox`; `wake` tells the delivery engine
    /// (thread-safe, never blocks). `outbox` must stay alive until unbind().
    void bind(outbox::Outbox& outbox, std::function<void()> wake, GruSource gru);
    /// From now on nothing is queued; calls in progress finish.
    void unbind() noexcept;

    boost::asio::awaitable<std::optional<std::string>> submit_demand(
        std::string_view connector, std::string_view family, GruDemand demand) const override;
    /// Null when unbound or for a family that cannot name a database.
    std::unique_ptr<DocumentWriter> open_document(std::string_view family) const override;

private:
    class OutboxDocument;
    struct Binding {
        outbox::Outbox& outbox;
        std::function<void()> wake;
        GruSource gru;
    };
    SharedSlot<const Binding> binding_;
};

}  // namespace relais::server
