#include "core/json.hpp"

#include <rapidjson/document.h>

namespace relais {

bool parse_untrusted_json(std::string_view text, rapidjson::Document& doc) {
    doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(text.data(),
                                                                                      text.size());
    return !doc.HasParseError();
}

}  // namespace relais
