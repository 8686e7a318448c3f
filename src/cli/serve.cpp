#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "core/config_error.hpp"
#include "core/log.hpp"
#include "server/gru_demands.hpp"
#include "server/reload.hpp"
#include "server/server.hpp"

namespace relais::cli {

namespace {

constexpr std::string_view serve_usage = R"(usage: relais serve --config FILE

Runs the daemon with the configuration FILE (relais.yaml) until SIGTERM or
SIGINT; requests in progress then finish within server.shutdown_grace.
SIGHUP reloads FILE and every connector; if the new configuration has
errors they are logged and the running one stays in place.

options:
  --config FILE   the relais.yaml to serve
  -h, --help      show this help
)";

}  // namespace

int serve(std::span<char* const> args) {
    if (wants_help(args)) {
        std::fputs(serve_usage.data(), stdout);
        return 0;
    }
    const auto config_argument = config_file_argument("serve", serve_usage, args);
    if (!config_argument) {
        return 2;
    }
    const std::filesystem::path config_file = *config_argument;

    // Peers that close early must not kill the process, nor a stop or reload
    // signal that comes before the server handles them; every file relais
    // creates (data, logs) is private to its user. A crash writes no core
    // dump: it would hold, in clear, the requests in memory and the outbox
    // key (and non-dumpable also keeps other processes of the user out of
    // its memory).
    std::signal(SIGPIPE, SIG_IGN);
    server::hold_stop_signals();
    ::umask(077);
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

    // Outlives the server and every connector built with it, reloads included.
    server::GruDemands demands;
    std::shared_ptr<const Runtime> runtime;
    try {
        runtime = server::load_serving_runtime(config_file, &demands);
    } catch (const ConfigErrors& errors) {
        for (const auto& error : errors.errors()) {
            std::fprintf(stderr, "%s\n", error.what());
        }
        return 1;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "relais serve: %s\n", error.what());
        return 1;
    }

    const RelaisConfig& config = runtime->config();
    try {
        log::configure(config.log_level, config.log_file);
    } catch (const std::system_error& error) {
        std::fprintf(stderr, "relais serve: %s\n", error.what());
        return 1;
    }
    const bool logs_to_file = !config.log_file.empty();
    try {
        server::Server server(config_file, std::move(runtime), demands);
        return server.run();
    } catch (const std::exception& error) {
        log::error("start_failed", {{"error", error.what()}});
        if (logs_to_file) {
            std::fprintf(stderr, "relais serve: %s\n", error.what());
        }
        return 1;
    }
}

}  // namespace relais::cli
