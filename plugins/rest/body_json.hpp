#pragma once
/// @file
/// Parsing the JSON relais receives: call bodies (checked against the
/// endpoint's `body_schema`) and upstream answers.
///
/// Documents are parsed iteratively and their nesting is capped, because
/// later walks over them (copying, writing) recurse once per level.

#include <rapidjson/fwd.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "rest/parameters.hpp"

namespace relais::rest {

/// True if `json` nests arrays/objects deeper than `limit` (strings and
/// their escapes are skipped; the text need not be valid JSON).
bool exceeds_depth(std::string_view json, unsigned limit) noexcept;

/// A compiled JSON Schema (draft-04) for call bodies.
class BodySchema {
public:
    explicit BodySchema(const rapidjson::Value& schema);
    ~BodySchema();
    BodySchema(const BodySchema&) = delete;
    BodySchema& operator=(const BodySchema&) = delete;

    struct Impl;

private:
    friend std::optional<CallError> parse_body(std::string_view, const BodySchema*,
                                               rapidjson::Document&);
    std::unique_ptr<Impl> impl_;
};

/// Parses a call body into `doc` and, if `schema` is given, validates it:
/// invalid_json (400) if it is not UTF-8 JSON or nests too deep,
/// invalid_body (400) naming the schema keyword and the JSON Pointer of the
/// failing place (never a value).
std::optional<CallError> parse_body(std::string_view body, const BodySchema* schema,
                                    rapidjson::Document& doc);

/// Parses an upstream answer in place; false if it is not UTF-8 JSON or nests
/// too deep. The document's strings point into `text`, which the parse
/// rewrites (escapes decoded, terminators written): `text` must outlive
/// `doc` and is no longer the answer afterwards, whether the parse succeeds
/// or not.
bool parse_json(std::string& text, rapidjson::Document& doc);

}  // namespace relais::rest
