// Typing and checking of the query parameters of REST endpoints.
#include <gtest/gtest.h>

#include "rest/parameters.hpp"
#include "rest_test_support.hpp"

using namespace relais;
using namespace relais::rest;
using namespace relais::rest::test_support;

namespace {

// Designated initializers would trip -Wmissing-field-initializers.
ParameterSpec param(std::string name, ParamType type = ParamType::string, std::string pattern = {},
                    std::size_t max_length = default_max_length) {
    ParameterSpec spec;
    spec.name = std::move(name);
    spec.type = type;
    spec.pattern = std::move(pattern);
    spec.max_length = max_length;
    return spec;
}

ParameterList one(ParameterSpec spec) {
    ParameterList list;
    list.add(std::move(spec));
    return list;
}

std::optional<CallError> bind(const ParameterList& list, QueryParams query,
                              std::vector<std::optional<TypedValue>>& out) {
    return list.bind(query, out);
}

}  // namespace

TEST(RestParameters, IntegerIsParsedAndCanonical) {
    const auto list = one(param("n", ParamType::integer));
    std::vector<std::optional<TypedValue>> out;
    ASSERT_FALSE(bind(list, {{"n", "0042"}}, out));
    EXPECT_EQ(out[0]->integer, 42);
    EXPECT_EQ(out[0]->text, "42");
    ASSERT_FALSE(bind(list, {{"n", "-7"}}, out));
    EXPECT_EQ(out[0]->integer, -7);
    for (const char* bad : {"4.2", "12abc", "+3", " 3", "0x10", "99999999999999999999", "1e3"}) {
        const auto error = bind(list, {{"n", bad}}, out);
        ASSERT_TRUE(error) << bad;
        EXPECT_EQ(error->error, ErrorClass::invalid_parameter);
        EXPECT_EQ(error->description, "parameter 'n' must be an integer");
    }
}

TEST(RestParameters, NumberRefusesNonFiniteValues) {
    const auto list = one(param("lat", ParamType::number));
    std::vector<std::optional<TypedValue>> out;
    ASSERT_FALSE(bind(list, {{"lat", "48.8566"}}, out));
    EXPECT_DOUBLE_EQ(out[0]->number, 48.8566);
    EXPECT_EQ(out[0]->text, "48.8566");
    ASSERT_FALSE(bind(list, {{"lat", "1e2"}}, out));
    EXPECT_EQ(out[0]->text, "100");
    for (const char* bad : {"nan", "inf", "-inf", "1,5", "abc", "1.5.2"}) {
        const auto error = bind(list, {{"lat", bad}}, out);
        ASSERT_TRUE(error) << bad;
        EXPECT_EQ(error->description, "parameter 'lat' must be a number");
    }
}

TEST(RestParameters, BooleanAcceptsWordsAndDigits) {
    const auto list = one(param("b", ParamType::boolean));
    std::vector<std::optional<TypedValue>> out;
    for (const auto& [text, expected] : std::vector<std::pair<std::string, bool>>{{"true", true},
                                                                                  {"TRUE", true},
                                                                                  {"1", true},
                                                                                  {"false", false},
                                                                                  {"False", false},
                                                                                  {"0", false}}) {
        ASSERT_FALSE(bind(list, {{"b", text}}, out)) << text;
        EXPECT_EQ(out[0]->boolean, expected) << text;
        EXPECT_EQ(out[0]->text, expected ? "true" : "false");
    }
    const auto error = bind(list, {{"b", "yes"}}, out);
    ASSERT_TRUE(error);
    EXPECT_EQ(error->description, "parameter 'b' must be true or false");
}

TEST(RestParameters, RequiredMissingOrEmptyIsMissingParameter) {
    auto spec = param("id");
    spec.required = true;
    const auto list = one(spec);
    std::vector<std::optional<TypedValue>> out;
    for (const QueryParams& query :
         {QueryParams{}, QueryParams{{"id", ""}}, QueryParams{{"ID", "1"}}}) {
        const auto error = bind(list, query, out);
        ASSERT_TRUE(error);
        EXPECT_EQ(error->error, ErrorClass::missing_parameter);
        EXPECT_EQ(error->description, "missing parameter 'id'");
    }
}

TEST(RestParameters, DefaultAppliesWhenAbsentOrEmpty) {
    ParameterList list;
    const auto index = list.add(param("limit", ParamType::integer));
    TypedValue def;
    ASSERT_FALSE(list.check(index, "10", def));
    list.set_default(index, def);
    std::vector<std::optional<TypedValue>> out;
    ASSERT_FALSE(bind(list, {}, out));
    EXPECT_EQ(out[0]->integer, 10);
    ASSERT_FALSE(bind(list, {{"limit", ""}}, out));
    EXPECT_EQ(out[0]->integer, 10);
    ASSERT_FALSE(bind(list, {{"limit", "3"}}, out));
    EXPECT_EQ(out[0]->integer, 3);
}

