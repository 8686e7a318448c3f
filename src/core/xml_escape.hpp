#pragma once
/// @file
/// Escaping text for XML relais writes (SOAP messages, WSDL addresses, the
/// bodies of kinds xml and soap): what a parser reads back is exactly the
/// text, never markup.

#include <string>
#include <string_view>

namespace relais {

/// Appends `text` escaped as XML character data: `&`, `<`, `>`, and a
/// carriage return (which a parser would turn into a line feed) as
/// references.
void append_xml_text(std::string& out, std::string_view text);

/// Appends `text` escaped for a double-quoted attribute value: as
/// append_xml_text, and `"`, tab and line feed (which a parser would
/// normalize to spaces) as references.
void append_xml_attribute(std::string& out, std::string_view text);

}  // namespace relais
