#include "config/config_document.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/utf8.hpp"

namespace relais::config {

namespace {

// Aliases may expand a small file into a huge tree; configuration files
// never come close to these bounds.
constexpr int max_depth = 128;
constexpr std::size_t max_nodes = 1'000'000;
/// Text the converted tree holds (keys, strings, and the JSON Pointers kept
/// for positions): aliases to long keys or strings multiply it.
constexpr std::size_t max_expanded_bytes = 64 * 1024 * 1024;
constexpr std::size_t max_file_bytes = 16 * 1024 * 1024;

SourcePosition position_of(const YAML::Mark& mark) {
    if (mark.is_null() || mark.line < 0) {
        return {};
    }
    return {mark.line + 1, mark.column + 1};
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool all_of(std::string_view s, bool (*pred)(char)) {
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        if (!pred(c)) {
            return false;
        }
    }
    return true;
}

std::string_view without_sign(std::string_view s) {
    if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
        s.remove_prefix(1);
    }
    return s;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?  (YAML 1.2 core schema)
bool is_core_float(std::string_view s) {
    s = without_sign(s);
    std::size_t i = 0;
    std::size_t int_digits = 0;
    while (i < s.size() && is_digit(s[i])) {
        ++i;
        ++int_digits;
    }
    std::size_t frac_digits = 0;
    bool dot = false;
    if (i < s.size() && s[i] == '.') {
        dot = true;
        ++i;
        while (i < s.size() && is_digit(s[i])) {
            ++i;
            ++frac_digits;
        }
    }
    if (int_digits == 0 && (!dot || frac_digits == 0)) {
        return false;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
            ++i;
        }
        const std::size_t exp_start = i;
        while (i < s.size() && is_digit(s[i])) {
            ++i;
        }
        if (i == exp_start) {
            return false;
        }
    }
    return i == s.size();
}

bool is_special_float(std::string_view s) {
    const std::string_view magnitude = without_sign(s);
    if (magnitude == ".inf" || magnitude == ".Inf" || magnitude == ".INF") {
        return true;
    }
    return s == ".nan" || s == ".NaN" || s == ".NAN";
}

/// How yaml-cpp spells the `!!` of a tag.
constexpr std::string_view core_tag_prefix = "tag:yaml.org,2002:";

/// A type of the YAML core schema, named by a tag (`!!int`).
struct CoreType {
    std::string_view name;
    bool (*holds)(const rapidjson::Value&);
};

constexpr std::array<CoreType, 7> core_types{{
    {"str", [](const rapidjson::Value& v) { return v.IsString(); }},
    {"int", [](const rapidjson::Value& v) { return v.IsInt64() || v.IsUint64(); }},
    {"float", [](const rapidjson::Value& v) { return v.IsNumber(); }},
    {"bool", [](const rapidjson::Value& v) { return v.IsBool(); }},
    {"null", [](const rapidjson::Value& v) { return v.IsNull(); }},
    {"map", [](const rapidjson::Value& v) { return v.IsObject(); }},
    {"seq", [](const rapidjson::Value& v) { return v.IsArray(); }},
}};

/// Whether `tag` is the core schema's tag of type `name` (`str` for `!!str`).
bool is_core_tag(std::string_view tag, std::string_view name) {
    return tag.starts_with(core_tag_prefix) && tag.substr(core_tag_prefix.size()) == name;
}

/// The core type `tag` names, or nullptr.
const CoreType* core_type(std::string_view tag) {
    const auto found = std::find_if(core_types.begin(), core_types.end(),
                                    [&](const CoreType& t) { return is_core_tag(tag, t.name); });
    return found == core_types.end() ? nullptr : &*found;
}

/// `tag` as written in YAML: `!!int` for the core schema's.
std::string written_tag(std::string_view tag) {
    return tag.starts_with(core_tag_prefix) ? "!!" + std::string(tag.substr(core_tag_prefix.size()))
                                            : std::string(tag);
}

/// Whether `tag` asks nothing of a value: none ("?" for plain scalars, "!"
/// for quoted ones).
bool is_untagged(std::string_view tag) {
    return tag.empty() || tag == "?" || tag == "!";
}

/// "the tag '!vault' is not supported: " and `advice`, unless the tag
/// cannot be quoted.
std::string unsupported_tag(std::string_view tag, std::string_view advice) {
    if (!is_valid_utf8(tag)) {
        return "a tag is not UTF-8 text";
    }
    return "the tag '" + written_tag(tag) + "' is not supported: " + std::string(advice);
}

/// Why `tag` does not fit `value` as converted, or nullopt when it does: no
/// tag ("?" for plain scalars, "!" for quoted ones), or a core type that
/// holds the value. Any other tag (`!!binary`, `!!timestamp`, `!vault`…)
/// asks for a reading relais does not do.
std::optional<std::string> tag_refusal(std::string_view tag, const rapidjson::Value& value) {
    if (is_untagged(tag)) {
        return std::nullopt;
    }
    if (const CoreType* type = core_type(tag)) {
        if (type->holds(value)) {
            return std::nullopt;
        }
        return "the value is not of the type its tag '" + written_tag(tag) + "' names";
    }
    return unsupported_tag(
        tag, "write the value plainly (strings, numbers, booleans, null, mappings, lists)");
}

class Converter {
public:
    Converter(ConfigDocument& doc, std::vector<ConfigError>& errors) : doc_(doc), errors_(errors) {}

