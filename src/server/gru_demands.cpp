#include "server/gru_demands.hpp"

#include <algorithm>
#include <cstdint>
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

/// Drops a document no demand will carry; an outbox failure is only
/// logged: the sweep drops the pieces within the hour.
boost::asio::awaitable<void> drop_document(outbox::Outbox& outbox, std::string family,
                                           std::string document) {
    try {
        co_await outbox.drop_document(std::move(family), std::move(document));
    } catch (const std::exception& error) {
        log::error("outbox_error", {{"error", error.what()}});
    }
}

}  // namespace

/// A document written to the outbox in sealed pieces of `piece_bytes`.
class GruDemands::OutboxDocument final : public DocumentWriter {
public:
    OutboxDocument(std::shared_ptr<const Binding> binding, std::string family)
        : binding_(std::move(binding)),
          family_(std::move(family)),
          id_(outbox::FamilyStore::new_document_id()) {}

    boost::asio::awaitable<bool> write(std::string_view text) override {
        while (!text.empty()) {
            const std::size_t room = piece_bytes - pending_.size();
            const std::size_t taken = std::min(room, text.size());
            pending_.append(text.substr(0, taken));
            text.remove_prefix(taken);
            if (pending_.size() == piece_bytes) {
                // Not in the condition: GCC 12 miscompiles a co_await
                // behind && or ?:.
                const bool stored = co_await store_pending();
                if (!stored) {
                    co_return false;
                }
            }
        }
        co_return true;
    }

    boost::asio::awaitable<std::optional<StoredDocument>> finish() override {
        if (!pending_.empty()) {
            const bool stored = co_await store_pending();
            if (!stored) {
                co_return std::nullopt;
            }
        }
        co_return StoredDocument{id_, stored_bytes_};
    }

    boost::asio::awaitable<void> discard() override {
        pending_.clear();
        if (pieces_ > 0) {
            co_await drop_document(binding_->outbox, family_, id_);
        }
    }

private:
    static constexpr std::size_t piece_bytes = 256 * 1024;

    boost::asio::awaitable<bool> store_pending() {
        const std::size_t bytes = pending_.size();
        std::string piece;
        piece.swap(pending_);
        try {
            co_await binding_->outbox.store_piece(family_, id_, pieces_, std::move(piece));
        } catch (const std::exception& error) {
            log::error("outbox_error", {{"error", error.what()}});
            co_return false;
        }
        ++pieces_;
        stored_bytes_ += bytes;
        co_return true;
    }

    std::shared_ptr<const Binding> binding_;
    std::string family_;
    std::string id_;
    std::string pending_;  ///< text not stored yet, less than piece_bytes
    std::uint64_t pieces_ = 0;
    std::uint64_t stored_bytes_ = 0;
};

std::unique_ptr<DocumentWriter> GruDemands::open_document(std::string_view family) const {
    std::shared_ptr<const Binding> binding = binding_.load();
    if (binding == nullptr || !outbox::is_family_name(family)) {
        return nullptr;
    }
    return std::make_unique<OutboxDocument>(std::move(binding), std::string(family));
}

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
        // A document stored meanwhile is the connector's to discard, else
        // the sweep's.
        not_queued(connector_name, family_name, demand.formdef, "outbox not available");
        co_return std::nullopt;
    }
    const std::string document = demand.document ? demand.document->id : std::string();
    const std::optional<GruSettings> gru = binding->gru();
    auto prepared =
        gru ? delivery::prepare_demand(gru->url, demand)
            : std::variant<std::string, std::string_view>(std::string_view("no gru configured"));
    if (const auto* reason = std::get_if<std::string_view>(&prepared)) {
        not_queued(connector_name, family_name, demand.formdef, *reason);
        if (!document.empty()) {
            co_await drop_document(binding->outbox, family_name, document);
        }
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
    if (demand.document) {
        message.document = demand.document->id;
        message.document_bytes = demand.document->bytes;
    }
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
        if (!document.empty()) {
            co_await drop_document(binding->outbox, family_name, document);
        }
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
