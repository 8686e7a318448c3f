#include "core/json.hpp"

#include <rapidjson/memorystream.h>

#include <algorithm>
#include <charconv>
#include <system_error>

#include "core/json_reader.hpp"

namespace relais {

namespace {

/// `value` read from the whole of `text` by from_chars, or nullopt.
template <typename Number>
std::optional<JsonNumber> read_whole(std::string_view text) noexcept {
    Number value{};
    const char* const last = text.data() + text.size();
    const auto [end, error] = std::from_chars(text.data(), last, value);
    if (error != std::errc{} || end != last) {
        return std::nullopt;
    }
    return JsonNumber{value};
}

/// Whether `text`, a JSON number out of a double's range, is below it
/// rather than above: the power of ten of its first significant digit,
/// once the exponent is applied, is negative.
bool below_double_range(std::string_view text) noexcept {
    constexpr long bound = 1'000'000;  // far beyond any double's exponent
    std::size_t i = text.front() == '-' ? 1 : 0;
    long order = 0;  // digits before the point, or minus the zeros after it
    bool point = false;
    bool significant = false;
    for (; i < text.size() && text[i] != 'e' && text[i] != 'E'; ++i) {
        if (text[i] == '.') {
            point = true;
        } else if (!significant && text[i] == '0') {
            order -= point ? 1 : 0;
        } else {
            significant = true;
            order += point ? 0 : 1;
        }
    }
    long exponent = 0;
    bool negative = false;
    for (++i; i < text.size(); ++i) {
        if (text[i] == '-') {
            negative = true;
        } else if (text[i] != '+') {
            exponent = std::min(bound, exponent * 10 + (text[i] - '0'));
        }
    }
    return order + (negative ? -exponent : exponent) < 0;
}

/// The nearest double to `text`: zero, with its sign, for one too small
/// for any other.
std::optional<JsonNumber> read_decimal(std::string_view text) noexcept {
    if (auto value = read_whole<double>(text)) {
        return value;
    }
    if (below_double_range(text)) {
        return JsonNumber{text.front() == '-' ? -0.0 : 0.0};
    }
    return std::nullopt;
}

}  // namespace

std::optional<JsonNumber> json_number(std::string_view text) noexcept {
    if (text.empty()) {
        return std::nullopt;
    }
    if (!is_json_integer(text)) {
        return read_decimal(text);
    }
    return text.front() == '-' ? read_whole<std::int64_t>(text) : read_whole<std::uint64_t>(text);
}

JsonParse parse_untrusted_json(std::string_view text, rapidjson::Document& doc,
                               InexactNumbers inexact) {
    // RapidJSON stops at a NUL byte as at the end of the text: whatever
    // followed would pass unseen.
    JsonParse result{JsonFault::not_json};
    if (text.find('\0') == std::string_view::npos) {
        rapidjson::MemoryStream stream(text.data(), text.size());
        result = parse_untrusted<rapidjson::kParseValidateEncodingFlag>(stream, doc, inexact);
    }
    if (!result) {
        doc.SetNull();
    }
    return result;
}

JsonParse parse_untrusted_object(std::string_view text, rapidjson::Document& doc,
                                 InexactNumbers inexact) {
    auto result = parse_untrusted_json(text, doc, inexact);
    if (result.fault == JsonFault::not_json || (result && !doc.IsObject())) {
        result.fault = JsonFault::not_object;
    }
    return result;
}

bool is_untrusted_json_object(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos || text[first] != '{' ||
        text.find('\0') != std::string_view::npos) {
        return false;
    }
    rapidjson::MemoryStream stream(text.data(), text.size());
    rapidjson::BaseReaderHandler<> ignore;
    UntrustedJsonHandler handler(ignore);
    rapidjson::Reader reader;
    return !reader
                .Parse<untrusted_parse_flags | rapidjson::kParseValidateEncodingFlag>(stream,
                                                                                      handler)
                .IsError();
}

std::string describe(JsonFault fault, std::string_view subject) {
    std::string text(subject);
    switch (fault) {
        case JsonFault::too_deep:
            return text + " nests deeper than " + std::to_string(max_json_depth) + " levels";
        case JsonFault::inexact_number:
            return text +
                   " holds a number relais would have to round (an integer outside 64 bits, "
                   "or beyond a double's range): send it as a string";
        case JsonFault::not_object:
            return text + " must be a JSON object";
        case JsonFault::none:
        case JsonFault::not_json:
            break;
    }
    return text + " is not valid JSON";
}

}  // namespace relais
