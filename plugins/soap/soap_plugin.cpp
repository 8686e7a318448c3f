// The module of the `soap` connector kind.
#include <memory>
#include <string_view>

#include "plugin/plugin_api.hpp"
#include "soap/soap_connector.hpp"

namespace relais::embedded {
extern const std::string_view soap_schema_json;
}

RELAIS_PLUGIN_DEFINE("soap", [](relais::FactoryRegistry& r) {
    r.add(std::make_unique<relais::FunctionFactory>("soap", relais::embedded::soap_schema_json,
                                                    &relais::soap::make_soap_connector));
})
