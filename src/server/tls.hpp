#pragma once
/// @file
/// The server's TLS context, built from the configured certificate chain
/// and key (PEM) at start-up and again at each reload, so that a renewed
/// certificate is served without a restart. TLS 1.2 is the oldest version
/// offered; TLS 1.2 offers only forward-secret AEAD suites.

#include <memory>

#include "config/relais_config.hpp"
#include "core/shared_slot.hpp"

namespace boost::asio::ssl {
class context;
}

namespace relais::server {

/// The context that new connections take; a reload replaces it, and each
/// connection keeps the one it started with. Null in the slot: plain HTTP.
using TlsSlot = SharedSlot<boost::asio::ssl::context>;

/// Loads the certificate chain and private key. Throws std::runtime_error
/// naming the file and OpenSSL's reason if either cannot be used. Warns
/// (tls_key_permissions) when other users may read the key.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const TlsSettings& settings);

}  // namespace relais::server
