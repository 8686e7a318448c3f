#include "core/config_error.hpp"

namespace relais {

namespace {

std::string format(const std::string& file, SourcePosition p, const std::string& message) {
    std::string out = file;
    if (p.line > 0) {
        out += ':' + std::to_string(p.line) + ':' + std::to_string(p.column);
    }
    out += ": ";
    out += message;
    return out;
}

}  // namespace

void SourceMap::add(std::string pointer, SourcePosition position) {
    positions_.insert_or_assign(std::move(pointer), position);
}

SourcePosition SourceMap::find(std::string_view pointer) const {
    std::string key(pointer);
    for (;;) {
        if (auto it = positions_.find(key); it != positions_.end()) {
            return it->second;
        }
        if (key.empty()) {
            return {};
        }
        key.erase(key.rfind('/'));
    }
}

ConfigError::ConfigError(const std::string& file, SourcePosition position,
                         const std::string& message)
    : std::runtime_error(format(file, position, message)),
      file_(file),
      position_(position),
      message_(message) {}

ConfigError::ConfigError(const SourceMap& map, std::string_view pointer, const std::string& message)
    : ConfigError(map.file(), map.find(pointer), message) {}

ConfigErrors::ConfigErrors(std::vector<ConfigError> errors) : errors_(std::move(errors)) {
    for (const auto& e : errors_) {
        if (!text_.empty()) {
            text_ += '\n';
        }
        text_ += e.what();
    }
}

}  // namespace relais
