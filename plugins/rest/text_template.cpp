#include "rest/text_template.hpp"

#include <rapidjson/document.h>

#include <charconv>

#include "core/url_encoding.hpp"

namespace relais::rest {

namespace {

bool is_hex(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

void append_number(std::string& out, const rapidjson::Value& v) {
    char buf[32];
    std::to_chars_result r{};
    if (v.IsInt64()) {
        r = std::to_chars(buf, buf + sizeof buf, v.GetInt64());
    } else if (v.IsUint64()) {
        r = std::to_chars(buf, buf + sizeof buf, v.GetUint64());
    } else {
        r = std::to_chars(buf, buf + sizeof buf, v.GetDouble());
    }
    out.append(buf, r.ptr);
}

// Characters an integrator may write unescaped in a path template: RFC 3986
// pchar (unreserved, sub-delims, ':' and '@'), '/' and %XX escapes.
bool is_path_literal_char(char c) noexcept {
    static constexpr std::string_view extra = "!$&'()*+,;=:@/%";
    return is_unreserved(static_cast<unsigned char>(c)) || extra.find(c) != std::string_view::npos;
}

void check_path_literal(std::string_view literal) {
    for (std::size_t i = 0; i < literal.size(); ++i) {
        const char c = literal[i];
        if (!is_path_literal_char(c)) {
            throw TemplateError("path: character '" + std::string(1, c) +
                                "' is not allowed here; percent-encode it (or use a "
                                "placeholder for values)");
        }
        if (c == '%' &&
            (i + 2 >= literal.size() || !is_hex(literal[i + 1]) || !is_hex(literal[i + 2]))) {
            throw TemplateError("path: '%' must start a %XX escape");
        }
    }
}

}  // namespace

TextLookup append_text(const ValueRef& ref, const CallValues& values, std::string& out) {
    if (ref.source == ValueRef::Source::parameter) {
        const auto& value = values.parameters[ref.index];
        if (!value) {
            return TextLookup::absent;
        }
        out += value->text;
        return TextLookup::found;
    }
    const rapidjson::Value* v = values.body_values[ref.index];
    if (v == nullptr || v->IsNull()) {
        return TextLookup::absent;
    }
    if (v->IsString()) {
        out.append(v->GetString(), v->GetStringLength());
    } else if (v->IsBool()) {
        out += v->GetBool() ? "true" : "false";
    } else if (v->IsNumber()) {
        append_number(out, *v);
    } else {
        return TextLookup::not_scalar;
    }
    return TextLookup::found;
}

std::string describe(const ValueRef& ref, const CallValues& values) {
    if (ref.source == ValueRef::Source::parameter) {
        return "parameter '" + values.parameter_specs[ref.index].name + "'";
    }
    const std::string& pointer = values.body_pointer_texts[ref.index];
    return "body value at " + (pointer.empty() ? std::string("/") : pointer);
}

ErrorClass invalid_class(const ValueRef& ref) noexcept {
    return ref.source == ValueRef::Source::parameter ? ErrorClass::invalid_parameter
                                                     : ErrorClass::invalid_body;
}

TextTemplate TextTemplate::parse(std::string_view text, const RefResolver& resolve) {
    TextTemplate t;
    std::string literal;
    auto flush = [&] {
        if (!literal.empty()) {
            t.parts_.push_back(Part{std::move(literal), std::nullopt});
            literal.clear();
        }
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '}') {
            if (i + 1 < text.size() && text[i + 1] == '}') {
                literal.push_back('}');
                ++i;
                continue;
            }
            throw TemplateError("unmatched '}' (write '}}' for a literal brace)");
        }
        if (c != '{') {
            literal.push_back(c);
            continue;
        }
        if (i + 1 < text.size() && text[i + 1] == '{') {
            literal.push_back('{');
            ++i;
            continue;
        }
        const std::size_t close = text.find('}', i + 1);
        if (close == std::string_view::npos) {
            throw TemplateError("unclosed '{' (write '{{' for a literal brace)");
        }
        const std::string_view inside = text.substr(i + 1, close - i - 1);
        if (inside.find('{') != std::string_view::npos) {
            throw TemplateError("'{' inside a placeholder");
        }
        flush();
        t.parts_.push_back(Part{{}, resolve(inside)});
        i = close;
    }
    flush();
    return t;
}

bool TextTemplate::has_placeholders() const noexcept {
    for (const auto& p : parts_) {
        if (p.ref) {
            return true;
        }
    }
    return false;
}

bool TextTemplate::is_single_placeholder() const noexcept {
    return parts_.size() == 1 && parts_.front().ref.has_value();
}

std::string TextTemplate::literal_text() const {
    std::string out;
    for (const auto& p : parts_) {
        out += p.literal;
    }
    return out;
}

const ValueRef* TextTemplate::render(const CallValues& values, std::string& out,
                                     TextLookup& lookup) const {
    lookup = TextLookup::found;
    for (const auto& p : parts_) {
        if (!p.ref) {
            out += p.literal;
            continue;
        }
        lookup = append_text(*p.ref, values, out);
        if (lookup != TextLookup::found) {
            return &*p.ref;
        }
    }
    return nullptr;
}

PathTemplate PathTemplate::parse(std::string_view text, const RefResolver& resolve) {
    while (!text.empty() && text.front() == '/') {
        text.remove_prefix(1);
    }
    PathTemplate p;
    p.text_ = TextTemplate::parse(text, resolve);
    for (const auto& part : p.text_.parts()) {
        if (part.ref) {
            continue;
        }
        check_path_literal(part.literal);
    }
    // Dot segments written literally would climb out of base_url's path.
    std::string segment;
    bool segment_has_ref = false;
    auto check_segment = [&] {
        if (!segment_has_ref && (segment == "." || segment == "..")) {
            throw TemplateError("path: '.' and '..' segments are not allowed");
        }
        segment.clear();
        segment_has_ref = false;
    };
    for (const auto& part : p.text_.parts()) {
        if (part.ref) {
            segment_has_ref = true;
            continue;
        }
        for (const char c : part.literal) {
            if (c == '/') {
                check_segment();
            } else {
                segment.push_back(c);
            }
        }
    }
    check_segment();
    return p;
}

std::optional<CallError> PathTemplate::append_to(std::string& url, const CallValues& values) const {
    std::size_t segment_start = url.size();
    const ValueRef* segment_ref = nullptr;
    auto segment_ok = [&] {
        if (segment_ref == nullptr) {
            return true;
        }
        const std::string_view segment(url.data() + segment_start, url.size() - segment_start);
        return !(segment.empty() || segment == "." || segment == "..");
    };
    auto refuse = [&] {
        return CallError{
            invalid_class(*segment_ref),
            describe(*segment_ref, values) + " cannot make an empty, '.' or '..' path segment"};
    };
    std::string value;
    for (const auto& part : text_.parts()) {
        if (!part.ref) {
            std::size_t pos = 0;
            for (std::size_t slash; (slash = part.literal.find('/', pos)) != std::string::npos;
                 pos = slash + 1) {
                url.append(part.literal, pos, slash - pos);
                if (!segment_ok()) {
                    return refuse();
                }
                url.push_back('/');
                segment_start = url.size();
                segment_ref = nullptr;
            }
            url.append(part.literal, pos);
            continue;
        }
        value.clear();
        switch (append_text(*part.ref, values, value)) {
            case TextLookup::found:
                break;
            case TextLookup::absent:
                return CallError{part.ref->source == ValueRef::Source::parameter
                                     ? ErrorClass::missing_parameter
                                     : ErrorClass::invalid_body,
                                 describe(*part.ref, values) + " is missing"};
            case TextLookup::not_scalar:
                return CallError{
                    ErrorClass::invalid_body,
                    describe(*part.ref, values) + " must be a string, a number or a boolean"};
        }
        append_path_segment(url, value);
        if (segment_ref == nullptr) {
            segment_ref = &*part.ref;
        }
    }
    if (!segment_ok()) {
        return refuse();
    }
    return std::nullopt;
}

void QueryTemplate::add(std::string_view key, std::string_view value, const RefResolver& resolve) {
    Entry e;
    append_form_encoded(e.encoded_key, key);
    e.value = TextTemplate::parse(value, resolve);
    entries_.push_back(std::move(e));
}

std::optional<CallError> QueryTemplate::append_to(std::string& url,
                                                  const CallValues& values) const {
    bool first = true;
    std::string value;
    for (const auto& e : entries_) {
        value.clear();
        TextLookup lookup = TextLookup::found;
        if (const ValueRef* ref = e.value.render(values, value, lookup)) {
            if (lookup == TextLookup::not_scalar) {
                return CallError{
                    ErrorClass::invalid_body,
                    describe(*ref, values) + " must be a string, a number or a boolean"};
            }
            continue;
        }
        url.push_back(first ? '?' : '&');
        first = false;
        url += e.encoded_key;
        url.push_back('=');
        append_form_encoded(url, value);
    }
    return std::nullopt;
}

void HeaderTemplate::add(std::string_view name, std::string_view value,
                         const RefResolver& resolve) {
    if (!is_header_name(name)) {
        throw TemplateError("'" + std::string(name) + "' is not a valid header name");
    }
    Entry e{std::string(name), TextTemplate::parse(value, resolve)};
    for (const auto& part : e.value.parts()) {
        if (!part.ref && has_control_chars(part.literal)) {
            throw TemplateError("header '" + e.name + "': control characters are not allowed");
        }
    }
    entries_.push_back(std::move(e));
}

std::optional<CallError> HeaderTemplate::append_to(std::vector<Header>& headers,
                                                   const CallValues& values) const {
    std::string value;
    for (const auto& e : entries_) {
        value.clear();
        TextLookup lookup = TextLookup::found;
        const ValueRef* missing = e.value.render(values, value, lookup);
        if (missing != nullptr) {
            if (lookup == TextLookup::not_scalar) {
                return CallError{
                    ErrorClass::invalid_body,
                    describe(*missing, values) + " must be a string, a number or a boolean"};
            }
            continue;
        }
        // Literal parts were checked at load, so a control character here
        // came from a value: name the first placeholder that brought one.
        if (has_control_chars(value)) {
            for (const auto& part : e.value.parts()) {
                std::string one;
                if (part.ref && append_text(*part.ref, values, one) == TextLookup::found &&
                    has_control_chars(one)) {
                    return CallError{invalid_class(*part.ref),
                                     describe(*part.ref, values) +
                                         " must not contain control characters (header '" + e.name +
                                         "')"};
                }
            }
        }
        headers.push_back(Header{e.name, value});
    }
    return std::nullopt;
}

}  // namespace relais::rest
