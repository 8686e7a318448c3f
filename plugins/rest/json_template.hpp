#pragma once
/// @file
/// The JSON body sent upstream, as a template written in YAML.
///
/// A string that is exactly one placeholder becomes the typed value (an
/// integer parameter stays a number, `{body:/x}` copies that part of the
/// call's body, `{body:/}` the whole body); placeholders inside a longer
/// string are substituted as text. Output goes through a JSON writer, so
/// values are always escaped. A member whose value is missing is left out;
/// a missing array item becomes null. Keys are never templated.

#include <rapidjson/fwd.h>

#include <memory>
#include <optional>
#include <string>

#include "rest/text_template.hpp"
#include "rest/wire_format.hpp"

namespace relais::rest {

class JsonTemplate final : public BodyTemplate {
public:
    JsonTemplate();
    ~JsonTemplate();
    JsonTemplate(JsonTemplate&&) noexcept;
    JsonTemplate& operator=(JsonTemplate&&) noexcept;

    /// Compiles `value` (any JSON); throws TemplateError naming the JSON
    /// Pointer, relative to `value`, of a bad string.
    static JsonTemplate parse(const rapidjson::Value& value, const RefResolver& resolve);

    /// Writes the body into `out`. Fails only when a placeholder inside a
    /// longer string names an object or an array of the call's body.
    std::optional<CallError> render(const CallValues& values, std::string& out) const override;

    struct Node;

private:
    std::unique_ptr<const Node> root_;
};

}  // namespace relais::rest
