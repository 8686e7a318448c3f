#pragma once
/// @file
/// The plaintext the core seals into the outbox around a message: for a
/// push, the connector's message and the GRU demand it belongs to; for a
/// trigger or a new demand, what to send to the GRU core. Encoded as
/// compact JSON.

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

/// A new demand for the GRU core (ConnectorServices::submit_demand).
struct DemandEnvelope {
    std::string url;   ///< {gru.url}api/formdefs/{formdef}/submit, unsigned
    std::string body;  ///< JSON object sent to the GRU: data and context
};

std::string encode(const PushEnvelope& envelope);
std::string encode(const TriggerEnvelope& envelope);
std::string encode(const DemandEnvelope& envelope);
std::optional<PushEnvelope> decode_push(std::string_view text);
std::optional<TriggerEnvelope> decode_trigger(std::string_view text);
std::optional<DemandEnvelope> decode_demand(std::string_view text);

}  // namespace relais::delivery
