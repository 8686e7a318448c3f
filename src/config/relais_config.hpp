#pragma once
/// @file
/// The typed form of relais.yaml, built after schema validation.
/// See docs/configuration.md for every field and its default.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/config_error.hpp"
#include "core/delivery_settings.hpp"
#include "core/log.hpp"

namespace relais {

struct TlsSettings {
    std::filesystem::path certificate_file;  ///< PEM chain
    std::filesystem::path private_key_file;  ///< PEM key
};

/// Limits of the HTTP server, with the defaults an operator would expect.
struct ServerLimits {
    std::size_t header_bytes = 16 * 1024;            ///< beyond: 431
    std::size_t body_bytes = 10 * 1024 * 1024;       ///< beyond: 413
    std::chrono::milliseconds read_timeout{30'000};  ///< whole request once started; beyond: 408
    std::chrono::milliseconds idle_timeout{60'000};  ///< keep-alive wait for the next request
    std::size_t max_connections = 1024;              ///< beyond: 503 then close
    /// Requests without credentials to browser endpoints, per client
    /// address (IPv6: per /64): on average, and at once; beyond: 429.
    double anonymous_per_second = 5.0;
    unsigned anonymous_burst = 50;
};

struct ServerSettings {
    std::string address = "127.0.0.1";
    std::uint16_t port = 8080;  ///< 0: any free port (logged at start-up)
    unsigned threads = 0;       ///< 0: number of cores
    std::optional<TlsSettings> tls;
    ServerLimits limits;
    std::chrono::milliseconds shutdown_grace{10'000};
    /// `server.public_url`: the base URL clients reach relais at, ending
    /// with '/'; empty: built from the listener and the request's Host.
    std::string public_url;
};

struct PublikCredentials {
    std::string orig;
    std::string key;
};
struct ApiKeyCredentials {
    std::string key;
};
struct BasicCredentials {
    std::string username;
    std::string password;
};
using Credentials = std::variant<PublikCredentials, ApiKeyCredentials, BasicCredentials>;

/// A caller of relais (a GRU core, a business application...).
struct ClientConfig {
    std::string name;
    std::vector<Credentials> credentials;  ///< any of them authenticates the client
    std::vector<std::string> allow_from;   ///< CIDR blocks; empty: any address
    std::vector<std::string> families;     ///< families this client may reach
    /// connector slug -> granted endpoint names (empty: every endpoint)
    std::map<std::string, std::vector<std::string>> grants;
    SourcePosition position;  ///< where the client is declared, for errors
};

struct RelaisConfig {
    std::filesystem::path file;  ///< the relais.yaml it was read from
    ServerSettings server;
    log::Level log_level = log::Level::info;
    std::filesystem::path log_file;        ///< empty: standard error
    std::filesystem::path connectors_dir;  ///< absolute
    std::filesystem::path plugins_dir;     ///< absolute
    std::filesystem::path data_dir;        ///< absolute
    std::vector<ClientConfig> clients;
    OutboxSettings outbox;
    std::optional<GruSettings> gru;  ///< needed by connectors that declare callbacks
    SourceMap locations;             ///< of relais.yaml, for errors found later
};

/// Reads, validates (schema + semantics) and types relais.yaml. Relative
/// paths are relative to the file's directory; `plugins` defaults to the
/// `plugins/` folder beside the relais executable. The semantic checks
/// include what serving would trip on later: the TLS certificate and key
/// load and match, the log file can be appended to, timeouts are at least
/// 100ms. Throws ConfigErrors.
RelaisConfig load_relais_config(const std::filesystem::path& file);

/// Like load_relais_config, but appends every error to `errors` instead of
/// throwing, and returns what could be read despite them so that the
/// connectors can still be checked; nullopt when nothing could (unreadable
/// file, YAML syntax error, not a mapping).
std::optional<RelaisConfig> read_relais_config(const std::filesystem::path& file,
                                               std::vector<ConfigError>& errors);

/// Only `paths.data` of relais.yaml (checked against the schema), for the
/// commands that need nothing else: no other secret is read, no file the
/// configuration names is checked. Throws ConfigErrors.
std::filesystem::path load_data_dir(const std::filesystem::path& file);

/// The `plugins` directory beside the running executable (`paths.plugins`
/// default).
std::filesystem::path default_plugins_dir();

}  // namespace relais
