// Plugin modules: file names, path traversal, missing modules, API version
// check, sharing of loaded modules. Uses the test modules of
// tests/fixtures/plugins (test-config, test-wrong-api, test-no-entry,
// test-throwing, test-data-entry, test-entry-throws).
#include "plugin/plugin_loader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "../fixtures/config/config_test_support.hpp"

namespace relais {
namespace {

std::string error_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const PluginError& e) {
        return e.what();
    }
    return "no error";
}

std::filesystem::path real_test_plugin_dir() {
    return std::filesystem::canonical(test::test_plugin_dir());
}

TEST(PluginLoader, KindNamesAndModuleFileNames) {
    EXPECT_TRUE(is_valid_kind("rest"));
    EXPECT_TRUE(is_valid_kind("base-adresse"));
    EXPECT_TRUE(is_valid_kind("a2"));
    EXPECT_FALSE(is_valid_kind(""));
    EXPECT_FALSE(is_valid_kind("../evil"));
    EXPECT_FALSE(is_valid_kind("a/b"));
    EXPECT_FALSE(is_valid_kind("Rest"));
    EXPECT_FALSE(is_valid_kind("2fa"));
    EXPECT_FALSE(is_valid_kind("a_b"));
    EXPECT_FALSE(is_valid_kind(std::string(33, 'a')));
    EXPECT_EQ(module_file_name("base-adresse"), "relais_base_adresse.so");
}

TEST(PluginLoader, TraversalKindIsRefusedBeforeAnyFileIsTouched) {
    test::TempDir dir;
    // A module where "../x" would lead: it must not even be looked at.
    dir.write("relais_x.so", "not a module");
    const PluginDirectory plugins(dir.path() / "plugins");
    EXPECT_EQ(error_of([&] { plugins.module_for("../x"); }),
              "plugin path traversal: kind '../x' is not a plain kind name (expected "
              "^[a-z][a-z0-9-]{0,31}$)");
    EXPECT_EQ(error_of([&] { plugins.module_for("a/b"); }),
              "plugin path traversal: kind 'a/b' is not a plain kind name (expected "
              "^[a-z][a-z0-9-]{0,31}$)");
}

TEST(PluginLoader, SymlinkLeadingOutsideTheDirectoryIsRefused) {
    test::TempDir dir;
    std::filesystem::create_directories(dir.path() / "plugins");
    std::filesystem::create_symlink(real_test_plugin_dir() / "relais_test_config.so",
                                    dir.path() / "plugins" / "relais_test_config.so");
    const PluginDirectory plugins(dir.path() / "plugins");
    const std::string error = error_of([&] { plugins.module_for("test-config"); });
    EXPECT_TRUE(error.starts_with(
        "plugin path traversal: " + (dir.path() / "plugins/relais_test_config.so").string() +
        " resolves to "))
        << error;
}

TEST(PluginLoader, MissingModuleNamesThePathLookedFor) {
    test::TempDir dir;
    const PluginDirectory plugins(dir.path());
    EXPECT_EQ(error_of([&] { plugins.module_for("soapx"); }),
              "no plugin provides kind 'soapx' (looked for " +
                  (dir.path() / "relais_soapx.so").string() + ")");
}

TEST(PluginLoader, WrongApiVersionIsRefused) {
    const PluginDirectory plugins(test::test_plugin_dir());
    EXPECT_EQ(error_of([&] { plugins.module_for("test-wrong-api"); }),
              "plugin " + (real_test_plugin_dir() / "relais_test_wrong_api.so").string() +
                  " has API version 9, relais needs " + std::to_string(RELAIS_PLUGIN_API_VERSION));
}

TEST(PluginLoader, ModuleWithoutEntryPointIsRefused) {
    const PluginDirectory plugins(test::test_plugin_dir());
    EXPECT_EQ(error_of([&] { plugins.module_for("test-no-entry"); }),
              "plugin " + (real_test_plugin_dir() / "relais_test_no_entry.so").string() +
                  " does not export relais_plugin_entry");
}

