#include "config/secrets.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace relais::config {

namespace {

// A secret is a key or a password, not a document.
constexpr std::size_t max_secret_file_bytes = 64 * 1024;

bool valid_env_name(std::string_view name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
        return false;
    }
    for (char c : name) {
        const bool ok =
            (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool read_env(std::string_view name, std::string& out, std::string& error) {
    if (!valid_env_name(name)) {
        error = "invalid environment variable name in ${env:...} (letters, digits and '_')";
        return false;
    }
    // getenv is safe here: configuration is loaded before any thread could
    // change the environment, and relais never calls setenv.
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) {
        error = "environment variable '" + std::string(name) + "' is not set";
        return false;
    }
    out += value;
    return true;
}

bool read_file(std::string_view name, const std::filesystem::path& base, std::string& out,
               std::string& error) {
    if (name.empty()) {
        error = "empty file name in ${file:...}";
        return false;
    }
    const std::filesystem::path path = base / std::filesystem::path(name);
    const std::string quoted = "'" + std::string(name) + "'";
    std::error_code ec;
    const std::filesystem::file_status status = std::filesystem::status(path, ec);
    if (std::filesystem::is_directory(status)) {
        error = "cannot read secret file " + quoted + ": it is a directory";
        return false;
    }
    // A FIFO or a device would block the reading, a reload's included.
    if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
        error = "cannot read secret file " + quoted + ": it is not a regular file";
        return false;
    }
    std::string content;
    std::string reason;
    if (!read_whole_file(path, max_secret_file_bytes, content, reason)) {
        error = "cannot read secret file " + quoted + ": " + reason;
        return false;
    }
    if (content.ends_with("\r\n")) {
        content.resize(content.size() - 2);
    } else if (content.ends_with('\n')) {
        content.pop_back();
    }
    out += content;
    return true;
}

void substitute(rapidjson::Value& value, rapidjson::Document::AllocatorType& allocator,
                std::string& pointer, ConfigDocument& document, std::vector<ConfigError>& errors) {
    if (value.IsObject()) {
        for (auto& member : value.GetObject()) {
            const std::size_t length = pointer.size();
            append_pointer_token(pointer, {member.name.GetString(), member.name.GetStringLength()});
            substitute(member.value, allocator, pointer, document, errors);
            pointer.resize(length);
        }
    } else if (value.IsArray()) {
        std::size_t index = 0;
        for (auto& item : value.GetArray()) {
            const std::size_t length = pointer.size();
            pointer += '/';
            pointer += std::to_string(index++);
            substitute(item, allocator, pointer, document, errors);
            pointer.resize(length);
        }
    } else if (value.IsString()) {
        const std::string_view text(value.GetString(), value.GetStringLength());
        if (text.find('$') == std::string_view::npos) {
            return;
        }
        std::string expanded;
        std::string error;
        if (!expand_secrets(text, document.directory, expanded, error)) {
            errors.emplace_back(document.values, pointer, error);
            return;
        }
        value.SetString(expanded, allocator);
    }
}

}  // namespace

bool expand_secrets(std::string_view text, const std::filesystem::path& base_directory,
                    std::string& out, std::string& error) {
    out.clear();
    std::size_t i = 0;
    while (i < text.size()) {
        if (text.substr(i, 3) == "$${") {
            out += "${";
            i += 3;
            continue;
        }
        if (text.substr(i, 2) != "${") {
            out += text[i++];
            continue;
        }
        const std::size_t close = text.find('}', i + 2);
        if (close == std::string_view::npos) {
            error = "unterminated '${': write ${env:NAME}, ${file:PATH}, or $${ for a literal ${";
            return false;
        }
        const std::string_view reference = text.substr(i + 2, close - i - 2);
        bool ok = false;
        if (reference.starts_with("env:")) {
            ok = read_env(reference.substr(4), out, error);
        } else if (reference.starts_with("file:")) {
            ok = read_file(reference.substr(5), base_directory, out, error);
        } else {
            error =
                "unknown reference '${...}': write ${env:NAME}, ${file:PATH}, or $${ for a "
                "literal ${";
        }
        if (!ok) {
            return false;
        }
        i = close + 1;
    }
    return true;
}

std::vector<ConfigError> substitute_secrets(ConfigDocument& document) {
    std::vector<ConfigError> errors;
    std::string pointer;
    substitute(document.json, document.json.GetAllocator(), pointer, document, errors);
    return errors;
}

}  // namespace relais::config
