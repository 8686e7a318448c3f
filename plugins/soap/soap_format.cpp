#include "soap/soap_format.hpp"

#include <rapidjson/document.h>

#include <pugixml.hpp>
#include <stdexcept>
#include <utility>

#include "config/config_document.hpp"
#include "config/upstream_fields.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "rest/endpoint.hpp"
#include "xml/xml_format.hpp"
#include "xml/xml_template.hpp"

namespace relais::soap {

namespace {

using config::find_member;
using config::text_of;
using rapidjson::Value;

/// The Body of an answer, or why there is none.
std::variant<pugi::xml_node, std::string> body_of(const pugi::xml_document& doc) {
    const pugi::xml_node envelope = doc.document_element();
    if (std::string_view(envelope.name()) != "soap:Envelope") {
        return std::string("not a SOAP envelope of the connector's version");
    }
    const pugi::xml_node body = envelope.child("soap:Body");
    if (!body) {
        return std::string("a SOAP envelope without a Body");
    }
    return body;
}

/// The fault's code; its text only where an upstream's error body may be
/// shown (`error_body`, on endpoints free of personal data): a fault's text
/// may quote the person the call was about.
rest::CallError fault_error(const SoapFault& fault, bool error_body) {
    std::string description = "SOAP fault " + fault.code;
    if (error_body && !fault.reason.empty()) {
        description += ": " + fault.reason;
    }
    return rest::CallError{ErrorClass::upstream_fault, std::move(description)};
}

class SoapAnswer final : public rest::AnswerReader {
public:
    SoapAnswer(const xml::NamespaceMap& namespaces, SoapVersion version, xml::XPathMapping mapping)
        : namespaces_(namespaces), version_(version), mapping_(std::move(mapping)) {}

    std::optional<rest::CallError> read(upstream::Response& response, bool error_body,
                                        std::string& data) const override {
        if (response.body.empty()) {
            // A one-way operation answers 202 with nothing.
            if (auto refusal = rest::status_refusal(response, error_body)) {
                return refusal;
            }
            data = "null";
            return std::nullopt;
        }
        pugi::xml_document doc;
        auto reason = xml::read_untrusted_xml(response.body, doc, namespaces_);
        std::variant<pugi::xml_node, std::string> body =
            reason ? std::variant<pugi::xml_node, std::string>(*reason) : body_of(doc);
        if (const auto* why = std::get_if<std::string>(&body)) {
            // An error page in HTML says more by its status than by its text.
            if (auto refusal = rest::status_refusal(response, error_body)) {
                return refusal;
            }
            return xml::unusable_xml(*why);
        }
        const pugi::xml_node& content = std::get<pugi::xml_node>(body);
        if (auto fault = fault_in(content, version_)) {
            return fault_error(*fault, error_body);
        }
        if (auto refusal = rest::status_refusal(response, error_body)) {
            return refusal;
        }
        return mapping_.apply(content, data);
    }

private:
    const xml::NamespaceMap& namespaces_;
    SoapVersion version_;
    xml::XPathMapping mapping_;
};

class SoapFormat final : public rest::WireFormat {
public:
    SoapFormat(SoapSettings settings, xml::NamespaceMap namespaces)
        : settings_(std::move(settings)), namespaces_(std::move(namespaces)) {}

    std::string_view default_method() const override { return "POST"; }
    std::string_view idempotence_hint() const override {
        return ", or an operation with request.idempotent: true";
    }
    std::string_view accept() const override {
        return settings_.version == SoapVersion::soap11 ? "text/xml" : "application/soap+xml";
    }
    std::string_view content_type() const override { return soap::content_type(settings_.version); }

    std::unique_ptr<const rest::BodyTemplate> load_body(
        const Value& body, const rest::RefResolver& resolve) const override {
        if (!body.IsString()) {
            throw rest::TemplateError("the body of an operation is XML written as a string");
        }
        return std::make_unique<xml::XmlTemplate>(
            xml::XmlTemplate::parse({body.GetString(), body.GetStringLength()}, namespaces_,
                                    resolve, envelope_start(settings_.version), envelope_end()));
    }

