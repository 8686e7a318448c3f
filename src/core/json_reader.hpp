#pragma once
/// @file
/// The checked RapidJSON reading behind core/json.hpp, for the parsers that
/// need their own stream or flags (in-place parsing of upstream answers).
/// Includes RapidJSON's reader: keep it out of common headers.

#include <rapidjson/document.h>
#include <rapidjson/reader.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <variant>

#include "core/json.hpp"

namespace relais {

/// A JSON number's value, as the reader would hand it on.
using JsonNumber = std::variant<std::int64_t, std::uint64_t, double>;

/// Whether `text`, a number the reader has checked against JSON's grammar,
/// is an integer: no fraction, no exponent.
inline bool is_json_integer(std::string_view text) noexcept {
    return text.find_first_of(".eE") == std::string_view::npos;
}

/// The value of `text`, a number the reader has checked against JSON's
/// grammar: an integer as a 64-bit one, anything else as the nearest
/// double (zero, with its sign, for one too small for any other).
/// Nullopt for an integer outside 64 bits or a number too large for a
/// double.
std::optional<JsonNumber> json_number(std::string_view text) noexcept;

/// The reader flags every untrusted parse adds to its own: iterative (no
/// recursion per level), numbers handed over as text (for json_number).
inline constexpr unsigned untrusted_parse_flags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag;

/// Hands a reader's events on to `Target` (a rapidjson::Document being
/// built, or any other SAX handler), reading numbers with json_number and
/// stopping the parse past max_json_depth or at a number it cannot hold
/// (unless `inexact` keeps it as text), while parsing rather than in a
/// separate pass over the text.
template <typename Target>
class UntrustedJsonHandler {
public:
    explicit UntrustedJsonHandler(Target& target, InexactNumbers inexact = InexactNumbers::refuse)
        : target_(target), inexact_(inexact) {}

    /// Why the handler stopped the parse, or not_json if it did not.
    JsonFault fault() const noexcept { return fault_; }

    bool Null() { return target_.Null(); }
    bool Bool(bool value) { return target_.Bool(value); }
    bool Int(int value) { return target_.Int(value); }
    bool Uint(unsigned value) { return target_.Uint(value); }
    bool Int64(std::int64_t value) { return target_.Int64(value); }
    bool Uint64(std::uint64_t value) { return target_.Uint64(value); }
    bool Double(double value) { return target_.Double(value); }
    bool RawNumber(const char* text, rapidjson::SizeType length, bool /*copy*/) {
        const auto number = json_number({text, length});
        if (!number) {
            return inexact_ == InexactNumbers::as_text && is_json_integer({text, length})
                       ? target_.String(text, length, true)
                       : stop(JsonFault::inexact_number);
        }
        return std::visit(
            [this](auto value) {
                using Value = decltype(value);
                if constexpr (std::is_same_v<Value, std::int64_t>) {
                    return target_.Int64(value);
                } else if constexpr (std::is_same_v<Value, std::uint64_t>) {
                    return target_.Uint64(value);
                } else {
                    return target_.Double(value);
                }
            },
            *number);
    }
    bool String(const char* text, rapidjson::SizeType length, bool copy) {
        return target_.String(text, length, copy);
    }
    bool Key(const char* text, rapidjson::SizeType length, bool copy) {
        return target_.Key(text, length, copy);
    }
    bool StartObject() { return enter() && target_.StartObject(); }
    bool EndObject(rapidjson::SizeType members) {
        --depth_;
        return target_.EndObject(members);
    }
    bool StartArray() { return enter() && target_.StartArray(); }
    bool EndArray(rapidjson::SizeType elements) {
        --depth_;
        return target_.EndArray(elements);
    }

private:
    bool enter() { return ++depth_ <= max_json_depth || stop(JsonFault::too_deep); }
    bool stop(JsonFault fault) {
        fault_ = fault;
        return false;
    }

    Target& target_;
    InexactNumbers inexact_;
    unsigned depth_ = 0;
    JsonFault fault_ = JsonFault::not_json;
};

/// Parses `stream` into `doc` under `flags` and untrusted_parse_flags. On
/// a fault `doc` is left as it was.
template <unsigned flags, typename Stream>
JsonParse parse_untrusted(Stream& stream, rapidjson::Document& doc,
                          InexactNumbers inexact = InexactNumbers::refuse) {
    JsonParse result;
    auto generate = [&](rapidjson::Document& target) {
        UntrustedJsonHandler<rapidjson::Document> handler(target, inexact);
        rapidjson::Reader reader;
        const auto parsed = reader.Parse<flags | untrusted_parse_flags>(stream, handler);
        if (parsed.IsError()) {
            // The reader refuses a number past a double's range itself.
            result.fault = parsed.Code() == rapidjson::kParseErrorNumberTooBig
                               ? JsonFault::inexact_number
                               : handler.fault();
            return false;
        }
        return true;
    };
    doc.Populate(generate);
    return result;
}

}  // namespace relais
