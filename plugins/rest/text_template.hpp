#pragma once
/// @file
/// Templates of the upstream request's path, query and headers.
///
/// A template is split once, at load, into literal parts and placeholders:
/// `{name}` (a parameter), `{body:/pointer}` (a value of the JSON body,
/// `{body:/}` for the whole body); `{{` and `}}` are literal braces.
/// Placeholders are resolved to indexes at load, so a call does no lookup by
/// name. Values are escaped for their context by construction and never
/// scanned for placeholders.

#include <rapidjson/fwd.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/http_types.hpp"
#include "core/strings.hpp"
#include "rest/parameters.hpp"

namespace relais::rest {

/// A template that cannot be parsed; the message quotes no value.
class TemplateError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Where a placeholder takes its value from.
struct ValueRef {
    enum class Source : unsigned char { parameter, body };
    Source source = Source::parameter;
    std::size_t index = 0;  ///< parameter index, or index in the endpoint's body pointers
};

/// Maps the inside of a placeholder ("name", "body:/a/b") to a ValueRef;
/// throws TemplateError if it names nothing.
using RefResolver = std::function<ValueRef(std::string_view placeholder)>;

/// The values of one call, indexed like the endpoint's tables, with the
/// names needed to describe a refusal.
struct CallValues {
    const ParameterList& parameter_specs;
    std::span<const std::optional<TypedValue>> parameters;
    std::span<const std::string> body_pointer_texts;
    std::span<const rapidjson::Value* const> body_values;  ///< nullptr: absent
};

/// Outcome of reading a value as text.
enum class TextLookup { found, absent, not_scalar };

/// Appends the text of `ref` (raw, unescaped). JSON null counts as absent;
/// objects and arrays are not_scalar.
TextLookup append_text(const ValueRef& ref, const CallValues& values, std::string& out);

/// "parameter 'x'" or "body value at /x", for refusals.
std::string describe(const ValueRef& ref, const CallValues& values);

/// invalid_parameter for a parameter, invalid_body for a body value.
ErrorClass invalid_class(const ValueRef& ref) noexcept;

/// A string with placeholders.
class TextTemplate {
public:
    struct Part {
        std::string literal;  ///< used when `ref` is empty
        std::optional<ValueRef> ref;
    };

    /// Splits `text`; throws TemplateError on an unbalanced brace or an
    /// unknown placeholder.
    static TextTemplate parse(std::string_view text, const RefResolver& resolve);

    const std::vector<Part>& parts() const noexcept { return parts_; }
    bool has_placeholders() const noexcept;
    /// True if the template is exactly one placeholder and nothing else.
    bool is_single_placeholder() const noexcept;
    /// The text of a template without placeholders.
    std::string literal_text() const;

    /// Appends the substituted text (unescaped). Returns the placeholder
    /// that had no value or a non-scalar one, if any; `lookup` says which.
    const ValueRef* render(const CallValues& values, std::string& out, TextLookup& lookup) const;

private:
    std::vector<Part> parts_;
};

/// The path appended to base_url. A segment holding a placeholder must not
/// come out empty, `.` or `..`.
class PathTemplate {
public:
    PathTemplate() = default;
    /// Throws TemplateError if a literal part holds a character that is
    /// not allowed unescaped in a path, or a `.`/`..` segment.
    static PathTemplate parse(std::string_view text, const RefResolver& resolve);

    bool empty() const noexcept { return text_.parts().empty(); }
    const TextTemplate& text() const noexcept { return text_; }
    /// Appends the escaped path (without a leading '/').
    std::optional<CallError> append_to(std::string& url, const CallValues& values) const;

private:
    TextTemplate text_;
};

/// The upstream query string. An entry whose value needs a missing value
/// is left out.
class QueryTemplate {
public:
    /// Adds `key=value` (the key is literal); throws TemplateError.
    void add(std::string_view key, std::string_view value, const RefResolver& resolve);
    bool empty() const noexcept { return entries_.empty(); }
    /// Appends `?k=v&…` (nothing if every entry was left out).
    std::optional<CallError> append_to(std::string& url, const CallValues& values) const;

private:
    struct Entry {
        std::string encoded_key;
        TextTemplate value;
    };
    std::vector<Entry> entries_;
};

/// Upstream request headers. A header whose value needs a missing value is
/// left out; a value with a control character is refused.
class HeaderTemplate {
public:
    /// Adds a header; throws TemplateError if the name is not an HTTP token
    /// or the literal text holds a control character.
    void add(std::string_view name, std::string_view value, const RefResolver& resolve);
    std::optional<CallError> append_to(std::vector<Header>& headers,
                                       const CallValues& values) const;

private:
    struct Entry {
        std::string name;
        TextTemplate value;
    };
    std::vector<Entry> entries_;
};

}  // namespace relais::rest
