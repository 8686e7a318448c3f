#include "config/config_schema.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/pointer.h>
#include <rapidjson/schema.h>

#include <algorithm>
#include <charconv>
#include <iterator>
#include <stdexcept>
#include <string>

#include "config/embedded_schemas.hpp"
#include "config/schema_messages.hpp"

namespace relais::config {

namespace {

// RapidJSON stops at the first error; each further round finds one more.
constexpr std::size_t max_errors_per_document = 50;

rapidjson::Document parse_schema(std::string_view text) {
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    if (doc.HasParseError()) {
        throw std::invalid_argument(std::string("schema is not valid JSON: ") +
                                    rapidjson::GetParseError_En(doc.GetParseError()) +
                                    " (at byte " + std::to_string(doc.GetErrorOffset()) + ")");
    }
    if (!doc.IsObject()) {
        throw std::invalid_argument("schema is not a JSON object");
    }
    return doc;
}

void make_validatable(rapidjson::Value& schema, rapidjson::Document::AllocatorType& allocator);

void make_each_validatable(rapidjson::Value* container,
                           rapidjson::Document::AllocatorType& allocator) {
    if (container == nullptr) {
        return;
    }
    if (container->IsObject()) {
        for (auto& member : container->GetObject()) {
            make_validatable(member.value, allocator);
        }
    } else if (container->IsArray()) {
        for (auto& item : container->GetArray()) {
            make_validatable(item, allocator);
        }
    }
}

rapidjson::Value* member(rapidjson::Value& object, const char* name) {
    const auto it = object.FindMember(name);
    return it == object.MemberEnd() ? nullptr : &it->value;
}

/// RapidJSON 1.1.0 corrupts its state (and crashes) on a member matched
/// only by `patternProperties` when `additionalProperties` is false. Such
/// mappings are validated with the pattern's schema as
/// `additionalProperties` instead, which also keeps the errors inside the
/// members precise; check_member_names() checks the names themselves.
void make_validatable(rapidjson::Value& schema, rapidjson::Document::AllocatorType& allocator) {
    if (!schema.IsObject()) {
        return;
    }
    for (const char* keyword : {"properties", "patternProperties", "definitions", "dependencies",
                                "items", "allOf", "anyOf", "oneOf"}) {
        make_each_validatable(member(schema, keyword), allocator);
    }
    for (const char* keyword : {"additionalProperties", "additionalItems", "not", "items"}) {
        if (rapidjson::Value* sub = member(schema, keyword); sub != nullptr && sub->IsObject()) {
            make_validatable(*sub, allocator);
        }
    }
    rapidjson::Value* patterns = member(schema, "patternProperties");
    rapidjson::Value* additional = member(schema, "additionalProperties");
    if (patterns == nullptr || !patterns->IsObject() || patterns->MemberCount() == 0 ||
        additional == nullptr || !additional->IsFalse()) {
        return;
    }
    rapidjson::Value replacement;
    if (patterns->MemberCount() == 1) {
        replacement.CopyFrom(patterns->MemberBegin()->value, allocator);
    } else {
        rapidjson::Value any(rapidjson::kArrayType);
        for (const auto& pattern : patterns->GetObject()) {
            rapidjson::Value copy;
            copy.CopyFrom(pattern.value, allocator);
            any.PushBack(copy, allocator);
        }
        replacement.SetObject();
        replacement.AddMember("anyOf", any, allocator);
    }
    *additional = replacement;
    schema.RemoveMember("patternProperties");
}

/// The schema RapidJSON validates with: `source` rewritten by make_validatable().
rapidjson::Document validation_form(const rapidjson::Value& source) {
    rapidjson::Document doc;
    doc.CopyFrom(source, doc.GetAllocator());
    make_validatable(doc, doc.GetAllocator());
    return doc;
}

/// Whether `uri`, the part of a `$ref` before '#', names `file`.
/// RapidJSON 1.1.0 passes the URI one character short, hence the slack.
bool names_file(std::string_view uri, std::string_view file) {
    const std::size_t slash = uri.rfind('/');
    const std::string_view name = slash == std::string_view::npos ? uri : uri.substr(slash + 1);
    return !name.empty() && file.starts_with(name) && file.size() - name.size() <= 1;
}

/// Serves the core's schemas to `$ref`s that name them by file.
class CoreSchemas final : public rapidjson::IRemoteSchemaDocumentProvider {
public:
    struct Entry {
        Entry(std::string_view text, CoreSchemas* provider)
            : source(parse_schema(text)),
              validated(validation_form(source)),
              compiled(validated, provider) {}
        rapidjson::Document source;
        rapidjson::Document validated;
        rapidjson::SchemaDocument compiled;
    };

    static CoreSchemas& instance() {
        static CoreSchemas provider;
        return provider;
    }
    static const Entry& connector() {
        static const Entry entry(embedded::connector_schema_json, &instance());
        return entry;
    }
    static const Entry& relais() {
        static const Entry entry(embedded::relais_schema_json, &instance());
        return entry;
    }

