#include "cli/wsdl_reader.hpp"

#include <algorithm>
#include <array>
#include <pugixml.hpp>
#include <string_view>

namespace relais::cli {

namespace {

constexpr std::string_view wsdl_ns = "http://schemas.xmlsoap.org/wsdl/";
constexpr std::string_view soap11_ns = "http://schemas.xmlsoap.org/wsdl/soap/";
constexpr std::string_view soap12_ns = "http://schemas.xmlsoap.org/wsdl/soap12/";
constexpr std::string_view xsd_ns = "http://www.w3.org/2001/XMLSchema";

struct QName {
    std::string ns;
    std::string local;
    bool operator==(const QName&) const = default;
};

/// The namespace bound to `prefix` where `node` is ("" for none).
std::string namespace_of(pugi::xml_node node, std::string_view prefix) {
    const std::string attribute = prefix.empty() ? "xmlns" : "xmlns:" + std::string(prefix);
    for (pugi::xml_node n = node; n; n = n.parent()) {
        if (const pugi::xml_attribute a = n.attribute(attribute.c_str())) {
            return a.value();
        }
    }
    return {};
}

/// A QName written as `text` where `node` is.
QName resolve(pugi::xml_node node, std::string_view text) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) {
        return {namespace_of(node, ""), std::string(text)};
    }
    return {namespace_of(node, text.substr(0, colon)), std::string(text.substr(colon + 1))};
}

QName name_of(pugi::xml_node node) {
    return resolve(node, node.name());
}

bool is(pugi::xml_node node, std::string_view ns, std::string_view local) {
    const QName name = name_of(node);
    return node.type() == pugi::node_element && name.ns == ns && name.local == local;
}

std::vector<pugi::xml_node> children(pugi::xml_node node, std::string_view ns,
                                     std::string_view local) {
    std::vector<pugi::xml_node> out;
    for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
        if (is(c, ns, local)) {
            out.push_back(c);
        }
    }
    return out;
}

pugi::xml_node child(pugi::xml_node node, std::string_view ns, std::string_view local) {
    const auto found = children(node, ns, local);
    return found.empty() ? pugi::xml_node() : found.front();
}

/// The first child in either SOAP binding namespace.
pugi::xml_node soap_child(pugi::xml_node node, std::string_view local) {
    if (pugi::xml_node c = child(node, soap11_ns, local)) {
        return c;
    }
    return child(node, soap12_ns, local);
}

/// Nesting of sequences, choices and alls read in a request element.
constexpr std::size_t max_particle_depth = 32;

/// Whether `name` is an XML name (a QName with `qualified`): what
/// import-wsdl writes into YAML must be nothing else. Non-ASCII letters
/// are taken as they are.
bool is_xml_name(std::string_view name, bool qualified = false) {
    const auto start = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
               static_cast<unsigned char>(c) >= 0x80;
    };
    const auto colon = name.find(':');
    if (qualified && colon != std::string_view::npos) {
        return is_xml_name(name.substr(0, colon)) && is_xml_name(name.substr(colon + 1));
    }
    return !name.empty() && start(name.front()) &&
           std::all_of(name.begin(), name.end(), [&](char c) {
               return start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
           });
}

/// `name`, checked to be an XML name.
std::string checked_name(std::string_view name, bool qualified = false) {
    if (!is_xml_name(name, qualified)) {
        throw WsdlError("a name in the WSDL is not an XML name");
    }
    return std::string(name);
}

/// The JSON type relais gives an XML Schema built-in type.
std::string simple_type(const QName& type) {
    static constexpr std::array integers{"int",
                                         "integer",
                                         "long",
                                         "short",
                                         "byte",
                                         "nonNegativeInteger",
                                         "positiveInteger",
                                         "unsignedInt",
                                         "unsignedLong",
                                         "unsignedShort",
                                         "nonPositiveInteger",
                                         "negativeInteger"};
    if (std::find(integers.begin(), integers.end(), type.local) != integers.end()) {
        return "integer";
    }
    if (type.local == "decimal" || type.local == "double" || type.local == "float") {
        return "number";
    }
    if (type.local == "boolean") {
        return "boolean";
    }
    return "string";
}

class Reader {
public:
    explicit Reader(const pugi::xml_document& doc) : root_(doc.document_element()) {
        if (is(root_, "http://www.w3.org/ns/wsdl", "description")) {
            throw WsdlError("this is a WSDL 2.0 description: only WSDL 1.1 is imported");
        }
        if (!is(root_, wsdl_ns, "definitions")) {
            throw WsdlError("not a WSDL 1.1 document (no wsdl:definitions root element)");
        }
        for (pugi::xml_node types : children(root_, wsdl_ns, "types")) {
            for (pugi::xml_node schema : children(types, xsd_ns, "schema")) {
                schemas_.push_back(schema);
            }
        }
    }

