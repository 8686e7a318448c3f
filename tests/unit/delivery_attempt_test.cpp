#include <gtest/gtest.h>

#include "auth/publik_signature.hpp"
#include "delivery/attempt.hpp"

using namespace relais;

TEST(DeliveryReference, StringOrInteger) {
    EXPECT_EQ(delivery::reference_in(R"({"id":"PC-42"})", "/id"), "PC-42");
    EXPECT_EQ(delivery::reference_in(R"({"data":{"id":42}})", "/data/id"), "42");
    EXPECT_EQ(delivery::reference_in(R"({"id":-7})", "/id"), "-7");
    EXPECT_EQ(delivery::reference_in(R"({"id":18446744073709551615})", "/id"),
              "18446744073709551615");
    EXPECT_EQ(delivery::reference_in(R"([{"a/b":"x"}])", "/0/a~1b"), "x");
}

TEST(DeliveryReference, IntegersBeyond64BitsAreReadAsTheirDigits) {
    EXPECT_EQ(delivery::reference_in(R"({"id":123456789012345678901234})", "/id"),
              "123456789012345678901234");
    EXPECT_EQ(delivery::reference_in(R"({"id":-18446744073709551616})", "/id"),
              "-18446744073709551616");
    // Another member the answer's reader cannot hold does not hide the reference.
    EXPECT_EQ(delivery::reference_in(R"({"size":99999999999999999999999,"id":"PC-1"})", "/id"),
              "PC-1");
}

TEST(DeliveryReference, NothingUsable) {
    EXPECT_FALSE(delivery::reference_in(R"({"id":"PC-42"})", "/ref"));
    EXPECT_FALSE(delivery::reference_in(R"({"id":""})", "/id"));
    EXPECT_FALSE(delivery::reference_in(R"({"id":1.5})", "/id"));
    EXPECT_FALSE(delivery::reference_in(R"({"id":null})", "/id"));
    EXPECT_FALSE(delivery::reference_in(R"({"id":{"a":1}})", "/id"));
    EXPECT_FALSE(delivery::reference_in("not json", "/id"));
    EXPECT_FALSE(delivery::reference_in("", "/id"));
    EXPECT_FALSE(delivery::reference_in(R"({"id":"x"})", "id"));
}

TEST(DeliveryWithOrig, AddsOrigBeforeTheFragment) {
    EXPECT_EQ(auth::with_orig("https://gru.example/form/1/", "relais"),
              "https://gru.example/form/1/?orig=relais");
    EXPECT_EQ(auth::with_orig("https://gru.example/form/1/?", "relais"),
              "https://gru.example/form/1/?orig=relais");
    EXPECT_EQ(auth::with_orig("https://gru.example/f/?a=1", "relais"),
              "https://gru.example/f/?a=1&orig=relais");
    EXPECT_EQ(auth::with_orig("https://gru.example/f/#top", "re lais&x"),
              "https://gru.example/f/?orig=re+lais%26x#top");
    EXPECT_EQ(auth::with_orig("https://gru.example/f/?a=1#x?y", "o"),
              "https://gru.example/f/?a=1&orig=o#x?y");
    EXPECT_EQ(auth::with_orig("https://gru.example/f/#x?y", "o"),
              "https://gru.example/f/?orig=o#x?y");
}
