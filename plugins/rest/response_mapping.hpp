#pragma once
/// @file
/// Turns an upstream JSON answer into the `data` of relais's envelope.
///
/// `data` (a JSON Pointer, default: the whole answer) selects the value;
/// with `list`, it must be an array and each item is mapped; `fields` maps
/// output names to pointers inside the value (or item). A field whose
/// pointer finds nothing is null, so that every item has the same keys.
/// Without `fields`, the value is passed through as is.
///
/// Answers are parsed with simdjson, which checks UTF-8 and the JSON
/// grammar several bytes at a time; the pointers are compiled by RapidJSON
/// when the connector loads, so that a bad one is refused then, and kept as
/// their unescaped tokens, so that an answer is searched without reading
/// the pointers' text again.

#include <rapidjson/pointer.h>

#include <optional>
#include <string>
#include <vector>

#include "rest/parameters.hpp"

namespace relais::rest {

class ResponseMapping {
public:
    /// One reference token of a pointer, unescaped ("~1" is '/').
    struct Step {
        std::string name;  ///< the member's name, inside an object
        /// The position, inside an array; nullopt if `name` is not an index.
        std::optional<std::size_t> index;
    };

    struct Field {
        std::string name;
        /// The pointer's tokens, as compile_pointer read them.
        std::vector<Step> steps;
    };

    ResponseMapping() = default;
    /// Throws std::invalid_argument naming the bad pointer.
    ResponseMapping(const std::string& data_pointer, bool list,
                    const std::vector<std::pair<std::string, std::string>>& fields);

    /// Writes the mapped data of `answer` into `out` as JSON, or fails with
    /// upstream_invalid_response when the answer is not UTF-8 JSON, nests
    /// deeper than max_json_depth, or is not of the shape declared. The
    /// answer's capacity may grow (the parser reads a little past its end).
    std::optional<CallError> apply(std::string& answer, std::string& out) const;

private:
    std::string data_text_;
    std::vector<Step> data_steps_;
    bool list_ = false;
    std::vector<Field> fields_;
};

/// A JSON Pointer compiled from YAML; throws std::invalid_argument if
/// `text` is not one ("" is the whole document).
rapidjson::Pointer compile_pointer(const std::string& text);

}  // namespace relais::rest
