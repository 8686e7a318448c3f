#pragma once
/// @file
/// What the subcommands share in reading their arguments: options given as
/// `--name VALUE` or `--name=VALUE`, and usage errors.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace relais::cli {

/// The value of the option `name` (e.g. "--config") if `args[i]` gives it,
/// as `name=VALUE` or as `name` followed by VALUE (then `i` moves onto
/// VALUE). Nullopt if `args[i]` is another argument, or `name` with nothing
/// after it.
std::optional<std::string_view> option_value(std::span<char* const> args, std::size_t& i,
                                             std::string_view name);

/// Prints `relais COMMAND: MESSAGE`, a blank line and `usage` on standard
/// error; returns 2, the exit code of a usage error.
int usage_error(std::string_view command, std::string_view message, std::string_view usage);

/// The FILE of `--config FILE`, the one argument that `serve` and
/// `validate` take and require. Nullopt after a usage error was printed.
std::optional<std::string> config_file_argument(std::string_view command, std::string_view usage,
                                                std::span<char* const> args);

}  // namespace relais::cli
