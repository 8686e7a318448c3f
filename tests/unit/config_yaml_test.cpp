// YAML -> JSON conversion: scalar typing (YAML 1.2 core schema), positions
// of values and keys, and the errors of malformed files.
#include <gtest/gtest.h>

#include "../fixtures/config/config_test_support.hpp"
#include "config/config_document.hpp"

namespace relais::config {
namespace {

ConfigDocument parse(std::string_view text) {
    return parse_yaml(text, "t.yaml", "/cfg");
}

std::vector<std::string> parse_errors(std::string_view text) {
    try {
        parse(text);
    } catch (const ConfigErrors& e) {
        return test::lines(e.errors());
    }
    return {};
}

TEST(ConfigYaml, PlainScalarsAreTypedQuotedOnesStayStrings) {
    const auto doc = parse(R"(quoted: "123"
single: '123'
plain: 123
negative: -42
plus: +7
big: 18446744073709551615
float: 1.5
exponent: -3.5e2
leading_dot: .5
hex: 0x1F
octal: 0o17
yes_word: yes
on_true: true
capital: False
tilde: ~
null_word: null
empty:
quoted_null: "null"
quoted_true: "true"
duration: 30s
block: |
  two
  lines
tagged: !!str 12
)");
    const auto& j = doc.json;
    ASSERT_TRUE(j.IsObject());
    EXPECT_TRUE(j["quoted"].IsString());
    EXPECT_STREQ(j["quoted"].GetString(), "123");
    EXPECT_TRUE(j["single"].IsString());
    ASSERT_TRUE(j["plain"].IsInt64());
    EXPECT_EQ(j["plain"].GetInt64(), 123);
    EXPECT_EQ(j["negative"].GetInt64(), -42);
    EXPECT_EQ(j["plus"].GetInt64(), 7);
    ASSERT_TRUE(j["big"].IsUint64());
    EXPECT_EQ(j["big"].GetUint64(), 18446744073709551615ULL);
    ASSERT_TRUE(j["float"].IsDouble());
    EXPECT_DOUBLE_EQ(j["float"].GetDouble(), 1.5);
    EXPECT_DOUBLE_EQ(j["exponent"].GetDouble(), -350.0);
    EXPECT_DOUBLE_EQ(j["leading_dot"].GetDouble(), 0.5);
    EXPECT_EQ(j["hex"].GetInt64(), 31);
    EXPECT_EQ(j["octal"].GetInt64(), 15);
    // YAML 1.2: "yes" is a string, not a boolean.
    EXPECT_TRUE(j["yes_word"].IsString());
    EXPECT_TRUE(j["on_true"].IsTrue());
    EXPECT_TRUE(j["capital"].IsFalse());
    EXPECT_TRUE(j["tilde"].IsNull());
    EXPECT_TRUE(j["null_word"].IsNull());
    EXPECT_TRUE(j["empty"].IsNull());
    EXPECT_TRUE(j["quoted_null"].IsString());
    EXPECT_TRUE(j["quoted_true"].IsString());
    EXPECT_STREQ(j["duration"].GetString(), "30s");
    EXPECT_STREQ(j["block"].GetString(), "two\nlines\n");
    EXPECT_TRUE(j["tagged"].IsString());
}

TEST(ConfigYaml, PositionsOfNestedValuesKeysAndListItems) {
    const auto doc = parse(R"(server:
  limits:
    body_bytes: 12
clients:
  wcs:
    allow_from:
      - 127.0.0.1/32
      - "::1/128"
    families: [reference, sante]
)");
    auto at = [&](const char* pointer) {
        const auto p = doc.values.find(pointer);
        return std::to_string(p.line) + ":" + std::to_string(p.column);
    };
    auto key = [&](const char* pointer) {
        const auto p = doc.keys.find(pointer);
        return std::to_string(p.line) + ":" + std::to_string(p.column);
    };
    EXPECT_EQ(at(""), "1:1");
    EXPECT_EQ(at("/server/limits/body_bytes"), "3:17");
    EXPECT_EQ(key("/server/limits/body_bytes"), "3:5");
    EXPECT_EQ(key("/server/limits"), "2:3");
    EXPECT_EQ(at("/clients/wcs/allow_from/0"), "7:9");
    EXPECT_EQ(at("/clients/wcs/allow_from/1"), "8:9");
    EXPECT_EQ(at("/clients/wcs/families/1"), "9:27");
    EXPECT_EQ(key("/clients/wcs"), "5:3");
    EXPECT_EQ(doc.values.file(), "t.yaml");
    EXPECT_EQ(doc.directory, "/cfg");
}

TEST(ConfigYaml, EmptyValueIsLocatedAtItsKey) {
    const auto doc = parse("a:\n  b:\nc: 1\n");
    const auto p = doc.values.find("/a/b");
    EXPECT_EQ(p.line, 2);
    EXPECT_EQ(p.column, 3);
}

TEST(ConfigYaml, KeysWithSlashAndTildeAreEscapedInPointers) {
    const auto doc = parse("\"a/b\":\n  \"c~d\": 1\n");
    EXPECT_EQ(doc.values.find("/a~1b/c~0d").line, 2);
    EXPECT_EQ(doc.json["a/b"]["c~d"].GetInt64(), 1);
}

TEST(ConfigYaml, AnchorsAndAliasesAreExpanded) {
    const auto doc = parse("base: &b {x: 1, y: [1, 2]}\ncopy: *b\n");
    ASSERT_TRUE(doc.json["copy"].IsObject());
    EXPECT_EQ(doc.json["copy"]["y"][1].GetInt64(), 2);
}

TEST(ConfigYaml, AliasesThatMultiplyTextAreRefused) {
    // 4 keys of 1000 characters per level, 10 levels: a 44 KB file that
    // would expand to gigabytes of keys and pointers.
    std::string yaml = "b0: &b0 {";
    for (int k = 0; k < 4; ++k) {
        yaml += std::string(1000, static_cast<char>('a' + k)) + ": 1, ";
    }
    yaml += "}\n";
    for (int level = 1; level <= 10; ++level) {
        const std::string name = "b" + std::to_string(level);
        yaml += name + ": &" + name + " {";
        for (int k = 0; k < 4; ++k) {
            yaml += std::string(1000, static_cast<char>('a' + k)) + ": *b" +
                    std::to_string(level - 1) + ", ";
        }
        yaml += "}\n";
    }
    const auto errors = parse_errors(yaml);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].find("the document is too large or too deeply nested"), std::string::npos)
        << errors[0];
    // Long strings repeated by aliases count too.
    const auto strings = parse_errors("s: &s " + std::string(1 << 20, 'x') + "\nl: [" + [] {
        std::string items;
        for (int i = 0; i < 100; ++i) {
            items += "*s, ";
        }
        return items;
    }() + "]\n");
    ASSERT_EQ(strings.size(), 1u);
    EXPECT_NE(strings[0].find("too large"), std::string::npos) << strings[0];
}

