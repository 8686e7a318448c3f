#pragma once
/// @file
/// Reading XML that comes from outside (an upstream's answer) with pugixml,
/// hardened: a document type declaration is refused outright (so no DTD is
/// ever processed, no entity expanded, no external resource named), nesting
/// is bounded, and every name is rewritten to the prefixes the connector
/// declared, so that XPath expressions written in YAML match whatever
/// prefixes the upstream chose.
///
/// pugixml itself never expands entities other than the five predefined
/// ones and character references, never reads a file or the network, and
/// parses without recursion; the checks here make refusals explicit and
/// bound what later walks (XPath, conversion to JSON) may meet.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pugi {
class xml_document;
}

namespace relais::xml {

/// Deepest element nesting accepted in a document relais reads.
inline constexpr std::size_t max_xml_depth = 256;
/// Most markup (elements, comments…) and attributes in a document relais
/// reads, counted before parsing: parsed, each costs far more memory than
/// its text.
inline constexpr std::size_t max_xml_nodes = 500'000;
/// Most attributes of one element, namespace declarations included.
inline constexpr std::size_t max_xml_attributes = 256;
/// Most namespace declarations of one element.
inline constexpr std::size_t max_xml_namespace_declarations = 64;

/// Namespace prefixes a connector declares (`namespaces:`), prefix -> URI.
/// A prefix is an XML NCName; no two entries share a prefix or a URI.
using NamespaceMap = std::vector<std::pair<std::string, std::string>>;

/// Parses `text` into `doc`, then rewrites names: an element or attribute
/// of a namespace that `namespaces` declares is named `prefix:local` with
/// the declared prefix, one of another namespace or of none is named by its
/// local name; namespace declarations (xmlns attributes) are removed.
/// Returns why the text is refused (a phrase without any of its content):
/// characters or references XML does not allow (disallowed_characters in
/// core/xml_text.hpp), more than max_xml_nodes of markup and attributes,
/// not well-formed (no root element included), a document type declaration,
/// nesting deeper than max_xml_depth, an element with more than
/// max_xml_attributes attributes or max_xml_namespace_declarations
/// namespace declarations, a name with more than one colon or an empty
/// prefix or local part, a prefix bound nowhere, attributes whose names
/// become the same.
std::optional<std::string> read_untrusted_xml(std::string_view text, pugi::xml_document& doc,
                                              const NamespaceMap& namespaces);

/// Whether `name` is an XML NCName made of ASCII letters, digits, '_', '-'
/// and '.', starting with a letter or '_' (what relais accepts as a
/// prefix in YAML).
bool is_prefix_name(std::string_view name) noexcept;

}  // namespace relais::xml