    void convert(const YAML::Node& node, rapidjson::Value& out, std::string& pointer,
                 SourcePosition position, int depth) {
        doc_.values.add(pointer, position);
        bytes_ += pointer.size();
        if (++nodes_ > max_nodes || bytes_ > max_expanded_bytes || depth > max_depth) {
            if (!too_large_) {
                error(position, "the document is too large or too deeply nested");
                too_large_ = true;
            }
            return;
        }
        switch (node.Type()) {
            case YAML::NodeType::Map:
                convert_map(node, out, pointer, depth);
                break;
            case YAML::NodeType::Sequence:
                convert_sequence(node, out, pointer, depth);
                break;
            case YAML::NodeType::Scalar:
                convert_scalar(node, out, position);
                break;
            case YAML::NodeType::Null:
            case YAML::NodeType::Undefined:
                out.SetNull();
                break;
        }
        if (auto refusal = tag_refusal(node.Tag(), out)) {
            error(position, std::move(*refusal));
        }
    }

private:
    void error(SourcePosition position, std::string message) {
        errors_.emplace_back(doc_.values.file(), position, std::move(message));
    }

    void convert_map(const YAML::Node& node, rapidjson::Value& out, std::string& pointer,
                     int depth) {
        out.SetObject();
        std::unordered_map<std::string, SourcePosition> seen;
        for (const auto& pair : node) {
            const YAML::Node key = pair.first;
            const YAML::Node value = pair.second;
            const SourcePosition key_position = position_of(key.Mark());
            if (!key.IsScalar()) {
                error(key_position, "mapping keys must be plain text, not lists or mappings");
                continue;
            }
            const std::string& name = key.Scalar();
            if (!is_valid_utf8(name)) {
                error(key_position, "a key is not UTF-8 text");
                continue;
            }
            if (const std::string& tag = key.Tag(); !is_untagged(tag) && !is_core_tag(tag, "str")) {
                error(key_position, unsupported_tag(tag, "keys are plain text"));
                continue;
            }
            if (auto [first, inserted] = seen.emplace(name, key_position); !inserted) {
                error(key_position, "duplicate key '" + name + "' (first defined at line " +
                                        std::to_string(first->second.line) + ")");
                continue;
            }
            const std::size_t length = pointer.size();
            append_pointer_token(pointer, name);
            doc_.keys.add(pointer, key_position);
            bytes_ += pointer.size() + name.size();
            // An empty value's mark is that of the next token, often on a
            // later line: the key is where the user looks.
            SourcePosition value_position = position_of(value.Mark());
            if (value.IsNull() &&
                (value_position.line == 0 || value_position.line != key_position.line)) {
                value_position = key_position;
            }
            rapidjson::Value member;
            convert(value, member, pointer, value_position, depth + 1);
            out.AddMember(rapidjson::Value(name, allocator()), member, allocator());
            pointer.resize(length);
        }
    }