TEST(RestParameters, OptionalAbsentStaysAbsentAndUnknownNamesAreIgnored) {
    const auto list = one(param("q"));
    std::vector<std::optional<TypedValue>> out;
    ASSERT_FALSE(bind(list, {{"wcs_extra", "x"}, {"other", "y"}}, out));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_FALSE(out[0]);
}

TEST(RestParameters, FirstOccurrenceCounts) {
    const auto list = one(param("q"));
    std::vector<std::optional<TypedValue>> out;
    ASSERT_FALSE(bind(list, {{"q", "first"}, {"q", "second"}}, out));
    EXPECT_EQ(out[0]->text, "first");
}

TEST(RestParameters, PatternIsSearchedInTheRawText) {
    const auto list = one(param("id", ParamType::string, "^[0-9]+$"));
    std::vector<std::optional<TypedValue>> out;
    ASSERT_FALSE(bind(list, {{"id", "12345"}}, out));
    for (const char* bad : {"12a", "../1", "1\n2", "1 ", "١٢"}) {
        const auto error = bind(list, {{"id", bad}}, out);
        ASSERT_TRUE(error) << bad;
        EXPECT_EQ(error->error, ErrorClass::invalid_parameter);
        EXPECT_EQ(error->description, "parameter 'id' does not match its pattern");
    }
}

TEST(RestParameters, AnchorsAndDotFollowJsonSchemaSemantics) {
    // Perl's multi-line defaults would let ^/$ match at line breaks and '.'
    // match a newline: a value could then smuggle a second line past the
    // pattern.
    const auto list = one(param("s", ParamType::string, "^.+$"));
    std::vector<std::optional<TypedValue>> out;
    EXPECT_FALSE(bind(list, {{"s", "one line"}}, out));
    EXPECT_TRUE(bind(list, {{"s", "two\nlines"}}, out));
    EXPECT_TRUE(bind(list, {{"s", "trailing\n"}}, out));
}

TEST(RestParameters, UnanchoredPatternMatchesAnywhere) {
    const auto list = one(param("s", ParamType::string, "abc"));
    std::vector<std::optional<TypedValue>> out;
    EXPECT_FALSE(bind(list, {{"s", "xxabcxx"}}, out));
    EXPECT_TRUE(bind(list, {{"s", "xxabxx"}}, out));
}

TEST(RestParameters, MaxLengthIsCheckedFirst) {
    const auto list = one(param("q", ParamType::string, "^a*$"));
    std::vector<std::optional<TypedValue>> out;
    EXPECT_FALSE(bind(list, {{"q", std::string(default_max_length, 'a')}}, out));
    const auto error = bind(list, {{"q", std::string(default_max_length + 1, 'a')}}, out);
    ASSERT_TRUE(error);
    EXPECT_EQ(error->description, "parameter 'q' is longer than 1024 bytes");
}

TEST(RestParameters, PatternsThatBacktrackElsewhereGetAnAnswer) {
    // (a+)+$ and nested groups of words backtrack exponentially (or in
    // pattern length squared per character) in a backtracking engine on
    // "aaaa…b"; RE2 answers in time linear in the value.
    for (const std::string& pattern :
         {std::string("^(a+)+$"),
          std::string(
              "^([0-9]{1,4}( ?(bis|ter))? )?((rue|avenue|boulevard) )?([A-Za-zÀ-ÿ'-]+ ?)+$")}) {
        const auto list = one(param("q", ParamType::string, pattern, 65536));
        std::vector<std::optional<TypedValue>> out;
        for (const std::size_t length : {1000, 30000, 65535}) {
            const auto error = bind(list, {{"q", std::string(length, 'a') + "!"}}, out);
            ASSERT_TRUE(error) << length;
            EXPECT_EQ(error->error, ErrorClass::invalid_parameter);
            EXPECT_EQ(error->description, "parameter 'q' does not match its pattern") << length;
            EXPECT_FALSE(bind(list, {{"q", std::string(length, 'a')}}, out)) << length;
        }
    }
}

TEST(RestParameters, PatternsReadCharactersNotBytes) {
    std::vector<std::optional<TypedValue>> out;
    const auto six = one(param("n", ParamType::string, "^.{1,6}$"));
    EXPECT_FALSE(bind(six, {{"n", "Hélène"}}, out));
    EXPECT_TRUE(bind(six, {{"n", "Hélènes"}}, out));
    const auto name = one(param("n", ParamType::string, "^[A-Za-zÀ-ÿ' -]+$"));
    EXPECT_FALSE(bind(name, {{"n", "Éloïse D'Aubigné"}}, out));
    for (const char* bad : {"¿¡«»", "Ã©"}) {
        EXPECT_TRUE(bind(name, {{"n", bad}}, out)) << bad;
    }
}

