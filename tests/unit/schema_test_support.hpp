#pragma once
// Helpers of the tests of the JSON Schemas in schemas/: reading a file of
// the source tree, and the rules every kind's schema keeps.

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <fstream>
#include <sstream>
#include <string>

namespace relais::test_support {

/// The text of `relative`, a path from the source tree's root.
inline std::string read_source(const std::string& relative) {
    std::ifstream in(std::string(RELAIS_SOURCE_DIR) + "/" + relative);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

/// Every property of a fixed-shape object has a description (directly or
/// through a $ref), and such objects allow nothing else.
inline void check_documented(const rapidjson::Value& node, const std::string& where) {
    if (node.IsArray()) {
        for (const auto& item : node.GetArray()) {
            check_documented(item, where + "[]");
        }
        return;
    }
    if (!node.IsObject()) {
        return;
    }
    if (const auto properties = node.FindMember("properties"); properties != node.MemberEnd()) {
        for (const auto& p : properties->value.GetObject()) {
            EXPECT_TRUE(p.value.HasMember("description") || p.value.HasMember("$ref"))
                << where << "/properties/" << p.name.GetString() << " has no description";
        }
        const auto additional = node.FindMember("additionalProperties");
        ASSERT_NE(additional, node.MemberEnd()) << where << " allows any property";
        EXPECT_TRUE(additional->value.IsFalse()) << where;
    }
    for (const auto& m : node.GetObject()) {
        check_documented(m.value, where + "/" + m.name.GetString());
    }
}

}  // namespace relais::test_support
