// The module of the `mail` connector kind.
#include <memory>
#include <string_view>

#include "mail/mail_connector.hpp"
#include "plugin/plugin_api.hpp"

namespace relais::embedded {
extern const std::string_view mail_schema_json;
}

RELAIS_PLUGIN_DEFINE("mail", [](relais::FactoryRegistry& r) {
    r.add(std::make_unique<relais::FunctionFactory>("mail", relais::embedded::mail_schema_json,
                                                    &relais::mail::make_mail_connector));
})
