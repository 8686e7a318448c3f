#include "server/gru_demands.hpp"

#include <exception>
#include <string>
#include <utility>
#include <variant>

#include "core/log.hpp"
#include "delivery/demand.hpp"
#include "outbox/outbox.hpp"

namespace relais::server {

namespace {

/// Names and words only: the demand's data never reaches the log.
void not_queued(std::string_view connector, std::string_view family, std::string_view formdef,
                std::string_view reason) {
    log::warn("demand_not_queued", {{"connector", connector},
                                    {"family", family},
                                    {"formdef", delivery::is_formdef_slug(formdef)
                                                    ? std::optional<std::string_view>(formdef)
                                                    : std::nullopt},
                                    {"reason", reason}});
}

}  // namespace

void GruDemands::bind(outbox::Outbox& outbox, std::function<void()> wake, GruSource gru) {
    binding_.store(
        std::make_shared<const Binding>(Binding{outbox, std::move(wake), std::move(gru)}));
}

void GruDemands::unbind() noexcept {
    binding_.store(nullptr);
}

boost::asio::awaitable<std::optional<std::string>> GruDemands::submit_demand(
    std::string_view connector, std::string_view family, GruDemand demand) const {
    // The views may point into the caller's frame: copied before any suspension.
    const std::string connector_name(connector);
    const std::string family_name(family);
    const std::shared_ptr<const Binding> binding = binding_.load();
    if (binding == nullptr) {
        not_queued(connector_name, family_name, demand.formdef, "outbox not available");
        co_return std::nullopt;
    }
    const std::optional<GruSettings> gru = binding->gru();
    if (!gru) {
        not_queued(connector_name, family_name, demand.formdef, "no gru configured");
        co_return std::nullopt;
    }
    auto prepared = delivery::prepare_demand(gru->url, demand);
    if (const auto* reason = std::get_if<std::string_view>(&prepared)) {
        not_queued(connector_name, family_name, demand.formdef, *reason);
        co_return std::nullopt;
    }
    // A scanned document makes the data megabytes long: it goes as soon as
    // the payload holds it.
    std::string().swap(demand.data_json);
    outbox::NewMessage message;
    message.kind = outbox::Kind::demand;
    message.connector = connector_name;
    // The form's slug is a name of the configuration, safe to show in the
    // outbox listing and the delivery logs.
    message.endpoint = demand.formdef;
    message.request_id = std::move(demand.request_id);
    message.payload = std::move(std::get<std::string>(prepared));
    if (!demand.reference.empty()) {
        // The GEC posting the same mail again (its request timed out, say)
        // must not open a second demand.
        message.idempotency = outbox::idempotency_digest("demand", demand.reference, "");
    }
    std::optional<std::string> tracking_id;
    try {
        outbox::Enqueued stored = co_await binding->outbox.enqueue(family_name, std::move(message));
        tracking_id = std::move(stored.tracking_id);
    } catch (const std::exception& error) {
        // The outbox's messages name the file and the failure, never a value.
        log::error("outbox_error", {{"error", error.what()}});
    }
    if (!tracking_id) {
        not_queued(connector_name, family_name, demand.formdef, "outbox unavailable");
        co_return std::nullopt;
    }
    binding->wake();
    log::info("demand_queued", {{"tracking_id", *tracking_id},
                                {"family", family_name},
                                {"connector", connector_name},
                                {"formdef", demand.formdef}});
    co_return tracking_id;
}

}  // namespace relais::server