TEST(ConfigYaml, TextThatIsNotUtf8IsRefusedWhereItIs) {
    EXPECT_EQ(parse_errors("a: b\nc: \"n\xFFo\"\n"),
              (std::vector<std::string>{"t.yaml:2:4: the value is not UTF-8 text"}));
    EXPECT_EQ(parse_errors("a: b\n\xC3x: 1\n"),
              (std::vector<std::string>{"t.yaml:2:1: a key is not UTF-8 text"}));
    EXPECT_TRUE(parse_errors("nom: \"Fran\xC3\xA7oise\"\n").empty());
}

TEST(ConfigYaml, EmptyFileIsNull) {
    const auto doc = parse("");
    EXPECT_TRUE(doc.json.IsNull());
    EXPECT_EQ(doc.values.find("").line, 1);
}

TEST(ConfigYaml, DuplicateKeysAreErrorsAtTheSecondKey) {
    EXPECT_EQ(parse_errors("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n"),
              (std::vector<std::string>{
                  "t.yaml:4:3: duplicate key 'c' (first defined at line 3)",
                  "t.yaml:5:1: duplicate key 'a' (first defined at line 1)",
              }));
}

TEST(ConfigYaml, SyntaxErrorCarriesYamlCppPosition) {
    EXPECT_EQ(parse_errors("a: [1, 2\nb: 3\n"),
              (std::vector<std::string>{"t.yaml:2:2: end of sequence flow not found"}));
    EXPECT_EQ(parse_errors("a: b: c\n"),
              (std::vector<std::string>{"t.yaml:1:5: illegal map value"}));
}

