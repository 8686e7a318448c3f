#include "rest/response_mapping.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <stdexcept>

#include "rest/body_json.hpp"

namespace relais::rest {

namespace {

/// RapidJSON's own buffer: its writer reserves room once per string and
/// scans strings for characters to escape 16 bytes at a time (SSE2) only
/// when it writes there.
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// The mapped data of one answer, written before it is copied out.
struct Output {
    rapidjson::StringBuffer buffer;
    Writer writer{buffer};
};

using simdjson::dom::element;
using simdjson::dom::element_type;

/// simdjson counts a value inside N arrays or objects as N + 1 levels deep:
/// a value inside max_json_depth of them parses, as elsewhere in relais.
constexpr std::size_t parser_depth = max_json_depth + 1;

/// Writes `value` as RapidJSON writes it: the output of a mapping did not
/// change when the parser did. The depth is bounded by the parser's.
void write(const element& value, Writer& writer) {
    switch (value.type()) {
        case element_type::ARRAY: {
            const simdjson::dom::array items = value;
            writer.StartArray();
            for (const element item : items) {
                write(item, writer);
            }
            writer.EndArray();
            return;
        }
        case element_type::OBJECT: {
            const simdjson::dom::object members = value;
            writer.StartObject();
            for (const auto member : members) {
                writer.Key(member.key.data(), static_cast<rapidjson::SizeType>(member.key.size()));
                write(member.value, writer);
            }
            writer.EndObject();
            return;
        }
        case element_type::INT64:
            writer.Int64(value.get_int64().value_unsafe());
            return;
        case element_type::UINT64:
            writer.Uint64(value.get_uint64().value_unsafe());
            return;
        case element_type::DOUBLE:
            writer.Double(value.get_double().value_unsafe());
            return;
        case element_type::STRING: {
            const std::string_view text = value.get_string().value_unsafe();
            writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
            return;
        }
        case element_type::BOOL:
            writer.Bool(value.get_bool().value_unsafe());
            return;
        case element_type::NULL_VALUE:
            writer.Null();
            return;
    }
}

/// The value that `steps` (an RFC 6901 pointer) lead to from `value`, if
/// there is one.
std::optional<element> find(element value, const std::vector<ResponseMapping::Step>& steps) {
    for (const auto& step : steps) {
        simdjson::error_code error = simdjson::INCORRECT_TYPE;
        if (value.is_object()) {
            const simdjson::dom::object members = value.get_object().value_unsafe();
            error = members.at_key(step.name).get(value);
        } else if (value.is_array() && step.index) {
            const simdjson::dom::array items = value.get_array().value_unsafe();
            error = items.at(*step.index).get(value);
        }
        if (error != simdjson::SUCCESS) {
            return std::nullopt;
        }
    }
    return value;
}

/// The tokens of `text`, a JSON Pointer; throws as compile_pointer does.
std::vector<ResponseMapping::Step> steps_of(const std::string& text) {
    const rapidjson::Pointer pointer = compile_pointer(text);
    std::vector<ResponseMapping::Step> steps;
    for (std::size_t i = 0; i < pointer.GetTokenCount(); ++i) {
        const auto& token = pointer.GetTokens()[i];
        ResponseMapping::Step step{std::string(token.name, token.length), std::nullopt};
        if (token.index != rapidjson::kPointerInvalidIndex) {
            step.index = token.index;
        }
        steps.push_back(std::move(step));
    }
    return steps;
}

/// Answers up to this size are parsed, and mapped data up to this size
/// written, without allocating: the thread's parser and output buffer keep
/// that much room. A larger one grows them for its own answer only.
constexpr std::size_t kept_capacity = 256 * 1024;

/// The parser of this thread (a mapping runs from start to end without
/// suspending), with room for an answer of kept_capacity bytes.
simdjson::dom::parser& thread_parser() {
    thread_local simdjson::dom::parser parser;
    if (parser.capacity() != kept_capacity || parser.max_depth() != parser_depth) {
        if (parser.allocate(kept_capacity, parser_depth) != simdjson::SUCCESS) {
            throw std::bad_alloc();
        }
    }
    return parser;
}

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
    : data_text_(data_pointer), data_steps_(steps_of(data_pointer)), list_(list) {
    for (const auto& [name, pointer] : fields) {
        fields_.push_back(Field{name, steps_of(pointer)});
    }
}

std::optional<CallError> ResponseMapping::apply(std::string& answer, std::string& out) const {
    out.clear();
    // The parser reads blocks that may run past the end of the text.
    answer.reserve(answer.size() + simdjson::SIMDJSON_PADDING);
    element root;
    if (thread_parser().parse(answer.data(), answer.size(), false).get(root) != simdjson::SUCCESS) {
        return CallError{ErrorClass::upstream_invalid_response, "the upstream answer is not JSON"};
    }
    const auto data = find(root, data_steps_);
    if (!data) {
        return CallError{ErrorClass::upstream_invalid_response,
                         "the upstream answer has no value at " + data_text_};
    }
    if (list_ && !data->is_array()) {
        return CallError{ErrorClass::upstream_invalid_response,
                         "the upstream answer has no array at " +
                             (data_text_.empty() ? std::string("the root") : data_text_)};
    }
    // The buffer and the writer's nesting stack keep their memory from one
    // answer to the next on this thread. Named once here: every use of a
    // thread_local in a plugin is a call to find it.
    thread_local Output output;
    rapidjson::StringBuffer& buffer = output.buffer;
    Writer& writer = output.writer;
    buffer.Clear();
    writer.Reset(buffer);
    auto write_item = [&](const element& item) {
        if (fields_.empty()) {
            write(item, writer);
            return;
        }
        writer.StartObject();
        for (const auto& field : fields_) {
            writer.Key(field.name.data(), static_cast<rapidjson::SizeType>(field.name.size()));
            if (const auto value = find(item, field.steps)) {
                write(*value, writer);
            } else {
                writer.Null();
            }
        }
        writer.EndObject();
    };
    if (list_) {
        const simdjson::dom::array items = *data;
        writer.StartArray();
        for (const element item : items) {
            write_item(item);
        }
        writer.EndArray();
    } else {
        write_item(*data);
    }
    out.assign(buffer.GetString(), buffer.GetSize());
    if (buffer.GetSize() > kept_capacity) {
        buffer.Clear();
        buffer.ShrinkToFit();
    }
    return std::nullopt;
}

}  // namespace relais::rest
