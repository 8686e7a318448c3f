// The module of the `rest` connector kind.
#include <memory>
#include <string_view>

#include "plugin/plugin_api.hpp"
#include "rest/rest_connector.hpp"

namespace relais::embedded {
extern const std::string_view rest_schema_json;
}

RELAIS_PLUGIN_DEFINE("rest", [](relais::FactoryRegistry& r) {
    r.add(std::make_unique<relais::FunctionFactory>("rest", relais::embedded::rest_schema_json,
                                                    &relais::rest::make_rest_connector));
})
