#include "core/error_class.hpp"

#include <gtest/gtest.h>

#include "core/duration.hpp"
#include "core/http_types.hpp"

using namespace relais;

TEST(ErrorClass, EnvelopeCarriesSlugAndStatus) {
    const auto r = HttpResponse::failure(ErrorClass::upstream_timeout, "took \"too\" long");
    EXPECT_EQ(r.status, 504u);
    EXPECT_EQ(
        r.body,
        R"({"err":1,"err_class":"upstream-timeout","err_desc":"took \"too\" long","data":null})");
}

TEST(ErrorClass, SuccessEnvelopeWrapsData) {
    EXPECT_EQ(HttpResponse::data(R"([1,2])").body, R"({"err":0,"data":[1,2]})");
}

TEST(Duration, ParsesUnits) {
    using namespace std::chrono;
    EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
    EXPECT_EQ(parse_duration("30s"), milliseconds(30'000));
    EXPECT_EQ(parse_duration("2m"), milliseconds(120'000));
    EXPECT_EQ(parse_duration("72h"), milliseconds(72LL * 3600 * 1000));
    EXPECT_FALSE(parse_duration("30"));
    EXPECT_FALSE(parse_duration("s"));
    EXPECT_FALSE(parse_duration("-1s"));
    EXPECT_FALSE(parse_duration("1d"));
}
