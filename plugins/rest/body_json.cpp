#include "rest/body_json.hpp"

#include <rapidjson/document.h>
#include <rapidjson/memorystream.h>
// RapidJSON 1.1.0's validator destroys its sub-validators through a pointer
// GCC cannot prove non-null once inlined; the warning is about the library.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <rapidjson/schema.h>
#pragma GCC diagnostic pop
#include <rapidjson/stringbuffer.h>

#include <cstddef>
#include <cstring>

#include "core/json_reader.hpp"
#include "core/utf8.hpp"

namespace relais::rest {

namespace {

constexpr unsigned parse_flags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

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

CallError too_deep() {
    return {ErrorClass::invalid_json,
            "the body nests deeper than " + std::to_string(max_json_depth) + " levels"};
}

std::string pointer_text(const rapidjson::Pointer& pointer) {
    rapidjson::StringBuffer buffer;
    pointer.Stringify(buffer);
    return buffer.GetSize() == 0 ? std::string("the root")
                                 : std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

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

bool exceeds_depth(std::string_view json, unsigned limit) noexcept {
    unsigned depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < json.size(); ++i) {
        const char c = json[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit) {
                return true;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return false;
}

std::optional<CallError> parse_body(std::string_view body, const BodySchema* schema,
                                    rapidjson::Document& doc) {
    // rapidjson's streams read a NUL byte as the end of the text; JSON never
    // holds one raw, so refuse it rather than silently drop what follows.
    if (body.find('\0') != std::string_view::npos) {
        return CallError{ErrorClass::invalid_json, "the body is not valid JSON"};
    }
    if (schema == nullptr) {
        if (!parse_untrusted_json(body, doc)) {
            return exceeds_depth(body, max_json_depth)
                       ? too_deep()
                       : CallError{ErrorClass::invalid_json, "the body is not valid JSON"};
        }
        return std::nullopt;
    }
    // The validating reader builds the document itself: the depth is checked first.
    if (exceeds_depth(body, max_json_depth)) {
        return too_deep();
    }
    rapidjson::MemoryStream stream(body.data(), body.size());
    rapidjson::SchemaValidatingReader<parse_flags, rapidjson::MemoryStream, rapidjson::UTF8<>>
        reader(stream, *schema->impl_->schema);
    doc.Populate(reader);
    if (!reader.IsValid()) {
        return CallError{ErrorClass::invalid_body,
                         std::string("the body does not match its schema: '") +
                             reader.GetInvalidSchemaKeyword() + "' failed at " +
                             pointer_text(reader.GetInvalidDocumentPointer())};
    }
    if (reader.GetParseResult().IsError()) {
        return CallError{ErrorClass::invalid_json, "the body is not valid JSON"};
    }
    return std::nullopt;
}

bool parse_json(std::string& text, rapidjson::Document& doc) {
    if (text.find('\0') != std::string::npos || !is_valid_utf8(text)) {
        return false;
    }
    // In place: the document's strings point into `text` (unescaped there)
    // instead of being copied into the document's allocator.
    rapidjson::InsituStringStream stream(text.data());
    return parse_depth_limited<rapidjson::kParseInsituFlag>(stream, doc);
}

}  // namespace relais::rest
