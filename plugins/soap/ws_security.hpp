#pragma once
/// @file
/// The WS-Security header kind soap adds to each attempt of an operation
/// whose connector declares `soap.ws_security`: a UsernameToken with the
/// password in clear (PasswordText, for TLS links) or digested with a fresh
/// nonce and creation time (PasswordDigest). Made anew for every attempt,
/// and never stored: a push in the outbox holds the envelope without it.

#include <chrono>
#include <string>

#include "soap/soap_envelope.hpp"

namespace relais::soap {

/// `soap.ws_security` of a connector file.
struct UsernameToken {
    std::string username;
    std::string password;
    bool digest = true;  ///< PasswordDigest; false: PasswordText
};

/// The wsse:Security element, mustUnderstand as `version` writes it, the
/// envelope prefix being `soap`. Throws std::runtime_error when no random
/// nonce can be drawn.
std::string security_header(const UsernameToken& token, SoapVersion version,
                            std::chrono::system_clock::time_point now);

}  // namespace relais::soap
