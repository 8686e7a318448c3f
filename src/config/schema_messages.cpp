#include "config/schema_messages.hpp"

#include <rapidjson/internal/regex.h>
#include <rapidjson/pointer.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "core/duration.hpp"

namespace relais::config {

namespace {

// Past this, quoted keys and values are cut: a message must stay one line.
constexpr std::size_t max_quoted = 60;
constexpr int max_ref_depth = 16;
// Deeper than any configuration; bounds the recursion of the name check.
constexpr std::size_t max_nesting = 128;

/// A node of a schema and the schema document it belongs to (local `$ref`s
/// resolve against it).
struct Node {
    const rapidjson::Value* value = nullptr;
    const rapidjson::Value* root = nullptr;

    explicit operator bool() const { return value != nullptr && value->IsObject(); }

    const rapidjson::Value* member(const char* name) const {
        if (!*this) {
            return nullptr;
        }
        const auto it = value->FindMember(name);
        return it == value->MemberEnd() ? nullptr : &it->value;
    }
};

std::string_view file_name_of(std::string_view uri) {
    const std::size_t slash = uri.rfind('/');
    return slash == std::string_view::npos ? uri : uri.substr(slash + 1);
}

Node resolve(Node node) {
    for (int depth = 0; depth < max_ref_depth && node; ++depth) {
        const rapidjson::Value* ref = node.member("$ref");
        if (ref == nullptr || !ref->IsString()) {
            return node;
        }
        const std::string_view text(ref->GetString(), ref->GetStringLength());
        const std::size_t hash = text.find('#');
        const std::string_view document = text.substr(0, hash);
        const rapidjson::Value* root =
            document.empty() ? node.root : core_schema_source(file_name_of(document));
        if (root == nullptr) {
            return {};
        }
        const std::string fragment(hash == std::string_view::npos ? "" : text.substr(hash + 1));
        const rapidjson::Pointer pointer(fragment.c_str());
        node = {pointer.IsValid() ? pointer.Get(*root) : nullptr, root};
    }
    return node;
}

bool matches(const std::string& pattern, const std::string& text) {
    const rapidjson::internal::Regex regex(pattern.c_str());
    return regex.IsValid() && regex.Search(text.c_str());
}

Node child(Node node, const std::string& token, bool in_array, int depth = 0) {
    node = resolve(node);
    if (!node || depth > max_ref_depth) {
        return {};
    }
    if (in_array) {
        if (const rapidjson::Value* items = node.member("items")) {
            if (items->IsObject()) {
                return {items, node.root};
            }
            std::size_t index = 0;
            std::from_chars(token.data(), token.data() + token.size(), index);
            if (items->IsArray() && index < items->Size()) {
                return {&(*items)[static_cast<rapidjson::SizeType>(index)], node.root};
            }
        }
    } else {
        if (const rapidjson::Value* properties = node.member("properties");
            properties != nullptr && properties->IsObject()) {
            if (const auto it = properties->FindMember(token.c_str());
                it != properties->MemberEnd()) {
                return {&it->value, node.root};
            }
        }
        if (const rapidjson::Value* patterns = node.member("patternProperties");
            patterns != nullptr && patterns->IsObject()) {
            for (const auto& pattern : patterns->GetObject()) {
                if (matches(pattern.name.GetString(), token)) {
                    return {&pattern.value, node.root};
                }
            }
        }
        if (const rapidjson::Value* additional = node.member("additionalProperties");
            additional != nullptr && additional->IsObject()) {
            return {additional, node.root};
        }
    }
    for (const char* combinator : {"allOf", "anyOf", "oneOf"}) {
        if (const rapidjson::Value* branches = node.member(combinator);
            branches != nullptr && branches->IsArray()) {
            for (const auto& branch : branches->GetArray()) {
                if (Node found = child({&branch, node.root}, token, in_array, depth + 1)) {
                    return found;
                }
            }
        }
    }
    return {};
}

/// The node that carries `keyword`: `node` itself or one of its branches.
Node with_keyword(Node node, const char* keyword, int depth = 0) {
    node = resolve(node);
    if (!node || depth > max_ref_depth) {
        return {};
    }
    if (node.member(keyword) != nullptr) {
        return node;
    }
    for (const char* combinator : {"allOf", "anyOf", "oneOf"}) {
        if (const rapidjson::Value* branches = node.member(combinator);
            branches != nullptr && branches->IsArray()) {
            for (const auto& branch : branches->GetArray()) {
                if (Node found = with_keyword({&branch, node.root}, keyword, depth + 1)) {
                    return found;
                }
            }
        }
    }
    return {};
}

std::string quote_text(std::string_view text) {
    if (text.size() > max_quoted) {
        return "'" + std::string(text.substr(0, max_quoted)) + "...'";
    }
    return "'" + std::string(text) + "'";
}

std::string number_text(const rapidjson::Value& v) {
    if (v.IsInt64()) {
        return std::to_string(v.GetInt64());
    }
    if (v.IsUint64()) {
        return std::to_string(v.GetUint64());
    }
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", v.GetDouble());
    return buffer;
}

/// A scalar as the user wrote it; empty for mappings and lists.
std::string scalar_text(const rapidjson::Value& v) {
    if (v.IsString()) {
        return std::string(v.GetString(), v.GetStringLength());
    }
    if (v.IsNumber()) {
        return number_text(v);
    }
    if (v.IsBool()) {
        return v.GetBool() ? "true" : "false";
    }
    if (v.IsNull()) {
        return "null";
    }
    return {};
}

std::string kind_of(const rapidjson::Value& v) {
    switch (v.GetType()) {
        case rapidjson::kNullType:
            return "an empty value";
        case rapidjson::kFalseType:
        case rapidjson::kTrueType:
            return "true/false";
        case rapidjson::kObjectType:
            return "a mapping";
        case rapidjson::kArrayType:
            return "a list";
        case rapidjson::kStringType:
            return "a string";
        case rapidjson::kNumberType:
            return v.IsInt64() || v.IsUint64() ? "an integer" : "a number";
    }
    return "a value";
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
    std::string out;
    for (const auto& part : parts) {
        if (!out.empty()) {
            out += separator;
        }
        out += part;
    }
    return out;
}

std::string enum_list(const rapidjson::Value& values) {
    std::vector<std::string> parts;
    for (const auto& v : values.GetArray()) {
        parts.push_back(scalar_text(v));
    }
    return join(parts, ", ");
}

std::string plural(std::uint64_t count, std::string_view word) {
    return std::to_string(count) + " " + std::string(word) + (count == 1 ? "" : "s");
}

std::string describe(Node node, int depth = 0);

std::string describe_number(Node node, std::string base) {
    const rapidjson::Value* minimum = node.member("minimum");
    const rapidjson::Value* maximum = node.member("maximum");
    const rapidjson::Value* exclusive_min = node.member("exclusiveMinimum");
    const rapidjson::Value* exclusive_max = node.member("exclusiveMaximum");
    const bool min_excl = exclusive_min != nullptr && exclusive_min->IsTrue();
    const bool max_excl = exclusive_max != nullptr && exclusive_max->IsTrue();
    minimum = minimum != nullptr && minimum->IsNumber() ? minimum : nullptr;
    maximum = maximum != nullptr && maximum->IsNumber() ? maximum : nullptr;
    if (minimum != nullptr && maximum != nullptr && !min_excl && !max_excl) {
        return base + " between " + number_text(*minimum) + " and " + number_text(*maximum);
    }
    if (minimum != nullptr) {
        base += (min_excl ? " > " : " >= ") + number_text(*minimum);
    }
    if (maximum != nullptr) {
        base += (minimum != nullptr ? " and" : "");
        base += (max_excl ? " < " : " <= ") + number_text(*maximum);
    }
    return base;
}

/// "an integer >= 1024": only the bound that failed, the other one being
/// no help to someone who wrote too small a value.
std::string failed_bound(Node node, std::string_view keyword) {
    const rapidjson::Value* type = node.member("type");
    std::string out =
        type != nullptr && type->IsString() && std::string_view(type->GetString()) == "integer"
            ? "an integer"
            : "a number";
    const bool lower = keyword == "minimum";
    const rapidjson::Value* bound = node.member(lower ? "minimum" : "maximum");
    const rapidjson::Value* exclusive =
        node.member(lower ? "exclusiveMinimum" : "exclusiveMaximum");
    if (bound == nullptr || !bound->IsNumber()) {
        return out;
    }
    const bool strict = exclusive != nullptr && exclusive->IsTrue();
    out += lower ? (strict ? " > " : " >= ") : (strict ? " < " : " <= ");
    return out + number_text(*bound);
}

std::string describe_string(Node node) {
    const rapidjson::Value* pattern = node.member("pattern");
    if (pattern != nullptr && pattern->IsString()) {
        const std::string_view text(pattern->GetString(), pattern->GetStringLength());
        if (text == duration_pattern) {
            return "a duration such as 30s (digits and a unit: ms, s, m or h)";
        }
        return "a string matching " + std::string(text);
    }
    const rapidjson::Value* min_length = node.member("minLength");
    const rapidjson::Value* max_length = node.member("maxLength");
    const std::uint64_t min =
        min_length != nullptr && min_length->IsUint64() ? min_length->GetUint64() : 0;
    std::string out = min == 1 ? "a non-empty string" : "a string";
    if (min > 1) {
        out += " of at least " + plural(min, "character");
    }
    if (max_length != nullptr && max_length->IsUint64()) {
        out += (min > 1 ? " and" : " of") + std::string(" at most ") +
               plural(max_length->GetUint64(), "character");
    }
    return out;
}

std::string describe_array(Node node, int depth) {
    std::string out = "a list";
    const rapidjson::Value* min_items = node.member("minItems");
    const rapidjson::Value* max_items = node.member("maxItems");
    const bool has_min =
        min_items != nullptr && min_items->IsUint64() && min_items->GetUint64() > 0;
    if (has_min) {
        out += " of at least " + plural(min_items->GetUint64(), "item");
    }
    if (max_items != nullptr && max_items->IsUint64()) {
        out += (has_min ? " and" : " of") + std::string(" at most ") +
               plural(max_items->GetUint64(), "item");
    }
    if (const rapidjson::Value* items = node.member("items");
        items != nullptr && items->IsObject()) {
        out += ", each " + describe({items, node.root}, depth + 1);
    }
    if (const rapidjson::Value* unique = node.member("uniqueItems");
        unique != nullptr && unique->IsTrue()) {
        out += ", none twice";
    }
    return out;
}

std::string describe_type(std::string_view type, Node node, int depth) {
    if (type == "integer") {
        return describe_number(node, "an integer");
    }
    if (type == "number") {
        return describe_number(node, "a number");
    }
    if (type == "string") {
        return describe_string(node);
    }
    if (type == "boolean") {
        return "true or false";
    }
    if (type == "object") {
        return "a mapping";
    }
    if (type == "array") {
        return describe_array(node, depth);
    }
    if (type == "null") {
        return "an empty value";
    }
    return "a valid value";
}

/// What a value valid against `node` looks like, as a noun phrase.
std::string describe(Node node, int depth) {
    node = resolve(node);
    if (!node || depth > max_ref_depth) {
        return "a valid value";
    }
    if (const rapidjson::Value* values = node.member("enum");
        values != nullptr && values->IsArray()) {
        if (values->Size() == 1) {
            return quote_text(scalar_text((*values)[0]));
        }
        return "one of: " + enum_list(*values);
    }
    if (const rapidjson::Value* type = node.member("type")) {
        if (type->IsString()) {
            return describe_type(type->GetString(), node, depth);
        }
        if (type->IsArray()) {
            std::vector<std::string> parts;
            for (const auto& t : type->GetArray()) {
                if (t.IsString()) {
                    parts.push_back(describe_type(t.GetString(), node, depth));
                }
            }
            return join(parts, " or ");
        }
    }
    for (const char* combinator : {"oneOf", "anyOf"}) {
        if (const rapidjson::Value* branches = node.member(combinator);
            branches != nullptr && branches->IsArray()) {
            std::vector<std::string> parts;
            for (const auto& branch : branches->GetArray()) {
                parts.push_back(describe({&branch, node.root}, depth + 1));
            }
            return join(parts, " or ");
        }
    }
    if (const rapidjson::Value* all = node.member("allOf");
        all != nullptr && all->IsArray() && !all->Empty()) {
        return describe({&(*all)[0], node.root}, depth + 1);
    }
    if (node.member("pattern") != nullptr) {
        return describe_string(node);
    }
    return "a valid value";
}

/// Names listed by `required` in each branch, if every branch only requires.
std::vector<std::string> required_alternatives(Node node, const rapidjson::Value& branches) {
    std::vector<std::string> names;
    for (const auto& branch : branches.GetArray()) {
        const Node b = resolve({&branch, node.root});
        const rapidjson::Value* required = b.member("required");
        if (required == nullptr || !required->IsArray() || required->Size() != 1 ||
            !(*required)[0].IsString() || b.member("properties") != nullptr ||
            b.member("type") != nullptr) {
            return {};
        }
        names.emplace_back((*required)[0].GetString());
    }
    return names;
}

/// Whether `node`'s `type` (if any) admits the type of `value`.
bool accepts_type(Node node, const rapidjson::Value& value) {
    node = resolve(node);
    const rapidjson::Value* type = node.member("type");
    if (type == nullptr) {
        return true;
    }
    const auto admits = [&](std::string_view t) {
        switch (value.GetType()) {
            case rapidjson::kNullType:
                return t == "null";
            case rapidjson::kFalseType:
            case rapidjson::kTrueType:
                return t == "boolean";
            case rapidjson::kObjectType:
                return t == "object";
            case rapidjson::kArrayType:
                return t == "array";
            case rapidjson::kStringType:
                return t == "string";
            case rapidjson::kNumberType:
                return t == "number" || (t == "integer" && (value.IsInt64() || value.IsUint64()));
        }
        return false;
    };
    if (type->IsString()) {
        return admits(type->GetString());
    }
    if (type->IsArray()) {
        for (const auto& t : type->GetArray()) {
            if (t.IsString() && admits(t.GetString())) {
                return true;
            }
        }
    }
    return false;
}

std::string combinator_message(Node node, std::string_view keyword, const rapidjson::Value& value) {
    const rapidjson::Value* branches = node.member(std::string(keyword).c_str());
    if (branches == nullptr || !branches->IsArray()) {
        return "does not match any allowed form";
    }
    if (const auto names = required_alternatives(node, *branches); !names.empty()) {
        return (keyword == "oneOf" ? "expected exactly one of: " : "expected at least one of: ") +
               join(names, ", ");
    }
    // When only one form has the value's type, the user meant that one.
    std::vector<Node> candidates;
    for (const auto& branch : branches->GetArray()) {
        if (accepts_type({&branch, node.root}, value)) {
            candidates.push_back({&branch, node.root});
        }
    }
    if (candidates.size() == 1) {
        return "expected " + describe(candidates.front());
    }
    return "expected " + describe(node) + ", not " + kind_of(value);
}

/// The required properties absent from `value` that were not removed
/// after an earlier error.
std::vector<std::string> missing_properties(Node node, const rapidjson::Value& value,
                                            const std::string& pointer,
                                            const std::vector<std::string>& removed) {
    std::vector<std::string> missing;
    const rapidjson::Value* required = node.member("required");
    if (required == nullptr || !required->IsArray() || !value.IsObject()) {
        return missing;
    }
    for (const auto& name : required->GetArray()) {
        if (!name.IsString() || value.HasMember(name.GetString())) {
            continue;
        }
        std::string member = pointer;
        append_pointer_token(member, name.GetString());
        if (std::find(removed.begin(), removed.end(), member) == removed.end()) {
            missing.emplace_back(name.GetString());
        }
    }
    return missing;
}

std::string unknown_property(Node node, const std::string& key) {
    const rapidjson::Value* properties = node.member("properties");
    if (properties != nullptr && properties->IsObject() && properties->MemberCount() > 0) {
        std::vector<std::string> names;
        for (const auto& p : properties->GetObject()) {
            names.emplace_back(p.name.GetString());
        }
        return "unknown property " + quote_text(key) + " (expected one of: " + join(names, ", ") +
               ")";
    }
    const rapidjson::Value* patterns = node.member("patternProperties");
    if (patterns != nullptr && patterns->IsObject() && patterns->MemberCount() > 0) {
        std::vector<std::string> names;
        for (const auto& p : patterns->GetObject()) {
            names.emplace_back(p.name.GetString());
        }
        return quote_text(key) + " is not a valid name (expected a name matching " +
               join(names, " or ") + ")";
    }
    return "unknown property " + quote_text(key) + " (no property is allowed here)";
}

std::string message_for(Node node, std::string_view keyword, const rapidjson::Value& value,
                        const std::vector<std::string>& tokens) {
    if (keyword == "additionalProperties") {
        return unknown_property(node, tokens.back());
    }
    if (keyword == "type") {
        return "expected " + describe(node) + ", not " + kind_of(value);
    }
    if (keyword == "enum") {
        const rapidjson::Value* values = node.member("enum");
        const std::string list = values != nullptr && values->IsArray() ? enum_list(*values) : "";
        if (value.IsString() || value.IsNumber() || value.IsBool()) {
            return quote_text(scalar_text(value)) + " is not one of: " + list;
        }
        return "expected one of: " + list;
    }
    if (keyword == "anyOf" || keyword == "oneOf") {
        return combinator_message(node, keyword, value);
    }
    if (keyword == "uniqueItems") {
        return "the list has the same item more than once";
    }
    if (keyword == "minProperties" || keyword == "maxProperties") {
        const rapidjson::Value* bound = node.member(std::string(keyword).c_str());
        const std::uint64_t n = bound != nullptr && bound->IsUint64() ? bound->GetUint64() : 0;
        return std::string("expected ") + (keyword == "minProperties" ? "at least " : "at most ") +
               std::to_string(n) + (n == 1 ? " entry" : " entries");
    }
    if (keyword == "minimum" || keyword == "maximum") {
        return "expected " + failed_bound(node, keyword);
    }
    if (keyword == "not") {
        return "this value is not allowed here";
    }
    if (keyword == "dependencies") {
        return "a property requires another one that is missing";
    }
    // minimum, maximum, pattern, minLength, minItems...: the description of
    // the expected value carries the bound.
    return "expected " + describe(node);
}

std::string human_path(const std::vector<std::string>& tokens, std::size_t count,
                       const rapidjson::Value& instance) {
    std::string out;
    const rapidjson::Value* current = &instance;
    for (std::size_t i = 0; i < count && current != nullptr; ++i) {
        if (current->IsArray()) {
            out += '[' + tokens[i] + ']';
            std::size_t index = 0;
            std::from_chars(tokens[i].data(), tokens[i].data() + tokens[i].size(), index);
            current = index < current->Size() ? &(*current)[static_cast<rapidjson::SizeType>(index)]
                                              : nullptr;
        } else {
            if (!out.empty()) {
                out += '.';
            }
            out += tokens[i];
            const auto it = current->IsObject() ? current->FindMember(tokens[i].c_str())
                                                : rapidjson::Value::ConstMemberIterator();
            current = current->IsObject() && it != current->MemberEnd() ? &it->value : nullptr;
        }
    }
    return out;
}

bool closed_by_patterns(Node node) {
    const rapidjson::Value* patterns = node.member("patternProperties");
    const rapidjson::Value* additional = node.member("additionalProperties");
    return patterns != nullptr && patterns->IsObject() && patterns->MemberCount() > 0 &&
           additional != nullptr && additional->IsFalse();
}

bool name_allowed(Node node, const std::string& name) {
    if (const rapidjson::Value* properties = node.member("properties");
        properties != nullptr && properties->IsObject() && properties->HasMember(name.c_str())) {
        return true;
    }
    for (const auto& pattern : node.member("patternProperties")->GetObject()) {
        if (matches(pattern.name.GetString(), name)) {
            return true;
        }
    }
    return false;
}

struct NameCheck {
    const rapidjson::Value& instance;
    const ConfigDocument& source;
    std::vector<ConfigError>& errors;
    std::vector<std::string>& misnamed;
    std::vector<std::string> tokens;
    std::string pointer;

