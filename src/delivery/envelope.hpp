#pragma once
/// @file
/// The plaintext the core seals into the outbox around a message: for a
/// push, the connector's message and the GRU demand it belongs to; for a
/// trigger or a new demand, what to send to the GRU core. Encoded as
/// compact JSON; a demand's body (which may carry a scanned document of
/// megabytes) follows its JSON head on the next line, as it is, so that
/// it is neither escaped nor parsed again.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace relais::delivery {

struct PushEnvelope {
    std::string demand_url;  ///< empty when the connector declares no callbacks
    std::string message;     ///< the connector's PushMessage, opaque
};

struct TriggerEnvelope {
    std::string url;        ///< {form_url}jump/trigger/{trigger}/, unsigned
    std::string body;       ///< JSON object sent to the GRU
    std::string reference;  ///< the business reference, to drop the correlation
    bool terminal = false;  ///< drop the correlation once delivered
};

/// w.c.s.'s URL of `trigger` (a name of ^[A-Za-z0-9_-]{1,64}$) on the demand
/// at `demand_url` (which ends with '/'), and the demand URL of such a
/// trigger URL.
std::string trigger_url(std::string_view demand_url, std::string_view trigger);
std::string_view demand_url_of(std::string_view trigger_url);

/// A new demand for the GRU core (ConnectorServices::submit_demand).
struct DemandEnvelope {
    std::string url;        ///< {gru.url}api/formdefs/{formdef}/submit, unsigned
    std::string body;       ///< JSON object sent to the GRU: data and context
    std::string reference;  ///< business reference to correlate with the demand; empty: none
    /// Where in `body` the text of the message's document goes (inside the
    /// quotes of the file field's empty `b64_content`); nullopt: no document.
    std::optional<std::size_t> document_at{};
};

std::string encode(const PushEnvelope& envelope);
std::string encode(const TriggerEnvelope& envelope);
/// The first line of an encoded demand, newline included: the demand's
/// body follows it as it is (see demand.hpp's prepare_demand).
std::string demand_head(std::string_view url, std::string_view reference,
                        std::optional<std::size_t> document_at = std::nullopt);
std::optional<PushEnvelope> decode_push(std::string_view text);
std::optional<TriggerEnvelope> decode_trigger(std::string_view text);
std::optional<DemandEnvelope> decode_demand(std::string_view text);

}  // namespace relais::delivery