    void convert_sequence(const YAML::Node& node, rapidjson::Value& out, std::string& pointer,
                          int depth) {
        out.SetArray();
        const SourcePosition sequence_position = doc_.values.find(pointer);
        std::size_t index = 0;
        for (const YAML::Node& item : node) {
            const std::size_t length = pointer.size();
            pointer += '/';
            pointer += std::to_string(index++);
            SourcePosition position = position_of(item.Mark());
            if (position.line == 0) {
                position = sequence_position;
            }
            rapidjson::Value element;
            convert(item, element, pointer, position, depth + 1);
            out.PushBack(element, allocator());
            pointer.resize(length);
        }
    }

    void convert_scalar(const YAML::Node& node, rapidjson::Value& out, SourcePosition position) {
        const std::string& text = node.Scalar();
        bytes_ += text.size();
        // Checked here, the text would be quoted raw in error messages and
        // in the JSON of log lines.
        if (!is_valid_utf8(text)) {
            error(position, "the value is not UTF-8 text");
            out.SetNull();
            return;
        }
        const std::string& tag = node.Tag();
        // yaml-cpp tags quoted and block scalars "!": they are always strings.
        if (tag == "!" || is_core_tag(tag, "str")) {
            out.SetString(text, allocator());
            return;
        }
        // `key: !!null` with nothing after the tag.
        if (text.empty() && is_core_tag(tag, "null")) {
            out.SetNull();
            return;
        }
        if (text == "null" || text == "Null" || text == "NULL" || text == "~") {
            out.SetNull();
        } else if (text == "true" || text == "True" || text == "TRUE") {
            out.SetBool(true);
        } else if (text == "false" || text == "False" || text == "FALSE") {
            out.SetBool(false);
        } else if (all_of(without_sign(text), is_digit)) {
            convert_integer(text, out, position);
        } else if (text.size() > 2 && text[0] == '0' && (text[1] == 'o' || text[1] == 'x')) {
            convert_radix(text, out, position);
        } else if (is_core_float(text)) {
            double value = 0;
            const std::string_view digits =
                text.front() == '+' ? std::string_view(text).substr(1) : std::string_view(text);
            const auto [end, ec] =
                std::from_chars(digits.data(), digits.data() + digits.size(), value);
            if (ec != std::errc{} || end != digits.data() + digits.size()) {
                error(position, "number out of range");
            }
            out.SetDouble(value);
        } else if (is_special_float(text)) {
            error(position,
                  "infinite and NaN numbers are not allowed (JSON has none); quote the "
                  "value to make it a string");
        } else {
            out.SetString(text, allocator());
        }
    }

    void convert_integer(const std::string& text, rapidjson::Value& out, SourcePosition position) {
        const std::string_view digits =
            text.front() == '+' ? std::string_view(text).substr(1) : std::string_view(text);
        const char* first = digits.data();
        const char* last = digits.data() + digits.size();
        std::int64_t value = 0;
        if (auto [end, ec] = std::from_chars(first, last, value);
            ec == std::errc{} && end == last) {
            out.SetInt64(value);
            return;
        }
        std::uint64_t unsigned_value = 0;
        if (auto [end, ec] = std::from_chars(first, last, unsigned_value);
            ec == std::errc{} && end == last) {
            out.SetUint64(unsigned_value);
            return;
        }
        error(position, "integer out of range");
        out.SetNull();
    }

