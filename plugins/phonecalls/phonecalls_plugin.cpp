// The module of the `phonecalls` connector kind.
#include <memory>
#include <string_view>

#include "phonecalls/phonecalls_connector.hpp"
#include "plugin/plugin_api.hpp"

namespace relais::embedded {
extern const std::string_view phonecalls_schema_json;
}

RELAIS_PLUGIN_DEFINE("phonecalls", [](relais::FactoryRegistry& r) {
    r.add(std::make_unique<relais::FunctionFactory>(
        "phonecalls", relais::embedded::phonecalls_schema_json,
        &relais::phonecalls::make_phonecalls_connector));
})
