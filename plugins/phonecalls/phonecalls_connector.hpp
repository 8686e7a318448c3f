#pragma once
/// @file
/// The connector of kind `phonecalls` (Passerelle's telephony connector):
/// the phone system reports `call-start` and `call-stop`, the agents'
/// screens read `calls` of their extension or follow `calls/stream`
/// (Server-Sent Events). Calls live in a CallBook, in memory only, shared
/// with the next connector of the same slug after a reload.

#include <memory>

#include "core/connector.hpp"
#include "phonecalls/call_book.hpp"

namespace relais::phonecalls {

/// The settings of a connector file valid against phonecalls.schema.json.
/// Throws ConfigError when a value is out of range (retention over 24h...).
Settings read_settings(const ConnectorSource& source);

/// Builds a connector from a connector file valid against
/// phonecalls.schema.json, adopting the live call book of its slug. Its
/// settings apply to that book at its first request, not before: a reload
/// refused after building it leaves the book as it was. Throws ConfigError.
std::unique_ptr<Connector> make_phonecalls_connector(const ConnectorSource& source);

}  // namespace relais::phonecalls
