#pragma once
// Helpers of the xml_*_test.cpp and soap_*_test.cpp files: connectors of
// kinds xml and soap loaded from JSON documents (as the core hands them to
// the factory), and XML read as the kinds read answers.

#include <pugixml.hpp>
#include <string>

#include "rest_test_support.hpp"
#include "soap/soap_format.hpp"
#include "xml/xml_format.hpp"

namespace relais::xml::test_support {

using rest::test_support::Loaded;

/// `text` as a JSON string literal, to write it into a test document.
inline std::string json_string(const std::string& text) {
    std::string out;
    append_json_string(out, text);
    return out;
}

inline const rest::test_support::FormatOf xml_format_of = [](const ConnectorSource& source) {
    return make_xml_format(load_namespaces(source));
};

inline const rest::test_support::FormatOf soap_format_of = [](const ConnectorSource& source) {
    soap::SoapSettings settings = soap::load_soap_settings(source);
    const auto version = settings.version;
    return soap::make_soap_format(std::move(settings), soap::load_soap_namespaces(source, version));
};

/// A kind xml connector with namespace c and one endpoint `e`.
inline std::unique_ptr<Loaded> load_xml_endpoint(
    const std::string& endpoint_json,
    const std::string& namespaces_json = R"({"c": "urn:example:cadastre"})") {
    return rest::test_support::load(
        R"({"slug": "t", "kind": "xml", "family": "reference", "upstream": {"base_url": "http://up.test/api/"}, "namespaces": )" +
            namespaces_json + R"(, "endpoints": {"e": )" + endpoint_json + "}}",
        xml_format_of);
}

/// The load error of such a connector, or "" when it loads.
inline std::string xml_load_error(const std::string& endpoint_json, int* line = nullptr) {
    return rest::test_support::load_error(
        R"({"slug": "t", "kind": "xml", "family": "reference", "upstream": {"base_url": "http://up.test/api/"}, "namespaces": {"c": "urn:example:cadastre"}, "endpoints": {"e": )" +
            endpoint_json + "}}",
        line, xml_format_of);
}

/// What the answer reader of endpoint `e` makes of `body` with `status`.
/// `error_body`: the endpoint may show an upstream's error text.
inline std::string read_answer(const Loaded& loaded, const std::string& body, unsigned status = 200,
                               rest::CallError* error = nullptr, bool error_body = false) {
    upstream::Response response;
    response.status = status;
    response.body = body;
    std::string data;
    auto refusal = loaded.spec.endpoints.at(0).answer->read(response, error_body, data);
    if (refusal) {
        if (error != nullptr) {
            *error = *refusal;
        }
        return "error: " + std::string(describe(refusal->error).slug);
    }
    return data;
}

}  // namespace relais::xml::test_support