    void convert_radix(const std::string& text, rapidjson::Value& out, SourcePosition position) {
        const int base = text[1] == 'o' ? 8 : 16;
        const char* first = text.data() + 2;
        const char* last = text.data() + text.size();
        std::int64_t value = 0;
        const auto [end, ec] = std::from_chars(first, last, value, base);
        if (*first == '-' || end != last) {
            out.SetString(text, allocator());
            return;
        }
        if (ec != std::errc{}) {
            error(position, "integer out of range");
            out.SetNull();
            return;
        }
        out.SetInt64(value);
    }

    rapidjson::Document::AllocatorType& allocator() { return doc_.json.GetAllocator(); }

    ConfigDocument& doc_;
    std::vector<ConfigError>& errors_;
    std::size_t nodes_ = 0;
    std::size_t bytes_ = 0;
    bool too_large_ = false;
};

}  // namespace

std::string display_path(const std::filesystem::path& file) {
    std::error_code ec;
    const std::filesystem::path absolute = std::filesystem::absolute(file, ec).lexically_normal();
    if (ec) {
        return file.string();
    }
    const std::filesystem::path cwd = std::filesystem::current_path(ec);
    if (!ec) {
        const std::filesystem::path relative = absolute.lexically_relative(cwd);
        if (!relative.empty() && *relative.begin() != ".." && relative != ".") {
            return relative.string();
        }
    }
    return absolute.string();
}

void append_pointer_token(std::string& pointer, std::string_view token) {
    pointer += '/';
    for (char c : token) {
        if (c == '~') {
            pointer += "~0";
        } else if (c == '/') {
            pointer += "~1";
        } else {
            pointer += c;
        }
    }
}

ConfigDocument parse_yaml(std::string_view text, const std::string& file,
                          std::filesystem::path directory) {
    ConfigDocument doc{rapidjson::Document(), SourceMap(file), SourceMap(file),
                       std::move(directory)};
    std::vector<YAML::Node> documents;
    try {
        documents = YAML::LoadAll(std::string(text));
    } catch (const YAML::Exception& e) {
        throw ConfigErrors({ConfigError(file, position_of(e.mark), e.msg)});
    }
    std::vector<ConfigError> errors;
    if (documents.size() > 1) {
        errors.emplace_back(file, position_of(documents[1].Mark()),
                            "only one YAML document per file is allowed");
    }
    const YAML::Node root = documents.empty() ? YAML::Node() : documents.front();
    SourcePosition root_position = position_of(root.Mark());
    if (root_position.line == 0) {
        root_position = {1, 1};
    }
    std::string pointer;
    Converter(doc, errors).convert(root, doc.json, pointer, root_position, 0);
    if (!errors.empty()) {
        throw ConfigErrors(std::move(errors));
    }
    return doc;
}

bool read_whole_file(const std::filesystem::path& file, std::size_t max_bytes, std::string& out,
                     std::string& error) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        error = std::strerror(errno);
        return false;
    }
    out.clear();
    char buffer[16 * 1024];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        out.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (out.size() > max_bytes) {
            error = "larger than " + std::to_string(max_bytes) + " bytes";
            return false;
        }
    }
    if (in.bad()) {
        error = std::strerror(errno);
        return false;
    }
    return true;
}

ConfigDocument load_yaml_file(const std::filesystem::path& file) {
    const std::string name = display_path(file);
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec)) {
        throw ConfigErrors({ConfigError(name, {}, "cannot read the file: it is a directory")});
    }
    std::string text;
    std::string error;
    if (!read_whole_file(file, max_file_bytes, text, error)) {
        throw ConfigErrors({ConfigError(name, {}, "cannot read the file: " + error)});
    }
    std::filesystem::path directory =
        std::filesystem::absolute(file, ec).lexically_normal().parent_path();
    return parse_yaml(text, name, std::move(directory));
}

}  // namespace relais::config
