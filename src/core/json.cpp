#include "core/json.hpp"

#include <rapidjson/document.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

namespace relais {

bool parse_untrusted_json(std::string_view text, rapidjson::Document& doc) {
    // RapidJSON stops at a NUL byte as at the end of the text: whatever
    // followed would pass unseen.
    if (text.find('\0') != std::string_view::npos) {
        doc.SetNull();
        return false;
    }
    doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(text.data(),
                                                                                      text.size());
    return !doc.HasParseError();
}

bool is_untrusted_json_object(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos || text[first] != '{' ||
        text.find('\0') != std::string_view::npos) {
        return false;
    }
    rapidjson::MemoryStream stream(text.data(), text.size());
    rapidjson::BaseReaderHandler<> ignore;
    rapidjson::Reader reader;
    return !reader
                .Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(
                    stream, ignore)
                .IsError();
}

}  // namespace relais
