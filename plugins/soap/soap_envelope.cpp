#include "soap/soap_envelope.hpp"

#include <algorithm>
#include <cctype>
#include <pugixml.hpp>

#include "core/utf8.hpp"

namespace relais::soap {

namespace {

constexpr std::string_view declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
constexpr std::size_t max_fault_text = 512;

std::string envelope_open(SoapVersion version) {
    return std::string(declaration) + "<soap:Envelope xmlns:soap=\"" +
           std::string(envelope_namespace(version)) + "\">";
}

/// `text` trimmed, control characters as spaces, at most max_fault_text
/// bytes without cutting a UTF-8 sequence.
std::string clean(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {
        return {};
    }
    text = text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
    std::string out = utf8_excerpt(text, max_fault_text, "(not UTF-8)");
    std::replace_if(
        out.begin(), out.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }, ' ');
    return out;
}

/// The local part of a QName written as text (`env:Server` -> `Server`).
std::string local_part(std::string_view qname) {
    const std::string cleaned = clean(qname);
    const auto colon = cleaned.rfind(':');
    return colon == std::string::npos ? cleaned : cleaned.substr(colon + 1);
}

/// The longest fault code (or subcode) shown.
constexpr std::size_t max_code_length = 64;

/// `code` if it reads as a name: letters, digits, `.`, `_`, `-`, starting
/// with a letter or `_`. Anything else is free text from the upstream,
/// which may be about the person the call was for: "unknown" then.
std::string shown_code(std::string code) {
    const auto name_char = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
    };
    if (code.empty() || code.size() > max_code_length ||
        (std::isalpha(static_cast<unsigned char>(code.front())) == 0 && code.front() != '_') ||
        !std::ranges::all_of(code, name_char)) {
        return "unknown";
    }
    return code;
}

}  // namespace

std::string envelope_start(SoapVersion version) {
    return envelope_open(version) + "<soap:Body>";
}

std::string envelope_end() {
    return "</soap:Body></soap:Envelope>";
}

std::optional<SoapVersion> version_of(std::string_view message) noexcept {
    for (const SoapVersion v : {SoapVersion::soap11, SoapVersion::soap12}) {
        if (message.starts_with(envelope_open(v))) {
            return v;
        }
    }
    return std::nullopt;
}

bool insert_header(std::string& message, std::string_view header) {
    const auto version = version_of(message);
    if (!version) {
        return false;
    }
    const std::string open = envelope_open(*version);
    message.insert(open.size(), "<soap:Header>" + std::string(header) + "</soap:Header>");
    return true;
}

std::optional<SoapFault> fault_in(const pugi::xml_node& body, SoapVersion version) {
    const pugi::xml_node fault = body.child("soap:Fault");
    if (!fault) {
        return std::nullopt;
    }
    SoapFault out;
    if (version == SoapVersion::soap11) {
        // faultcode and faultstring are unqualified in SOAP 1.1; some
        // write them in the envelope's namespace all the same.
        const auto value = [&](const char* name) {
            const pugi::xml_node child = fault.child(name);
            return child ? child.child_value()
                         : fault.child_value(("soap:" + std::string(name)).c_str());
        };
        const std::string code = local_part(value("faultcode"));
        out.from_sender = code == "Client" || code.starts_with("Client.");
        out.code = shown_code(code);
        out.reason = clean(value("faultstring"));
    } else {
        const pugi::xml_node code = fault.child("soap:Code");
        const std::string value = local_part(code.child_value("soap:Value"));
        out.from_sender = value == "Sender";
        out.code = shown_code(value);
        if (const pugi::xml_node sub = code.child("soap:Subcode")) {
            out.code += "." + shown_code(local_part(sub.child_value("soap:Value")));
        }
        out.reason = clean(fault.child("soap:Reason").child_value("soap:Text"));
    }
    return out;
}

}  // namespace relais::soap
