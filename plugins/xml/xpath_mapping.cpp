#include "xml/xpath_mapping.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <pugixml.hpp>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

#include "core/http_types.hpp"
#include "core/utf8.hpp"

namespace relais::xml {

struct XPathMapping::Compiled {
    struct Field {
        std::string name;
        pugi::xpath_query query;
        FieldType type;
        bool list;
    };
    std::string data_text;
    pugi::xpath_query data;
    bool list = false;
    std::vector<Field> fields;
};

namespace {

using rest::CallError;

pugi::xpath_query compile(const std::string& expression) {
    try {
        pugi::xpath_query query(expression.c_str());
        return query;
    } catch (const pugi::xpath_exception& e) {
        throw std::invalid_argument("'" + expression + "' is not an XPath 1.0 expression (" +
                                    e.result().description() + ")");
    }
}

std::string_view trimmed(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

/// Appends `text` as `type`; false when it is not one (XML Schema's
/// lexical forms: `true`/`1`, `false`/`0` for booleans).
bool append_typed(std::string_view text, FieldType type, std::string& out) {
    const std::string_view t = trimmed(text);
    switch (type) {
        case FieldType::string:
            append_json_string(out, text);
            return true;
        case FieldType::integer: {
            long long value = 0;
            const std::string_view digits = t.starts_with('+') ? t.substr(1) : t;
            const auto [end, error] =
                std::from_chars(digits.data(), digits.data() + digits.size(), value);
            if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
                return false;
            }
            out += std::to_string(value);
            return true;
        }
        case FieldType::number: {
            double value = 0;
            const std::string_view digits = t.starts_with('+') ? t.substr(1) : t;
            const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(),
                                                      value, std::chars_format::general);
            if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
                !std::isfinite(value)) {
                return false;
            }
            char buffer[32];
            const auto written = std::to_chars(buffer, buffer + sizeof buffer, value);
            out.append(buffer, written.ptr);
            return true;
        }
        case FieldType::boolean:
            if (t == "true" || t == "1") {
                out += "true";
                return true;
            }
            if (t == "false" || t == "0") {
                out += "false";
                return true;
            }
            return false;
    }
    return false;
}

std::string_view type_name(FieldType type) {
    switch (type) {
        case FieldType::string:
            return "a string";
        case FieldType::integer:
            return "an integer";
        case FieldType::number:
            return "a number";
        case FieldType::boolean:
            return "a boolean";
    }
    return "a value";
}

CallError not_of_type(const XPathMapping::Compiled::Field& field) {
    return CallError{ErrorClass::upstream_invalid_response, "the upstream answer's field '" +
                                                                field.name + "' is not " +
                                                                std::string(type_name(field.type))};
}

/// The XPath string-value of `node`: an attribute's value, or the text of
/// an element and all its descendants.
std::string string_value(const pugi::xpath_node& node) {
    if (!node.node()) {
        return node.attribute().value();
    }
    static const pugi::xpath_query self(".");
    return self.evaluate_string(node);
}

std::optional<CallError> append_field(const XPathMapping::Compiled::Field& field,
                                      const pugi::xpath_node& item, std::string& out) {
    switch (field.query.return_type()) {
        case pugi::xpath_type_node_set: {
            pugi::xpath_node_set nodes = field.query.evaluate_node_set(item);
            nodes.sort();
            if (field.list) {
                out += '[';
                for (std::size_t i = 0; i < nodes.size(); ++i) {
                    if (i > 0) {
                        out += ',';
                    }
                    if (!append_typed(string_value(nodes[i]), field.type, out)) {
                        return not_of_type(field);
                    }
                }
                out += ']';
                return std::nullopt;
            }
            if (nodes.empty()) {
                out += "null";
                return std::nullopt;
            }
            if (!append_typed(string_value(nodes.first()), field.type, out)) {
                return not_of_type(field);
            }
            return std::nullopt;
        }
        case pugi::xpath_type_boolean:
            if (!append_typed(field.query.evaluate_boolean(item) ? "true" : "false", field.type,
                              out)) {
                return not_of_type(field);
            }
            return std::nullopt;
        case pugi::xpath_type_number: {
            const double value = field.query.evaluate_number(item);
            if (!std::isfinite(value)) {
                out += "null";
                return std::nullopt;
            }
            char buffer[32];
            const auto written = std::to_chars(buffer, buffer + sizeof buffer, value);
            if (!append_typed(std::string_view(buffer, written.ptr - buffer), field.type, out)) {
                return not_of_type(field);
            }
            return std::nullopt;
        }
        default:
            if (!append_typed(field.query.evaluate_string(item), field.type, out)) {
                return not_of_type(field);
            }
            return std::nullopt;
    }
}

