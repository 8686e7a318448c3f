#pragma once
/// @file
/// Start-up and reload errors. They carry the YAML position that caused
/// them and read `file:line:column: message` (lines and columns from 1).

#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace relais {

/// A position in a source file; 0 means unknown.
struct SourcePosition {
    int line = 0;
    int column = 0;
};

/// Where each value of a document converted from YAML came from, keyed by
/// JSON Pointer ("" is the root, "/endpoints/search/method" a leaf).
class SourceMap {
public:
    explicit SourceMap(std::string file = {}) : file_(std::move(file)) {}

    void add(std::string pointer, SourcePosition position);
    /// Position of `pointer`, or of its nearest ancestor that has one.
    SourcePosition find(std::string_view pointer) const;
    const std::string& file() const noexcept { return file_; }

private:
    std::string file_;
    std::unordered_map<std::string, SourcePosition> positions_;
};

/// One configuration error. `what()` is the full `file:line:column: message`.
class ConfigError : public std::runtime_error {
public:
    ConfigError(const std::string& file, SourcePosition position, const std::string& message);
    /// Error at the position of `pointer` in `map`.
    ConfigError(const SourceMap& map, std::string_view pointer, const std::string& message);

    const std::string& file() const noexcept { return file_; }
    SourcePosition position() const noexcept { return position_; }
    const std::string& message() const noexcept { return message_; }

private:
    std::string file_;
    SourcePosition position_;
    std::string message_;
};

/// Every error found while loading a configuration; thrown once at the end
/// of validation so that `relais validate` reports them all at once.
class ConfigErrors : public std::exception {
public:
    explicit ConfigErrors(std::vector<ConfigError> errors);
    const std::vector<ConfigError>& errors() const noexcept { return errors_; }
    /// All errors, one per line.
    const char* what() const noexcept override { return text_.c_str(); }

private:
    std::vector<ConfigError> errors_;
    std::string text_;
};

}  // namespace relais
