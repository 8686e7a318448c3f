// The module of the `franceconnect` connector kind.
#include <memory>
#include <string_view>

#include "franceconnect/franceconnect_connector.hpp"
#include "plugin/plugin_api.hpp"

namespace relais::embedded {
extern const std::string_view franceconnect_schema_json;
}

RELAIS_PLUGIN_DEFINE("franceconnect", [](relais::FactoryRegistry& r) {
    r.add(std::make_unique<relais::FunctionFactory>(
        "franceconnect", relais::embedded::franceconnect_schema_json,
        &relais::franceconnect::make_franceconnect_connector));
})
