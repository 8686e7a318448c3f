#pragma once
/// @file
/// XML text as relais writes it (SOAP messages, WSDL addresses, the bodies
/// of kinds xml and soap), escaped so that what a parser reads back is
/// exactly the text, never markup; and the characters XML relais reads may
/// hold, checked before a parser decodes them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relais {

/// Whether `c` is a character XML 1.0 allows (its Char production): not a
/// control character other than tab, line feed and carriage return, not a
/// surrogate, not U+FFFE nor U+FFFF.
bool is_xml_char(std::uint32_t c) noexcept;

/// Whether `text` is UTF-8 whose every character XML 1.0 allows.
bool is_xml_text(std::string_view text) noexcept;

/// Whether `text`, UTF-8, holds U+FFFE or U+FFFF: the characters XML 1.0
/// excludes that disallowed_characters cannot see in a document whose
/// encoding is not known to be UTF-8, and a parser lets through.
bool holds_xml_noncharacter(std::string_view text) noexcept;

/// Appends `text` escaped as XML character data: `&`, `<`, `>`, and a
/// carriage return (which a parser would turn into a line feed) as
/// references.
void append_xml_text(std::string& out, std::string_view text);

/// Appends `text` escaped for a double-quoted attribute value: as
/// append_xml_text, and `"`, tab and line feed (which a parser would
/// normalize to spaces) as references.
void append_xml_attribute(std::string& out, std::string_view text);

/// Why `xml` holds characters XML 1.0 does not allow, as a fixed phrase
/// that quotes nothing of it; nullopt when it holds none. Refused: a
/// control character other than tab, line feed and carriage return
/// (anywhere), and, outside comments and CDATA sections, a reference that
/// is not one of the five predefined entities (`&amp;`…) or a character
/// reference to a character XML allows (`&#0;`, `&#xD800;`, `&nbsp;`
/// without a DTD). Parsers differ on such input — one cuts the text at
/// `&#0;`, another turns an unknown entity into other bytes — so relais
/// refuses it before any of them reads it.
std::optional<std::string_view> disallowed_characters(std::string_view xml) noexcept;

}  // namespace relais
