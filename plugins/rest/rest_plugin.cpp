// The module of the `rest` connector kind.
#include <memory>
#include <string_view>

#include "plugin/plugin_api.hpp"
#include "rest/rest_connector.hpp"

namespace relais::embedded {
extern const std::string_view rest_schema_json;
}

namespace {

class RestFactory final : public relais::ConnectorFactory {
public:
    std::string_view kind() const override { return "rest"; }
    std::string_view schema() const override { return relais::embedded::rest_schema_json; }
    std::unique_ptr<relais::Connector> create(
        const relais::ConnectorSource& source) const override {
        return relais::rest::make_rest_connector(source);
    }
};

}  // namespace

RELAIS_PLUGIN_DEFINE("rest",
                     [](relais::FactoryRegistry& r) { r.add(std::make_unique<RestFactory>()); })
