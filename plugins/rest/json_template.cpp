#include "rest/json_template.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <vector>

#include "config/config_document.hpp"

namespace relais::rest {

struct JsonTemplate::Node {
    enum class Kind : unsigned char { literal, value, text, object, array };
    Kind kind = Kind::literal;
    std::string literal;  ///< serialized JSON of a subtree without placeholders
    rapidjson::Type literal_type = rapidjson::kNullType;
    TextTemplate text;              ///< value: the one placeholder; text: the parts
    std::vector<std::string> keys;  ///< object: keys, parallel to children
    std::vector<Node> children;     ///< object members or array items
};

namespace {

using Node = JsonTemplate::Node;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

Node compile(const rapidjson::Value& value, const RefResolver& resolve, const std::string& where) {
    Node node;
    if (value.IsString()) {
        try {
            node.text = TextTemplate::parse({value.GetString(), value.GetStringLength()}, resolve);
        } catch (const TemplateError& e) {
            throw TemplateError((where.empty() ? std::string("/") : where) + ": " + e.what());
        }
        if (node.text.is_single_placeholder()) {
            node.kind = Node::Kind::value;
            return node;
        }
        if (node.text.has_placeholders()) {
            node.kind = Node::Kind::text;
            return node;
        }
        // A plain string: written once, with `{{` already turned into `{`.
        const std::string text = node.text.literal_text();
        rapidjson::StringBuffer buffer;
        Writer writer(buffer);
        writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
        node.literal.assign(buffer.GetString(), buffer.GetSize());
        node.literal_type = rapidjson::kStringType;
        node.text = TextTemplate();
        return node;
    }
    if (value.IsObject()) {
        node.kind = Node::Kind::object;
        for (const auto& m : value.GetObject()) {
            node.keys.emplace_back(m.name.GetString(), m.name.GetStringLength());
            std::string pointer = where;
            config::append_pointer_token(pointer, node.keys.back());
            node.children.push_back(compile(m.value, resolve, pointer));
        }
    } else if (value.IsArray()) {
        node.kind = Node::Kind::array;
        rapidjson::SizeType i = 0;
        for (const auto& item : value.GetArray()) {
            node.children.push_back(compile(item, resolve, where + "/" + std::to_string(i++)));
        }
    } else {
        rapidjson::StringBuffer buffer;
        Writer writer(buffer);
        value.Accept(writer);
        node.literal.assign(buffer.GetString(), buffer.GetSize());
        node.literal_type = value.GetType();
        return node;
    }
    // Subtrees without placeholders are serialized once, at load, from the
    // children (whose strings already had `{{` turned into `{`).
    for (const auto& child : node.children) {
        if (child.kind != Node::Kind::literal) {
            return node;
        }
    }
    Node literal;
    literal.literal_type = value.GetType();
    literal.literal.push_back(node.kind == Node::Kind::object ? '{' : '[');
    for (std::size_t i = 0; i < node.children.size(); ++i) {
        if (i > 0) {
            literal.literal.push_back(',');
        }
        if (node.kind == Node::Kind::object) {
            append_json_string(literal.literal, node.keys[i]);
            literal.literal.push_back(':');
        }
        literal.literal += node.children[i].literal;
    }
    literal.literal.push_back(node.kind == Node::Kind::object ? '}' : ']');
    return literal;
}

class Renderer {
public:
    Renderer(const CallValues& values, Writer& writer) : values_(values), writer_(writer) {}

    std::optional<CallError> error;

    // Writes `node`, preceded by `key` when given. Returns false if the
    // value is missing (nothing was written) or on error.
    bool write(const Node& node, const std::string* key) {
        switch (node.kind) {
            case Node::Kind::literal:
                write_key(key);
                writer_.RawValue(node.literal.data(), node.literal.size(), node.literal_type);
                return true;
            case Node::Kind::value:
                return write_value(*node.text.parts().front().ref, key);
            case Node::Kind::text: {
                scratch_.clear();
                TextLookup lookup = TextLookup::found;
                if (const ValueRef* ref = node.text.render(values_, scratch_, lookup)) {
                    if (lookup == TextLookup::not_scalar) {
                        error = CallError{
                            ErrorClass::invalid_body,
                            describe(*ref, values_) + " must be a string, a number or a boolean"};
                    }
                    return false;
                }
                write_key(key);
                writer_.String(scratch_.data(), static_cast<rapidjson::SizeType>(scratch_.size()));
                return true;
            }
            case Node::Kind::object: {
                write_key(key);
                writer_.StartObject();
                for (std::size_t i = 0; i < node.children.size() && !error; ++i) {
                    write(node.children[i], &node.keys[i]);
                }
                writer_.EndObject();
                return true;
            }
            case Node::Kind::array: {
                write_key(key);
                writer_.StartArray();
                for (const auto& child : node.children) {
                    if (!write(child, nullptr) && !error) {
                        writer_.Null();
                    }
                    if (error) {
                        break;
                    }
                }
                writer_.EndArray();
                return true;
            }
        }
        return false;
    }

private:
    void write_key(const std::string* key) {
        if (key != nullptr) {
            writer_.Key(key->data(), static_cast<rapidjson::SizeType>(key->size()));
        }
    }

    bool write_value(const ValueRef& ref, const std::string* key) {
        if (ref.source == ValueRef::Source::body) {
            const rapidjson::Value* v = values_.body_values[ref.index];
            if (v == nullptr) {
                return false;
            }
            write_key(key);
            v->Accept(writer_);
            return true;
        }
        const auto& value = values_.parameters[ref.index];
        if (!value) {
            return false;
        }
        write_key(key);
        switch (value->type) {
            case ParamType::string:
                writer_.String(value->text.data(),
                               static_cast<rapidjson::SizeType>(value->text.size()));
                break;
            case ParamType::integer:
                writer_.Int64(value->integer);
                break;
            case ParamType::number:
                writer_.Double(value->number);
                break;
            case ParamType::boolean:
                writer_.Bool(value->boolean);
                break;
        }
        return true;
    }

    const CallValues& values_;
    Writer& writer_;
    std::string scratch_;
};

}  // namespace

JsonTemplate::JsonTemplate() = default;
JsonTemplate::~JsonTemplate() = default;
JsonTemplate::JsonTemplate(JsonTemplate&&) noexcept = default;
JsonTemplate& JsonTemplate::operator=(JsonTemplate&&) noexcept = default;

JsonTemplate JsonTemplate::parse(const rapidjson::Value& value, const RefResolver& resolve) {
    JsonTemplate t;
    t.root_ = std::make_unique<const Node>(compile(value, resolve, ""));
    return t;
}

std::optional<CallError> JsonTemplate::render(const CallValues& values, std::string& out) const {
    rapidjson::StringBuffer buffer;
    Writer writer(buffer);
    Renderer renderer(values, writer);
    if (!renderer.write(*root_, nullptr) && !renderer.error) {
        writer.Null();
    }
    if (renderer.error) {
        return renderer.error;
    }
    out.assign(buffer.GetString(), buffer.GetSize());
    return std::nullopt;
}

}  // namespace relais::rest