TEST(ConfigYaml, NonScalarKeysInfinitiesAndHugeIntegersAreErrors) {
    EXPECT_EQ(parse_errors("? [x]\n: 1\n"),
              (std::vector<std::string>{
                  "t.yaml:1:3: mapping keys must be plain text, not lists or mappings"}));
    EXPECT_EQ(parse_errors("a: .inf\n"),
              (std::vector<std::string>{"t.yaml:1:4: infinite and NaN numbers are not allowed "
                                        "(JSON has none); quote the value to make it a string"}));
    EXPECT_EQ(parse_errors("a: -99999999999999999999\n"),
              (std::vector<std::string>{"t.yaml:1:4: integer out of range"}));
}

TEST(ConfigYaml, CoreTagsMustFitTheirValue) {
    const auto doc = parse(
        "s: !!str 12\ni: !!int '12'\nf: !!float 1.5\nn: !!float 2\nb: !!bool true\nz: !!null ~\n"
        "m: !!map {a: 1}\nq: !!seq [1]\nh: !!int 0x1F\nx: ! plain\ne: !!null\n!!str k: v\n");
    EXPECT_STREQ(doc.json["s"].GetString(), "12");
    EXPECT_EQ(doc.json["i"].GetInt64(), 12);
    EXPECT_EQ(doc.json["h"].GetInt64(), 31);
    EXPECT_STREQ(doc.json["x"].GetString(), "plain");
    EXPECT_TRUE(doc.json["e"].IsNull());
    EXPECT_STREQ(doc.json["k"].GetString(), "v");
    EXPECT_EQ(parse_errors("a: !!int 1.5\nb: !!bool yes\nc: !!map [1]\nd: !!str {a: 1}\n"),
              (std::vector<std::string>{
                  "t.yaml:1:4: the value is not of the type its tag '!!int' names",
                  "t.yaml:2:4: the value is not of the type its tag '!!bool' names",
                  "t.yaml:3:4: the value is not of the type its tag '!!map' names",
                  "t.yaml:4:4: the value is not of the type its tag '!!str' names"}));
}

TEST(ConfigYaml, OtherTagsAreRefusedRatherThanIgnored) {
    // Read as plain text, `!!binary` would be the base64, `!vault` the
    // ciphertext: relais does neither reading.
    const std::string plainly =
        "' is not supported: write the value plainly (strings, numbers, booleans, null, "
        "mappings, lists)";
    EXPECT_EQ(
        parse_errors("key: !!binary aGVsbG8=\nwhen: !!timestamp 2026-01-01\n"
                     "secret: !vault xyz\nset: !!set {a: null}\n!vault k: v\n!!int 12: v\n"),
        (std::vector<std::string>{
            "t.yaml:1:6: the tag '!!binary" + plainly, "t.yaml:2:7: the tag '!!timestamp" + plainly,
            "t.yaml:3:9: the tag '!vault" + plainly, "t.yaml:4:6: the tag '!!set" + plainly,
            "t.yaml:5:1: the tag '!vault' is not supported: keys are plain text",
            "t.yaml:6:1: the tag '!!int' is not supported: keys are plain text"}));
}

TEST(ConfigYaml, OnlyOneDocumentPerFile) {
    EXPECT_EQ(parse_errors("a: 1\n---\nb: 2\n"),
              (std::vector<std::string>{"t.yaml:3:1: only one YAML document per file is allowed"}));
}

TEST(ConfigYaml, LoadFileNamesUnreadableFile) {
    test::TempDir dir;
    try {
        load_yaml_file(dir.path() / "missing.yaml");
        FAIL() << "no error";
    } catch (const ConfigErrors& e) {
        ASSERT_EQ(e.errors().size(), 1U);
        EXPECT_EQ(e.errors()[0].message(), "cannot read the file: No such file or directory");
    }
}

TEST(ConfigYaml, LoadFileSetsDirectory) {
    test::TempDir dir;
    const auto file = dir.write("sub/r.yaml", "a: 1\n");
    const auto doc = load_yaml_file(file);
    EXPECT_EQ(doc.directory, dir.path() / "sub");
    EXPECT_EQ(doc.values.file(), display_path(file));
}

TEST(ConfigYaml, DisplayPathIsRelativeBelowTheWorkingDirectory) {
    const auto cwd = std::filesystem::current_path();
    EXPECT_EQ(display_path(cwd / "config" / "relais.yaml"), "config/relais.yaml");
    EXPECT_EQ(display_path("/nonexistent-root/x.yaml"), "/nonexistent-root/x.yaml");
}

}  // namespace
}  // namespace relais::config
