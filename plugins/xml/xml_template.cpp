#include "xml/xml_template.hpp"

#include <algorithm>
#include <pugixml.hpp>
#include <set>

#include "core/xml_text.hpp"

namespace relais::xml {

using rest::CallError;
using rest::CallValues;
using rest::RefResolver;
using rest::TemplateError;
using rest::TextLookup;
using rest::TextTemplate;
using rest::ValueRef;

struct XmlTemplate::Op {
    enum class Kind : unsigned char { literal, text, attribute, optional_begin, optional_end };
    Kind kind = Kind::literal;
    std::string literal;  ///< literal: XML written as it is
    TextTemplate value;   ///< text, attribute: escaped when rendered
    ValueRef ref;         ///< optional_begin: absent, the group is left out
    std::size_t end = 0;  ///< optional_begin: index of its optional_end
};

namespace {

using Op = XmlTemplate::Op;

/// Templates are configuration, but a runaway one should still be refused
/// rather than exhaust the loader's stack.
constexpr std::size_t max_template_depth = 64;

std::string_view prefix_of(std::string_view name) {
    const auto colon = name.find(':');
    return colon == std::string_view::npos ? std::string_view() : name.substr(0, colon);
}

class Compiler {
public:
    Compiler(const NamespaceMap& namespaces, const RefResolver& resolve)
        : namespaces_(namespaces), resolve_(resolve) {}

    std::vector<Op> compile(const pugi::xml_document& doc, std::string before, std::string after) {
        pugi::xml_node root;
        for (pugi::xml_node n = doc.first_child(); n; n = n.next_sibling()) {
            switch (n.type()) {
                case pugi::node_element:
                    if (root) {
                        throw TemplateError("the body must have exactly one root element");
                    }
                    root = n;
                    break;
                case pugi::node_comment:
                    break;
                default:
                    refuse_node(n);
            }
        }
        if (!root) {
            throw TemplateError("the body must have exactly one root element");
        }
        collect_prefixes(root, 0);
        literal(std::move(before));
        element(root, 0, true);
        literal(std::move(after));
        return std::move(ops_);
    }

private:
    [[noreturn]] static void refuse_node(pugi::xml_node n) {
        switch (n.type()) {
            case pugi::node_declaration:
                throw TemplateError("remove the XML declaration: relais writes it");
            case pugi::node_doctype:
                throw TemplateError("a document type declaration is not allowed");
            case pugi::node_pi:
                throw TemplateError("processing instructions are not allowed");
            default:
                throw TemplateError("text outside the root element");
        }
    }

    /// Records the prefixes used and those the fragment declares itself.
    void collect_prefixes(pugi::xml_node e, std::size_t depth) {
        if (depth >= max_template_depth) {
            throw TemplateError("elements nested deeper than " +
                                std::to_string(max_template_depth));
        }
        used_.insert(std::string(prefix_of(e.name())));
        for (pugi::xml_attribute a = e.first_attribute(); a; a = a.next_attribute()) {
            const std::string_view name = a.name();
            if (name.starts_with("xmlns:")) {
                declared_.insert(std::string(name.substr(6)));
            } else if (name != "xmlns") {
                used_.insert(std::string(prefix_of(name)));
            }
        }
        for (pugi::xml_node c = e.first_child(); c; c = c.next_sibling()) {
            if (c.type() == pugi::node_element) {
                collect_prefixes(c, depth + 1);
            }
        }
    }

    /// ` xmlns:p="uri"` for the prefixes used, not declared in the
    /// fragment, and declared in the connector's namespaces.
    std::string added_declarations() const {
        std::string out;
        for (const std::string& prefix : used_) {
            if (prefix.empty() || prefix == "xml" || declared_.contains(prefix)) {
                continue;
            }
            const auto found = std::find_if(namespaces_.begin(), namespaces_.end(),
                                            [&](const auto& ns) { return ns.first == prefix; });
            if (found == namespaces_.end()) {
                throw TemplateError("the prefix '" + prefix +
                                    "' is declared neither in the body nor in namespaces");
            }
            out += " xmlns:" + prefix + "=\"";
            append_xml_attribute(out, found->second);
            out += '"';
        }
        return out;
    }

    void literal(std::string text) {
        if (text.empty()) {
            return;
        }
        if (!ops_.empty() && ops_.back().kind == Op::Kind::literal) {
            ops_.back().literal += text;
            return;
        }
        Op op;
        op.literal = std::move(text);
        ops_.push_back(std::move(op));
    }

    void slot(Op::Kind kind, TextTemplate value) {
        Op op;
        op.kind = kind;
        op.value = std::move(value);
        ops_.push_back(std::move(op));
    }

    std::size_t begin_optional(const ValueRef& ref) {
        Op op;
        op.kind = Op::Kind::optional_begin;
        op.ref = ref;
        ops_.push_back(std::move(op));
        return ops_.size() - 1;
    }

    void end_optional(std::size_t begin) {
        Op op;
        op.kind = Op::Kind::optional_end;
        ops_.push_back(std::move(op));
        ops_[begin].end = ops_.size() - 1;
    }

    TextTemplate parse_text(std::string_view text, std::string_view where) const {
        try {
            return TextTemplate::parse(text, resolve_);
        } catch (const TemplateError& e) {
            throw TemplateError(std::string(where) + ": " + e.what());
        }
    }

