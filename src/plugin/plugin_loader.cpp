#include "plugin/plugin_loader.hpp"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/exception_type.hpp"

namespace relais {

namespace {

constexpr std::size_t max_kind_length = 32;
constexpr std::size_t max_quoted = 60;

std::string quote_text(std::string_view text) {
    if (text.size() > max_quoted) {
        return "'" + std::string(text.substr(0, max_quoted)) + "...'";
    }
    return "'" + std::string(text) + "'";
}

std::string dl_error() {
    const char* message = dlerror();
    return message != nullptr ? message : "unknown error";
}

/// Whether `symbol` (from dlsym) is a function's: a module exporting its
/// entry point as data would otherwise be jumped into.
bool is_function(void* symbol) {
    Dl_info info{};
    void* entry = nullptr;
    if (dladdr1(symbol, &info, &entry, RTLD_DL_SYMENT) == 0 || entry == nullptr) {
        return false;
    }
    const auto* elf_symbol = static_cast<const ElfW(Sym)*>(entry);
    return ELF64_ST_TYPE(elf_symbol->st_info) == STT_FUNC;
}

/// Collects what a module's register_factories() adds.
class ModuleRegistry final : public FactoryRegistry {
public:
    explicit ModuleRegistry(std::vector<std::unique_ptr<ConnectorFactory>>& factories)
        : factories_(factories) {}
    void add(std::unique_ptr<ConnectorFactory> factory) override {
        if (factory != nullptr) {
            factories_.push_back(std::move(factory));
        }
    }

private:
    std::vector<std::unique_ptr<ConnectorFactory>>& factories_;
};

/// Modules loaded so far, by real path. Weak: a module lives as long as a
/// Runtime (or a caller) holds it, and is loaded again if needed later.
struct ModuleCache {
    std::mutex mutex;
    std::map<std::string, std::weak_ptr<PluginModule>> modules;
};

ModuleCache& cache() {
    static ModuleCache instance;
    return instance;
}

}  // namespace

bool is_valid_kind(std::string_view kind) noexcept {
    if (kind.empty() || kind.size() > max_kind_length || kind[0] < 'a' || kind[0] > 'z') {
        return false;
    }
    return std::all_of(kind.begin(), kind.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

std::string module_file_name(std::string_view kind) {
    std::string name = "relais_";
    for (char c : kind) {
        name += c == '-' ? '_' : c;
    }
    name += ".so";
    return name;
}

PluginModule::PluginModule(std::filesystem::path path, void* handle)
    : path_(std::move(path)), handle_(handle) {}

PluginModule::~PluginModule() {
    // The factories' code lives in the module: destroy them before closing it.
    factories_.clear();
    dlclose(handle_);
}

const ConnectorFactory* PluginModule::find(std::string_view kind) const noexcept {
    for (const auto& factory : factories_) {
        if (factory->kind() == kind) {
            return factory.get();
        }
    }
    return nullptr;
}

std::shared_ptr<PluginModule> PluginModule::load(const std::filesystem::path& path) {
    std::error_code ec;
    const std::filesystem::path real = std::filesystem::canonical(path, ec);
    if (ec) {
        throw PluginError("cannot load plugin " + path.string() + ": " + ec.message());
    }
    ModuleCache& modules = cache();
    const std::lock_guard lock(modules.mutex);
    if (auto it = modules.modules.find(real.string()); it != modules.modules.end()) {
        if (auto shared = it->second.lock()) {
            return shared;
        }
    }

    void* handle = dlopen(real.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        throw PluginError("cannot load plugin " + real.string() + ": " + dl_error());
    }
    void* symbol = dlsym(handle, RELAIS_PLUGIN_ENTRY_SYMBOL);
    if (symbol == nullptr) {
        dlclose(handle);
        throw PluginError("plugin " + real.string() + " does not export " +
                          RELAIS_PLUGIN_ENTRY_SYMBOL);
    }
    if (!is_function(symbol)) {
        dlclose(handle);
        throw PluginError("plugin " + real.string() + " exports " + RELAIS_PLUGIN_ENTRY_SYMBOL +
                          " as data, not as a function");
    }
    relais_plugin_entry_fn entry = nullptr;
    std::memcpy(&entry, &symbol, sizeof entry);
    const relais_plugin* plugin = nullptr;
    // The exception may be of a type the module defines: it is named, and
    // destroyed, before the module is closed.
    std::optional<std::string> thrown;
    try {
        plugin = entry();
    } catch (...) {
        thrown = current_exception_type();
    }
    if (thrown) {
        dlclose(handle);
        throw PluginError("plugin " + real.string() + " threw from " + RELAIS_PLUGIN_ENTRY_SYMBOL +
                          " (" + *thrown + ")");
    }
    if (plugin == nullptr) {
        dlclose(handle);
        throw PluginError("plugin " + real.string() + " returned no description");
    }
    // The version is read before anything else: the rest of the struct may
    // not even have this layout in another version.
    if (plugin->api_version != RELAIS_PLUGIN_API_VERSION) {
        const int version = plugin->api_version;
        dlclose(handle);
        throw PluginError("plugin " + real.string() + " has API version " +
                          std::to_string(version) + ", relais needs " +
                          std::to_string(RELAIS_PLUGIN_API_VERSION));
    }

    std::shared_ptr<PluginModule> module(new PluginModule(real, handle));
    module->name_ = plugin->name != nullptr ? plugin->name : real.stem().string();
    if (plugin->register_factories != nullptr) {
        ModuleRegistry registry(module->factories_);
        try {
            plugin->register_factories(&registry);
        } catch (const std::exception& e) {
            throw PluginError("plugin " + real.string() +
                              " failed to register its factories: " + e.what());
        } catch (...) {
            throw PluginError("plugin " + real.string() + " failed to register its factories (" +
                              current_exception_type() + ")");
        }
    }
    for (auto it = module->factories_.begin(); it != module->factories_.end(); ++it) {
        const std::string_view kind = (*it)->kind();
        if (!is_valid_kind(kind)) {
            throw PluginError("plugin " + real.string() + " registers an invalid kind " +
                              quote_text(kind));
        }
        if (std::any_of(module->factories_.begin(), it,
                        [&](const auto& other) { return other->kind() == kind; })) {
            throw PluginError("plugin " + real.string() + " registers kind " + quote_text(kind) +
                              " twice");
        }
    }
    // An accepted module stays mapped until the process exits, even when no
    // connector uses it any more: a kind may leave work behind a reload
    // (background refreshes, sweepers, streams) whose code lives in it. A
    // refused one is closed, so that a fixed file loads at the next reload.
    if (dlopen(real.c_str(), RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE) == nullptr) {
        throw PluginError("cannot keep plugin " + real.string() + " loaded: " + dl_error());
    }
    modules.modules.insert_or_assign(real.string(), module);
    return module;
}

PluginDirectory::PluginDirectory(const std::filesystem::path& directory) {
    std::error_code ec;
    directory_ = std::filesystem::absolute(directory, ec).lexically_normal();
    if (ec) {
        directory_ = directory.lexically_normal();
    }
}

std::filesystem::path PluginDirectory::module_path(std::string_view kind) const {
    if (!is_valid_kind(kind)) {
        throw PluginError("plugin path traversal: kind " + quote_text(kind) +
                          " is not a plain kind name (expected ^[a-z][a-z0-9-]{0,31}$)");
    }
    return directory_ / module_file_name(kind);
}

std::filesystem::path PluginDirectory::checked(const std::filesystem::path& file) const {
    std::error_code ec;
    const std::filesystem::path real_directory = std::filesystem::canonical(directory_, ec);
    const std::filesystem::path real = std::filesystem::canonical(file, ec);
    if (ec || real_directory.empty()) {
        throw PluginError("cannot load plugin " + file.string() + ": " + ec.message());
    }
    const std::filesystem::path relative = real.lexically_relative(real_directory);
    if (relative.empty() || *relative.begin() == ".." || relative.has_parent_path()) {
        throw PluginError("plugin path traversal: " + file.string() + " resolves to " +
                          real.string() + ", outside " + real_directory.string());
    }
    return real;
}

std::shared_ptr<PluginModule> PluginDirectory::module_for(std::string_view kind) const {
    const std::filesystem::path file = module_path(kind);
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
        throw PluginError("no plugin provides kind " + quote_text(kind) + " (looked for " +
                          file.string() + ")");
    }
    auto module = PluginModule::load(checked(file));
    if (module->find(kind) == nullptr) {
        std::string provided;
        for (const auto& factory : module->factories()) {
            provided += provided.empty() ? "" : ", ";
            provided += factory->kind();
        }
        throw PluginError("plugin " + module->path().string() + " does not provide kind " +
                          quote_text(kind) +
                          " (it provides: " + (provided.empty() ? "nothing" : provided) + ")");
    }
    return module;
}

std::vector<std::shared_ptr<PluginModule>> PluginDirectory::load_all(
    std::vector<std::string>& failures) const {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(directory_, ec), end; !ec && it != end;
         it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.starts_with("relais_") && name.ends_with(".so")) {
            files.push_back(it->path());
        }
    }
    if (ec) {
        failures.push_back("cannot read plugins directory " + directory_.string() + ": " +
                           ec.message());
    }
    std::sort(files.begin(), files.end());
    std::vector<std::shared_ptr<PluginModule>> modules;
    for (const auto& file : files) {
        try {
            modules.push_back(PluginModule::load(checked(file)));
        } catch (const PluginError& e) {
            failures.emplace_back(e.what());
        }
    }
    return modules;
}

}  // namespace relais
