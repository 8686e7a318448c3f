#include "xml/xml_document.hpp"

#include <algorithm>
#include <pugixml.hpp>

#include "core/string_map.hpp"
#include "core/xml_text.hpp"

namespace relais::xml {

namespace {

constexpr std::string_view xml_namespace = "http://www.w3.org/XML/1998/namespace";
constexpr std::string_view dtd_refused = "a document type declaration (DTD) is not accepted";
constexpr std::string_view noncharacter_refused =
    "a character XML does not allow (U+FFFE or U+FFFF)";

/// The prefix an attribute named `name` binds ("" for the default
/// namespace), or nullopt when it is no namespace declaration.
std::optional<std::string_view> declared_prefix(std::string_view name) noexcept {
    if (name == "xmlns") {
        return std::string_view();
    }
    if (name.starts_with("xmlns:")) {
        return name.substr(6);
    }
    return std::nullopt;
}

/// The namespaces in scope while walking a document: for each prefix, the
/// URIs the open elements bind it to, innermost last.
class Scope {
public:
    explicit Scope(const NamespaceMap& declared) : declared_(declared) {}

    /// Enters `element`: records its declarations and removes them.
    void enter(pugi::xml_node element) {
        marks_.push_back(opened_.size());
        for (pugi::xml_attribute a = element.first_attribute(); a;) {
            const pugi::xml_attribute next = a.next_attribute();
            if (const auto prefix = declared_prefix(a.name())) {
                auto binding = bindings_.find(*prefix);
                if (binding == bindings_.end()) {
                    binding = bindings_.emplace(*prefix, std::vector<std::string>()).first;
                }
                binding->second.emplace_back(a.value());
                opened_.push_back(&binding->second);
                element.remove_attribute(a);
            }
            a = next;
        }
    }

    void leave() {
        for (std::size_t i = marks_.back(); i < opened_.size(); ++i) {
            opened_[i]->pop_back();
        }
        opened_.resize(marks_.back());
        marks_.pop_back();
    }

    std::size_t depth() const noexcept { return marks_.size(); }