    void check(Node node, const rapidjson::Value& value) {
        node = resolve(node);
        if (!node || !(value.IsObject() || value.IsArray()) || tokens.size() > max_nesting) {
            return;
        }
        const bool closed = value.IsObject() && closed_by_patterns(node);
        const std::size_t length = pointer.size();
        if (value.IsObject()) {
            for (const auto& member : value.GetObject()) {
                const std::string name(member.name.GetString(), member.name.GetStringLength());
                append_pointer_token(pointer, name);
                if (closed && !name_allowed(node, name)) {
                    const std::string path = human_path(tokens, tokens.size(), instance);
                    errors.emplace_back(
                        source.keys.file(), source.keys.find(pointer),
                        (path.empty() ? "" : path + ": ") + unknown_property(node, name));
                    misnamed.push_back(pointer);
                } else {
                    tokens.push_back(name);
                    check(child(node, name, false), member.value);
                    tokens.pop_back();
                }
                pointer.resize(length);
            }
            return;
        }
        for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
            tokens.push_back(std::to_string(i));
            pointer += '/' + tokens.back();
            check(child(node, tokens.back(), true), value[i]);
            pointer.resize(length);
            tokens.pop_back();
        }
    }
};

}  // namespace

void check_member_names(const rapidjson::Value& schema, const rapidjson::Value& instance,
                        const ConfigDocument& source, std::vector<ConfigError>& errors,
                        std::vector<std::string>& misnamed) {
    NameCheck{instance, source, errors, misnamed, {}, {}}.check({&schema, &schema}, instance);
}

