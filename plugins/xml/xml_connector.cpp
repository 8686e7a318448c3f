#include "xml/xml_connector.hpp"

#include "rest/rest_connector.hpp"
#include "xml/xml_format.hpp"

namespace relais::xml {

std::unique_ptr<Connector> make_xml_connector(const ConnectorSource& source) {
    auto format = make_xml_format(load_namespaces(source));
    return rest::make_endpoint_connector(rest::load_connector_spec(source, *format), source.slug,
                                         format);
}

}  // namespace relais::xml