    void load_request_extras(const ConnectorSource& source, const Value& request,
                             const std::string& at, rest::EndpointSpec& endpoint) const override {
        if (const Value* headers = find_member(request, "headers"); headers != nullptr) {
            for (const auto& h : headers->GetObject()) {
                const std::string_view name(h.name.GetString(), h.name.GetStringLength());
                if (iequals_ascii(name, "SOAPAction") || iequals_ascii(name, "Content-Type")) {
                    std::string where = at + "/headers";
                    config::append_pointer_token(where, name);
                    throw source.error_at(where, "relais sets " + std::string(name) +
                                                     " from the SOAP version and soap_action");
                }
            }
        }
        if (const Value* idempotent = find_member(request, "idempotent")) {
            endpoint.idempotent = idempotent->IsBool() && idempotent->GetBool();
        }
        const std::string action = text_of(find_member(request, "soap_action"));
        if (has_control_chars(action) || action.find('"') != std::string::npos) {
            throw source.error_at(at + "/soap_action",
                                  "a SOAPAction cannot hold a quote or a control character");
        }
        // Header templates treat braces as placeholders: these are literal.
        const auto literal = [](std::string text) {
            std::string out;
            for (const char c : text) {
                out += c;
                if (c == '{' || c == '}') {
                    out += c;
                }
            }
            return out;
        };
        const rest::RefResolver none = [](std::string_view) -> rest::ValueRef {
            throw rest::TemplateError("no placeholder here");
        };
        if (settings_.version == SoapVersion::soap11) {
            endpoint.headers.add("SOAPAction", literal("\"" + action + "\""), none);
        } else if (!action.empty()) {
            endpoint.headers.add(
                "Content-Type",
                literal(std::string(content_type()) + "; action=\"" + action + "\""), none);
        }
    }

    std::unique_ptr<const rest::AnswerReader> load_answer(const ConnectorSource& source,
                                                          const Value* response,
                                                          const std::string& at) const override {
        return std::make_unique<SoapAnswer>(namespaces_, settings_.version,
                                            xml::load_xpath_mapping(source, response, at, "*[1]"));
    }

    void finish(upstream::Request& request) const override {
        if (!settings_.ws_security) {
            return;
        }
        const auto version = version_of(request.body);
        if (!version ||
            !insert_header(request.body, security_header(*settings_.ws_security, *version,
                                                         std::chrono::system_clock::now()))) {
            // Every body this format writes starts with its envelope.
            throw std::logic_error("a SOAP request without its envelope");
        }
    }

    void interpret_delivery(upstream::Result& result) const override {
        if (result.failure != upstream::Failure::none || result.response.body.empty()) {
            return;
        }
        pugi::xml_document doc;
        if (xml::read_untrusted_xml(result.response.body, doc, namespaces_)) {
            return;
        }
        const auto body = body_of(doc);
        const pugi::xml_node* content = std::get_if<pugi::xml_node>(&body);
        if (content == nullptr) {
            return;
        }
        if (auto fault = fault_in(*content, settings_.version)) {
            // 1.1 answers every fault with 500: the code says whether
            // sending it again can help.
            result.response.status = fault->from_sender ? 400 : 502;
        }
    }

private:
    SoapSettings settings_;
    xml::NamespaceMap namespaces_;
};

}  // namespace

SoapSettings load_soap_settings(const ConnectorSource& source) {
    SoapSettings settings;
    const Value* soap = find_member(source.document, "soap");
    if (soap == nullptr) {
        return settings;
    }
    if (text_of(find_member(*soap, "version"), "1.1") == "1.2") {
        settings.version = SoapVersion::soap12;
    }
    if (const Value* wss = find_member(*soap, "ws_security")) {
        UsernameToken token;
        token.username = text_of(find_member(*wss, "username"));
        token.password = text_of(find_member(*wss, "password"));
        token.digest = text_of(find_member(*wss, "password_type"), "digest") == "digest";
        for (const auto& [key, value] :
             {std::pair{"username", &token.username}, std::pair{"password", &token.password}}) {
            if (value->empty() || has_control_chars(*value)) {
                throw source.error_at(std::string("/soap/ws_security/") + key,
                                      "must be non-empty, without control characters (a "
                                      "trailing newline?)");
            }
        }
        const std::string base_url =
            text_of(find_member(*find_member(source.document, "upstream"), "base_url"));
        if (!token.digest && !base_url.starts_with("https://")) {
            log::warn("ws_security_password_in_clear", {{"connector", source.slug}});
        }
        settings.ws_security = std::move(token);
    }
    return settings;
}

xml::NamespaceMap load_soap_namespaces(const ConnectorSource& source, SoapVersion version) {
    return xml::load_namespaces(
        source, {{std::string(envelope_prefix), std::string(envelope_namespace(version))}});
}

std::shared_ptr<const rest::WireFormat> make_soap_format(SoapSettings settings,
                                                         xml::NamespaceMap namespaces) {
    return std::make_shared<const SoapFormat>(std::move(settings), std::move(namespaces));
}

}  // namespace relais::soap
