#pragma once
/// @file
/// Turns one failure reported by RapidJSON's schema validator (a keyword and
/// the JSON Pointer of the failing value) into a ConfigError that says what
/// was expected, by reading the schema node that failed. Internal to
/// config_schema.cpp; separate so that the wording can be read in one go.

#include <rapidjson/document.h>

#include <string>
#include <string_view>
#include <vector>

#include "config/config_document.hpp"
#include "core/config_error.hpp"

namespace relais::config {

/// The raw JSON of a core schema by file name ("connector.schema.json"),
/// to follow `$ref`s into it; nullptr if unknown.
const rapidjson::Value* core_schema_source(std::string_view file_name);

/// The errors for a failure of `keyword` at `tokens` (unescaped JSON
/// Pointer tokens) when validating `instance` against `schema`; `source`
/// gives the positions and the file name. Usually one error; one per
/// missing property for `required`. `removed` lists the pointers of members
/// taken out of `instance` after earlier errors: a failure they explain (a
/// required property that was removed, a mapping whose invalid member was)
/// is no new error, and nothing is returned.
std::vector<ConfigError> describe_failure(const rapidjson::Value& schema,
                                          const rapidjson::Value& instance,
                                          const ConfigDocument& source, std::string_view keyword,
                                          const std::vector<std::string>& tokens,
                                          const std::vector<std::string>& removed);

/// Checks member names of mappings whose schema closes them with
/// `additionalProperties: false` and names them with `patternProperties`
/// (RapidJSON validates those through a rewritten schema that cannot).
/// Appends one error per misnamed member and its pointer to `misnamed`.
void check_member_names(const rapidjson::Value& schema, const rapidjson::Value& instance,
                        const ConfigDocument& source, std::vector<ConfigError>& errors,
                        std::vector<std::string>& misnamed);

}  // namespace relais::config
