#pragma once
/// @file
/// The depth-capped RapidJSON reading behind core/json.hpp, for the parsers
/// that need their own stream or flags (in-place parsing of upstream
/// answers). Includes RapidJSON's reader: keep it out of common headers.

#include <rapidjson/document.h>
#include <rapidjson/reader.h>

#include <cstdint>

#include "core/json.hpp"

namespace relais {

/// Hands a reader's events on to `Target` (a rapidjson::Document being
/// built, or any other SAX handler) and stops the parse past max_json_depth,
/// while parsing rather than in a separate pass over the text.
template <typename Target>
class DepthLimitedHandler {
public:
    explicit DepthLimitedHandler(Target& target) : target_(target) {}

    bool Null() { return target_.Null(); }
    bool Bool(bool value) { return target_.Bool(value); }
    bool Int(int value) { return target_.Int(value); }
    bool Uint(unsigned value) { return target_.Uint(value); }
    bool Int64(std::int64_t value) { return target_.Int64(value); }
    bool Uint64(std::uint64_t value) { return target_.Uint64(value); }
    bool Double(double value) { return target_.Double(value); }
    bool RawNumber(const char* text, rapidjson::SizeType length, bool copy) {
        return target_.RawNumber(text, length, copy);
    }
    bool String(const char* text, rapidjson::SizeType length, bool copy) {
        return target_.String(text, length, copy);
    }
    bool Key(const char* text, rapidjson::SizeType length, bool copy) {
        return target_.Key(text, length, copy);
    }
    bool StartObject() { return ++depth_ <= max_json_depth && target_.StartObject(); }
    bool EndObject(rapidjson::SizeType members) {
        --depth_;
        return target_.EndObject(members);
    }
    bool StartArray() { return ++depth_ <= max_json_depth && target_.StartArray(); }
    bool EndArray(rapidjson::SizeType elements) {
        --depth_;
        return target_.EndArray(elements);
    }

private:
    Target& target_;
    unsigned depth_ = 0;
};

/// Parses `stream` into `doc` iteratively with the depth capped; false if it
/// is not JSON under `flags` or nests too deep (`doc` is then left as it was).
template <unsigned flags, typename Stream>
bool parse_depth_limited(Stream& stream, rapidjson::Document& doc) {
    bool parsed = false;
    auto generate = [&](rapidjson::Document& target) {
        DepthLimitedHandler<rapidjson::Document> handler(target);
        rapidjson::Reader reader;
        parsed = !reader.Parse<flags | rapidjson::kParseIterativeFlag>(stream, handler).IsError();
        return parsed;
    };
    doc.Populate(generate);
    return parsed;
}

}  // namespace relais