TEST(RestParameters, PatternsRe2CannotRunAreRefusedAtLoad) {
    // Lookarounds and back-references have no linear-time match; RE2 counts
    // a repetition up to 1000 and writes code points \x{…}.
    for (const char* pattern :
         {"^(?=a)a$", "^(a)\\1$", "^[a-$", "^.{1,2000}$", "^([a-z]{1,100} ){0,20}$", "^\\u00e9$"}) {
        ParameterList list;
        EXPECT_THROW(list.add(param("q", ParamType::string, pattern)), std::invalid_argument)
            << pattern;
    }
    ParameterList list;
    try {
        list.add(param("q", ParamType::string, "^.{1,2000}$"));
        ADD_FAILURE();
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(),
                     "pattern is not a regular expression relais can run (RE2 syntax: invalid "
                     "repetition size: {1,2000})");
    }
    std::vector<std::optional<TypedValue>> out;
    EXPECT_FALSE(bind(one(param("q", ParamType::string, "^\\x{e9}$")), {{"q", "é"}}, out));
}

TEST(RestParameters, LongValueAgainstPatternDoesNotOverflowTheStack) {
    const auto list = one(param("q", ParamType::string, "^(a|b)*$", 65536));
    std::vector<std::optional<TypedValue>> out;
    // Either verdict is fine; crashing is not.
    (void)bind(list, {{"q", std::string(65536, 'a')}}, out);
    SUCCEED();
}

TEST(RestParameters, InvalidUtf8IsRefused) {
    const auto list = one(param("q"));
    std::vector<std::optional<TypedValue>> out;
    EXPECT_FALSE(bind(list, {{"q", "Évry-Courcouronnes 日本 🙂"}}, out));
    for (const char* bad : {"\xff", "\xc3", "\xc0\xaf", "\xed\xa0\x80", "a\xe2\x82"}) {
        const auto error = bind(list, {{"q", bad}}, out);
        ASSERT_TRUE(error);
        EXPECT_EQ(error->description, "parameter 'q' is not valid UTF-8");
    }
}

TEST(RestParameters, MinimumAndMaximum) {
    auto spec = param("n", ParamType::integer);
    spec.minimum = 1;
    spec.maximum = 100;
    const auto list = one(spec);
    std::vector<std::optional<TypedValue>> out;
    EXPECT_FALSE(bind(list, {{"n", "1"}}, out));
    EXPECT_FALSE(bind(list, {{"n", "100"}}, out));
    EXPECT_EQ(bind(list, {{"n", "0"}}, out)->description, "parameter 'n' must be >= 1");
    EXPECT_EQ(bind(list, {{"n", "101"}}, out)->description, "parameter 'n' must be <= 100");
}

TEST(RestParameters, RefusalsNeverQuoteTheValue) {
    const auto list = one(param("q", ParamType::integer, "^[0-9]+$"));
    std::vector<std::optional<TypedValue>> out;
    const auto error = bind(list, {{"q", "CANARY-secret"}}, out);
    ASSERT_TRUE(error);
    EXPECT_EQ(error->description.find("CANARY"), std::string::npos);
}

TEST(RestParameters, BadPatternIsALoadError) {
    ParameterList list;
    EXPECT_THROW(list.add(param("q", ParamType::string, "(unclosed")), std::invalid_argument);
}

TEST(RestParameters, EndToEndThroughTheEndpoint) {
    const auto c = load_endpoint(R"({
        "parameters": {
            "demand_id": {"type": "string", "required": true, "pattern": "^[0-9]+$"},
            "page_limit": {"type": "integer", "default": 10, "minimum": 1, "maximum": 100}
        },
        "request": {"path": "requests/{demand_id}", "query": {"limit": "{page_limit}"}}
    })");
    EXPECT_EQ(prepare_ok(*c, make_request("GET", {{"demand_id", "42"}})).url,
              "http://up.test/api/requests/42?limit=10");
    EXPECT_EQ(prepare_ok(*c, make_request("GET", {{"demand_id", "42"}, {"page_limit", "7"}})).url,
              "http://up.test/api/requests/42?limit=7");
    EXPECT_EQ(prepare_error(*c, make_request("GET", {})).error, ErrorClass::missing_parameter);
    const auto bad = prepare_error(*c, make_request("GET", {{"demand_id", "4/2"}}));
    EXPECT_EQ(bad.error, ErrorClass::invalid_parameter);
    EXPECT_EQ(bad.description, "parameter 'demand_id' does not match its pattern");
    EXPECT_EQ(
        prepare_error(*c, make_request("GET", {{"demand_id", "1"}, {"page_limit", "500"}})).error,
        ErrorClass::invalid_parameter);
}
