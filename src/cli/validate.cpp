#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "core/config_error.hpp"
#include "core/runtime.hpp"
#include "outbox/crypto.hpp"

namespace relais::cli {

namespace {

constexpr std::string_view validate_usage = R"(usage: relais validate --config FILE

Loads relais.yaml and every connector it points to exactly as `relais serve`
would (schemas, secrets, plugins, grants), then exits without serving.

Prints `ok: N connectors, M clients` and exits 0 when everything is valid;
otherwise prints one `file:line:column: message` line per error on standard
error and exits 1.

options:
  --config FILE   the relais.yaml to check
  -h, --help      show this help
)";

}  // namespace

int validate(std::span<char* const> args) {
    if (wants_help(args)) {
        std::fputs(validate_usage.data(), stdout);
        return 0;
    }
    const auto config = config_file_argument("validate", validate_usage, args);
    if (!config) {
        return 2;
    }
    try {
        const auto runtime = load_runtime(*config);
        // What serve would refuse to start with, short of opening sockets.
        outbox::check_key(runtime->config().outbox.key, runtime->config().data_dir);
        std::printf("ok: %zu connectors, %zu clients\n", runtime->connectors().size(),
                    runtime->config().clients.size());
        return 0;
    } catch (const ConfigErrors& e) {
        for (const auto& error : e.errors()) {
            std::fprintf(stderr, "%s\n", error.what());
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "relais validate: %s\n", e.what());
    }
    return 1;
}

}  // namespace relais::cli