    /// The name `qualified` (a qualified name: element_refusal checked it)
    /// should have, or nullopt when its prefix is bound nowhere.
    /// `is_element`: an unprefixed element takes the default namespace, an
    /// unprefixed attribute none.
    std::optional<std::string> rename(std::string_view qualified, bool is_element) const {
        const auto colon = qualified.find(':');
        const std::string_view prefix =
            colon == std::string_view::npos ? std::string_view() : qualified.substr(0, colon);
        const std::string_view local =
            colon == std::string_view::npos ? qualified : qualified.substr(colon + 1);
        if (prefix.empty() && !is_element) {
            return std::string(local);
        }
        std::optional<std::string_view> uri;
        if (prefix == "xml") {
            uri = xml_namespace;
        } else if (const auto binding = bindings_.find(prefix);
                   binding != bindings_.end() && !binding->second.empty()) {
            uri = binding->second.back();
        }
        if (!uri) {
            if (!prefix.empty()) {
                return std::nullopt;
            }
            uri = std::string_view();
        }
        for (const auto& [declared_prefix, declared_uri] : declared_) {
            if (!uri->empty() && declared_uri == *uri) {
                return declared_prefix + ":" + std::string(local);
            }
        }
        return std::string(local);
    }

private:
    const NamespaceMap& declared_;
    StringMap<std::vector<std::string>> bindings_;
    /// The stacks of bindings_ the open elements pushed onto, in order.
    std::vector<std::vector<std::string>*> opened_;
    std::vector<std::size_t> marks_;
};

/// Whether `name` reads as a namespace-qualified name: `local` or
/// `prefix:local`, both parts non-empty. pugixml takes any colons.
bool is_qualified_name(std::string_view name) noexcept {
    const auto colon = name.find(':');
    return colon == std::string_view::npos || (colon > 0 && colon + 1 < name.size() &&
                                               name.find(':', colon + 1) == std::string_view::npos);
}

/// Why `element` cannot be read, if it cannot: too many attributes or
/// namespace declarations (counted before any of them is looked at by
/// name), or a name of it or of an attribute that is no qualified name
/// (`x:cad:parcelle` must not read as a `cad:` name).
std::optional<std::string> element_refusal(pugi::xml_node element) {
    std::size_t attributes = 0;
    std::size_t declarations = 0;
    for (pugi::xml_attribute a = element.first_attribute(); a; a = a.next_attribute()) {
        if (holds_xml_noncharacter(a.name()) || holds_xml_noncharacter(a.value())) {
            return std::string(noncharacter_refused);
        }
        if (++attributes > max_xml_attributes) {
            return "an element has more than " + std::to_string(max_xml_attributes) + " attributes";
        }
        if (declared_prefix(a.name()) && ++declarations > max_xml_namespace_declarations) {
            return "an element declares more than " +
                   std::to_string(max_xml_namespace_declarations) + " namespaces";
        }
    }
    const auto names = element.attributes();
    if (!is_qualified_name(element.name()) ||
        !std::all_of(names.begin(), names.end(),
                     [](pugi::xml_attribute a) { return is_qualified_name(a.name()); })) {
        return "a name has more than one colon, or an empty prefix or local part";
    }
    return std::nullopt;
}

/// Renames `element` and its attributes; false when a prefix is unbound.
bool rename_names(pugi::xml_node element, const Scope& scope) {
    auto name = scope.rename(element.name(), true);
    if (!name) {
        return false;
    }
    element.set_name(name->c_str());
    for (pugi::xml_attribute a = element.first_attribute(); a; a = a.next_attribute()) {
        auto attribute = scope.rename(a.name(), false);
        if (!attribute) {
            return false;
        }
        a.set_name(attribute->c_str());
    }
    return true;
}

/// Whether two attributes of `element` have the same name once renamed
/// (`a:k` and `b:k` of two namespaces the connector does not declare).
bool has_twin_attributes(pugi::xml_node element) {
    thread_local std::vector<std::string_view> names;
    names.clear();
    for (pugi::xml_attribute a = element.first_attribute(); a; a = a.next_attribute()) {
        names.emplace_back(a.name());
    }
    std::sort(names.begin(), names.end());
    return std::adjacent_find(names.begin(), names.end()) != names.end();
}

}  // namespace

std::optional<std::string> read_untrusted_xml(std::string_view text, pugi::xml_document& doc,
                                              const NamespaceMap& namespaces) {
    // The declaration's own entities would be refused below; saying why
    // they are there is clearer.
    if (text.find("<!DOCTYPE") != std::string_view::npos) {
        return std::string(dtd_refused);
    }
    if (const auto refused = disallowed_characters(text)) {
        return std::string(*refused);
    }
    // pugixml spends about 80 bytes an element and 40 an attribute: bound
    // them before it allocates. '=' also counts in text, which is rarely
    // full of them.
    const auto markup = [](char c) { return c == '<' || c == '='; };
    if (static_cast<std::size_t>(std::count_if(text.begin(), text.end(), markup)) > max_xml_nodes) {
        return "more than " + std::to_string(max_xml_nodes) + " elements and attributes";
    }
    // parse_doctype keeps a declaration as a node, to refuse it below; its
    // content is skipped by the parser, never interpreted.
    const pugi::xml_parse_result parsed =
        doc.load_buffer(text.data(), text.size(), pugi::parse_default | pugi::parse_doctype);
    if (!parsed) {
        return std::string("not well-formed XML (") + parsed.description() + " at byte " +
               std::to_string(parsed.offset) + ")";
    }
    // Iterative walk: a document may nest as deep as the parser lets it.
    Scope scope(namespaces);
    pugi::xml_node node = doc.first_child();
    while (node) {
        if (node.type() == pugi::node_doctype) {
            return std::string(dtd_refused);
        }
        // Decoded to UTF-8 whatever the document's encoding: the raw text
        // could not be searched for these two.
        if (holds_xml_noncharacter(node.name()) || holds_xml_noncharacter(node.value())) {
            return std::string(noncharacter_refused);
        }
        if (node.type() == pugi::node_element) {
            if (scope.depth() >= max_xml_depth) {
                return "elements nested deeper than " + std::to_string(max_xml_depth);
            }
            if (auto refused = element_refusal(node)) {
                return refused;
            }
            scope.enter(node);
            if (!rename_names(node, scope)) {
                return std::string("a namespace prefix is used without being declared");
            }
            if (has_twin_attributes(node)) {
                return std::string("two attributes of an element have the same local name");
            }
            if (node.first_child()) {
                node = node.first_child();
                continue;
            }
            scope.leave();
        }
        while (!node.next_sibling()) {
            node = node.parent();
            if (node.type() != pugi::node_element) {
                return std::nullopt;
            }
            scope.leave();
        }
        node = node.next_sibling();
    }
    return std::nullopt;
}

bool is_prefix_name(std::string_view name) noexcept {
    const auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    return !name.empty() && name.size() <= 64 && (alpha(name.front()) || name.front() == '_') &&
           std::all_of(name.begin(), name.end(), [&](char c) {
               return alpha(c) || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
           });
}

}  // namespace relais::xml
