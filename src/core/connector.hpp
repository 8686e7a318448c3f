#pragma once
/// @file
/// What a connector is to the core: a set of named endpoints that turn an
/// authenticated request into a response. A connector is built once from
/// validated YAML by its kind's factory (see plugin/plugin_api.hpp) and is
/// shared by every I/O thread, so `handle` must be safe to call concurrently.

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <filesystem>
#include <rapidjson/fwd.h>
#include <span>
#include <string>

#include "core/config_error.hpp"
#include "core/http_types.hpp"

namespace relais {

/// An endpoint as the core needs to know it: for routing, grants and logs.
struct EndpointInfo {
    std::string name;
    /// False only when the connector declares the endpoint free of personal
    /// data (`personal_data: false`): then values may be logged and cached.
    bool personal_data = true;
};

/// A configured connector. Immutable once built; any cache it keeps is
/// internal and synchronized.
class Connector {
public:
    virtual ~Connector() = default;

    /// The endpoints, in a fixed order: the core routes by index into it.
    virtual std::span<const EndpointInfo> endpoints() const = 0;

    /// Serves one call of `endpoints()[endpoint]`. Runs on an I/O thread: it
    /// must never block (use relais::upstream for outbound HTTP). Failures
    /// are returned as `HttpResponse::failure`, never thrown.
    virtual boost::asio::awaitable<HttpResponse> handle(std::size_t endpoint,
                                                        const IncomingRequest& request) const = 0;
};

/// What a factory receives to build a connector: the connector's YAML as a
/// JSON document already validated against the kind's schema, with secrets
/// (`${env:…}`, `${file:…}`) already substituted.
struct ConnectorSource {
    const rapidjson::Value& document;  ///< the whole connector file
    const SourceMap& locations;        ///< JSON Pointer -> YAML position
    std::string slug;
    std::string kind;
    std::string family;
    std::filesystem::path data_dir;    ///< relais's data directory

    /// A ConfigError pointing at `pointer` in the connector file. Messages
    /// must not quote values: they may be secrets.
    ConfigError error_at(std::string_view pointer, const std::string& message) const {
        return ConfigError(locations, pointer, message);
    }
};

}  // namespace relais
