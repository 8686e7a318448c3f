#pragma once
/// @file
/// YAML configuration files as JSON documents that remember where every
/// value came from, so that schema and semantic errors can point at the
/// line and column to fix.
///
/// Conversion follows the YAML 1.2 core schema: plain scalars become null,
/// booleans, integers or floats when they look like one, quoted scalars
/// always stay strings (`"123"` is a string, `123` an integer). Mapping keys
/// become JSON member names; duplicate keys are an error. Anchors and
/// aliases are expanded.

#include <rapidjson/document.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "core/config_error.hpp"

namespace relais::config {

/// A configuration file converted from YAML.
struct ConfigDocument {
    rapidjson::Document json;
    /// JSON Pointer -> position of the value ("" is the whole document).
    SourceMap values;
    /// JSON Pointer -> position of the mapping key that names the member,
    /// for errors about the key itself ("unknown property").
    SourceMap keys;
    /// Directory of the file: base of its relative paths and of `${file:…}`.
    std::filesystem::path directory;
};

/// How `file` is named in error messages: relative to the working
/// directory when it lies below it, absolute otherwise.
std::string display_path(const std::filesystem::path& file);

/// Converts YAML text; `file` names it in errors. Throws ConfigErrors
/// (syntax errors, duplicate keys, keys that are not scalars, `.inf`/`.nan`,
/// integers out of range).
ConfigDocument parse_yaml(std::string_view text, const std::string& file,
                          std::filesystem::path directory);

/// Reads and converts a YAML file. Throws ConfigErrors, also when the file
/// cannot be read.
ConfigDocument load_yaml_file(const std::filesystem::path& file);

/// Reads a whole file into `out`. On failure (unreadable, or larger than
/// `max_bytes`) returns false with the reason in `error`.
bool read_whole_file(const std::filesystem::path& file, std::size_t max_bytes, std::string& out,
                     std::string& error);

/// Appends `token` to the JSON Pointer `pointer`, escaping '~' and '/'.
void append_pointer_token(std::string& pointer, std::string_view token);

}  // namespace relais::config
