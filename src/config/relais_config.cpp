#include "config/relais_config.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <rapidjson/document.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "config/config_document.hpp"
#include "config/config_schema.hpp"
#include "config/secrets.hpp"
#include "core/duration.hpp"
#include "core/url_encoding.hpp"

namespace relais {

namespace {

using config::ConfigDocument;

/// Reads typed values out of a document whose schema errors were already
/// reported: a value of the wrong type is skipped, never trusted.
class Reader {
public:
    Reader(const ConfigDocument& doc, std::vector<ConfigError>& errors)
        : doc_(doc), errors_(errors) {}

    const rapidjson::Value* at(const rapidjson::Value& parent, const char* name) const {
        if (!parent.IsObject()) {
            return nullptr;
        }
        const auto it = parent.FindMember(name);
        return it == parent.MemberEnd() ? nullptr : &it->value;
    }
    const rapidjson::Value& section(const char* name) const {
        static const rapidjson::Value empty(rapidjson::kObjectType);
        const rapidjson::Value* v = at(doc_.json, name);
        return v != nullptr && v->IsObject() ? *v : empty;
    }
    std::optional<std::string> string(const rapidjson::Value& parent, const char* name) const {
        const rapidjson::Value* v = at(parent, name);
        if (v == nullptr || !v->IsString()) {
            return std::nullopt;
        }
        return std::string(v->GetString(), v->GetStringLength());
    }
    template <typename T>
    void integer(const rapidjson::Value& parent, const char* name, T& out) const {
        const rapidjson::Value* v = at(parent, name);
        if (v != nullptr && v->IsUint64()) {
            out = static_cast<T>(v->GetUint64());
        }
    }
    /// True when the value was there and well-formed.
    bool duration(const rapidjson::Value& parent, const char* name,
                  std::chrono::milliseconds& out) const {
        if (const auto text = string(parent, name)) {
            if (const auto parsed = parse_duration(*text)) {
                out = *parsed;
                return true;
            }
        }
        return false;
    }
    std::filesystem::path path(const std::string& relative) const {
        return (doc_.directory / relative).lexically_normal();
    }
    void error(const std::string& pointer, const std::string& message) const {
        errors_.emplace_back(doc_.values, pointer, message);
    }
    /// Whether an error (schema, secret) already points at the value of
    /// `pointer`: checking the file it names would only add noise.
    bool reported(const std::string& pointer) const {
        const SourcePosition at = doc_.values.find(pointer);
        return std::any_of(errors_.begin(), errors_.end(), [&](const ConfigError& e) {
            return e.file() == doc_.values.file() && e.position().line == at.line &&
                   e.position().column == at.column;
        });
    }
    const ConfigDocument& doc() const { return doc_; }

private:
    const ConfigDocument& doc_;
    std::vector<ConfigError>& errors_;
};

constexpr const char* default_data_dir = "var";

bool parse_port(std::string_view text, std::uint16_t& port) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value > 65535) {
        return false;
    }
    port = static_cast<std::uint16_t>(value);
    return true;
}

/// "127.0.0.1:8080" or "[::1]:8080" (numeric addresses: the server binds
/// exactly what is written, without a resolver).
bool parse_listen(std::string_view text, std::string& address, std::uint16_t& port) {
    boost::system::error_code ec;
    if (text.starts_with('[')) {
        const std::size_t close = text.find("]:");
        if (close == std::string_view::npos) {
            return false;
        }
        const auto v6 =
            boost::asio::ip::make_address_v6(std::string(text.substr(1, close - 1)), ec);
        if (ec || !parse_port(text.substr(close + 2), port)) {
            return false;
        }
        address = v6.to_string();
        return true;
    }
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
        return false;
    }
    const auto v4 = boost::asio::ip::make_address_v4(std::string(text.substr(0, colon)), ec);
    if (ec || !parse_port(text.substr(colon + 1), port)) {
        return false;
    }
    address = v4.to_string();
    return true;
}

/// A CIDR block (or a bare address, one host) in canonical form.
std::optional<std::string> parse_cidr(const std::string& text) {
    boost::system::error_code ec;
    if (text.find('/') == std::string::npos) {
        const auto address = boost::asio::ip::make_address(text, ec);
        if (ec) {
            return std::nullopt;
        }
        return address.to_string() + (address.is_v4() ? "/32" : "/128");
    }
    if (text.find(':') == std::string::npos) {
        const auto network = boost::asio::ip::make_network_v4(text, ec);
        return ec ? std::nullopt : std::optional(network.canonical().to_string());
    }
    const auto network = boost::asio::ip::make_network_v6(text, ec);
    return ec ? std::nullopt : std::optional(network.canonical().to_string());
}

