#pragma once
/// @file
/// Secret references in configuration strings, substituted after schema
/// validation so that secrets never reach a schema error:
///
/// | written            | becomes                                                        |
/// |--------------------|----------------------------------------------------------------|
/// | `${env:NAME}`      | the environment variable NAME (an error if it is unset)        |
/// | `${file:PATH}`     | the file's content without one trailing newline; PATH relative to the
/// YAML file | | `$${`              | a literal `${` |
///
/// References may be embedded ("Bearer ${env:TOKEN}"). Errors name the
/// variable or the file, never a value.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_document.hpp"
#include "core/config_error.hpp"

namespace relais::config {

/// Expands the references of `text`. On failure returns false and sets
/// `error` to a message that names what is missing, never a secret.
bool expand_secrets(std::string_view text, const std::filesystem::path& base_directory,
                    std::string& out, std::string& error);

/// Substitutes every string value of `document` in place (keys are left
/// alone). Returns one error per string that could not be expanded, at
/// its position.
std::vector<ConfigError> substitute_secrets(ConfigDocument& document);

}  // namespace relais::config
