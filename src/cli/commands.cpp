#include "cli/commands.hpp"

#include <cstdio>
#include <string>

namespace relais::cli {

namespace {

constexpr std::string_view usage =
    R"(relais — connector broker between a GRU core and business applications

usage: relais <command> [options]

commands:
  serve --config FILE               run the daemon
  validate --config FILE            check relais.yaml and every connector, then exit
  sign --orig ORIG --key KEY URL    print URL signed with the Publik signature
  schema [NAME]                     print the JSON Schemas (all, or one by name)
  import-wsdl FILE                  print a first connector of kind soap for a WSDL
  outbox list|show|retry|drop --config FILE ...
                                    look at and act on queued and dead-lettered messages
  version                           print the version

Run `relais <command> --help` for the options of a command.
)";

}  // namespace

bool wants_help(std::span<char* const> args) noexcept {
    for (const char* a : args) {
        const std::string_view arg(a);
        if (arg == "-h" || arg == "--help") {
            return true;
        }
    }
    return false;
}

int run(int argc, char** argv) {
    if (argc < 2) {
        std::fputs(usage.data(), stderr);
        return 2;
    }
    const std::string_view command(argv[1]);
    const std::span<char* const> args(argv + 2, static_cast<std::size_t>(argc - 2));
    if (command == "serve") {
        return serve(args);
    }
    if (command == "validate") {
        return validate(args);
    }
    if (command == "sign") {
        return sign(args);
    }
    if (command == "schema") {
        return schema(args);
    }
    if (command == "import-wsdl") {
        return import_wsdl(args);
    }
    if (command == "outbox") {
        return manage_outbox(args);
    }
    if (command == "version" || command == "--version") {
        if (wants_help(args)) {
            std::fputs("usage: relais version\n\nPrints the version of relais.\n", stdout);
            return 0;
        }
        std::printf("relais %s\n", RELAIS_VERSION);
        return 0;
    }
    if (command == "-h" || command == "--help" || command == "help") {
        std::fputs(usage.data(), stdout);
        return 0;
    }
    std::fprintf(stderr, "relais: unknown command '%s'\n\n%s", argv[1], usage.data());
    return 2;
}

}  // namespace relais::cli
