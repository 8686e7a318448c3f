#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "config/embedded_schemas.hpp"
#include "config/relais_config.hpp"
#include "plugin/plugin_loader.hpp"

namespace relais::cli {

namespace {

constexpr std::string_view schema_usage = R"(usage: relais schema [--plugins DIR] [NAME]

Prints JSON Schemas (draft-04). Without NAME, one JSON object holding every
schema by name: "relais" (relais.yaml), "connector" (what every connector
file shares) and one per connector kind found in the plugins directory.
With NAME, that schema alone. Editors use them to complete and check YAML
(see docs/configuration.md).

options:
  --plugins DIR   where to look for plugin modules (default: the plugins
                  directory beside the relais executable)
  -h, --help      show this help
)";

struct NamedSchema {
    std::string name;
    std::string_view text;
};

std::string pretty(const rapidjson::Value& value) {
    rapidjson::StringBuffer buffer;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
    writer.SetIndent(' ', 2);
    value.Accept(writer);
    return std::string(buffer.GetString(), buffer.GetSize());
}

bool parse_into(const NamedSchema& schema, rapidjson::Document& doc) {
    doc.Parse(schema.text.data(), schema.text.size());
    if (doc.HasParseError()) {
        std::fprintf(stderr, "relais schema: the schema of '%s' is not valid JSON\n",
                     schema.name.c_str());
        return false;
    }
    return true;
}

}  // namespace

int schema(std::span<char* const> args) {
    if (wants_help(args)) {
        std::fputs(schema_usage.data(), stdout);
        return 0;
    }
    std::filesystem::path plugins_dir;
    std::string wanted;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view arg(args[i]);
        if (const auto value = option_value(args, i, "--plugins")) {
            plugins_dir = *value;
        } else if (!arg.starts_with("-") && wanted.empty()) {
            wanted = arg;
        } else {
            return usage_error("schema", "unexpected argument '" + std::string(arg) + "'",
                               schema_usage);
        }
    }
    if (plugins_dir.empty()) {
        plugins_dir = default_plugins_dir();
    }

    std::vector<NamedSchema> schemas{{"relais", embedded::relais_schema_json},
                                     {"connector", embedded::connector_schema_json}};
    // The modules stay loaded while their schema texts are in use.
    std::vector<std::string> failures;
    const auto modules = PluginDirectory(plugins_dir).load_all(failures);
    for (const auto& module : modules) {
        for (const auto& factory : module->factories()) {
            schemas.push_back({std::string(factory->kind()), factory->schema()});
        }
    }
    for (const auto& failure : failures) {
        std::fprintf(stderr, "relais schema: skipped: %s\n", failure.c_str());
    }

    if (!wanted.empty()) {
        for (const auto& schema : schemas) {
            if (schema.name == wanted) {
                rapidjson::Document doc;
                if (!parse_into(schema, doc)) {
                    return 1;
                }
                std::printf("%s\n", pretty(doc).c_str());
                return 0;
            }
        }
        std::string names;
        for (const auto& schema : schemas) {
            names += (names.empty() ? "" : ", ") + schema.name;
        }
        std::fprintf(stderr, "relais schema: unknown schema '%s' (available: %s)\n", wanted.c_str(),
                     names.c_str());
        return 1;
    }

    rapidjson::Document all(rapidjson::kObjectType);
    for (const auto& schema : schemas) {
        rapidjson::Document doc(&all.GetAllocator());
        if (!parse_into(schema, doc)) {
            return 1;
        }
        all.AddMember(rapidjson::Value(schema.name, all.GetAllocator()), doc, all.GetAllocator());
    }
    std::printf("%s\n", pretty(all).c_str());
    return 0;
}

}  // namespace relais::cli
