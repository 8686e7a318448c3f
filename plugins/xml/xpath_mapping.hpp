#pragma once
/// @file
/// Turns an XML answer into the `data` of relais's envelope with XPath 1.0
/// (pugixml), over names rewritten to the connector's prefixes (see
/// xml_document.hpp), so that `c:parcel` means "parcel in the namespace the
/// connector calls c", whatever prefix the upstream wrote.
///
/// `data` selects nodes from the context node the kind gives (the document
/// for kind xml, the SOAP Body for kind soap). With `list`, every node
/// selected is an item and the data is an array, empty when none is;
/// without, the data is the first node in document order, and none is
/// upstream-invalid-response. `fields` map output names to expressions
/// evaluated with the item as context node; without `fields`, an item is
/// converted as a whole (append_element_json).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rest/parameters.hpp"

namespace pugi {
class xml_node;
}

namespace relais::xml {

/// The JSON type of a mapped field.
enum class FieldType : unsigned char { string, integer, number, boolean };

class XPathMapping {
public:
    struct Field {
        std::string name;
        std::string xpath;
        FieldType type = FieldType::string;
        /// Every node the expression selects, as an array; without, the
        /// first one's text, null when there is none.
        bool list = false;
    };

    /// Compiles the expressions; throws std::invalid_argument naming the
    /// expression and what is wrong with it.
    XPathMapping(const std::string& data, bool list, const std::vector<Field>& fields);
    ~XPathMapping();
    XPathMapping(XPathMapping&&) noexcept;
    XPathMapping& operator=(XPathMapping&&) noexcept;

    /// Writes the data found from `context` into `out` as JSON, or fails
    /// with upstream_invalid_response when the answer does not have the
    /// declared shape (no node for `data`, a field that is not of its type).
    std::optional<rest::CallError> apply(const pugi::xml_node& context, std::string& out) const;

    struct Compiled;

private:
    std::unique_ptr<const Compiled> compiled_;
};

/// Appends `element` as JSON: an element without attributes or child
/// elements is its text; otherwise an object whose members are the
/// attributes (`@name`), the child elements by name (an array when a name
/// repeats) and, when it is not only whitespace, the text (`#text`).
void append_element_json(const pugi::xml_node& element, std::string& out);

}  // namespace relais::xml
