#include "xml/xml_format.hpp"

#include <rapidjson/document.h>

#include <pugixml.hpp>
#include <stdexcept>
#include <utility>

#include "config/config_document.hpp"
#include "config/upstream_fields.hpp"
#include "xml/xml_template.hpp"

namespace relais::xml {

namespace {

using config::find_member;
using config::text_of;
using rapidjson::Value;

std::string child(std::string pointer, std::string_view key) {
    config::append_pointer_token(pointer, key);
    return pointer;
}

FieldType field_type(const std::string& name) {
    if (name == "integer") {
        return FieldType::integer;
    }
    if (name == "number") {
        return FieldType::number;
    }
    if (name == "boolean") {
        return FieldType::boolean;
    }
    return FieldType::string;
}

class XmlAnswer final : public rest::AnswerReader {
public:
    XmlAnswer(const NamespaceMap& namespaces, XPathMapping mapping)
        : namespaces_(namespaces), mapping_(std::move(mapping)) {}

    std::optional<rest::CallError> read(upstream::Response& response, bool error_body,
                                        std::string& data) const override {
        if (auto refusal = rest::status_refusal(response, error_body)) {
            return refusal;
        }
        if (response.body.empty()) {
            data = "null";
            return std::nullopt;
        }
        pugi::xml_document doc;
        if (auto reason = read_untrusted_xml(response.body, doc, namespaces_)) {
            return unusable_xml(*reason);
        }
        return mapping_.apply(doc, data);
    }

private:
    const NamespaceMap& namespaces_;
    XPathMapping mapping_;
};

class XmlFormat final : public rest::WireFormat {
public:
    explicit XmlFormat(NamespaceMap namespaces) : namespaces_(std::move(namespaces)) {}

    std::string_view accept() const override { return "application/xml, text/xml"; }
    std::string_view content_type() const override { return "application/xml; charset=utf-8"; }

    std::unique_ptr<const rest::BodyTemplate> load_body(
        const Value& body, const rest::RefResolver& resolve) const override {
        if (!body.IsString()) {
            throw rest::TemplateError("the body of kind xml is XML written as a string");
        }
        return std::make_unique<XmlTemplate>(
            XmlTemplate::parse({body.GetString(), body.GetStringLength()}, namespaces_, resolve,
                               "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
    }

    std::unique_ptr<const rest::AnswerReader> load_answer(const ConnectorSource& source,
                                                          const Value* response,
                                                          const std::string& at) const override {
        // Held by reference: the answers live as long as the format.
        return std::make_unique<XmlAnswer>(namespaces_,
                                           load_xpath_mapping(source, response, at, "/*"));
    }

private:
    NamespaceMap namespaces_;
};

}  // namespace

NamespaceMap load_namespaces(const ConnectorSource& source, const NamespaceMap& reserved) {
    NamespaceMap out = reserved;
    const Value* declared = find_member(source.document, "namespaces");
    if (declared == nullptr || !declared->IsObject()) {
        return out;
    }
    for (const auto& m : declared->GetObject()) {
        const std::string prefix(m.name.GetString(), m.name.GetStringLength());
        const std::string at = child("/namespaces", prefix);
        const std::string uri = text_of(&m.value);
        if (!is_prefix_name(prefix) || prefix.starts_with("xml") || prefix.starts_with("XML")) {
            throw source.error_at(at, "'" + prefix +
                                          "' is not a usable prefix (letters, digits, '_', '-' "
                                          "and '.', starting with a letter or '_', not 'xml…')");
        }
        if (uri.empty()) {
            throw source.error_at(at, "a namespace URI cannot be empty");
        }
        for (const auto& [p, u] : out) {
            if (p == prefix) {
                throw source.error_at(at, "the prefix '" + prefix + "' is defined by the kind");
            }
            if (u == uri) {
                throw source.error_at(at, "this namespace already has the prefix '" + p + "'");
            }
        }
        out.emplace_back(prefix, uri);
    }
    return out;
}

XPathMapping load_xpath_mapping(const ConnectorSource& source, const Value* response,
                                const std::string& at, const std::string& default_data) {
    std::string data = default_data;
    bool list = false;
    std::vector<XPathMapping::Field> fields;
    if (response != nullptr) {
        data = text_of(find_member(*response, "data"), default_data);
        const Value* l = find_member(*response, "list");
        list = l != nullptr && l->IsBool() && l->GetBool();
        if (const Value* f = find_member(*response, "fields")) {
            for (const auto& m : f->GetObject()) {
                XPathMapping::Field field;
                field.name.assign(m.name.GetString(), m.name.GetStringLength());
                if (field.name.empty()) {
                    throw source.error_at(at + "/fields", "an output field needs a name");
                }
                if (m.value.IsString()) {
                    field.xpath = text_of(&m.value);
                } else {
                    field.xpath = text_of(find_member(m.value, "xpath"));
                    field.type = field_type(text_of(find_member(m.value, "type"), "string"));
                    const Value* fl = find_member(m.value, "list");
                    field.list = fl != nullptr && fl->IsBool() && fl->GetBool();
                }
                fields.push_back(std::move(field));
            }
        }
    }
    // Compiled one by one first, so that an error points at its line.
    const auto check = [&](const std::string& expression, const std::string& where) {
        try {
            XPathMapping(expression, true, {});
        } catch (const std::invalid_argument& e) {
            throw source.error_at(where, e.what());
        }
    };
    check(data,
          response != nullptr && find_member(*response, "data") != nullptr ? at + "/data" : at);
    for (const auto& field : fields) {
        try {
            XPathMapping(".", false, {field});
        } catch (const std::invalid_argument& e) {
            throw source.error_at(child(at + "/fields", field.name), e.what());
        }
    }
    return XPathMapping(data, list, fields);
}

std::shared_ptr<const rest::WireFormat> make_xml_format(NamespaceMap namespaces) {
    return std::make_shared<const XmlFormat>(std::move(namespaces));
}

rest::CallError unusable_xml(const std::string& reason) {
    return rest::CallError{ErrorClass::upstream_invalid_response,
                           "the upstream answer is not usable XML: " + reason};
}

}  // namespace relais::xml
