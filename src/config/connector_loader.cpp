#include "config/connector_loader.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "config/config_document.hpp"
#include "config/config_schema.hpp"
#include "config/delivery_config.hpp"
#include "config/secrets.hpp"
#include "core/exception_type.hpp"

namespace relais::config {

namespace {

std::string string_member(const rapidjson::Value& object, const char* name) {
    const auto it = object.FindMember(name);
    if (it == object.MemberEnd() || !it->value.IsString()) {
        return {};
    }
    return {it->value.GetString(), it->value.GetStringLength()};
}

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names) {
        out += (out.empty() ? "" : ", ") + name;
    }
    return out;
}

std::vector<std::filesystem::path> connector_files(const RelaisConfig& config,
                                                   std::vector<ConfigError>& errors) {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    if (!std::filesystem::is_directory(config.connectors_dir, ec)) {
        errors.emplace_back(
            config.locations, "/paths/connectors",
            "paths.connectors: directory " + config.connectors_dir.string() + " does not exist");
        return files;
    }
    for (std::filesystem::directory_iterator it(config.connectors_dir, ec), end; !ec && it != end;
         it.increment(ec)) {
        const std::string name = it->path().filename().string();
        std::error_code type_ec;
        // Dot files are editors' lock and swap files, not connectors.
        if (!name.starts_with('.') && (name.ends_with(".yaml") || name.ends_with(".yml")) &&
            !it->is_directory(type_ec)) {
            files.push_back(it->path());
        }
    }
    if (ec) {
        errors.emplace_back(config.locations, "/paths/connectors",
                            "paths.connectors: cannot read directory " +
                                config.connectors_dir.string() + ": " + ec.message());
    }
    std::sort(files.begin(), files.end());
    return files;
}

class Loader {
public:
    Loader(const RelaisConfig& config, std::vector<ConfigError>& errors, LoadedConnectors& out,
           const ConnectorServices* services, std::filesystem::path data_dir)
        : config_(config),
          errors_(errors),
          out_(out),
          plugins_(config.plugins_dir),
          services_(services),
          data_dir_(std::move(data_dir)) {}

    void load(const std::filesystem::path& file) {
        std::optional<ConfigDocument> doc;
        try {
            doc.emplace(load_yaml_file(file));
        } catch (const ConfigErrors& e) {
            append(e.errors());
            return;
        }
        std::vector<ConfigError> errors = connector_schema().validate(*doc);
        if (!doc->json.IsObject()) {
            append(errors);
            return;
        }
        const std::string slug = string_member(doc->json, "slug");
        if (errors.empty() && !claim_slug(*doc, slug)) {
            return;
        }
        const std::shared_ptr<PluginModule> module = kind_module(*doc, errors);
        if (!append(errors) || !build(*doc, file, slug, module)) {
            forget(slug);
        }
    }

private:
    bool append(const std::vector<ConfigError>& errors) {
        errors_.insert(errors_.end(), errors.begin(), errors.end());
        return errors.empty();
    }

    void forget(const std::string& slug) {
        if (!slug.empty()) {
            out_.failed_slugs.insert(slug);
        }
    }

    bool claim_slug(const ConfigDocument& doc, const std::string& slug) {
        const SourcePosition position = doc.values.find("/slug");
        const auto [it, fresh] =
            slugs_.emplace(slug, doc.values.file() + ":" + std::to_string(position.line));
        if (!fresh) {
            errors_.emplace_back(doc.values, "/slug",
                                 "slug '" + slug + "' is already used by " + it->second);
        }
        return fresh;
    }

    const ConfigSchema* schema_of(const ConnectorFactory& factory, const PluginModule& module,
                                  const ConfigDocument& doc, std::vector<ConfigError>& errors) {
        if (auto it = schemas_.find(&factory); it != schemas_.end()) {
            return &it->second;
        }
        try {
            return &schemas_.emplace(&factory, ConfigSchema(factory.schema())).first->second;
        } catch (const std::invalid_argument& e) {
            errors.emplace_back(doc.values, "/kind",
                                "plugin " + module.path().string() + ": the schema of kind '" +
                                    std::string(factory.kind()) + "' is unusable: " + e.what());
            return nullptr;
        }
    }

    /// The module of the document's kind, with the errors of the kind's
    /// schema merged into `errors` even when the common schema already
    /// failed, so that one run lists them all. Both schemas check the
    /// common part: an error at a position already reported is the same
    /// problem seen twice.
    std::shared_ptr<PluginModule> kind_module(const ConfigDocument& doc,
                                              std::vector<ConfigError>& errors) {
        const std::string kind = string_member(doc.json, "kind");
        std::vector<ConfigError> found;
        std::shared_ptr<PluginModule> module;
        try {
            module = plugins_.module_for(kind);
        } catch (const PluginError& e) {
            found.emplace_back(doc.values, "/kind", e.what());
        }
        if (module != nullptr) {
            if (const ConfigSchema* schema = schema_of(*module->find(kind), *module, doc, found)) {
                auto invalid = schema->validate(doc);
                found.insert(found.end(), invalid.begin(), invalid.end());
            }
        }
        const auto at = [](const ConfigError& e) {
            return std::pair(e.position().line, e.position().column);
        };
        for (auto& error : found) {
            if (std::none_of(errors.begin(), errors.end(),
                             [&](const auto& known) { return at(known) == at(error); })) {
                errors.push_back(std::move(error));
            }
        }
        std::stable_sort(errors.begin(), errors.end(),
                         [&](const auto& a, const auto& b) { return at(a) < at(b); });
        return module;
    }

