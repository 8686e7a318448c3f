#pragma once
/// @file
/// Call books by connector slug, for the life of the module. A reload
/// (SIGHUP) builds new connectors while the old ones still serve: a new
/// connector with the slug of a live call book adopts it, so that current
/// calls survive. The new settings are the connector's to apply once it
/// serves: the reload may still be refused.
/// The registry holds no call book alive: once no connector of a slug is
/// left, its calls are gone.

#include <memory>
#include <string_view>

#include "phonecalls/call_book.hpp"

namespace relais::phonecalls {

/// The live call book of `slug` as it is, or a new one with `settings`.
/// Safe from any thread.
std::shared_ptr<CallBook> adopt_call_book(std::string_view slug, const Settings& settings);

}  // namespace relais::phonecalls