TEST(PluginLoader, ModuleWhoseRegistrationThrowsIsRefused) {
    const PluginDirectory plugins(test::test_plugin_dir());
    EXPECT_EQ(error_of([&] { plugins.module_for("test-throwing"); }),
              "plugin " + (real_test_plugin_dir() / "relais_test_throwing.so").string() +
                  " failed to register its factories (int)");
    // Refused, it was closed: loading it again gives the same error, no crash.
    EXPECT_EQ(error_of([&] { plugins.module_for("test-throwing"); }),
              "plugin " + (real_test_plugin_dir() / "relais_test_throwing.so").string() +
                  " failed to register its factories (int)");
}

TEST(PluginLoader, EntryPointThrowingItsOwnExceptionTypeIsRefused) {
    // Named and destroyed while the module is still loaded: closing it first
    // crashed relais (the type's name and destructor live in the module).
    const PluginDirectory plugins(test::test_plugin_dir());
    const std::string error = error_of([&] { plugins.module_for("test-entry-throws"); });
    EXPECT_TRUE(error.starts_with(
        "plugin " + (real_test_plugin_dir() / "relais_test_entry_throws.so").string() +
        " threw from relais_plugin_entry ("))
        << error;
    EXPECT_NE(error.find("OwnError"), std::string::npos) << error;
}

TEST(PluginLoader, EntryPointThatIsDataIsRefused) {
    const PluginDirectory plugins(test::test_plugin_dir());
    EXPECT_EQ(error_of([&] { plugins.module_for("test-data-entry"); }),
              "plugin " + (real_test_plugin_dir() / "relais_test_data_entry.so").string() +
                  " exports relais_plugin_entry as data, not as a function");
}

TEST(PluginLoader, NotAModuleAtAll) {
    test::TempDir dir;
    dir.write("relais_junk.so", "not an ELF file");
    const PluginDirectory plugins(dir.path());
    const std::string error = error_of([&] { plugins.module_for("junk"); });
    EXPECT_TRUE(error.starts_with(
        "cannot load plugin " + std::filesystem::canonical(dir.path() / "relais_junk.so").string() +
        ": "))
        << error;
}

TEST(PluginLoader, LoadsFactoriesAndSharesTheModule) {
    const PluginDirectory plugins(test::test_plugin_dir());
    const auto first = plugins.module_for("test-config");
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first->name(), "test-config");
    EXPECT_EQ(first->path(), real_test_plugin_dir() / "relais_test_config.so");
    ASSERT_EQ(first->factories().size(), 1U);
    const ConnectorFactory* factory = first->find("test-config");
    ASSERT_NE(factory, nullptr);
    EXPECT_EQ(factory->kind(), "test-config");
    EXPECT_FALSE(factory->schema().empty());
    EXPECT_EQ(first->find("other"), nullptr);
    // A second lookup (a reload) gets the same loaded module.
    EXPECT_EQ(plugins.module_for("test-config"), first);
    EXPECT_EQ(PluginModule::load(test::test_plugin_dir() / "relais_test_config.so"), first);
}

TEST(PluginLoader, LoadAllSkipsBadModulesAndSaysWhy) {
    std::vector<std::string> failures;
    const auto modules = PluginDirectory(test::test_plugin_dir()).load_all(failures);
    const auto loaded = std::find_if(modules.begin(), modules.end(), [](const auto& m) {
        return m->find("test-config") != nullptr;
    });
    EXPECT_NE(loaded, modules.end());
    const auto mentions = [&](std::string_view text) {
        return std::any_of(failures.begin(), failures.end(),
                           [&](const auto& f) { return f.find(text) != std::string::npos; });
    };
    EXPECT_TRUE(
        mentions("has API version 9, relais needs " + std::to_string(RELAIS_PLUGIN_API_VERSION)));
    EXPECT_TRUE(mentions("does not export relais_plugin_entry"));
}

TEST(PluginLoader, LoadAllOfAMissingDirectory) {
    test::TempDir dir;
    std::vector<std::string> failures;
    EXPECT_TRUE(PluginDirectory(dir.path() / "none").load_all(failures).empty());
    ASSERT_EQ(failures.size(), 1U);
    EXPECT_TRUE(failures[0].starts_with("cannot read plugins directory ")) << failures[0];
}

}  // namespace
}  // namespace relais