std::vector<ConfigError> describe_failure(const rapidjson::Value& schema,
                                          const rapidjson::Value& instance,
                                          const ConfigDocument& source, std::string_view keyword,
                                          const std::vector<std::string>& tokens,
                                          const std::vector<std::string>& removed) {
    const bool about_key = keyword == "additionalProperties" && !tokens.empty();
    const std::size_t depth = about_key ? tokens.size() - 1 : tokens.size();

    // Walk the instance and the schema side by side down to the failing place.
    Node node{&schema, &schema};
    const rapidjson::Value* value = &instance;
    const rapidjson::Value* parent = nullptr;
    std::string pointer;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const bool in_array = value != nullptr && value->IsArray();
        if (i < depth) {
            node = child(node, tokens[i], in_array);
        }
        append_pointer_token(pointer, tokens[i]);
        parent = value;
        if (value == nullptr) {
            continue;
        }
        if (in_array) {
            std::size_t index = 0;
            std::from_chars(tokens[i].data(), tokens[i].data() + tokens[i].size(), index);
            value = index < value->Size() ? &(*value)[static_cast<rapidjson::SizeType>(index)]
                                          : nullptr;
        } else if (value->IsObject()) {
            const auto it = value->FindMember(tokens[i].c_str());
            value = it == value->MemberEnd() ? nullptr : &it->value;
        } else {
            value = nullptr;
        }
    }
    const std::string key(keyword);
    Node failing = with_keyword(node, key.c_str());
    if (!failing) {
        failing = resolve(node);
    }
    static const rapidjson::Value null_value;
    const rapidjson::Value& failing_value = about_key ? (parent != nullptr ? *parent : null_value)
                                                      : (value != nullptr ? *value : null_value);

    std::vector<std::string> messages;
    if (keyword == "required") {
        // Reported all at once: the validator stops at the first one.
        for (const auto& name : missing_properties(failing, failing_value, pointer, removed)) {
            messages.push_back("missing required property " + quote_text(name));
        }
    } else if (keyword == "anyOf" || keyword == "oneOf" || keyword == "allOf" || keyword == "not" ||
               keyword == "dependencies" || keyword == "minProperties") {
        // These judge the mapping as a whole: with a member removed, the
        // failure may be nothing but the removal.
        const bool after_removal = std::any_of(removed.begin(), removed.end(), [&](const auto& r) {
            return r.size() > pointer.size() && r.starts_with(pointer) && r[pointer.size()] == '/';
        });
        if (!after_removal) {
            messages.push_back(message_for(failing, keyword, failing_value, tokens));
        }
    } else {
        messages.push_back(message_for(failing, keyword, failing_value, tokens));
    }

    // Keys locate errors about the key itself and about whole mappings and
    // lists (a missing property, a wrong type of section); values locate
    // scalars. Array items have no key.
    const bool container = value != nullptr && (value->IsObject() || value->IsArray());
    const bool member = parent != nullptr && parent->IsObject();
    const SourcePosition position = about_key || (container && member)
                                        ? source.keys.find(pointer)
                                        : source.values.find(pointer);
    const std::string path = human_path(tokens, depth, instance);
    std::vector<ConfigError> errors;
    for (const auto& message : messages) {
        errors.emplace_back(source.values.file(), position,
                            path.empty() ? message : path + ": " + message);
    }
    return errors;
}

}  // namespace relais::config
