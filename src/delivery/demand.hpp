#pragma once
/// @file
/// New demands opened in the GRU core for connectors
/// (ConnectorServices::submit_demand): where w.c.s. takes them and what it
/// is sent. Pure functions, unit-tested without a network.

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/connector.hpp"
#include "delivery/envelope.hpp"

namespace relais::delivery {

/// Whether `formdef` may name a w.c.s. form: [a-z0-9][a-z0-9_-]*, at most
/// 64 characters.
bool is_formdef_slug(std::string_view formdef) noexcept;

/// Whether `channel` may name a submission channel: empty (none), or
/// [a-z][a-z0-9_-]*, at most 32 characters.
bool is_channel_name(std::string_view channel) noexcept;

/// `{gru_url}api/formdefs/{formdef}/submit`, the slug escaped as a path
/// segment; `gru_url` ends with a slash (relais.yaml reading adds it).
/// nullopt when `formdef` is not a slug.
std::optional<std::string> submit_url(std::string_view gru_url, std::string_view formdef);

/// `{"data":<data_json>,"context":{"channel":<channel>}}` (no context
/// without a channel). nullopt when `data_json` is not a JSON object.
std::optional<std::string> submit_body(std::string_view data_json, std::string_view channel);

/// The envelope of `demand` for the GRU at `gru_url`, or why it cannot be
/// sent (log-safe words, no value).
std::variant<DemandEnvelope, std::string_view> prepare_demand(std::string_view gru_url,
                                                              const GruDemand& demand);

}  // namespace relais::delivery
