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

/// Why a body schema cannot be used: where in it (a JSON Pointer from the
/// schema's root) and what.
struct SchemaProblem {
    std::string pointer;
    std::string message;
};

/// What RapidJSON 1.1.0's validator would mishandle in `schema`, found
/// before it is built: a `$ref` that is not local or leads nowhere (it
/// would accept anything there), a chain of `$ref`s that comes back to
/// itself (it would recurse until the stack overflows), a `pattern` or
/// `patternProperties` key its regular expressions cannot compile (it would
/// skip the check).
std::optional<SchemaProblem> check_body_schema(const rapidjson::Value& schema);

/// A compiled JSON Schema (draft-04) for call bodies, checked with
/// check_body_schema first.
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
/// failing place (never a value), or when a string holds U+0000 (RapidJSON's
/// patterns stop reading there).
std::optional<CallError> parse_body(std::string_view body, const BodySchema* schema,
                                    rapidjson::Document& doc);

/// Parses `text` in place under the rules of parse_untrusted_json, but on
/// a fault `doc` is left as it was. The document's strings point into
/// `text`, which the parse rewrites (escapes decoded, terminators
/// written): `text` must outlive `doc` and is no longer the JSON
/// afterwards, whether the parse succeeds or not.
JsonParse parse_json(std::string& text, rapidjson::Document& doc);

}  // namespace relais::rest
