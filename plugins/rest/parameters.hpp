#pragma once
/// @file
/// Query parameters of a REST endpoint: declared in YAML with a type and
/// constraints, typed and checked on every call. Patterns are compiled once,
/// when the connector is built.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error_class.hpp"
#include "core/http_types.hpp"

namespace relais::rest {

/// The type a parameter's text is parsed into.
enum class ParamType : unsigned char { string, integer, number, boolean };

/// Name of a type as written in YAML (`string`, `integer`...).
std::string_view to_string(ParamType type) noexcept;

/// A parameter value after typing. `text` is canonical: the string itself,
/// the shortest decimal form of a number, `true`/`false`.
struct TypedValue {
    ParamType type = ParamType::string;
    std::string text;
    std::int64_t integer = 0;
    double number = 0;
    bool boolean = false;
};

/// Why a call is refused before or after reaching the upstream. The
/// description names parameters and JSON Pointers, never values.
struct CallError {
    ErrorClass error;
    std::string description;
};

/// Longest raw value accepted unless `max_length` says otherwise.
inline constexpr std::size_t default_max_length = 1024;

/// One declared parameter.
struct ParameterSpec {
    std::string name;
    ParamType type = ParamType::string;
    bool required = false;
    std::optional<TypedValue> default_value;
    /// ECMAScript regular expression searched in the raw text (anchor it
    /// with ^…$ to match the whole value, as in JSON Schema); empty: none.
    std::string pattern;
    std::size_t max_length = default_max_length;
    std::optional<double> minimum;  ///< integer and number only
    std::optional<double> maximum;  ///< integer and number only
};

/// The parameters of one endpoint, in declaration order.
class ParameterList {
public:
    ParameterList();
    ~ParameterList();
    ParameterList(ParameterList&&) noexcept;
    ParameterList& operator=(ParameterList&&) noexcept;

    /// Adds a parameter and returns its index. Throws std::invalid_argument
    /// (message without values) if its pattern does not compile.
    std::size_t add(ParameterSpec spec);

    /// Sets the value used when parameter `index` is absent (typed with
    /// check() at load).
    void set_default(std::size_t index, TypedValue value);

    std::size_t size() const noexcept { return specs_.size(); }
    const ParameterSpec& operator[](std::size_t index) const { return specs_[index]; }
    /// Index of the parameter called `name`; for load time only.
    std::optional<std::size_t> find(std::string_view name) const noexcept;

    /// Types `text` as parameter `index` and checks its constraints. On
    /// failure returns why, as a phrase to put after the parameter's name
    /// ("must be an integer").
    std::optional<std::string> check(std::size_t index, std::string_view text,
                                     TypedValue& out) const;

    /// Types every parameter from `query` into `out` (one slot per
    /// parameter, in order). The first occurrence of a name counts; an empty
    /// value counts as absent; an absent parameter takes its default, or
    /// fails with missing-parameter if required. Undeclared names are
    /// ignored.
    std::optional<CallError> bind(const QueryParams& query,
                                  std::vector<std::optional<TypedValue>>& out) const;

private:
    struct Pattern;
    std::vector<ParameterSpec> specs_;
    std::vector<std::unique_ptr<const Pattern>> patterns_;
};

}  // namespace relais::rest