/// Shortest read and idle timeouts: below, a connection would time out
/// before a client on an ordinary network could send anything (0 would
/// expire at once).
constexpr std::chrono::milliseconds minimum_timeout{100};
constexpr std::chrono::milliseconds minimum_interval{10};

void check_minimum(const Reader& r, const char* name, std::chrono::milliseconds value) {
    if (value < minimum_timeout) {
        r.error(std::string("/server/limits/") + name,
                std::string("server.limits.") + name + ": expected a duration of at least " +
                    std::to_string(minimum_timeout.count()) + "ms");
    }
}

/// Why `file` cannot be read, or nullopt when it can.
std::optional<std::string> unreadable(const std::filesystem::path& file) {
    // O_NONBLOCK: a FIFO without a writer must not hang the check.
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        return std::string(std::strerror(errno));
    }
    struct stat status {};
    const bool directory = ::fstat(fd, &status) == 0 && S_ISDIR(status.st_mode);
    ::close(fd);
    return directory ? std::optional(std::string(std::strerror(EISDIR))) : std::nullopt;
}

/// The reason of OpenSSL's first error, the cause the later ones wrap (a
/// fixed text, never file content); clears the thread's error queue so
/// that nothing later trips over it.
std::string openssl_reason() {
    const char* reason = ERR_reason_error_string(ERR_peek_error());
    ERR_clear_error();
    return reason != nullptr ? reason : "unknown error";
}

/// A key protected by a passphrase cannot be served unattended: refuse it
/// rather than let OpenSSL prompt on the terminal.
int no_passphrase(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* /*user*/) {
    return -1;
}

using SslContextPtr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;
using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

/// Loads the certificate chain and the key as the server will (a throwaway
/// context of the same method), so that `relais validate` refuses what
/// `relais serve` could not use. Messages never quote key material.
void check_tls(const Reader& r, const TlsSettings& tls) {
    const std::string certificate_pointer = "/server/tls/certificate";
    const std::string key_pointer = "/server/tls/private_key";
    if (r.reported(certificate_pointer) || r.reported(key_pointer)) {
        return;
    }
    // Whatever an earlier call left in the queue is not ours to report.
    ERR_clear_error();
    const SslContextPtr context(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
    if (!context) {
        r.error("/server/tls",
                "server.tls: cannot create a TLS context (OpenSSL: " + openssl_reason() + ")");
        return;
    }
    bool certificate_loaded = false;
    if (const auto why = unreadable(tls.certificate_file)) {
        r.error(certificate_pointer,
                "server.tls.certificate: expected a readable PEM file (" + *why + ")");
    } else if (SSL_CTX_use_certificate_chain_file(context.get(), tls.certificate_file.c_str()) !=
               1) {
        r.error(certificate_pointer,
                "server.tls.certificate: expected a PEM certificate chain, server certificate "
                "first (OpenSSL: " +
                    openssl_reason() + ")");
    } else {
        certificate_loaded = true;
    }

    if (const auto why = unreadable(tls.private_key_file)) {
        r.error(key_pointer, "server.tls.private_key: expected a readable PEM file (" + *why + ")");
        return;
    }
    const BioPtr bio(BIO_new_file(tls.private_key_file.c_str(), "r"), &BIO_free);
    const KeyPtr key(
        bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr) : nullptr,
        &EVP_PKEY_free);
    if (!key) {
        r.error(key_pointer,
                "server.tls.private_key: expected a PEM private key without a passphrase "
                "(OpenSSL: " +
                    openssl_reason() + ")");
        return;
    }
    if (!certificate_loaded) {
        return;
    }
    if (X509_check_private_key(SSL_CTX_get0_certificate(context.get()), key.get()) != 1) {
        ERR_clear_error();
        r.error(key_pointer,
                "server.tls.private_key: does not match server.tls.certificate (expected the "
                "private key of the server certificate, the first of the chain)");
    } else if (SSL_CTX_use_PrivateKey(context.get(), key.get()) != 1) {
        r.error(key_pointer,
                "server.tls.private_key: cannot be used with the certificate (OpenSSL: " +
                    openssl_reason() + ")");
    }
}

