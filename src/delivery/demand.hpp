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

/// Whether `reference` may be a demand's business reference: empty (none),
/// or at most 256 bytes without control characters.
bool is_demand_reference(std::string_view reference) noexcept;

/// What a non-empty reference must be, for refusals: "1 to 256 bytes
/// without control characters".
inline constexpr std::string_view demand_reference_rule =
    "1 to 256 bytes without control characters";

/// Whether `url` names a demand under the GRU's base URL `gru_url`: nothing
/// that could make relais sign a request for another host or path.
bool is_demand_url(std::string_view url, std::string_view gru_url) noexcept;

/// The URL of the demand the GRU opened, from its answer to a submit
/// (w.c.s.: `{"err":0,"data":{"id":…,"url":…}}`), normalized to end with
/// '/'; nullopt when the answer holds no demand URL under `gru_url`.
std::optional<std::string> opened_demand_url(std::string_view answer, std::string_view gru_url);

/// `{gru_url}api/formdefs/{formdef}/submit`, the slug escaped as a path
/// segment; `gru_url` ends with a slash (relais.yaml reading adds it).
/// nullopt when `formdef` is not a slug.
std::optional<std::string> submit_url(std::string_view gru_url, std::string_view formdef);

/// Appends `{"data":<data_json>,"context":{"channel":<channel>}}` (no
/// context without a channel) to `out`. False, `out` unchanged, when
/// `data_json` is not a JSON object.
bool append_submit_body(std::string& out, std::string_view data_json, std::string_view channel);

/// The outbox payload of `demand` for the GRU at `gru_url` (read back by
/// decode_demand), built in one allocation however large the data (a
/// scanned document), or why it cannot be sent (log-safe words, no value).
std::variant<std::string, std::string_view> prepare_demand(std::string_view gru_url,
                                                           const GruDemand& demand);

}  // namespace relais::delivery
