#include "rest/body_json.hpp"

#include <rapidjson/document.h>
// RapidJSON 1.1.0's validator destroys its sub-validators through a pointer
// GCC cannot prove non-null once inlined; the warning is about the library.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <rapidjson/schema.h>
#pragma GCC diagnostic pop
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "config/config_document.hpp"
#include "core/json_reader.hpp"
#include "core/utf8.hpp"

namespace relais::rest {

namespace {

// RapidJSON 1.1.0 corrupts its validator stack (and crashes) when an object
// has patternProperties together with additionalProperties: false. A schema
// that nothing matches ({"not": {}}) means the same and takes a sound path.
void avoid_pattern_properties_crash(rapidjson::Value& schema,
                                    rapidjson::Document::AllocatorType& allocator) {
    if (schema.IsArray()) {
        for (auto& item : schema.GetArray()) {
            avoid_pattern_properties_crash(item, allocator);
        }
        return;
    }
    if (!schema.IsObject()) {
        return;
    }
    const auto additional = schema.FindMember("additionalProperties");
    if (schema.HasMember("patternProperties") && additional != schema.MemberEnd() &&
        additional->value.IsFalse()) {
        rapidjson::Value never(rapidjson::kObjectType);
        never.AddMember("not", rapidjson::Value(rapidjson::kObjectType), allocator);
        additional->value = never;
    }
    for (auto& m : schema.GetObject()) {
        avoid_pattern_properties_crash(m.value, allocator);
    }
}

/// Whether a string (value or key) of `value` holds U+0000.
bool holds_nul(const rapidjson::Value& value) {
    const auto has_nul = [](const rapidjson::Value& text) {
        return std::memchr(text.GetString(), 0, text.GetStringLength()) != nullptr;
    };
    if (value.IsString()) {
        return has_nul(value);
    }
    if (value.IsArray()) {
        return std::any_of(value.Begin(), value.End(),
                           [](const rapidjson::Value& item) { return holds_nul(item); });
    }
    if (value.IsObject()) {
        return std::any_of(value.MemberBegin(), value.MemberEnd(), [&](const auto& member) {
            return has_nul(member.name) || holds_nul(member.value);
        });
    }
    return false;
}

std::string pointer_text(const rapidjson::Pointer& pointer) {
    rapidjson::StringBuffer buffer;
    pointer.Stringify(buffer);
    return buffer.GetSize() == 0 ? std::string("the root")
                                 : std::string(buffer.GetString(), buffer.GetSize());
}

/// Keywords whose values are data, not schemas: nothing in them is checked.
bool holds_data(std::string_view keyword) noexcept {
    return keyword == "enum" || keyword == "default" || keyword == "examples" || keyword == "const";
}

/// Keywords whose values map names to schemas.
bool names_schemas(std::string_view keyword) noexcept {
    return keyword == "properties" || keyword == "patternProperties" || keyword == "definitions" ||
           keyword == "dependencies";
}

bool compiles(std::string_view pattern) {
    const std::string text(pattern);
    const rapidjson::internal::GenericRegex<rapidjson::UTF8<>> regex(text.c_str());
    return regex.IsValid();
}

/// Walks a body schema for check_body_schema.
class SchemaChecker {
public:
    explicit SchemaChecker(const rapidjson::Value& root) : root_(root) {}

    std::optional<SchemaProblem> check(const rapidjson::Value& node, std::string& pointer) {
        if (node.IsArray()) {
            for (rapidjson::SizeType i = 0; i < node.Size(); ++i) {
                const std::size_t length = pointer.size();
                pointer += '/' + std::to_string(i);
                if (auto problem = check(node[i], pointer)) {
                    return problem;
                }
                pointer.resize(length);
            }
            return std::nullopt;
        }
        if (!node.IsObject()) {
            return std::nullopt;
        }
        if (node.HasMember("$ref")) {
            if (auto problem = check_ref(node, pointer)) {
                return problem;
            }
        }
        for (const auto& member : node.GetObject()) {
            const std::string_view key(member.name.GetString(), member.name.GetStringLength());
            const std::size_t length = pointer.size();
            config::append_pointer_token(pointer, key);
            if (key == "pattern" && member.value.IsString() &&
                !compiles({member.value.GetString(), member.value.GetStringLength()})) {
                return SchemaProblem{pointer, unsupported_pattern};
            }
            if (names_schemas(key) && member.value.IsObject()) {
                // Property names, not keywords: a property named "$ref" is
                // no reference.
                for (const auto& named : member.value.GetObject()) {
                    const std::string_view name(named.name.GetString(),
                                                named.name.GetStringLength());
                    if (key == "patternProperties" && !compiles(name)) {
                        return SchemaProblem{pointer, unsupported_pattern};
                    }
                    const std::size_t named_length = pointer.size();
                    config::append_pointer_token(pointer, name);
                    if (auto problem = check(named.value, pointer)) {
                        return problem;
                    }
                    pointer.resize(named_length);
                }
            } else if (!holds_data(key)) {
                if (auto problem = check(member.value, pointer)) {
                    return problem;
                }
            }
            pointer.resize(length);
        }
        return std::nullopt;
    }

private:
    static constexpr const char* unsupported_pattern =
        "this pattern is not one the schema validator can run (RapidJSON's regular "
        "expressions: no \\d, \\w, \\s, (?:; write [0-9], [A-Za-z0-9_], a group)";