    void attribute(pugi::xml_attribute a, std::string_view element) {
        const std::string name = a.name();
        const std::string where = "attribute '" + name + "' of <" + std::string(element) + ">";
        TextTemplate value = parse_text(a.value(), where);
        if (!value.has_placeholders()) {
            literal(" " + name + "=\"");
            std::string escaped;
            append_xml_attribute(escaped, value.literal_text());
            literal(escaped + "\"");
            return;
        }
        if (name == "xmlns" || name.starts_with("xmlns:")) {
            throw TemplateError(where + ": a namespace declaration cannot hold a placeholder");
        }
        std::optional<std::size_t> group;
        if (value.is_single_placeholder()) {
            group = begin_optional(*value.parts().front().ref);
        }
        literal(" " + name + "=\"");
        slot(Op::Kind::attribute, std::move(value));
        literal("\"");
        if (group) {
            end_optional(*group);
        }
    }

    void element(pugi::xml_node e, std::size_t depth, bool root) {
        const std::string name = e.name();
        std::optional<std::size_t> group;
        const pugi::xml_node only = e.first_child();
        std::optional<TextTemplate> single;
        if (only && !only.next_sibling() &&
            (only.type() == pugi::node_pcdata || only.type() == pugi::node_cdata)) {
            TextTemplate text = parse_text(only.value(), "text of <" + name + ">");
            if (text.is_single_placeholder()) {
                group = begin_optional(*text.parts().front().ref);
                single = std::move(text);
            }
        }
        literal("<" + name);
        if (root) {
            literal(added_declarations());
        }
        for (pugi::xml_attribute a = e.first_attribute(); a; a = a.next_attribute()) {
            attribute(a, name);
        }
        if (!e.first_child()) {
            literal("/>");
        } else {
            literal(">");
            if (single) {
                slot(Op::Kind::text, std::move(*single));
            } else {
                children(e, depth);
            }
            literal("</" + name + ">");
        }
        if (group) {
            end_optional(*group);
        }
    }

    void children(pugi::xml_node e, std::size_t depth) {
        for (pugi::xml_node c = e.first_child(); c; c = c.next_sibling()) {
            switch (c.type()) {
                case pugi::node_element:
                    element(c, depth + 1, false);
                    break;
                case pugi::node_pcdata:
                case pugi::node_cdata: {
                    TextTemplate text =
                        parse_text(c.value(), "text of <" + std::string(e.name()) + ">");
                    if (text.has_placeholders()) {
                        slot(Op::Kind::text, std::move(text));
                    } else {
                        std::string escaped;
                        append_xml_text(escaped, text.literal_text());
                        literal(std::move(escaped));
                    }
                    break;
                }
                case pugi::node_comment:
                    break;
                default:
                    refuse_node(c);
            }
        }
    }

    const NamespaceMap& namespaces_;
    const RefResolver& resolve_;
    std::set<std::string> used_;
    std::set<std::string> declared_;
    std::vector<Op> ops_;
};

/// Appends the value of `ref`, escaped, or says why it cannot go in XML.
std::optional<CallError> append_value(const ValueRef& ref, const CallValues& values, bool attribute,
                                      std::string& out) {
    thread_local std::string raw;
    raw.clear();
    const TextLookup lookup = rest::append_text(ref, values, raw);
    if (lookup == TextLookup::not_scalar) {
        return CallError{rest::invalid_class(ref),
                         rest::describe(ref, values) + " must be a string, a number or a boolean"};
    }
    if (!is_xml_text(raw)) {
        return CallError{rest::invalid_class(ref),
                         rest::describe(ref, values) + " holds a character XML cannot carry"};
    }
    if (attribute) {
        append_xml_attribute(out, raw);
    } else {
        append_xml_text(out, raw);
    }
    return std::nullopt;
}

}  // namespace

XmlTemplate::XmlTemplate() = default;
XmlTemplate::~XmlTemplate() = default;
XmlTemplate::XmlTemplate(XmlTemplate&&) noexcept = default;
XmlTemplate& XmlTemplate::operator=(XmlTemplate&&) noexcept = default;

XmlTemplate XmlTemplate::parse(std::string_view fragment, const NamespaceMap& namespaces,
                               const RefResolver& resolve, std::string before, std::string after) {
    pugi::xml_document doc;
    const unsigned options = pugi::parse_default | pugi::parse_declaration | pugi::parse_doctype |
                             pugi::parse_pi | pugi::parse_comments;
    const pugi::xml_parse_result parsed =
        doc.load_buffer(fragment.data(), fragment.size(), options, pugi::encoding_utf8);
    if (!parsed) {
        throw TemplateError(std::string("not well-formed XML: ") + parsed.description() +
                            " at byte " + std::to_string(parsed.offset));
    }
    XmlTemplate compiled;
    compiled.ops_ = Compiler(namespaces, resolve).compile(doc, std::move(before), std::move(after));
    return compiled;
}

std::optional<CallError> XmlTemplate::render(const CallValues& values, std::string& out) const {
    for (std::size_t i = 0; i < ops_.size(); ++i) {
        const Op& op = ops_[i];
        switch (op.kind) {
            case Op::Kind::literal:
                out += op.literal;
                break;
            case Op::Kind::text:
            case Op::Kind::attribute:
                for (const auto& part : op.value.parts()) {
                    if (!part.ref) {
                        if (op.kind == Op::Kind::attribute) {
                            append_xml_attribute(out, part.literal);
                        } else {
                            append_xml_text(out, part.literal);
                        }
                    } else if (auto error = append_value(*part.ref, values,
                                                         op.kind == Op::Kind::attribute, out)) {
                        return error;
                    }
                }
                break;
            case Op::Kind::optional_begin: {
                thread_local std::string probe;
                probe.clear();
                if (rest::append_text(op.ref, values, probe) == TextLookup::absent) {
                    i = op.end;
                }
                break;
            }
            case Op::Kind::optional_end:
                break;
        }
    }
    return std::nullopt;
}

}  // namespace relais::xml
