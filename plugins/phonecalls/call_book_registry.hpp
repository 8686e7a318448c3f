#pragma once
/// @file
/// Call books by connector slug and family, for the life of the module. A
/// reload (SIGHUP) builds new connectors while the old ones still serve: a
/// new connector with the slug and family of a live call book adopts it, so
/// that current calls survive. A connector that changed family starts with
/// an empty book: a number must not cross from one family to another. The
/// new settings are the connector's to apply once it serves: the reload may
/// still be refused.
/// The registry holds no call book alive: once no connector of a slug is
/// left, its calls are gone.

#include <memory>
#include <string_view>

#include "phonecalls/call_book.hpp"

namespace relais::phonecalls {

/// The live call book of `slug` in `family` as it is, or a new one with
/// `settings`. Safe from any thread.
std::shared_ptr<CallBook> adopt_call_book(std::string_view slug, std::string_view family,
                                          const Settings& settings);

}  // namespace relais::phonecalls
