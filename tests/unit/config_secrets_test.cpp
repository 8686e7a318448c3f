// Secret references: ${env:NAME}, ${file:PATH}, $${ escapes, and errors
// that name the variable or file but never reveal a value.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "../fixtures/config/config_test_support.hpp"
#include "config/config_document.hpp"
#include "config/secrets.hpp"

namespace relais::config {
namespace {

constexpr const char* canary = "canary-7f3a9c";

std::string expand(std::string_view text, const std::filesystem::path& dir = "/") {
    std::string out;
    std::string error;
    EXPECT_TRUE(expand_secrets(text, dir, out, error)) << error;
    return out;
}

std::string expansion_error(std::string_view text, const std::filesystem::path& dir = "/") {
    std::string out;
    std::string error;
    EXPECT_FALSE(expand_secrets(text, dir, out, error));
    return error;
}

TEST(ConfigSecrets, EnvironmentVariable) {
    test::ScopedEnv env("RELAIS_TEST_TOKEN", canary);
    EXPECT_EQ(expand("${env:RELAIS_TEST_TOKEN}"), canary);
}

TEST(ConfigSecrets, EmbeddedReferencesAndPlainText) {
    test::ScopedEnv a("RELAIS_TEST_A", "alpha");
    test::ScopedEnv b("RELAIS_TEST_B", "beta");
    EXPECT_EQ(expand("Bearer ${env:RELAIS_TEST_A}"), "Bearer alpha");
    EXPECT_EQ(expand("${env:RELAIS_TEST_A}:${env:RELAIS_TEST_B}!"), "alpha:beta!");
    EXPECT_EQ(expand("no reference, $5 and {braces}"), "no reference, $5 and {braces}");
}

TEST(ConfigSecrets, DoubleDollarEscapesALiteralReference) {
    test::ScopedEnv env("RELAIS_TEST_A", "alpha");
    EXPECT_EQ(expand("$${env:RELAIS_TEST_A}"), "${env:RELAIS_TEST_A}");
    EXPECT_EQ(expand("x$${y}${env:RELAIS_TEST_A}"), "x${y}alpha");
}

TEST(ConfigSecrets, FileRelativeToTheYamlWithoutTrailingNewline) {
    test::TempDir dir;
    dir.write("secrets/key", std::string(canary) + "\n");
    dir.write("crlf", "line\r\n");
    dir.write("two-newlines", "x\n\n");
    EXPECT_EQ(expand("${file:secrets/key}", dir.path()), canary);
    EXPECT_EQ(expand("${file:" + (dir.path() / "secrets/key").string() + "}", "/elsewhere"),
              canary);
    EXPECT_EQ(expand("${file:crlf}", dir.path()), "line");
    EXPECT_EQ(expand("${file:two-newlines}", dir.path()), "x\n");
}

TEST(ConfigSecrets, UnsetVariableIsNamedAndNoValueLeaks) {
    test::ScopedEnv set("RELAIS_TEST_SET", canary);
    unsetenv("RELAIS_TEST_UNSET");
    const std::string error = expansion_error("${env:RELAIS_TEST_SET}${env:RELAIS_TEST_UNSET}");
    EXPECT_EQ(error, "environment variable 'RELAIS_TEST_UNSET' is not set");
    EXPECT_EQ(error.find(canary), std::string::npos);
}

TEST(ConfigSecrets, MissingFileIsNamed) {
    test::TempDir dir;
    EXPECT_EQ(expansion_error("${file:nope.txt}", dir.path()),
              "cannot read secret file 'nope.txt': No such file or directory");
    EXPECT_EQ(expansion_error("${file:}", dir.path()), "empty file name in ${file:...}");
}

TEST(ConfigSecrets, OnlyRegularFilesAreRead) {
    // A FIFO without a writer would block the reading (a reload's too).
    test::TempDir dir;
    ASSERT_EQ(::mkfifo((dir.path() / "fifo").c_str(), 0600), 0);
    EXPECT_EQ(expansion_error("${file:fifo}", dir.path()),
              "cannot read secret file 'fifo': it is not a regular file");
    EXPECT_EQ(expansion_error("${file:/dev/zero}", dir.path()),
              "cannot read secret file '/dev/zero': it is not a regular file");
}

TEST(ConfigSecrets, MalformedReferences) {
    EXPECT_EQ(expansion_error("${env:A"),
              "unterminated '${': write ${env:NAME}, ${file:PATH}, or $${ for a literal ${");
    EXPECT_EQ(
        expansion_error("${password}"),
        "unknown reference '${...}': write ${env:NAME}, ${file:PATH}, or $${ for a literal ${");
    EXPECT_EQ(expansion_error("${env:BAD-NAME}"),
              "invalid environment variable name in ${env:...} (letters, digits and '_')");
}

TEST(ConfigSecrets, DocumentSubstitutionAtEveryDepthWithPositions) {
    test::ScopedEnv env("RELAIS_TEST_TOKEN", canary);
    unsetenv("RELAIS_TEST_UNSET");
    auto doc = parse_yaml(R"(auth:
  token: "Bearer ${env:RELAIS_TEST_TOKEN}"
list:
  - ${env:RELAIS_TEST_TOKEN}
  - ${env:RELAIS_TEST_UNSET}
"${env:KEY}": keys are left alone
)",
                          "c.yaml", "/");
    const auto errors = test::lines(substitute_secrets(doc));
    EXPECT_EQ(errors, std::vector<std::string>{
                          "c.yaml:5:5: environment variable 'RELAIS_TEST_UNSET' is not set"});
    EXPECT_EQ(std::string(doc.json["auth"]["token"].GetString()), std::string("Bearer ") + canary);
    EXPECT_STREQ(doc.json["list"][0].GetString(), canary);
    EXPECT_TRUE(doc.json.HasMember("${env:KEY}"));
    for (const auto& line : errors) {
        EXPECT_EQ(line.find(canary), std::string::npos);
    }
}

}  // namespace
}  // namespace relais::config
