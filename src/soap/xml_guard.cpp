#include "soap/xml_guard.hpp"

#include <algorithm>

#include "core/http_types.hpp"
#include "core/utf8.hpp"
#include "core/xml_text.hpp"

namespace relais::soap {

namespace {

constexpr std::string_view comment_open = "<!--";
constexpr std::string_view cdata_open = "<![CDATA[";

/// The position after the first `terminator` at or after `from`, or npos.
std::size_t after(std::string_view xml, std::size_t from, std::string_view terminator) {
    const std::size_t at = xml.find(terminator, from);
    return at == std::string_view::npos ? at : at + terminator.size();
}

bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/// Why the processing instruction `pi` (what stands between `<?` and `?>`)
/// is refused, if it is: an XML declaration that names an encoding other
/// than UTF-8, or that cannot be read. gSOAP would decode the message in
/// that encoding (Latin-1 for ISO-8859-1), though it was checked as UTF-8.
std::optional<std::string_view> declaration_refusal(std::string_view pi) {
    const auto skip_spaces = [&pi] {
        while (!pi.empty() && is_space(pi.front())) {
            pi.remove_prefix(1);
        }
    };
    const std::size_t target = std::min(pi.find_first_of(" \t\n\r"), pi.size());
    if (!iequals_ascii(pi.substr(0, target), "xml")) {
        return std::nullopt;
    }
    pi.remove_prefix(target);
    constexpr std::string_view malformed = "the XML declaration is malformed";
    // Pseudo-attributes: version="1.0" encoding="UTF-8" standalone="yes".
    for (skip_spaces(); !pi.empty(); skip_spaces()) {
        const std::size_t name_end = std::min(pi.find_first_of("= \t\n\r"), pi.size());
        const std::string_view name = pi.substr(0, name_end);
        pi.remove_prefix(name_end);
        skip_spaces();
        if (name.empty() || !pi.starts_with('=')) {
            return malformed;
        }
        pi.remove_prefix(1);
        skip_spaces();
        const std::size_t close = pi.empty() || (pi.front() != '"' && pi.front() != '\'')
                                      ? std::string_view::npos
                                      : pi.find(pi.front(), 1);
        if (close == std::string_view::npos) {
            return malformed;
        }
        if (name == "encoding" && !iequals_ascii(pi.substr(1, close - 1), "UTF-8")) {
            return "the XML declaration names an encoding other than UTF-8";
        }
        pi.remove_prefix(close + 1);
    }
    return std::nullopt;
}

/// The tag starting at `xml[at] == '<'` (a start or end tag): where it
/// ends, whether it closes itself, and why it is refused, if it is.
struct Tag {
    std::size_t end = std::string_view::npos;  ///< after its '>'
    bool self_closing = false;
    std::optional<std::string_view> refused;
};

Tag scan_tag(std::string_view xml, std::size_t at, const XmlLimits& limits) {
    Tag tag;
    // Attributes are counted by their names, each standing after a space or
    // a value: gSOAP also reads an attribute written without a value.
    std::size_t attributes = 0;
    bool separated = false;
    for (std::size_t i = at + 1; i < xml.size(); ++i) {
        const char c = xml[i];
        if (c == '"' || c == '\'') {
            // '<' and '>' may not stand in attribute values unescaped, but a
            // quote-aware scan keeps a stray '>' from ending the tag early.
            const std::size_t close = std::min(xml.find(c, i + 1), xml.size());
            if (close - i - 1 > limits.max_attribute_bytes) {
                tag.refused = "an attribute value is longer than the limit";
                return tag;
            }
            if (close == xml.size()) {
                return tag;
            }
            i = close;
            separated = true;
        } else if (c == '>') {
            tag.end = i + 1;
            tag.self_closing = xml[i - 1] == '/';
            return tag;
        } else if (is_space(c)) {
            separated = true;
        } else {
            if (separated && c != '=' && c != '/' && ++attributes > limits.max_attributes) {
                tag.refused = "an element has more attributes than the limit";
                return tag;
            }
            separated = false;
        }
    }
    return tag;
}

}  // namespace

std::optional<std::string_view> guard_xml(std::string_view xml, const XmlLimits& limits) {
    if (!is_valid_utf8(xml, is_xml_char)) {
        // gSOAP passes U+FFFE and U+FFFF on; XML does not allow them.
        return is_valid_utf8(xml) ? "a character XML does not allow" : "the message is not UTF-8";
    }
    std::size_t depth = 0;
    std::size_t elements = 0;
    std::size_t at = xml.find('<');
    while (at != std::string_view::npos && at + 1 < xml.size()) {
        const std::string_view rest = xml.substr(at);
        std::size_t next = std::string_view::npos;
        if (rest.starts_with(comment_open)) {
            next = after(xml, at + comment_open.size(), "-->");
        } else if (rest.starts_with(cdata_open)) {
            next = after(xml, at + cdata_open.size(), "]]>");
        } else if (rest[1] == '!') {
            return "document type declarations (DTD) and entity declarations are refused";
        } else if (rest[1] == '?') {
            next = after(xml, at + 2, "?>");
            if (next != std::string_view::npos) {
                if (const auto refused = declaration_refusal(xml.substr(at + 2, next - at - 4))) {
                    return refused;
                }
            }
        } else {
            const Tag tag = scan_tag(xml, at, limits);
            if (tag.refused) {
                return tag.refused;
            }
            next = tag.end;
            if (rest[1] == '/') {
                depth -= depth > 0 ? 1 : 0;
            } else if (next != std::string_view::npos) {
                if (++elements > limits.max_elements) {
                    return "the message holds more elements than the limit";
                }
                if (!tag.self_closing && ++depth > limits.max_depth) {
                    return "the XML nests elements deeper than the limit";
                }
            }
        }
        if (next == std::string_view::npos) {
            // gSOAP stops reading at the envelope's end: what follows it
            // must still be well-formed.
            return "unterminated markup";
        }
        at = xml.find('<', next);
    }
    return disallowed_characters(xml);
}

}  // namespace relais::soap
