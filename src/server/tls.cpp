#include "server/tls.hpp"

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <stdexcept>
#include <string>

namespace relais::server {

std::unique_ptr<boost::asio::ssl::context> make_tls_context(const TlsSettings& settings) {
    namespace ssl = boost::asio::ssl;
    auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
    boost::system::error_code ec;
    context->use_certificate_chain_file(settings.certificate_file.string(), ec);
    if (ec) {
        throw std::runtime_error("cannot use TLS certificate " +
                                 settings.certificate_file.string() + ": " + ec.message());
    }
    context->use_private_key_file(settings.private_key_file.string(), ssl::context::pem, ec);
    if (ec) {
        throw std::runtime_error("cannot use TLS private key " +
                                 settings.private_key_file.string() + ": " + ec.message());
    }
    if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
        throw std::runtime_error("TLS private key " + settings.private_key_file.string() +
                                 " does not match certificate " +
                                 settings.certificate_file.string());
    }
    return context;
}

}  // namespace relais::server