    const rapidjson::SchemaDocument* GetRemoteDocument(const char* uri,
                                                       rapidjson::SizeType length) override {
        const std::string_view name(uri, length);
        if (names_file(name, "connector.schema.json")) {
            return &connector().compiled;
        }
        if (names_file(name, "relais.schema.json")) {
            return &relais().compiled;
        }
        return nullptr;
    }
};

std::vector<std::string> tokens_of(const rapidjson::Pointer& pointer) {
    std::vector<std::string> tokens;
    for (std::size_t i = 0; i < pointer.GetTokenCount(); ++i) {
        const auto& token = pointer.GetTokens()[i];
        tokens.emplace_back(token.name, token.length);
    }
    return tokens;
}

std::string pointer_of(const std::vector<std::string>& tokens) {
    std::string pointer;
    for (const auto& token : tokens) {
        append_pointer_token(pointer, token);
    }
    return pointer;
}

rapidjson::Value* value_at(rapidjson::Value& root, const std::vector<std::string>& tokens,
                           std::size_t count) {
    rapidjson::Value* current = &root;
    for (std::size_t i = 0; i < count && current != nullptr; ++i) {
        if (current->IsObject()) {
            const auto it = current->FindMember(tokens[i].c_str());
            current = it == current->MemberEnd() ? nullptr : &it->value;
        } else if (current->IsArray()) {
            rapidjson::SizeType index = 0;
            const auto [end, ec] =
                std::from_chars(tokens[i].data(), tokens[i].data() + tokens[i].size(), index);
            current = ec == std::errc{} && index < current->Size() ? &(*current)[index] : nullptr;
        } else {
            current = nullptr;
        }
    }
    return current;
}

/// Removes the member at `tokens` from its mapping; false if it is not the
/// member of a mapping.
bool erase_member(rapidjson::Value& root, const std::vector<std::string>& tokens) {
    if (tokens.empty()) {
        return false;
    }
    rapidjson::Value* parent = value_at(root, tokens, tokens.size() - 1);
    if (parent == nullptr || !parent->IsObject()) {
        return false;
    }
    const std::string& name = tokens.back();
    parent->EraseMember(rapidjson::Value(
        rapidjson::StringRef(name.data(), static_cast<rapidjson::SizeType>(name.size()))));
    return true;
}

/// Removes the member holding the failing value (for a value inside a
/// list, the member holding the outermost list) so that the next round
/// reports the next error. Returns its pointer, or empty if the failure is
/// at the root and nothing can be removed.
std::string prune(rapidjson::Value& root, std::vector<std::string> tokens) {
    while (!tokens.empty()) {
        if (erase_member(root, tokens)) {
            return pointer_of(tokens);
        }
        tokens.pop_back();
    }
    return {};
}

}  // namespace

const rapidjson::Value* core_schema_source(std::string_view file_name) {
    if (names_file(file_name, "connector.schema.json")) {
        return &CoreSchemas::connector().source;
    }
    if (names_file(file_name, "relais.schema.json")) {
        return &CoreSchemas::relais().source;
    }
    return nullptr;
}

struct ConfigSchema::Impl {
    explicit Impl(std::string_view text)
        : source(parse_schema(text)),
          validated(validation_form(source)),
          compiled(validated, &CoreSchemas::instance()) {}
    /// As written: error messages are worded from it.
    rapidjson::Document source;
    rapidjson::Document validated;
    rapidjson::SchemaDocument compiled;
};

ConfigSchema::ConfigSchema(std::string_view schema_json)
    : impl_(std::make_unique<Impl>(schema_json)) {}
ConfigSchema::~ConfigSchema() = default;
ConfigSchema::ConfigSchema(ConfigSchema&&) noexcept = default;
ConfigSchema& ConfigSchema::operator=(ConfigSchema&&) noexcept = default;

std::vector<ConfigError> ConfigSchema::validate(const ConfigDocument& document) const {
    std::vector<ConfigError> errors;
    rapidjson::Document work;
    work.CopyFrom(document.json, work.GetAllocator());
    std::vector<std::string> removed;
    check_member_names(impl_->source, work, document, errors, removed);
    for (const auto& pointer : removed) {
        erase_member(work, tokens_of(rapidjson::Pointer(pointer.c_str())));
    }
    for (std::size_t round = 0; round < max_errors_per_document; ++round) {
        rapidjson::SchemaValidator validator(impl_->compiled);
        work.Accept(validator);
        if (validator.IsValid()) {
            break;
        }
        const char* keyword = validator.GetInvalidSchemaKeyword();
        const std::vector<std::string> tokens = tokens_of(validator.GetInvalidDocumentPointer());
        auto found = describe_failure(impl_->source, work, document,
                                      keyword != nullptr ? keyword : "", tokens, removed);
        errors.insert(errors.end(), std::make_move_iterator(found.begin()),
                      std::make_move_iterator(found.end()));
        std::string pruned = prune(work, tokens);
        if (pruned.empty()) {
            break;
        }
        removed.push_back(std::move(pruned));
    }
    // Names are checked in a pass of their own: restore document order.
    std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) {
        return std::pair(a.position().line, a.position().column) <
               std::pair(b.position().line, b.position().column);
    });
    return errors;
}

const ConfigSchema& relais_schema() {
    static const ConfigSchema schema(embedded::relais_schema_json);
    return schema;
}

const ConfigSchema& connector_schema() {
    static const ConfigSchema schema(embedded::connector_schema_json);
    return schema;
}

}  // namespace relais::config
