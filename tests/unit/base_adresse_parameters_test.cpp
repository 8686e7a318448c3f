// Checking the query parameters of the base-adresse endpoints.
#include <gtest/gtest.h>

#include <string>

#include "base-adresse/parameters.hpp"

using namespace relais;
using namespace relais::base_adresse;

namespace {

std::variant<Query, ParameterError> check(Endpoint e, QueryParams params) {
    return check_query(e, params);
}

/// The refusal, which must name `parameter` and not quote `value`.
ParameterError refusal(Endpoint e, QueryParams params, const std::string& parameter) {
    const auto result = check(e, params);
    EXPECT_TRUE(std::holds_alternative<ParameterError>(result));
    if (!std::holds_alternative<ParameterError>(result)) {
        return {};
    }
    const ParameterError& error = std::get<ParameterError>(result);
    EXPECT_NE(error.description.find(parameter), std::string::npos) << error.description;
    for (const auto& [name, value] : params) {
        if (value.size() >= 3) {
            EXPECT_EQ(error.description.find(value), std::string::npos) << error.description;
        }
    }
    return error;
}

}  // namespace

TEST(BaseAdresseParameters, SearchTakesPasserellesParameters) {
    const auto result = check(Endpoint::search, {{"q", "  8 bd du palais "},
                                                 {"zipcode", "75004"},
                                                 {"citycode", "2A004"},
                                                 {"lat", "48.85"},
                                                 {"lon", "-2.5"},
                                                 {"page_limit", "20"},
                                                 {"unknown", "ignored"}});
    ASSERT_TRUE(std::holds_alternative<Query>(result));
    const Query& q = std::get<Query>(result);
    EXPECT_EQ(q.q, "8 bd du palais");
    EXPECT_EQ(q.zipcode, "75004");
    EXPECT_EQ(q.citycode, "2A004");
    ASSERT_TRUE(q.point);
    EXPECT_DOUBLE_EQ(q.point->lat, 48.85);
    EXPECT_DOUBLE_EQ(q.point->lon, -2.5);
    EXPECT_EQ(q.page_limit, 20u);
}

TEST(BaseAdresseParameters, DefaultsAndEmptyValues) {
    const auto result = check(Endpoint::search, {{"q", "rue"}, {"zipcode", ""}, {"lat", ""}});
    ASSERT_TRUE(std::holds_alternative<Query>(result));
    EXPECT_EQ(std::get<Query>(result).page_limit, 5u);
    EXPECT_TRUE(std::get<Query>(result).zipcode.empty());
    EXPECT_FALSE(std::get<Query>(result).point);
}

TEST(BaseAdresseParameters, MissingParameters) {
    EXPECT_EQ(refusal(Endpoint::search, {}, "q").error, ErrorClass::missing_parameter);
    EXPECT_EQ(refusal(Endpoint::search, {{"q", "   "}}, "q").error, ErrorClass::missing_parameter);
    EXPECT_EQ(refusal(Endpoint::reverse, {{"lat", "48.1"}}, "lon").error,
              ErrorClass::missing_parameter);
    EXPECT_EQ(refusal(Endpoint::reverse, {}, "lat").error, ErrorClass::missing_parameter);
    EXPECT_EQ(refusal(Endpoint::search, {{"q", "rue"}, {"lon", "2"}}, "lat").error,
              ErrorClass::missing_parameter);
    EXPECT_EQ(refusal(Endpoint::addresses, {}, "q or id").error, ErrorClass::missing_parameter);
    EXPECT_EQ(refusal(Endpoint::streets, {{"zipcode", "75004"}}, "q or id").error,
              ErrorClass::missing_parameter);
    EXPECT_EQ(refusal(Endpoint::cities, {}, "department_code").error,
              ErrorClass::missing_parameter);
    EXPECT_TRUE(std::holds_alternative<Query>(check(Endpoint::departments, {})));
    EXPECT_TRUE(std::holds_alternative<Query>(check(Endpoint::regions, {})));
}

TEST(BaseAdresseParameters, CoordinatesAreStrictDecimalsInRange) {
    for (const char* bad : {"90.0001", "-91", "nan", "inf", "1e2", "48,8", "48.", ".5", "0x10",
                            "--1", "48.8 ", "123456789012345678901234567"}) {
        EXPECT_EQ(refusal(Endpoint::reverse, {{"lat", bad}, {"lon", "2"}}, "lat").error,
                  ErrorClass::invalid_parameter)
            << bad;
    }
    EXPECT_EQ(refusal(Endpoint::reverse, {{"lat", "48"}, {"lon", "180.5"}}, "lon").error,
              ErrorClass::invalid_parameter);
    for (const char* good : {"90", "-90", "+45.5", "0", "-0.000001"}) {
        EXPECT_TRUE(
            std::holds_alternative<Query>(check(Endpoint::reverse, {{"lat", good}, {"lon", good}})))
            << good;
    }
}

