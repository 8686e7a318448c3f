#include "soap/soap_connector.hpp"

#include "rest/rest_connector.hpp"
#include "soap/soap_format.hpp"

namespace relais::soap {

std::unique_ptr<Connector> make_soap_connector(const ConnectorSource& source) {
    SoapSettings settings = load_soap_settings(source);
    xml::NamespaceMap namespaces = load_soap_namespaces(source, settings.version);
    auto format = make_soap_format(std::move(settings), std::move(namespaces));
    return rest::make_endpoint_connector(rest::load_connector_spec(source, *format), source.slug,
                                         format);
}

}  // namespace relais::soap
