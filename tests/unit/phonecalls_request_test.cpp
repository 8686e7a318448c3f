// What the phone system and the agents' screens may send to a phonecalls
// connector, and how garbage is refused: the class, the parameter named,
// the value never quoted.
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "core/json.hpp"
#include "phonecalls/call_request.hpp"

namespace relais::phonecalls {
namespace {

const Refusal& refusal_of(const auto& checked) {
    static const Refusal none{ErrorClass::internal_error, "accepted"};
    const Refusal* r = std::get_if<Refusal>(&checked);
    return r != nullptr ? *r : none;
}

TEST(PhonecallsRequest, AcceptsPhoneNumbersAndExtensions) {
    for (const char* number :
         {"0612345678", "+33 6 12 34 56 78", "01.23.45.67.89", "(0)1-23", "1001", "*31#", "#",
          "+1 (555) 010-9999", "12345678901234567890123456789012"}) {
        EXPECT_TRUE(is_phone_number(number)) << number;
    }
}

TEST(PhonecallsRequest, RefusesWhatIsNotANumber) {
    for (const char* text : {"", "+", " - ", "abc", "06 12 34 56 7x", "0612345678\n", "06<script>",
                             "06;rm", "sip:1001@pbx", "123456789012345678901234567890123",
                             "06\xc2\xa0"
                             "12"}) {
        EXPECT_FALSE(is_phone_number(text)) << text;
    }
}

TEST(PhonecallsRequest, MissingCallerNamesIt) {
    const auto r = refusal_of(read_parties({{"callee", "1001"}}));
    EXPECT_EQ(r.error, ErrorClass::missing_parameter);
    EXPECT_EQ(r.description, "caller is required");
}

TEST(PhonecallsRequest, EmptyCalleeIsMissing) {
    const auto r = refusal_of(read_parties({{"caller", "0612345678"}, {"callee", ""}}));
    EXPECT_EQ(r.error, ErrorClass::missing_parameter);
    EXPECT_EQ(r.description, "callee is required");
}

TEST(PhonecallsRequest, TenKilobyteNumberIsRefusedWithoutQuotingIt) {
    const std::string huge(10 * 1024, '6');
    const auto r = refusal_of(read_parties({{"caller", huge}, {"callee", "1001"}}));
    EXPECT_EQ(r.error, ErrorClass::invalid_parameter);
    EXPECT_EQ(r.description.rfind("caller must be a phone number", 0), 0u) << r.description;
    EXPECT_EQ(r.description.find("666"), std::string::npos);
}

TEST(PhonecallsRequest, RepeatedNumberIsRefused) {
    const auto r = refusal_of(read_callee({{"callee", "1001"}, {"callee", "1002"}}));
    EXPECT_EQ(r.error, ErrorClass::invalid_parameter);
    EXPECT_EQ(r.description, "callee is given more than once");
}

TEST(PhonecallsRequest, PartiesAreReturnedAsSent) {
    const auto parties = read_parties({{"callee", "10 01"}, {"caller", "+33 6"}, {"other", "x"}});
    ASSERT_TRUE(std::holds_alternative<Parties>(parties));
    EXPECT_EQ(std::get<Parties>(parties).caller, "+33 6");
    EXPECT_EQ(std::get<Parties>(parties).callee, "10 01");
}

TEST(PhonecallsRequest, LimitHasADefaultAndBounds) {
    EXPECT_EQ(std::get<std::size_t>(read_limit({})), default_limit);
    EXPECT_EQ(std::get<std::size_t>(read_limit({{"limit", "0"}})), 0u);
    EXPECT_EQ(std::get<std::size_t>(read_limit({{"limit", "100"}})), 100u);
    for (const char* bad : {"101", "-1", "", "ten", "5 ", "1e2", "99999999999999999999999"}) {
        const auto r = refusal_of(read_limit({{"limit", bad}}));
        EXPECT_EQ(r.error, ErrorClass::invalid_parameter) << bad;
        EXPECT_EQ(r.description, "limit must be an integer from 0 to 100") << bad;
    }
}

TEST(PhonecallsRequest, ListingNeedsACalleeAndAValidLimit) {
    const auto listing = read_listing({{"callee", "2601"}, {"limit", "3"}});
    EXPECT_EQ(std::get<Listing>(listing).callee, "2601");
    EXPECT_EQ(std::get<Listing>(listing).limit, 3u);
    EXPECT_EQ(std::get<Listing>(read_listing({{"callee", "2601"}})).limit, default_limit);
    EXPECT_EQ(refusal_of(read_listing({{"limit", "3"}})).error, ErrorClass::missing_parameter);
    EXPECT_EQ(refusal_of(read_listing({{"callee", "2601"}, {"limit", "x"}})).error,
              ErrorClass::invalid_parameter);
}

std::string data_of(const QueryParams& query, std::string_view body) {
    const auto data = read_data(query, body);
    const std::string* text = std::get_if<std::string>(&data);
    return text != nullptr ? *text : "refused: " + std::get<Refusal>(data).description;
}

TEST(PhonecallsRequest, NoBodyIsAnEmptyObject) {
    EXPECT_EQ(data_of({}, ""), "{}");
    EXPECT_EQ(data_of({{"caller", "0612345678"}, {"callee", "1001"}}, ""), "{}");
}

TEST(PhonecallsRequest, DataIsWrittenAgainOnOneLine) {
    EXPECT_EQ(data_of({}, " {\"name\":\r\n \"a\\nb\",\n\"n\": [1,\n2], \"z\": \"\\u0000\"}\n"),
              R"({"name":"a\nb","n":[1,2],"z":"\u0000"})");
}

TEST(PhonecallsRequest, DataGarbageIsRefused) {
    using namespace std::string_literals;
    struct Case {
        std::string body;
        ErrorClass error;
    };
    const Case cases[] = {
        {"[1, 2]", ErrorClass::invalid_body},
        {"\"text\"", ErrorClass::invalid_body},
        {"42", ErrorClass::invalid_body},
        {"null", ErrorClass::invalid_body},
        {"{\"a\": ", ErrorClass::invalid_json},
        {"{\"a\": 1} trailing", ErrorClass::invalid_json},
        {"{\"a\": 1}\0"s, ErrorClass::invalid_json},
        {"{\"a\": 1}\0{\"xxx\": \"\n\"}"s, ErrorClass::invalid_json},
        {"{\"a\": \"x\0xxx\"}"s, ErrorClass::invalid_json},
        {"{\"a\": 1}{\"b\": 2}", ErrorClass::invalid_json},
        {"{\"a\": \"\xff\"}", ErrorClass::invalid_json},
        {"{\"a\": \"" + std::string(5000, 'x') + "\"}", ErrorClass::payload_too_large},
        {std::string(2000, '[') + std::string(2000, ']'), ErrorClass::invalid_json},
        {R"({"a": 1, "a": 2})", ErrorClass::invalid_body},
        {R"({"a": [{"b": 1, "b": 1}]})", ErrorClass::invalid_body},
    };
    for (const auto& c : cases) {
        const auto r = refusal_of(read_data({}, c.body));
        EXPECT_EQ(r.error, c.error) << c.body.substr(0, 40);
        EXPECT_EQ(r.description.find("xxx"), std::string::npos);
    }
}

TEST(PhonecallsRequest, NestedDataIsWrittenAgainUpToTheDepthLimit) {
    const auto nested = [](std::size_t depth) {
        return "{\"a\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
    };
    EXPECT_EQ(data_of({}, nested(max_json_depth - 1)), nested(max_json_depth - 1));
    EXPECT_EQ(data_of({}, nested(max_json_depth)),
              "refused: the body nests deeper than 128 levels");
}

TEST(PhonecallsRequest, ExtraQueryParametersAreData) {
    const QueryParams query{{"caller", "0612345678"},  {"name", "Dupont"}, {"callee", "1001"},
                            {"queue.id", "accueil-2"}, {"empty", ""},      {"text", "é \"q\"\n"}};
    EXPECT_EQ(data_of(query, ""),
              R"({"name":"Dupont","queue.id":"accueil-2","empty":"","text":"é \"q\"\n"})");
}

TEST(PhonecallsRequest, BodyWinsOverAQueryParameterOfTheSameName) {
    EXPECT_EQ(data_of({{"name", "query"}, {"queue", "q"}}, R"({"name": "body", "n": 1})"),
              R"({"queue":"q","name":"body","n":1})");
}

TEST(PhonecallsRequest, ExtraQueryParametersAreBounded) {
    QueryParams twenty{{"caller", "0612345678"}, {"callee", "1001"}};
    for (int i = 0; i < 20; ++i) {
        twenty.emplace_back("p" + std::to_string(i), "v");
    }
    EXPECT_EQ(data_of(twenty, "").rfind("{\"p0\":\"v\",", 0), 0u);
    QueryParams more = twenty;
    more.emplace_back("p20", "v");
    EXPECT_EQ(refusal_of(read_data(more, "")).description,
              "at most 20 query parameters besides caller and callee are kept as the call's data");

    const std::string names_rule =
        "query parameter names must be 1 to 64 letters, digits, '_', '.' or '-'";
    for (const std::string& name : {std::string(), std::string("a b"), std::string("xxx/"),
                                    std::string("xxx\xc3\xa9"), std::string(65, 'x')}) {
        const auto r = refusal_of(read_data({{name, "1"}}, ""));
        EXPECT_EQ(r.error, ErrorClass::invalid_parameter) << name;
        EXPECT_EQ(r.description, names_rule) << name;
    }
    EXPECT_EQ(data_of({{std::string(64, 'x'), "1"}}, ""),
              "{\"" + std::string(64, 'x') + "\":\"1\"}");

    const struct {
        QueryParams query;
        std::string description;
    } refused[] = {
        {{{"note", std::string(257, 'x')}},
         "query parameters besides caller and callee must be at most 256 bytes"},
        {{{"note", "xxx\xff"}}, "query parameters besides caller and callee must be UTF-8 text"},
        {{{"note", "xxx"}, {"other", "1"}, {"note", "xxx"}},
         "a query parameter besides caller and callee is given more than once"},
    };
    for (const auto& c : refused) {
        const auto r = refusal_of(read_data(c.query, ""));
        EXPECT_EQ(r.error, ErrorClass::invalid_parameter) << c.description;
        EXPECT_EQ(r.description, c.description);
    }
    EXPECT_EQ(data_of({{"note", std::string(256, 'x')}}, "").size(), 256u + 11u);
}

TEST(PhonecallsRequest, DataIsBoundedAsAWhole) {
    QueryParams query;
    for (int i = 0; i < 16; ++i) {
        query.emplace_back("p" + std::to_string(i), std::string(250, 'x'));
    }
    const auto r = refusal_of(read_data(query, ""));
    EXPECT_EQ(r.error, ErrorClass::invalid_parameter);
    EXPECT_EQ(r.description,
              "the call's data (query parameters besides caller and callee, and the body) must "
              "be at most 4096 bytes");
    query.resize(8);
    const std::string body = "{\"b\": \"" + std::string(2100, 'x') + "\"}";
    EXPECT_EQ(refusal_of(read_data(query, body)).error, ErrorClass::invalid_parameter);
    // Written again, numbers may grow: 1E9 becomes 1000000000.0.
    std::string numbers = "{\"n\":[1E9";
    while (numbers.size() < 4000) {
        numbers += ",1E9";
    }
    numbers += "]}";
    EXPECT_EQ(refusal_of(read_data({}, numbers)).error, ErrorClass::payload_too_large);
}

}  // namespace
}  // namespace relais::phonecalls
