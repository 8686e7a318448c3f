#pragma once
/// @file
/// A pass over an XML message before any XML parser sees it, refusing what
/// relais never accepts from a caller: document type declarations (and with
/// them entity definitions, so no entity expansion and no external entity
/// can ever be processed), nesting deeper than a limit, attribute values
/// longer than a limit, tags with more attributes than a limit, and more
/// elements than a limit. gSOAP skips a DTD silently, does not bound
/// attribute values, reads a tag's attributes in time quadratic in their
/// number and allocates every element before relais can count them, so
/// these checks are relais's own; they read the bytes once and copy none of
/// them.

#include <cstddef>
#include <optional>
#include <string_view>

namespace relais::soap {

/// What the guard refuses.
struct XmlLimits {
    std::size_t max_depth;            ///< nested elements, the root being 1
    std::size_t max_attribute_bytes;  ///< one attribute value, quotes excluded
    std::size_t max_attributes;       ///< of one tag, namespace declarations included
    std::size_t max_elements;         ///< start tags of the whole message
};

/// Finds the first reason to refuse `xml`: a fixed, log-safe phrase that
/// never quotes the message. nullopt when the message may be parsed (it may
/// still be malformed: the parser says so).
///
/// The message must be UTF-8 (what SOAP callers send, and what relais
/// relays as JSON) holding only characters and references XML allows
/// (disallowed_characters); an XML declaration may name no other encoding. Comments, processing
/// instructions and CDATA sections are skipped; any other `<!` markup (`<!DOCTYPE`, `<!ENTITY`...)
/// is refused wherever it stands, and so is unterminated markup.
std::optional<std::string_view> guard_xml(std::string_view xml, const XmlLimits& limits);

}  // namespace relais::soap
