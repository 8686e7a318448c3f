#include "server/tls.hpp"

#include <openssl/ssl.h>
#include <sys/stat.h>

#include <boost/asio/ssl/context.hpp>
#include <stdexcept>
#include <string>

#include "core/log.hpp"

namespace relais::server {

namespace {

/// TLS 1.2 suites: ephemeral key exchange (forward secrecy) and AEAD only,
/// as the ANSSI's TLS guide recommends. TLS 1.3's suites are all such.
constexpr const char* tls12_ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20";

void warn_if_readable_by_others(const std::filesystem::path& key_file) {
    struct stat status {};
    if (::stat(key_file.c_str(), &status) == 0 && (status.st_mode & (S_IROTH | S_IWOTH)) != 0) {
        log::warn("tls_key_permissions",
                  {{"path", key_file.string()}, {"expected", "not readable by other users"}});
    }
}

}  // namespace

std::shared_ptr<boost::asio::ssl::context> make_tls_context(const TlsSettings& settings) {
    namespace ssl = boost::asio::ssl;
    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
    if (SSL_CTX_set_cipher_list(context->native_handle(), tls12_ciphers) != 1) {
        throw std::runtime_error("OpenSSL knows none of the TLS 1.2 cipher suites relais offers");
    }
    warn_if_readable_by_others(settings.private_key_file);
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