TEST(BaseAdresseParameters, CodesFollowTheirPatterns) {
    for (const char* bad : {"7500", "750041", "7500A", " 75004"}) {
        EXPECT_EQ(refusal(Endpoint::search, {{"q", "rue"}, {"zipcode", bad}}, "zipcode").error,
                  ErrorClass::invalid_parameter);
    }
    for (const char* bad : {"2C004", "2a004", "7510", "ABCDE"}) {
        EXPECT_EQ(refusal(Endpoint::search, {{"q", "rue"}, {"citycode", bad}}, "citycode").error,
                  ErrorClass::invalid_parameter);
    }
    EXPECT_EQ(refusal(Endpoint::cities, {{"code", "9999"}}, "code").error,
              ErrorClass::invalid_parameter);
    for (const char* bad : {"00", "20", "96", "977", "1", "2C"}) {
        EXPECT_EQ(refusal(Endpoint::cities, {{"department_code", bad}}, "department_code").error,
                  ErrorClass::invalid_parameter)
            << bad;
    }
    for (const char* good : {"01", "2A", "2B", "95", "971", "976"}) {
        EXPECT_TRUE(is_department_code(good)) << good;
    }
    EXPECT_EQ(refusal(Endpoint::departments, {{"region_code", "1"}}, "region_code").error,
              ErrorClass::invalid_parameter);
}

TEST(BaseAdresseParameters, PageLimitAndQAreBounded) {
    for (const char* bad : {"0", "101", "-1", "5.0", "1000000000000", "abc", "+5"}) {
        EXPECT_EQ(
            refusal(Endpoint::search, {{"q", "rue"}, {"page_limit", bad}}, "page_limit").error,
            ErrorClass::invalid_parameter)
            << bad;
    }
    EXPECT_EQ(refusal(Endpoint::search, {{"q", std::string(201, 'a')}}, "q").error,
              ErrorClass::invalid_parameter);
    EXPECT_TRUE(
        std::holds_alternative<Query>(check(Endpoint::search, {{"q", std::string(200, 'a')}})));
    EXPECT_EQ(refusal(Endpoint::search, {{"q", "rue\x01"}}, "q").error,
              ErrorClass::invalid_parameter);
    EXPECT_EQ(refusal(Endpoint::search, {{"q", "rue \xff"}}, "q").error,
              ErrorClass::invalid_parameter);
}

TEST(BaseAdresseParameters, GeocoderSearchesStartWithALetterOrADigit) {
    const auto q_of = [](Endpoint e, const std::string& q) {
        return std::get<Query>(check(e, {{"q", q}})).q;
    };
    EXPECT_EQ(q_of(Endpoint::search, "'abbaye"), "abbaye");
    EXPECT_EQ(q_of(Endpoint::search, "- rue"), "rue");
    EXPECT_EQ(q_of(Endpoint::search, "— 8 rue"), "8 rue");
    EXPECT_EQ(q_of(Endpoint::addresses, "« rue de la Paix »"), "rue de la Paix »");
    EXPECT_EQ(q_of(Endpoint::streets, "’église"), "église");
    EXPECT_EQ(q_of(Endpoint::search, "\u00a0Œuvre"), "Œuvre");
    EXPECT_EQ(q_of(Endpoint::search, "× ÷ ĸ ÿ"), "ÿ");
    // Nothing left to search: found nothing, without a call (see the connector).
    EXPECT_EQ(q_of(Endpoint::search, "« … »"), "");
    EXPECT_EQ(q_of(Endpoint::addresses, "-"), "");
    // API Geo is given q as it came.
    EXPECT_EQ(q_of(Endpoint::cities, "'abbaye"), "'abbaye");
}

TEST(BaseAdresseParameters, CleanText) {
    EXPECT_TRUE(is_clean_text("Île-de-France – 𝄞"));
    EXPECT_FALSE(is_clean_text("a\nb"));
    EXPECT_FALSE(is_clean_text("\xc3"));
    EXPECT_FALSE(is_clean_text("\xc0\xaf"));      // overlong
    EXPECT_FALSE(is_clean_text("\xed\xa0\x80"));  // surrogate
    EXPECT_FALSE(is_clean_text("\xc2\x85"));      // C1 control
    EXPECT_EQ(utf8_length("Île"), 3u);
}

TEST(BaseAdresseParameters, EndpointNames) {
    for (const Endpoint e : all_endpoints) {
        EXPECT_EQ(endpoint_named(name_of(e)), e);
    }
    EXPECT_FALSE(endpoint_named("geocode"));
    EXPECT_TRUE(is_personal(Endpoint::search));
    EXPECT_TRUE(is_personal(Endpoint::addresses));
    EXPECT_FALSE(is_personal(Endpoint::streets));
    EXPECT_FALSE(is_personal(Endpoint::cities));
}
