#pragma once
/// @file
/// The `relais` command line: `serve`, `validate`, `sign`, `schema`,
/// `import-wsdl`, `outbox`, `version`, each with `--help`.

#include <span>
#include <string_view>

namespace relais::cli {

/// Dispatches to a subcommand; returns the process exit code.
int run(int argc, char** argv);

/// Subcommands. `args` excludes the program and subcommand names.
int serve(std::span<char* const> args);
int validate(std::span<char* const> args);
int sign(std::span<char* const> args);
int schema(std::span<char* const> args);
int import_wsdl(std::span<char* const> args);
/// `relais outbox list|show|retry|drop` (named apart from the namespace
/// relais::outbox, which CLI code also uses).
int manage_outbox(std::span<char* const> args);

/// True if `args` asks for help ("-h" or "--help").
bool wants_help(std::span<char* const> args) noexcept;

}  // namespace relais::cli
