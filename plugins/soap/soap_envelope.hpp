#pragma once
/// @file
/// SOAP 1.1 and 1.2 envelopes as kind soap writes and reads them: the text
/// around an operation's body, where a header goes, and the fault an
/// answer may carry. The versions, their namespaces and content types are
/// the core's (soap/soap_version.hpp), shared with relais's SOAP service.

#include <optional>
#include <string>
#include <string_view>

#include "soap/soap_version.hpp"

namespace pugi {
class xml_node;
}

namespace relais::soap {

/// The prefix kind soap gives the envelope namespace, in requests and in
/// the XPath expressions of answers.
inline constexpr std::string_view envelope_prefix = "soap";

/// What is written before an operation's body: the XML declaration, the
/// Envelope's start tag and the Body's.
std::string envelope_start(SoapVersion version);
/// What is written after it: the Body's and the Envelope's end tags.
std::string envelope_end();

/// Inserts `header` (the content of a soap:Header) into `message`, a
/// request written with envelope_start of either version: the version is
/// read from the start. False, `message` unchanged, when it starts with
/// neither.
bool insert_header(std::string& message, std::string_view header);

/// The version `message` was written for, from its start.
std::optional<SoapVersion> version_of(std::string_view message) noexcept;

/// A fault found in an answer.
struct SoapFault {
    /// The code's local name: Client, Server (1.1), Sender, Receiver (1.2),
    /// VersionMismatch, MustUnderstand…; a 1.2 subcode follows after a dot.
    std::string code;
    std::string reason;  ///< faultstring (1.1) or the first Reason/Text (1.2)
    /// The fault is the caller's making (Client, Sender): sending the same
    /// request again cannot succeed.
    bool from_sender = false;
};

/// The fault in `body` (a soap:Body whose names are rewritten as
/// xml_document.hpp does, the envelope namespace as `soap`), if any. Code
/// and reason are cut at 512 bytes, without splitting a character; control
/// characters become spaces.
std::optional<SoapFault> fault_in(const pugi::xml_node& body, SoapVersion version);

}  // namespace relais::soap