    WsdlService read(const std::string& version) const {
        for (const std::string& wanted : version.empty() ? std::vector<std::string>{"1.1", "1.2"}
                                                         : std::vector<std::string>{version}) {
            for (pugi::xml_node service : children(root_, wsdl_ns, "service")) {
                for (pugi::xml_node port : children(service, wsdl_ns, "port")) {
                    const pugi::xml_node binding =
                        named(children(root_, wsdl_ns, "binding"),
                              resolve(port, port.attribute("binding").value()));
                    if (!binding || binding_version(binding) != wanted) {
                        continue;
                    }
                    WsdlService out;
                    out.service_name = checked_name(service.attribute("name").value());
                    out.address = soap_child(port, "address").attribute("location").value();
                    out.version = wanted;
                    out.operations = operations(binding);
                    return out;
                }
            }
        }
        throw WsdlError(version.empty() ? "no service port is bound with SOAP 1.1 or 1.2"
                                        : "no service port is bound with SOAP " + version);
    }

private:
    /// The element of `candidates` whose name attribute is `name` in the
    /// target namespace.
    pugi::xml_node named(const std::vector<pugi::xml_node>& candidates, const QName& name) const {
        for (pugi::xml_node c : candidates) {
            if (c.attribute("name").value() == name.local && target_namespace(c) == name.ns) {
                return c;
            }
        }
        return {};
    }

    static std::string target_namespace(pugi::xml_node node) {
        for (pugi::xml_node n = node; n; n = n.parent()) {
            if (const pugi::xml_attribute a = n.attribute("targetNamespace")) {
                return a.value();
            }
        }
        return {};
    }

    static std::string binding_version(pugi::xml_node binding) {
        if (child(binding, soap11_ns, "binding")) {
            return "1.1";
        }
        if (child(binding, soap12_ns, "binding")) {
            return "1.2";
        }
        return {};
    }

    pugi::xml_node schema_item(std::string_view kind, const QName& name) const {
        for (pugi::xml_node schema : schemas_) {
            if (schema.attribute("targetNamespace").value() != name.ns) {
                continue;
            }
            for (pugi::xml_node item : children(schema, xsd_ns, kind)) {
                if (item.attribute("name").value() == name.local) {
                    return item;
                }
            }
        }
        return {};
    }

    /// Adds the simple values of element declarations under `particle`
    /// (a sequence, all or choice), naming the others.
    void read_particle(pugi::xml_node particle, WsdlOperation& op, std::size_t depth = 0) const {
        if (depth > max_particle_depth) {
            throw WsdlError("operation " + op.name + ": sequences nested deeper than " +
                            std::to_string(max_particle_depth));
        }
        for (pugi::xml_node e = particle.first_child(); e; e = e.next_sibling()) {
            if (is(e, xsd_ns, "sequence") || is(e, xsd_ns, "all") || is(e, xsd_ns, "choice")) {
                read_particle(e, op, depth + 1);
                continue;
            }
            if (!is(e, xsd_ns, "element")) {
                continue;
            }
            const std::string name = checked_name(
                e.attribute("name") ? e.attribute("name").value() : e.attribute("ref").value(),
                true);
            std::optional<std::string> type;
            if (const pugi::xml_attribute t = e.attribute("type")) {
                const QName qname = resolve(e, t.value());
                if (qname.ns == xsd_ns) {
                    type = simple_type(qname);
                } else if (schema_item("simpleType", qname)) {
                    type = "string";
                }
            } else if (const pugi::xml_node simple = child(e, xsd_ns, "simpleType")) {
                const pugi::xml_node restriction = child(simple, xsd_ns, "restriction");
                type = simple_type(resolve(restriction, restriction.attribute("base").value()));
            }
            if (!type || !e.attribute("name")) {
                op.skipped.push_back(name);
                continue;
            }
            WsdlValue value;
            value.name = name;
            value.type = *type;
            value.required = std::string_view(e.attribute("minOccurs").value()) != "0";
            const std::string_view max = e.attribute("maxOccurs").value();
            value.repeated = !max.empty() && max != "1";
            op.values.push_back(std::move(value));
        }
    }