/// Checks that the log file can be appended to, without creating it: when
/// it does not exist yet, its directory must let relais create it. So
/// `relais validate` never leaves a file behind, nor changes one.
void check_log_file(const Reader& r, const std::filesystem::path& file) {
    const std::string pointer = "/logging/file";
    if (r.reported(pointer)) {
        return;
    }
    // Neither O_CREAT nor O_TRUNC; O_NONBLOCK so that a FIFO cannot hang.
    const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0) {
        ::close(fd);
        return;
    }
    int error = errno;
    if (error != ENOENT) {
        r.error(pointer, std::string("logging.file: expected a file relais can append to (") +
                             std::strerror(error) + ")");
        return;
    }
    // Not there yet: relais serve will create it, in this directory.
    const std::filesystem::path directory = file.parent_path();
    if (::faccessat(AT_FDCWD, directory.c_str(), W_OK | X_OK, AT_EACCESS) == 0) {
        return;
    }
    error = errno;
    r.error(pointer,
            std::string(error == ENOENT ? "logging.file: expected a file in an existing directory ("
                                        : "logging.file: expected a file relais can create, in a "
                                          "writable directory (") +
                std::strerror(error) + ")");
}

void read_server(const Reader& r, ServerSettings& server) {
    const rapidjson::Value& s = r.section("server");
    if (const auto listen = r.string(s, "listen")) {
        if (!parse_listen(*listen, server.address, server.port)) {
            r.error("/server/listen",
                    "server.listen: expected ADDRESS:PORT with a numeric IP address, such as "
                    "127.0.0.1:8080 or [::1]:8080 (port 0: any free port)");
        }
    }
    r.integer(s, "threads", server.threads);
    if (const rapidjson::Value* tls = r.at(s, "tls"); tls != nullptr && tls->IsObject()) {
        const auto certificate = r.string(*tls, "certificate");
        const auto key = r.string(*tls, "private_key");
        if (certificate && key) {
            server.tls = TlsSettings{r.path(*certificate), r.path(*key)};
            check_tls(r, *server.tls);
        }
    }
    if (const rapidjson::Value* limits = r.at(s, "limits")) {
        r.integer(*limits, "header_bytes", server.limits.header_bytes);
        r.integer(*limits, "body_bytes", server.limits.body_bytes);
        if (r.duration(*limits, "read_timeout", server.limits.read_timeout)) {
            check_minimum(r, "read_timeout", server.limits.read_timeout);
        }
        if (r.duration(*limits, "idle_timeout", server.limits.idle_timeout)) {
            check_minimum(r, "idle_timeout", server.limits.idle_timeout);
        }
        r.integer(*limits, "max_connections", server.limits.max_connections);
        if (const rapidjson::Value* anonymous = r.at(*limits, "anonymous")) {
            if (const rapidjson::Value* rate = r.at(*anonymous, "per_second");
                rate != nullptr && rate->IsNumber()) {
                server.limits.anonymous_per_second = rate->GetDouble();
            }
            r.integer(*anonymous, "burst", server.limits.anonymous_burst);
        }
    }
    // 0 is allowed: stop at once, cutting the requests in flight.
    r.duration(s, "shutdown_grace", server.shutdown_grace);
    if (const auto url = r.string(s, "public_url")) {
        if (url->find_first_of("?#") != std::string::npos) {
            r.error("/server/public_url",
                    "server.public_url: expected a base URL without query or fragment");
        }
        // Route paths are appended to it.
        server.public_url = *url;
        if (!server.public_url.ends_with('/')) {
            server.public_url += '/';
        }
    }
}

void read_logging_and_paths(const Reader& r, RelaisConfig& config) {
    const rapidjson::Value& logging = r.section("logging");
    if (const auto level = r.string(logging, "level")) {
        log::parse_level(*level, config.log_level);
    }
    if (const auto file = r.string(logging, "file")) {
        config.log_file = r.path(*file);
        check_log_file(r, config.log_file);
    }
    const rapidjson::Value& paths = r.section("paths");
    config.connectors_dir = r.path(r.string(paths, "connectors").value_or("connectors"));
    config.data_dir = r.path(r.string(paths, "data").value_or(default_data_dir));
    const auto plugins = r.string(paths, "plugins");
    config.plugins_dir = plugins ? r.path(*plugins) : default_plugins_dir();
}

