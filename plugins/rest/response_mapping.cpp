#include "rest/response_mapping.hpp"

#include <rapidjson/document.h>
#include <rapidjson/writer.h>

#include <array>
#include <stdexcept>

#include "rest/body_json.hpp"

namespace relais::rest {

namespace {

/// RapidJSON output stream appending to the caller's string: the mapped data
/// is written once, where it ends up.
class StringOutput {
public:
    using Ch = char;
    explicit StringOutput(std::string& text) : text_(text) {}
    void Put(char c) { text_.push_back(c); }
    void Flush() {}

private:
    std::string& text_;
};

using Writer = rapidjson::Writer<StringOutput>;

}  // namespace

rapidjson::Pointer compile_pointer(const std::string& text) {
    if (!text.empty() && text.front() != '/') {
        throw std::invalid_argument("'" + text +
                                    "' is not a JSON Pointer (it must start with '/')");
    }
    rapidjson::Pointer pointer(text.data(), text.size());
    if (!pointer.IsValid()) {
        throw std::invalid_argument("'" + text + "' is not a valid JSON Pointer");
    }
    return pointer;
}

ResponseMapping::ResponseMapping(const std::string& data_pointer, bool list,
                                 const std::vector<std::pair<std::string, std::string>>& fields)
    : data_text_(data_pointer), data_(compile_pointer(data_pointer)), list_(list) {
    for (const auto& [name, pointer] : fields) {
        fields_.push_back(Field{name, compile_pointer(pointer)});
    }
}

std::optional<CallError> ResponseMapping::apply(std::string& text, std::string& out) const {
    out.clear();
    // The document lives only until the mapping is written, with no
    // suspension in between: its values go into a buffer of this thread
    // instead of a 64 KiB block allocated per answer.
    thread_local std::array<char, 32 * 1024> parse_space;
    rapidjson::MemoryPoolAllocator<> pool(parse_space.data(), parse_space.size());
    rapidjson::Document answer(&pool);
    if (!parse_json(text, answer)) {
        return CallError{ErrorClass::upstream_invalid_response, "the upstream answer is not JSON"};
    }
    const rapidjson::Value* data = data_.Get(answer);
    if (data == nullptr) {
        return CallError{ErrorClass::upstream_invalid_response,
                         "the upstream answer has no value at " + data_text_};
    }
    if (list_ && !data->IsArray()) {
        return CallError{ErrorClass::upstream_invalid_response,
                         "the upstream answer has no array at " +
                             (data_text_.empty() ? std::string("the root") : data_text_)};
    }
    // Most mapped answers fit: one allocation instead of a doubling series.
    out.reserve(512);
    StringOutput output(out);
    // Given, the writer's nesting stack does not allocate an allocator.
    rapidjson::CrtAllocator stack_allocator;
    Writer writer(output, &stack_allocator);
    auto write_item = [&](const rapidjson::Value& item) {
        if (fields_.empty()) {
            item.Accept(writer);
            return;
        }
        writer.StartObject();
        for (const auto& field : fields_) {
            writer.Key(field.name.data(), static_cast<rapidjson::SizeType>(field.name.size()));
            if (const rapidjson::Value* v = field.pointer.Get(item)) {
                v->Accept(writer);
            } else {
                writer.Null();
            }
        }
        writer.EndObject();
    };
    if (list_) {
        writer.StartArray();
        for (const auto& item : data->GetArray()) {
            write_item(item);
        }
        writer.EndArray();
    } else {
        write_item(*data);
    }
    return std::nullopt;
}

}  // namespace relais::rest
