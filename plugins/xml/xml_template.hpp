#pragma once
/// @file
/// The XML body sent upstream, written in YAML as an XML fragment with
/// placeholders (the same `{name}`, `{body:/pointer}`, `{{`, `}}` as every
/// template of kind rest).
///
/// The fragment is parsed once, at load, and compiled into literal XML and
/// slots. Placeholders may stand in text content and attribute values
/// only (a brace in a name is not well-formed XML, refused by the parser):
/// a value is always escaped for where it goes, so
/// no value can add markup, whatever it holds. An element whose whole
/// content is one placeholder is left out when that value is absent (a
/// parameter not given, a body member missing or null); so is an attribute
/// whose whole value is one placeholder. Elsewhere an absent value is
/// empty text. A value that XML 1.0 cannot carry (a control character
/// other than tab and line breaks) is refused, and so is an object or an
/// array of the call's body.
///
/// Prefixes used in the fragment must be declared in it or among the
/// connector's `namespaces:`; declarations of the latter are added to the
/// fragment's root element.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rest/wire_format.hpp"
#include "xml/xml_document.hpp"

namespace relais::xml {

class XmlTemplate final : public rest::BodyTemplate {
public:
    /// Compiles `fragment` (one root element, no XML declaration, no
    /// document type, no processing instruction; comments are dropped and
    /// so is whitespace between elements). Output is `before`, the
    /// rendered fragment, then `after` (both written as they are). Throws
    /// rest::TemplateError, whose message quotes no value.
    static XmlTemplate parse(std::string_view fragment, const NamespaceMap& namespaces,
                             const rest::RefResolver& resolve, std::string before = {},
                             std::string after = {});

    XmlTemplate();
    ~XmlTemplate() override;
    XmlTemplate(XmlTemplate&&) noexcept;
    XmlTemplate& operator=(XmlTemplate&&) noexcept;

    std::optional<rest::CallError> render(const rest::CallValues& values,
                                          std::string& out) const override;

    struct Op;

private:
    std::vector<Op> ops_;
};

}  // namespace relais::xml
