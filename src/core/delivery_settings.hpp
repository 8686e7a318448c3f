#pragma once
/// @file
/// The parts of a connector file the core reads itself, whatever the kind:
/// how its pushes are delivered (`delivery:`), how its business
/// application reports the status of a demand (`callbacks:`) and opens
/// demands in the GRU core (`demands:`). See docs/delivery.md and
/// docs/soap-service.md.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relais {

/// The route the core adds to connectors with async endpoints, and under
/// /_relais/: GET …/deliveries/{tracking_id}.
inline constexpr std::string_view deliveries_route = "deliveries";

/// The route the core adds to connectors that declare `callbacks:` or
/// `demands:`: relais's SOAP service, /{kind}/{slug}/soap.
inline constexpr std::string_view soap_route = "soap";

/// `delivery:` — retries of the async endpoints of one connector.
struct DeliveryPolicy {
    /// Attempts in all, the first included; then the message is dead-lettered.
    unsigned max_attempts = 20;
    /// A message still undelivered this long after it was pushed is dead-lettered.
    std::chrono::milliseconds max_age{std::chrono::hours(24)};
    /// Wait before the second attempt; doubled after each failure, up to
    /// max_backoff, with full jitter. A `Retry-After` answer is honoured
    /// (capped at max_backoff).
    std::chrono::milliseconds initial_backoff{std::chrono::seconds(1)};
    std::chrono::milliseconds max_backoff{std::chrono::minutes(10)};
    /// Deliveries of this connector in progress at once.
    unsigned concurrency = 4;
};

/// One row of `callbacks.statuses`: the GRU trigger a business status maps to.
struct StatusMapping {
    std::string trigger;    ///< w.c.s. trigger name (jump/trigger/{trigger}/)
    bool terminal = false;  ///< relaying it ends the demand: the correlation is dropped
};

/// `callbacks:` — status reports from the business application.
struct CallbackSpec {
    /// Name of the endpoint the business application calls:
    /// POST /{kind}/{slug}/{endpoint}.
    std::string endpoint = "status";
    /// Parameter of a push (query parameter or top-level member of its JSON
    /// body) holding the GRU demand's URL (w.c.s. `form_url`). It must start
    /// with `gru.url` of relais.yaml.
    std::string demand_parameter = "form_url";
    /// JSON Pointer to the business application's reference in its answer
    /// to a delivered push.
    std::string reference_pointer;
    /// Extra fields a status report may carry; relayed to the GRU, never logged.
    std::vector<std::string> fields;
    std::map<std::string, StatusMapping> statuses;  ///< business status -> trigger
};

/// `demands:` — the business application opens demands in the GRU core.
struct DemandSpec {
    /// Name of the endpoint the business application calls:
    /// POST /{kind}/{slug}/{endpoint}.
    std::string endpoint = "demands";
    /// Slug of the w.c.s. form the demands are made of
    /// (delivery::is_formdef_slug).
    std::string formdef;
    /// w.c.s. `context.channel` of the demands; empty: none sent.
    std::string channel;
    /// Field varnames a demand may fill; anything else is refused.
    std::vector<std::string> fields;
};

/// relais.yaml `outbox:` — the store of async messages.
struct OutboxSettings {
    /// Base64 of a 32-byte key (`${env:…}` or `${file:…}`); unset: the file
    /// `<data>/outbox.key`, generated on first start.
    std::optional<std::string> key;
    /// Metadata of finished messages (delivered, dead without payload).
    std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};
    /// Sealed payload of a dead letter, for an operator to retry it.
    std::chrono::milliseconds dead_letter_retention{std::chrono::hours(72)};
    /// A correlation never closed by a terminal status.
    std::chrono::milliseconds correlation_retention{std::chrono::hours(24 * 30)};
    /// How often retention is enforced.
    std::chrono::milliseconds sweep_interval{std::chrono::minutes(1)};
    /// How often the delivery thread looks for due messages when nothing
    /// woke it (retries fall due; `relais outbox retry` from another process).
    std::chrono::milliseconds poll_interval{std::chrono::seconds(1)};
};

/// relais.yaml `gru:` — the GRU core that status reports are relayed to.
struct GruSettings {
    /// Base URL of the GRU; a push's demand URL must start with it, so that
    /// relais never signs a request to anyone else.
    std::string url;
    std::string orig;                  ///< Publik `orig` relais signs with
    std::string key;                   ///< Publik key shared with the GRU
    std::string algorithm = "sha256";  ///< sha1, sha256 or sha512
};

}  // namespace relais
