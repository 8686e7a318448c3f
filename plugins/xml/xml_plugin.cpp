// The module of the `xml` connector kind.
#include <memory>
#include <string_view>

#include "plugin/plugin_api.hpp"
#include "xml/xml_connector.hpp"

namespace relais::embedded {
extern const std::string_view xml_schema_json;
}

RELAIS_PLUGIN_DEFINE("xml", [](relais::FactoryRegistry& r) {
    r.add(std::make_unique<relais::FunctionFactory>("xml", relais::embedded::xml_schema_json,
                                                    &relais::xml::make_xml_connector));
})
