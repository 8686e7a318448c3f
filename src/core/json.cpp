#include "core/json.hpp"

#include <rapidjson/document.h>

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

}  // namespace relais
