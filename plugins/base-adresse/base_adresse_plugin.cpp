// The module of the `base-adresse` connector kind.
#include <memory>
#include <string_view>

#include "base-adresse/base_adresse_connector.hpp"
#include "plugin/plugin_api.hpp"

namespace relais::embedded {
extern const std::string_view base_adresse_schema_json;
}

RELAIS_PLUGIN_DEFINE("base-adresse", [](relais::FactoryRegistry& r) {
    r.add(std::make_unique<relais::FunctionFactory>(
        "base-adresse", relais::embedded::base_adresse_schema_json,
        &relais::base_adresse::make_base_adresse_connector));
})
