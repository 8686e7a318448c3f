#pragma once
/// @file
/// Moving `boost::asio::any_completion_handler` safely on Boost 1.81.

#include <utility>

namespace relais::upstream {

/// Empties `from` and returns what it held. Boost 1.81's
/// any_completion_handler move assignment recurses without end (it
/// rebuilds from an lvalue through its converting constructor), so handlers
/// are only ever moved by construction or swapped.
template <typename Handler>
Handler take_handler(Handler& from) noexcept {
    Handler taken;
    taken.swap(from);
    return taken;
}

}  // namespace relais::upstream