    bool build(ConfigDocument& doc, const std::filesystem::path& file, const std::string& slug,
               const std::shared_ptr<PluginModule>& module) {
        if (!append(substitute_secrets(doc))) {
            return false;
        }
        const std::string kind = string_member(doc.json, "kind");
        const ConnectorFactory& factory = *module->find(kind);
        auto entry = std::make_unique<ConnectorEntry>();
        entry->kind = kind;
        entry->slug = slug;
        entry->family = string_member(doc.json, "family");
        entry->description = string_member(doc.json, "description");
        std::error_code ec;
        entry->file = std::filesystem::absolute(file, ec).lexically_normal().string();
        if (const auto limits = doc.json.FindMember("limits"); limits != doc.json.MemberEnd()) {
            if (const auto c = limits->value.FindMember("concurrency");
                c != limits->value.MemberEnd() && c->value.IsUint()) {
                entry->max_concurrency = c->value.GetUint();
            }
        }
        const ConnectorSource source{doc.json,      doc.values, slug,     kind,
                                     entry->family, data_dir_,  services_};
        try {
            entry->connector = factory.create(source);
        } catch (const ConfigError& e) {
            errors_.push_back(e);
            return false;
        } catch (const ConfigErrors& e) {
            append(e.errors());
            return false;
        } catch (const std::exception& e) {
            errors_.emplace_back(doc.values, "",
                                 "kind '" + kind + "' could not build the connector: " + e.what());
            return false;
        } catch (...) {
            errors_.emplace_back(doc.values, "",
                                 "kind '" + kind + "' could not build the connector (" +
                                     current_exception_type() + ")");
            return false;
        }
        if (entry->connector == nullptr) {
            errors_.emplace_back(doc.values, "", "kind '" + kind + "' built no connector");
            return false;
        }
        if (!index_endpoints(doc, *entry) || !read_delivery_config(doc, config_, *entry, errors_)) {
            return false;
        }
        if (std::find(out_.modules.begin(), out_.modules.end(), module) == out_.modules.end()) {
            out_.modules.push_back(module);
        }
        out_.connectors.push_back(std::move(entry));
        return true;
    }

    /// The core routes by the endpoint names of the YAML: the plugin must
    /// have built exactly those.
    bool index_endpoints(const ConfigDocument& doc, ConnectorEntry& entry) {
        std::vector<std::string> missing;
        std::vector<std::string> extra;
        const auto endpoints = entry.connector->endpoints();
        for (std::size_t i = 0; i < endpoints.size(); ++i) {
            if (!entry.endpoint_index.emplace(endpoints[i].name, i).second) {
                extra.push_back(endpoints[i].name + " (twice)");
            }
            // An anonymous caller must never reach the outbox.
            if (endpoints[i].browser && endpoints[i].async) {
                std::string pointer = "/endpoints";
                append_pointer_token(pointer, endpoints[i].name);
                errors_.emplace_back(doc.keys.file(), doc.keys.find(pointer),
                                     "endpoint '" + endpoints[i].name +
                                         "' cannot be both a browser endpoint and async");
                return false;
            }
        }
        const auto declared = doc.json.FindMember("endpoints");
        if (declared != doc.json.MemberEnd() && declared->value.IsObject()) {
            for (const auto& e : declared->value.GetObject()) {
                if (!entry.endpoint_index.contains(e.name.GetString())) {
                    missing.emplace_back(e.name.GetString());
                }
            }
            for (const auto& [name, index] : entry.endpoint_index) {
                if (!declared->value.HasMember(name.c_str())) {
                    extra.push_back(name);
                }
            }
        }
        if (missing.empty() && extra.empty()) {
            return true;
        }
        std::sort(missing.begin(), missing.end());
        std::sort(extra.begin(), extra.end());
        std::string message =
            "kind '" + entry.kind + "' built endpoints that differ from the file's";
        if (!missing.empty()) {
            message += "; missing: " + join(missing);
        }
        if (!extra.empty()) {
            message += "; unexpected: " + join(extra);
        }
        errors_.emplace_back(doc.keys.file(), doc.keys.find("/endpoints"), message);
        return false;
    }

    const RelaisConfig& config_;
    std::vector<ConfigError>& errors_;
    LoadedConnectors& out_;
    PluginDirectory plugins_;
    const ConnectorServices* services_;
    std::filesystem::path data_dir_;
    std::map<const ConnectorFactory*, ConfigSchema> schemas_;
    std::unordered_map<std::string, std::string> slugs_;  ///< slug -> "file:line"
};

}  // namespace

LoadedConnectors load_connectors(const RelaisConfig& config, std::vector<ConfigError>& errors,
                                 const ConnectorServices* services,
                                 const std::optional<std::filesystem::path>& data_dir) {
    LoadedConnectors out;
    Loader loader(config, errors, out, services, data_dir.value_or(config.data_dir));
    for (const auto& file : connector_files(config, errors)) {
        loader.load(file);
    }
    return out;
}

}  // namespace relais::config