    /// Document style: the request element and its simple values.
    void read_document_input(pugi::xml_node message, WsdlOperation& op) const {
        for (pugi::xml_node part : children(message, wsdl_ns, "part")) {
            if (!part.attribute("element")) {
                continue;
            }
            const QName element = resolve(part, part.attribute("element").value());
            op.request_namespace = element.ns;
            op.request_element = checked_name(element.local);
            const pugi::xml_node declaration = schema_item("element", element);
            if (!declaration) {
                throw WsdlError("operation " + op.name + ": the element " + element.local +
                                " is not declared in the WSDL's types");
            }
            const pugi::xml_node schema = declaration.parent();
            op.qualified_values =
                std::string_view(schema.attribute("elementFormDefault").value()) == "qualified";
            pugi::xml_node type = child(declaration, xsd_ns, "complexType");
            if (const pugi::xml_attribute t = declaration.attribute("type")) {
                type = schema_item("complexType", resolve(declaration, t.value()));
            }
            if (type) {
                read_particle(type, op);
            }
            return;
        }
        throw WsdlError("operation " + op.name + ": its input message has no element part");
    }

    /// RPC style: one element named after the operation, parts as values.
    static void read_rpc_input(pugi::xml_node message, pugi::xml_node body, WsdlOperation& op) {
        op.request_namespace = body.attribute("namespace").value();
        op.request_element = op.name;
        op.qualified_values = false;
        for (pugi::xml_node part : children(message, wsdl_ns, "part")) {
            WsdlValue value;
            value.name = checked_name(part.attribute("name").value());
            const QName type = resolve(part, part.attribute("type").value());
            if (type.ns != xsd_ns) {
                op.skipped.push_back(value.name);
                continue;
            }
            value.type = simple_type(type);
            op.values.push_back(std::move(value));
        }
    }

    std::vector<WsdlOperation> operations(pugi::xml_node binding) const {
        const pugi::xml_node port_type = named(children(root_, wsdl_ns, "portType"),
                                               resolve(binding, binding.attribute("type").value()));
        if (!port_type) {
            throw WsdlError("the binding's portType is not in the WSDL");
        }
        const std::string binding_style = soap_child(binding, "binding").attribute("style").value();
        std::vector<WsdlOperation> out;
        for (pugi::xml_node bound : children(binding, wsdl_ns, "operation")) {
            WsdlOperation op;
            op.name = checked_name(bound.attribute("name").value());
            const pugi::xml_node soap_operation = soap_child(bound, "operation");
            op.soap_action = soap_operation.attribute("soapAction").value();
            std::string style = soap_operation.attribute("style").value();
            if (style.empty()) {
                style = binding_style.empty() ? "document" : binding_style;
            }
            pugi::xml_node abstract;
            for (pugi::xml_node o : children(port_type, wsdl_ns, "operation")) {
                if (o.attribute("name").value() == op.name) {
                    abstract = o;
                }
            }
            if (!abstract) {
                throw WsdlError("operation " + op.name + " is bound but not in the portType");
            }
            op.documentation = child(abstract, wsdl_ns, "documentation").text().get();
            const auto message_of = [&](std::string_view direction) {
                const pugi::xml_node io = child(abstract, wsdl_ns, direction);
                return io ? named(children(root_, wsdl_ns, "message"),
                                  resolve(io, io.attribute("message").value()))
                          : pugi::xml_node();
            };
            const pugi::xml_node input = message_of("input");
            if (!input) {
                throw WsdlError("operation " + op.name + " has no input message");
            }
            if (style == "rpc") {
                read_rpc_input(input, soap_child(child(bound, wsdl_ns, "input"), "body"), op);
            } else {
                read_document_input(input, op);
            }
            if (const pugi::xml_node output = message_of("output")) {
                if (style == "rpc") {
                    op.response_namespace = op.request_namespace;
                    op.response_element = op.name + "Response";
                } else if (const pugi::xml_node part = child(output, wsdl_ns, "part");
                           part && part.attribute("element")) {
                    const QName element = resolve(part, part.attribute("element").value());
                    op.response_namespace = element.ns;
                    op.response_element = checked_name(element.local);
                }
            }
            out.push_back(std::move(op));
        }
        return out;
    }

    pugi::xml_node root_;
    std::vector<pugi::xml_node> schemas_;
};

}  // namespace

WsdlService read_wsdl(const std::string& text, const std::string& version) {
    pugi::xml_document doc;
    const pugi::xml_parse_result parsed =
        doc.load_buffer(text.data(), text.size(), pugi::parse_default | pugi::parse_doctype);
    if (!parsed) {
        throw WsdlError(std::string("not well-formed XML: ") + parsed.description() + " at byte " +
                        std::to_string(parsed.offset));
    }
    for (pugi::xml_node n = doc.first_child(); n; n = n.next_sibling()) {
        if (n.type() == pugi::node_doctype) {
            throw WsdlError("a document type declaration (DTD) is not accepted");
        }
    }
    return Reader(doc).read(version);
}

}  // namespace relais::cli
