#pragma once
/// @file
/// The server's TLS context, built once at start-up from the configured
/// certificate chain and key (PEM). TLS 1.2 is the oldest version offered.

#include <memory>

#include "config/relais_config.hpp"

namespace boost::asio::ssl {
class context;
}

namespace relais::server {

/// Loads the certificate chain and private key. Throws std::runtime_error
/// naming the file and OpenSSL's reason if either cannot be used.
std::unique_ptr<boost::asio::ssl::context> make_tls_context(const TlsSettings& settings);

}  // namespace relais::server
