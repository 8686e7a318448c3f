#include "soap/ws_security.hpp"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>

#include "auth/publik_signature.hpp"
#include "auth/username_token.hpp"
#include "core/url_encoding.hpp"
#include "core/xml_text.hpp"

namespace relais::soap {

namespace {

constexpr std::string_view wsse_namespace =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
constexpr std::string_view wsu_namespace =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
constexpr std::string_view base64_binary =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0"
    "#Base64Binary";

}  // namespace

std::string security_header(const UsernameToken& token, SoapVersion version,
                            std::chrono::system_clock::time_point now) {
    std::string out = "<wsse:Security xmlns:wsse=\"" + std::string(wsse_namespace) +
                      "\" xmlns:wsu=\"" + std::string(wsu_namespace) + "\" soap:mustUnderstand=\"" +
                      (version == SoapVersion::soap11 ? "1" : "true") +
                      "\"><wsse:UsernameToken><wsse:Username>";
    append_xml_text(out, token.username);
    out += "</wsse:Username><wsse:Password Type=\"";
    out += token.digest ? auth::password_digest_type : auth::password_text_type;
    out += "\">";
    if (!token.digest) {
        append_xml_text(out, token.password);
        out += "</wsse:Password></wsse:UsernameToken></wsse:Security>";
        return out;
    }
    std::array<unsigned char, 16> nonce{};
    if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
        throw std::runtime_error("no random nonce for WS-Security");
    }
    const std::string created = auth::format_timestamp(now);
    out += auth::password_digest(
        std::string_view(reinterpret_cast<const char*>(nonce.data()), nonce.size()), created,
        token.password);
    out += "</wsse:Password><wsse:Nonce EncodingType=\"";
    out += base64_binary;
    out += "\">";
    out += base64_encode(nonce);
    out += "</wsse:Nonce><wsu:Created>";
    out += created;
    out += "</wsu:Created></wsse:UsernameToken></wsse:Security>";
    return out;
}

}  // namespace relais::soap