    /// Where the local `$ref` of `node` leads; null when nowhere.
    const rapidjson::Value* target_of(const rapidjson::Value& node) const {
        const rapidjson::Value& ref = node["$ref"];
        if (!ref.IsString() || ref.GetStringLength() == 0 || ref.GetString()[0] != '#') {
            return nullptr;
        }
        const rapidjson::Pointer pointer(ref.GetString(), ref.GetStringLength());
        return pointer.IsValid() ? pointer.Get(root_) : nullptr;
    }

    std::optional<SchemaProblem> check_ref(const rapidjson::Value& node,
                                           const std::string& pointer) const {
        const std::string at = pointer + "/$ref";
        std::vector<const rapidjson::Value*> passed{&node};
        const rapidjson::Value* next = target_of(node);
        while (true) {
            if (next == nullptr) {
                return SchemaProblem{at, "$ref must lead to a place in this schema (#/…)"};
            }
            if (!next->IsObject() || !next->HasMember("$ref")) {
                return std::nullopt;
            }
            if (std::find(passed.begin(), passed.end(), next) != passed.end()) {
                return SchemaProblem{at, "this $ref leads back to itself through $refs alone"};
            }
            passed.push_back(next);
            next = target_of(*next);
        }
    }

    const rapidjson::Value& root_;
};

}  // namespace

std::optional<SchemaProblem> check_body_schema(const rapidjson::Value& schema) {
    std::string pointer;
    return SchemaChecker(schema).check(schema, pointer);
}

struct BodySchema::Impl {
    // The schema document refers to the JSON it was built from: keep a copy.
    rapidjson::Document source;
    std::unique_ptr<rapidjson::SchemaDocument> schema;
};

BodySchema::BodySchema(const rapidjson::Value& schema) : impl_(std::make_unique<Impl>()) {
    impl_->source.CopyFrom(schema, impl_->source.GetAllocator());
    avoid_pattern_properties_crash(impl_->source, impl_->source.GetAllocator());
    impl_->schema = std::make_unique<rapidjson::SchemaDocument>(impl_->source);
}

BodySchema::~BodySchema() = default;

std::optional<CallError> parse_body(std::string_view body, const BodySchema* schema,
                                    rapidjson::Document& doc) {
    // rapidjson's streams read a NUL byte as the end of the text; JSON never
    // holds one raw, so refuse it rather than silently drop what follows.
    if (body.find('\0') != std::string_view::npos) {
        return CallError{ErrorClass::invalid_json, "the body is not valid JSON"};
    }
    // Parsed first, then validated: a body that is not JSON is invalid_json
    // wherever its error is, even after a value the schema refuses.
    if (const auto parsed = parse_untrusted_json(body, doc); !parsed) {
        return CallError{ErrorClass::invalid_json, describe(parsed.fault, "the body")};
    }
    if (schema == nullptr) {
        return std::nullopt;
    }
    if (holds_nul(doc)) {
        return CallError{ErrorClass::invalid_body, "a string of the body holds U+0000"};
    }
    rapidjson::SchemaValidator validator(*schema->impl_->schema);
    if (!doc.Accept(validator)) {
        return CallError{ErrorClass::invalid_body,
                         std::string("the body does not match its schema: '") +
                             validator.GetInvalidSchemaKeyword() + "' failed at " +
                             pointer_text(validator.GetInvalidDocumentPointer())};
    }
    return std::nullopt;
}

JsonParse parse_json(std::string& text, rapidjson::Document& doc) {
    if (text.find('\0') != std::string::npos || !is_valid_utf8(text)) {
        return {JsonFault::not_json};
    }
    // In place: the document's strings point into `text` (unescaped there)
    // instead of being copied into the document's allocator.
    rapidjson::InsituStringStream stream(text.data());
    return parse_untrusted<rapidjson::kParseInsituFlag>(stream, doc);
}

}  // namespace relais::rest
