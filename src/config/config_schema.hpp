#pragma once
/// @file
/// JSON Schema (draft-04) validation of configuration documents, with
/// errors that say what to write instead:
///
///     connectors/x.yaml:3:1: unknown property 'enpoints' (expected one of: slug, kind, ...)
///     relais.yaml:12:19: server.limits.body_bytes: expected an integer >= 1024
///
/// Schemas may `$ref` the core's schemas by file name,
/// `connector.schema.json#/definitions/...` and `relais.schema.json#/...`.

#include <memory>
#include <string_view>
#include <vector>

#include "config/config_document.hpp"
#include "core/config_error.hpp"

namespace relais::config {

/// A compiled schema. Immutable: validate() may run on several threads.
class ConfigSchema {
public:
    /// Compiles `schema_json`. Throws std::invalid_argument if it is not a
    /// JSON object.
    explicit ConfigSchema(std::string_view schema_json);
    ~ConfigSchema();
    ConfigSchema(ConfigSchema&&) noexcept;
    ConfigSchema& operator=(ConfigSchema&&) noexcept;

    /// Every error of `document`, in document order; empty if it is valid.
    /// Messages quote keys and enumerated values only, never free values.
    std::vector<ConfigError> validate(const ConfigDocument& document) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// schemas/relais.schema.json, compiled once.
const ConfigSchema& relais_schema();
/// schemas/connector.schema.json, compiled once.
const ConfigSchema& connector_schema();

}  // namespace relais::config
