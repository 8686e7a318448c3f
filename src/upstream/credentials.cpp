#include "upstream/credentials.hpp"

#include <string_view>

#include "core/url_encoding.hpp"

namespace relais::upstream {

std::string basic_authorization(std::string_view user, std::string_view password) {
    std::string plain;
    plain.reserve(user.size() + 1 + password.size());
    plain.append(user).append(":").append(password);
    return "Basic " +
           base64_encode({reinterpret_cast<const unsigned char*>(plain.data()), plain.size()});
}

std::string form_encode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    append_form_encoded(out, text);
    return out;
}

}  // namespace relais::upstream
