#include "core/json.hpp"

#include <rapidjson/memorystream.h>

#include "core/json_reader.hpp"

namespace relais {

bool parse_untrusted_json(std::string_view text, rapidjson::Document& doc) {
    // RapidJSON stops at a NUL byte as at the end of the text: whatever
    // followed would pass unseen.
    if (text.find('\0') != std::string_view::npos) {
        doc.SetNull();
        return false;
    }
    rapidjson::MemoryStream stream(text.data(), text.size());
    if (!parse_depth_limited<rapidjson::kParseValidateEncodingFlag>(stream, doc)) {
        doc.SetNull();
        return false;
    }
    return true;
}

bool is_untrusted_json_object(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos || text[first] != '{' ||
        text.find('\0') != std::string_view::npos) {
        return false;
    }
    rapidjson::MemoryStream stream(text.data(), text.size());
    rapidjson::BaseReaderHandler<> ignore;
    DepthLimitedHandler handler(ignore);
    rapidjson::Reader reader;
    return !reader
                .Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(
                    stream, handler)
                .IsError();
}

}  // namespace relais