void read_outbox(const Reader& r, OutboxSettings& outbox) {
    const rapidjson::Value& o = r.section("outbox");
    outbox.key = r.string(o, "key");
    if (outbox.key && !r.reported("/outbox/key")) {
        const auto bytes = base64_decode(*outbox.key);
        if (!bytes || bytes->size() != 32) {
            r.error("/outbox/key", "outbox.key: expected the base64 text of a 32-byte key");
        }
    }
    r.duration(o, "retention", outbox.retention);
    r.duration(o, "dead_letter_retention", outbox.dead_letter_retention);
    r.duration(o, "correlation_retention", outbox.correlation_retention);
    const auto at_least = [&](const char* name, std::chrono::milliseconds& value) {
        if (r.duration(o, name, value) && value < minimum_interval) {
            r.error(std::string("/outbox/") + name,
                    std::string("outbox.") + name + ": expected a duration of at least 10ms");
        }
    };
    at_least("sweep_interval", outbox.sweep_interval);
    at_least("poll_interval", outbox.poll_interval);
}

void read_gru(const Reader& r, RelaisConfig& config) {
    const rapidjson::Value* g = r.at(r.doc().json, "gru");
    if (g == nullptr || !g->IsObject()) {
        return;
    }
    GruSettings gru;
    gru.url = r.string(*g, "url").value_or("");
    gru.orig = r.string(*g, "orig").value_or("");
    gru.key = r.string(*g, "key").value_or("");
    gru.algorithm = r.string(*g, "algo").value_or("sha256");
    if (gru.url.find_first_of("?#") != std::string::npos) {
        r.error("/gru/url", "gru.url: expected a base URL without query or fragment");
    }
    // The demand URLs of pushes are checked against this prefix: it must end
    // at a path boundary, or https://gru.example.org would admit
    // https://gru.example.org.attacker.net/.
    if (!gru.url.ends_with('/')) {
        gru.url += '/';
    }
    config.gru = std::move(gru);
}

std::string pointer_to(std::string_view name) {
    std::string pointer = "/clients";
    config::append_pointer_token(pointer, name);
    return pointer;
}

ClientConfig read_client(const Reader& r, const std::string& name, const rapidjson::Value& c) {
    ClientConfig client;
    client.name = name;
    const std::string base = pointer_to(name);
    client.position = r.doc().keys.find(base);
    if (const rapidjson::Value* publik = r.at(c, "publik")) {
        auto orig = r.string(*publik, "orig");
        auto key = r.string(*publik, "key");
        if (orig && key) {
            client.credentials.emplace_back(PublikCredentials{std::move(*orig), std::move(*key)});
        }
    }
    if (auto key = r.string(c, "apikey")) {
        client.credentials.emplace_back(ApiKeyCredentials{std::move(*key)});
    }
    if (const rapidjson::Value* basic = r.at(c, "basic")) {
        auto username = r.string(*basic, "username");
        auto password = r.string(*basic, "password");
        // Checked here rather than in the schema: the name may come from a
        // ${env:…} reference, whose text has a ':' of its own.
        if (username && username->find(':') != std::string::npos) {
            r.error(base + "/basic/username",
                    "clients." + name + ".basic.username: must not contain ':'");
        } else if (username && password) {
            client.credentials.emplace_back(
                BasicCredentials{std::move(*username), std::move(*password)});
        }
    }
    if (const rapidjson::Value* allow = r.at(c, "allow_from");
        allow != nullptr && allow->IsArray()) {
        for (rapidjson::SizeType i = 0; i < allow->Size(); ++i) {
            if (!(*allow)[i].IsString()) {
                continue;
            }
            if (auto block = parse_cidr((*allow)[i].GetString())) {
                client.allow_from.push_back(std::move(*block));
            } else {
                r.error(base + "/allow_from/" + std::to_string(i),
                        "clients." + name + ".allow_from[" + std::to_string(i) +
                            "]: expected an address block such as 192.0.2.0/24 or "
                            "2001:db8::/32, or an IP address");
            }
        }
    }
    if (const rapidjson::Value* families = r.at(c, "families");
        families != nullptr && families->IsArray()) {
        for (const auto& f : families->GetArray()) {
            if (f.IsString()) {
                client.families.emplace_back(f.GetString(), f.GetStringLength());
            }
        }
    }
    if (const rapidjson::Value* grants = r.at(c, "grants");
        grants != nullptr && grants->IsObject()) {
        for (const auto& grant : grants->GetObject()) {
            std::vector<std::string> endpoints;
            // "*" grants every endpoint: an empty list in ClientConfig.
            if (grant.value.IsArray()) {
                for (const auto& e : grant.value.GetArray()) {
                    if (e.IsString()) {
                        endpoints.emplace_back(e.GetString(), e.GetStringLength());
                    }
                }
                if (endpoints.empty()) {
                    continue;
                }
            } else if (!grant.value.IsString()) {
                continue;
            }
            client.grants.emplace(grant.name.GetString(), std::move(endpoints));
        }
    }
    return client;
}

