#pragma once
/// @file
/// The plugin interface of relais: the one header a connector kind needs.
///
/// A plugin is a loadable module (`relais_<kind>.so`, built with the CMake
/// function `relais_plugin()`) that exports a single C symbol,
/// `relais_plugin_entry`, returning a static `relais_plugin` description:
///
/// | field              | meaning                                                   |
/// |--------------------|-----------------------------------------------------------|
/// | `api_version`      | must equal `RELAIS_PLUGIN_API_VERSION` of the core        |
/// | `name`             | the module's name, for logs                                |
/// | `register_factories` | called once after the version check; adds factories  |
///
/// The core reads `api_version` before touching anything else, and refuses a
/// module of another version with an error naming the module and the YAML
/// line that asked for it. Factories are C++ objects: modules must be built
/// against the same relais headers as the core (the API version changes
/// whenever this header, connector.hpp or http_types.hpp changes in a way
/// that breaks binary compatibility).
///
/// Minimal module:
/// @code
/// std::unique_ptr<relais::Connector> make_echo(const relais::ConnectorSource&);
/// RELAIS_PLUGIN_DEFINE("echo", [](relais::FactoryRegistry& r) {
///     r.add(std::make_unique<relais::FunctionFactory>("echo", echo_schema, &make_echo));
/// })
/// @endcode

#include <memory>
#include <string_view>

#include "core/connector.hpp"

/// Version of the interface below. Bump on any incompatible change.
#define RELAIS_PLUGIN_API_VERSION 4

namespace relais {

/// Builds connectors of one kind. Lives as long as its module is loaded.
class ConnectorFactory {
public:
    virtual ~ConnectorFactory() = default;
    /// The kind name, as written in connector YAML (`kind: rest`).
    virtual std::string_view kind() const = 0;
    /// JSON Schema (draft-04) of a whole connector file of this kind.
    /// It may `$ref` the core's `connector.schema.json#/definitions/...`.
    virtual std::string_view schema() const = 0;
    /// Builds a connector from a document valid against `schema()`. Throws
    /// ConfigError (see ConnectorSource::error_at) on semantic errors.
    virtual std::unique_ptr<Connector> create(const ConnectorSource& source) const = 0;
};

/// The usual factory: a kind name, its schema and a function that builds
/// its connectors.
class FunctionFactory final : public ConnectorFactory {
public:
    using Create = std::unique_ptr<Connector> (*)(const ConnectorSource&);
    FunctionFactory(std::string_view kind, std::string_view schema, Create build) noexcept
        : kind_(kind), schema_(schema), create_(build) {}
    std::string_view kind() const override { return kind_; }
    std::string_view schema() const override { return schema_; }
    std::unique_ptr<Connector> create(const ConnectorSource& source) const override {
        return create_(source);
    }

private:
    std::string_view kind_;
    std::string_view schema_;
    Create create_;
};

/// Where a module registers its factories.
class FactoryRegistry {
public:
    virtual ~FactoryRegistry() = default;
    virtual void add(std::unique_ptr<ConnectorFactory> factory) = 0;
};

}  // namespace relais

extern "C" {

/// Description of a module, returned by `relais_plugin_entry`.
struct relais_plugin {
    int api_version;
    const char* name;
    void (*register_factories)(relais::FactoryRegistry* registry);
};

/// Name of the one symbol a module exports.
#define RELAIS_PLUGIN_ENTRY_SYMBOL "relais_plugin_entry"
using relais_plugin_entry_fn = const relais_plugin* (*)();
}

/// Defines the entry point of a module. `register_fn` is a callable taking
/// `relais::FactoryRegistry&`.
#define RELAIS_PLUGIN_DEFINE(module_name, register_fn)                                             \
    extern "C" __attribute__((visibility("default"))) const relais_plugin* relais_plugin_entry() { \
        static const relais_plugin plugin{                                                         \
            RELAIS_PLUGIN_API_VERSION, module_name,                                                \
            [](relais::FactoryRegistry* registry) { (register_fn)(*registry); }};                  \
        return &plugin;                                                                            \
    }
