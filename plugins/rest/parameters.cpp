#include "rest/parameters.hpp"

#include <re2/re2.h>

#include <charconv>
#include <cmath>
#include <stdexcept>

#include "core/utf8.hpp"

namespace relais::rest {

// RE2 rather than a backtracking engine (std::regex, Boost.Regex): patterns
// run on I/O threads against caller values, and RE2 matches in time linear
// in the value whatever the pattern, without recursion. It reads patterns
// and values as UTF-8, so that `.` and classes are characters, not bytes.
struct ParameterList::Pattern {
    explicit Pattern(const std::string& pattern) : regex(pattern, options()) {}

    static RE2::Options options() {
        RE2::Options options;
        options.set_log_errors(false);
        options.set_never_capture(true);
        return options;
    }

    RE2 regex;
};

namespace {

std::string format_number(double value) {
    char buf[64];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    return ec == std::errc{} ? std::string(buf, end) : std::string("?");
}

bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        const char x = (a[i] >= 'A' && a[i] <= 'Z') ? static_cast<char>(a[i] + 32) : a[i];
        if (x != b[i]) {
            return false;
        }
    }
    return true;
}

// Parses `text` as `type`; false if it is not a value of that type.
bool parse_typed(ParamType type, std::string_view text, TypedValue& out) {
    out.type = type;
    const char* first = text.data();
    const char* last = text.data() + text.size();
    switch (type) {
        case ParamType::string:
            out.text.assign(text);
            return true;
        case ParamType::integer: {
            const auto [end, ec] = std::from_chars(first, last, out.integer);
            if (ec != std::errc{} || end != last) {
                return false;
            }
            out.number = static_cast<double>(out.integer);
            char buf[24];
            const auto written = std::to_chars(buf, buf + sizeof buf, out.integer);
            out.text.assign(buf, written.ptr);
            return true;
        }
        case ParamType::number: {
            const auto [end, ec] = std::from_chars(first, last, out.number);
            if (ec != std::errc{} || end != last || !std::isfinite(out.number)) {
                return false;
            }
            out.text = format_number(out.number);
            return true;
        }
        case ParamType::boolean:
            if (iequals_ascii(text, "true") || text == "1") {
                out.boolean = true;
            } else if (iequals_ascii(text, "false") || text == "0") {
                out.boolean = false;
            } else {
                return false;
            }
            out.text = out.boolean ? "true" : "false";
            return true;
    }
    return false;
}

}  // namespace

std::string_view to_string(ParamType type) noexcept {
    switch (type) {
        case ParamType::string:
            return "string";
        case ParamType::integer:
            return "integer";
        case ParamType::number:
            return "number";
        case ParamType::boolean:
            return "boolean";
    }
    return "string";
}

ParameterList::ParameterList() = default;
ParameterList::~ParameterList() = default;
ParameterList::ParameterList(ParameterList&&) noexcept = default;
ParameterList& ParameterList::operator=(ParameterList&&) noexcept = default;

std::size_t ParameterList::add(ParameterSpec spec) {
    std::unique_ptr<const Pattern> pattern;
    if (!spec.pattern.empty()) {
        // RE2's defaults are JSON Schema's: ^ and $ anchor the whole value,
        // not a line, and '.' does not match a newline.
        pattern = std::make_unique<const Pattern>(spec.pattern);
        if (!pattern->regex.ok()) {
            throw std::invalid_argument(
                "pattern is not a regular expression relais can run (RE2 syntax: " +
                pattern->regex.error() + ")");
        }
    }
    specs_.push_back(std::move(spec));
    patterns_.push_back(std::move(pattern));
    return specs_.size() - 1;
}

void ParameterList::set_default(std::size_t index, TypedValue value) {
    specs_[index].default_value = std::move(value);
}

std::optional<std::size_t> ParameterList::find(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < specs_.size(); ++i) {
        if (specs_[i].name == name) {
            return i;
        }
    }
    return std::nullopt;
}

std::optional<std::string> ParameterList::check(std::size_t index, std::string_view text,
                                                TypedValue& out) const {
    const ParameterSpec& spec = specs_[index];
    if (text.size() > spec.max_length) {
        return "is longer than " + std::to_string(spec.max_length) + " bytes";
    }
    if (!is_valid_utf8(text)) {
        return "is not valid UTF-8";
    }
    if (!parse_typed(spec.type, text, out)) {
        switch (spec.type) {
            case ParamType::integer:
                return "must be an integer";
            case ParamType::number:
                return "must be a number";
            case ParamType::boolean:
                return "must be true or false";
            case ParamType::string:
                break;
        }
    }
    if (const auto& pattern = patterns_[index];
        pattern && !RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), pattern->regex)) {
        return "does not match its pattern";
    }
    if (spec.type == ParamType::integer || spec.type == ParamType::number) {
        if (spec.minimum && out.number < *spec.minimum) {
            return "must be >= " + format_number(*spec.minimum);
        }
        if (spec.maximum && out.number > *spec.maximum) {
            return "must be <= " + format_number(*spec.maximum);
        }
    }
    return std::nullopt;
}

std::optional<CallError> ParameterList::bind(const QueryParams& query,
                                             std::vector<std::optional<TypedValue>>& out) const {
    out.assign(specs_.size(), std::nullopt);
    for (std::size_t i = 0; i < specs_.size(); ++i) {
        const ParameterSpec& spec = specs_[i];
        const std::string* text = find_param(query, spec.name);
        if (text == nullptr || text->empty()) {
            if (spec.default_value) {
                out[i] = spec.default_value;
            } else if (spec.required) {
                return CallError{ErrorClass::missing_parameter,
                                 "missing parameter '" + spec.name + "'"};
            }
            continue;
        }
        TypedValue value;
        if (auto reason = check(i, *text, value)) {
            return CallError{ErrorClass::invalid_parameter,
                             "parameter '" + spec.name + "' " + *reason};
        }
        out[i] = std::move(value);
    }
    return std::nullopt;
}

}  // namespace relais::rest