std::optional<CallError> append_item(const XPathMapping::Compiled& compiled,
                                     const pugi::xpath_node& item, std::string& out) {
    if (compiled.fields.empty()) {
        if (item.node()) {
            append_element_json(item.node(), out);
        } else {
            append_json_string(out, item.attribute().value());
        }
        return std::nullopt;
    }
    out += '{';
    bool first = true;
    for (const auto& field : compiled.fields) {
        if (!first) {
            out += ',';
        }
        first = false;
        append_json_string(out, field.name);
        out += ':';
        if (auto error = append_field(field, item, out)) {
            return error;
        }
    }
    out += '}';
    return std::nullopt;
}

/// A document declared UTF-8 may still hold bytes that are not: they
/// would make the envelope invalid JSON.
std::optional<CallError> checked_text(const std::string& json) {
    if (!is_valid_utf8(json)) {
        return CallError{ErrorClass::upstream_invalid_response,
                         "the upstream answer holds text that is not UTF-8"};
    }
    return std::nullopt;
}

/// The text of `element`'s own character data (not of its descendants).
std::string own_text(const pugi::xml_node& element) {
    std::string text;
    for (pugi::xml_node c = element.first_child(); c; c = c.next_sibling()) {
        if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
            text += c.value();
        }
    }
    return text;
}

}  // namespace

XPathMapping::XPathMapping(const std::string& data, bool list, const std::vector<Field>& fields) {
    auto compiled = std::make_unique<Compiled>();
    compiled->data_text = data;
    compiled->data = compile(data);
    if (compiled->data.return_type() != pugi::xpath_type_node_set) {
        throw std::invalid_argument("'" + data + "' does not select nodes");
    }
    compiled->list = list;
    for (const auto& field : fields) {
        Compiled::Field f{field.name, compile(field.xpath), field.type, field.list};
        if (f.list && f.query.return_type() != pugi::xpath_type_node_set) {
            throw std::invalid_argument("'" + field.xpath +
                                        "' does not select nodes, so it cannot be a list");
        }
        compiled->fields.push_back(std::move(f));
    }
    compiled_ = std::move(compiled);
}

XPathMapping::~XPathMapping() = default;
XPathMapping::XPathMapping(XPathMapping&&) noexcept = default;
XPathMapping& XPathMapping::operator=(XPathMapping&&) noexcept = default;

std::optional<CallError> XPathMapping::apply(const pugi::xml_node& context,
                                             std::string& out) const {
    const Compiled& c = *compiled_;
    pugi::xpath_node_set nodes = c.data.evaluate_node_set(context);
    nodes.sort();
    out.clear();
    if (c.list) {
        out += '[';
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            if (i > 0) {
                out += ',';
            }
            if (auto error = append_item(c, nodes[i], out)) {
                return error;
            }
        }
        out += ']';
        return checked_text(out);
    }
    if (nodes.empty()) {
        return CallError{ErrorClass::upstream_invalid_response,
                         "the upstream answer has nothing at " + c.data_text};
    }
    if (auto error = append_item(c, nodes.first(), out)) {
        return error;
    }
    return checked_text(out);
}

void append_element_json(const pugi::xml_node& element, std::string& out) {
    const bool has_children = static_cast<bool>(
        element.find_child([](const pugi::xml_node& n) { return n.type() == pugi::node_element; }));
    if (!has_children && !element.first_attribute()) {
        append_json_string(out, own_text(element));
        return;
    }
    out += '{';
    bool first = true;
    const auto key = [&](std::string_view name) {
        if (!first) {
            out += ',';
        }
        first = false;
        append_json_string(out, name);
        out += ':';
    };
    for (pugi::xml_attribute a = element.first_attribute(); a; a = a.next_attribute()) {
        key(std::string("@") + a.name());
        append_json_string(out, a.value());
    }
    // Children by name, in the order names first appear; a repeated name
    // becomes an array of all its elements. One pass: an answer may have
    // many children.
    std::vector<std::vector<pugi::xml_node>> groups;
    std::unordered_map<std::string_view, std::size_t> group_of;
    for (pugi::xml_node c = element.first_child(); c; c = c.next_sibling()) {
        if (c.type() != pugi::node_element) {
            continue;
        }
        const auto [found, added] = group_of.try_emplace(c.name(), groups.size());
        if (added) {
            groups.emplace_back();
        }
        groups[found->second].push_back(c);
    }
    for (const auto& group : groups) {
        key(group.front().name());
        if (group.size() == 1) {
            append_element_json(group.front(), out);
            continue;
        }
        out += '[';
        for (std::size_t i = 0; i < group.size(); ++i) {
            if (i > 0) {
                out += ',';
            }
            append_element_json(group[i], out);
        }
        out += ']';
    }
    const std::string text = own_text(element);
    if (!trimmed(text).empty()) {
        key("#text");
        append_json_string(out, text);
    }
    out += '}';
}

}  // namespace relais::xml
