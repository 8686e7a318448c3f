#pragma once
/// @file
/// Loading of plugin modules (see plugin_api.hpp for what a module is).
///
/// The module of kind `base-adresse` is `relais_base_adresse.so` in the
/// plugins directory. A kind that is not a plain name (`../evil`, `a/b`)
/// is refused before anything is opened, and so is a module whose real
/// path (symbolic links resolved) lies outside the plugins directory.
/// Modules are loaded once per real path and shared: a configuration
/// reload reuses the modules already loaded, and a module is unloaded
/// when the last Runtime using it is gone.

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/plugin_api.hpp"

namespace relais {

/// A module could not be used. The message names the module's path and
/// the reason; the caller adds the YAML position that asked for it.
class PluginError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A loaded module and the factories it registered. The factories (and
/// the connectors they built) must be destroyed before the module: hold
/// the module's shared_ptr for as long as any of them lives. The code of an
/// accepted module stays mapped until the process exits (RTLD_NODELETE),
/// so that work a connector leaves behind (a background refresh, a sweeper
/// timer, a response stream) never outlives its code; its statics persist
/// across reloads too.
class PluginModule {
public:
    /// The module at `path` (absolute), loaded now or shared with earlier
    /// callers. Checks the API version before registering anything.
    /// Throws PluginError.
    static std::shared_ptr<PluginModule> load(const std::filesystem::path& path);

    ~PluginModule();
    PluginModule(const PluginModule&) = delete;
    PluginModule& operator=(const PluginModule&) = delete;

    /// Real path of the module file.
    const std::filesystem::path& path() const noexcept { return path_; }
    /// The name the module gave itself (`relais_plugin::name`).
    const std::string& name() const noexcept { return name_; }
    /// The factory registered for `kind`, or nullptr.
    const ConnectorFactory* find(std::string_view kind) const noexcept;
    /// Every factory, in registration order.
    const std::vector<std::unique_ptr<ConnectorFactory>>& factories() const noexcept {
        return factories_;
    }

private:
    PluginModule(std::filesystem::path path, void* handle);

    std::filesystem::path path_;
    void* handle_;
    std::string name_;
    std::vector<std::unique_ptr<ConnectorFactory>> factories_;
};

/// Whether `kind` is a valid kind name, `^[a-z][a-z0-9-]{0,31}$`.
bool is_valid_kind(std::string_view kind) noexcept;

/// File name of the module of `kind`: "base-adresse" -> "relais_base_adresse.so".
std::string module_file_name(std::string_view kind);

/// The modules of one plugins directory.
class PluginDirectory {
public:
    /// `directory` is made absolute; it need not exist.
    explicit PluginDirectory(const std::filesystem::path& directory);

    const std::filesystem::path& path() const noexcept { return directory_; }

    /// Where the module of `kind` must be. Throws PluginError ("plugin path
    /// traversal") if `kind` is not a valid kind name.
    std::filesystem::path module_path(std::string_view kind) const;

    /// The module that provides `kind`, loaded or shared. Throws
    /// PluginError if there is none, if it lies outside the directory, if
    /// it cannot be loaded, has another API version, or does not register
    /// a factory for `kind`.
    std::shared_ptr<PluginModule> module_for(std::string_view kind) const;

    /// Every `relais_*.so` of the directory, in name order. Modules that
    /// cannot be loaded are skipped and their errors appended to `failures`.
    std::vector<std::shared_ptr<PluginModule>> load_all(std::vector<std::string>& failures) const;

private:
    /// Real path of `file` after checking it lies inside the directory.
    std::filesystem::path checked(const std::filesystem::path& file) const;

    std::filesystem::path directory_;
};

}  // namespace relais