/// Two clients with the same credential could not be told apart.
void check_unique_credentials(const Reader& r, const std::vector<ClientConfig>& clients) {
    std::unordered_map<std::string, const std::string*> origs;
    std::unordered_map<std::string, const std::string*> keys;
    std::unordered_map<std::string, const std::string*> users;
    for (const auto& client : clients) {
        const std::string base = pointer_to(client.name);
        for (const auto& credential : client.credentials) {
            if (const auto* p = std::get_if<PublikCredentials>(&credential)) {
                if (auto [it, fresh] = origs.emplace(p->orig, &client.name); !fresh) {
                    r.error(base + "/publik/orig", "clients." + client.name +
                                                       ".publik.orig: the same orig as client '" +
                                                       *it->second + "'");
                }
            } else if (const auto* a = std::get_if<ApiKeyCredentials>(&credential)) {
                if (auto [it, fresh] = keys.emplace(a->key, &client.name); !fresh) {
                    r.error(base + "/apikey", "clients." + client.name +
                                                  ".apikey: the same API key as client '" +
                                                  *it->second + "'");
                }
            } else if (const auto* b = std::get_if<BasicCredentials>(&credential)) {
                if (auto [it, fresh] = users.emplace(b->username, &client.name); !fresh) {
                    r.error(base + "/basic/username",
                            "clients." + client.name +
                                ".basic.username: the same user name as client '" + *it->second +
                                "'");
                }
            }
        }
    }
}

std::optional<RelaisConfig> read_config(const std::filesystem::path& file,
                                        std::vector<ConfigError>& errors) {
    std::optional<ConfigDocument> doc;
    try {
        doc.emplace(config::load_yaml_file(file));
    } catch (const ConfigErrors& e) {
        errors.insert(errors.end(), e.errors().begin(), e.errors().end());
        return std::nullopt;
    }
    auto schema_errors = config::relais_schema().validate(*doc);
    errors.insert(errors.end(), schema_errors.begin(), schema_errors.end());
    if (!doc->json.IsObject()) {
        return std::nullopt;
    }
    auto secret_errors = config::substitute_secrets(*doc);
    errors.insert(errors.end(), secret_errors.begin(), secret_errors.end());

    const Reader reader(*doc, errors);
    RelaisConfig config;
    std::error_code ec;
    config.file = std::filesystem::absolute(file, ec).lexically_normal();
    read_server(reader, config.server);
    read_logging_and_paths(reader, config);
    read_outbox(reader, config.outbox);
    read_gru(reader, config);
    for (const auto& member : reader.section("clients").GetObject()) {
        if (member.value.IsObject()) {
            config.clients.push_back(read_client(reader, member.name.GetString(), member.value));
        }
    }
    check_unique_credentials(reader, config.clients);
    config.locations = doc->values;
    return config;
}

}  // namespace

std::filesystem::path default_plugins_dir() {
    std::error_code ec;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) {
        return std::filesystem::absolute("plugins", ec);
    }
    return exe.parent_path() / "plugins";
}

std::optional<RelaisConfig> read_relais_config(const std::filesystem::path& file,
                                               std::vector<ConfigError>& errors) {
    const auto first = static_cast<std::ptrdiff_t>(errors.size());
    auto config = read_config(file, errors);
    // Schema, secret and semantic errors are found in turns: list them in
    // the order of the file.
    std::stable_sort(errors.begin() + first, errors.end(),
                     [](const ConfigError& a, const ConfigError& b) {
                         return std::pair(a.position().line, a.position().column) <
                                std::pair(b.position().line, b.position().column);
                     });
    return config;
}

std::filesystem::path load_data_dir(const std::filesystem::path& file) {
    ConfigDocument doc = config::load_yaml_file(file);
    std::vector<ConfigError> errors = config::relais_schema().validate(doc);
    const Reader reader(doc, errors);
    const std::string data =
        reader.string(reader.section("paths"), "data").value_or(default_data_dir);
    // Only this value's references are expanded: no other secret is read.
    std::string expanded;
    std::string error;
    if (!config::expand_secrets(data, doc.directory, expanded, error)) {
        reader.error("/paths/data", error);
    }
    if (!errors.empty()) {
        throw ConfigErrors(std::move(errors));
    }
    return reader.path(expanded);
}

RelaisConfig load_relais_config(const std::filesystem::path& file) {
    std::vector<ConfigError> errors;
    auto config = read_relais_config(file, errors);
    if (!errors.empty() || !config) {
        throw ConfigErrors(std::move(errors));
    }
    return std::move(*config);
}

}  // namespace relais
