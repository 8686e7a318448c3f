// Kind xml's answers: XPath mapping (data, list, typed fields), the
// conversion of whole elements, and what is refused (statuses, malformed or
// hostile XML, shapes other than declared) with its error class.
#include <gtest/gtest.h>

#include "xml_test_support.hpp"

using namespace relais;
using namespace relais::xml::test_support;

namespace {

const std::string parcels =
    R"(<?xml version="1.0"?><p:parcels xmlns:p="urn:example:cadastre" count="2">)"
    R"(<p:parcel code="A1"><p:id>42</p:id><p:area> 12.5 </p:area><p:owner>René</p:owner>)"
    R"(<p:owner>Zoé</p:owner><p:built>true</p:built></p:parcel>)"
    R"(<p:parcel code="B"><p:id>43</p:id></p:parcel></p:parcels>)";

std::string mapped(const std::string& response_json, const std::string& body = parcels,
                   unsigned status = 200) {
    const auto loaded = load_xml_endpoint(R"({"response": )" + response_json + "}");
    return read_answer(*loaded, body, status);
}

}  // namespace

TEST(XmlAnswer, ListsAndTypedFields) {
    EXPECT_EQ(mapped(R"j({"data": "/c:parcels/c:parcel", "list": true, "fields": {
                 "id": "c:id", "area": {"xpath": "c:area", "type": "number"},
                 "code": "@code", "owners": {"xpath": "c:owner", "list": true},
                 "built": {"xpath": "c:built", "type": "boolean"},
                 "n": "count(c:owner)", "has_owner": "boolean(c:owner)"}})j"),
              R"([{"id":"42","area":12.5,"code":"A1","owners":["René","Zoé"],"built":true,)"
              R"("n":"2","has_owner":"true"},)"
              R"({"id":"43","area":null,"code":"B","owners":[],"built":null,"n":"0",)"
              R"("has_owner":"false"}])");
}

TEST(XmlAnswer, FirstNodeWithoutList) {
    EXPECT_EQ(mapped(R"({"data": "//c:parcel[c:id='43']", "fields": {"code": "@code"}})"),
              R"({"code":"B"})");
    EXPECT_EQ(mapped(R"({"data": "/c:parcels/@count"})"), R"("2")");
}

TEST(XmlAnswer, WholeElementsAreConverted) {
    EXPECT_EQ(mapped("{}"), R"({"@count":"2","c:parcel":[{"@code":"A1","c:id":"42",)"
                            R"("c:area":" 12.5 ","c:owner":["René","Zoé"],"c:built":"true"},)"
                            R"({"@code":"B","c:id":"43"}]})");
    EXPECT_EQ(mapped("{}", "<r>text<b>1</b>more</r>"), R"({"b":"1","#text":"textmore"})");
    EXPECT_EQ(mapped("{}", "<r/>"), R"("")");
}

TEST(XmlAnswer, ShapesOtherThanDeclaredAreInvalidResponses) {
    rest::CallError error;
    const auto loaded = load_xml_endpoint(R"({"response": {"data": "/c:nothing"}})");
    EXPECT_EQ(read_answer(*loaded, parcels, 200, &error), "error: upstream-invalid-response");
    EXPECT_EQ(error.description, "the upstream answer has nothing at /c:nothing");
    const auto typed = load_xml_endpoint(
        R"({"response": {"data": "//c:parcel", "fields": {"id": {"xpath": "@code", "type": "integer"}}}})");
    EXPECT_EQ(read_answer(*typed, parcels, 200, &error), "error: upstream-invalid-response");
    EXPECT_EQ(error.description, "the upstream answer's field 'id' is not an integer");
    EXPECT_EQ(mapped(R"({"data": "/c:parcels/c:parcel", "list": true})", "<other/>"), "[]");
}

TEST(XmlAnswer, HostileAndBrokenAnswersAreRefused) {
    rest::CallError error;
    const auto loaded = load_xml_endpoint("{}");
    EXPECT_EQ(
        read_answer(*loaded, "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/hostname\">]><r>&x;</r>",
                    200, &error),
        "error: upstream-invalid-response");
    EXPECT_EQ(error.description,
              "the upstream answer is not usable XML: a document type declaration (DTD) is not "
              "accepted");
    EXPECT_EQ(read_answer(*loaded, "{\"json\": true}", 200, &error),
              "error: upstream-invalid-response");
    EXPECT_EQ(read_answer(*loaded, "<r>\xff\xfe</r>", 200, &error),
              "error: upstream-invalid-response");
    EXPECT_EQ(error.description, "the upstream answer holds text that is not UTF-8");
}

TEST(XmlAnswer, StatusesComeFirstAndEmptyBodiesAreNull) {
    rest::CallError error;
    const auto loaded = load_xml_endpoint("{}");
    EXPECT_EQ(read_answer(*loaded, "<html>Bad gateway</html>", 503, &error),
              "error: upstream-error");
    EXPECT_EQ(error.description, "upstream answered 503");
    EXPECT_EQ(read_answer(*loaded, "", 204), "null");
}

TEST(XmlAnswer, BadExpressionsAndPrefixesAreLoadErrorsAtTheirLine) {
    int line = 0;
    EXPECT_EQ(xml_load_error(R"({"response": {"data": "//c:parcel["}})", &line),
              "'//c:parcel[' is not an XPath 1.0 expression (Unrecognized node test)");
    EXPECT_GT(line, 0);
    EXPECT_EQ(xml_load_error(R"j({"response": {"data": "count(//x)"}})j"),
              "'count(//x)' does not select nodes");
    EXPECT_EQ(
        xml_load_error(R"j({"response": {"fields": {"n": {"xpath": "count(x)", "list": true}}}})j"),
        "'count(x)' does not select nodes, so it cannot be a list");
    EXPECT_EQ(
        rest::test_support::load_error(
            R"({"slug": "t", "kind": "xml", "family": "reference", "upstream": {"base_url": "http://up.test/"}, "namespaces": {"xmlns": "urn:x"}, "endpoints": {"e": {}}})",
            nullptr, xml_format_of),
        "'xmlns' is not a usable prefix (letters, digits, '_', '-' and '.', starting with a "
        "letter or '_', not 'xml…')");
    EXPECT_EQ(
        rest::test_support::load_error(
            R"({"slug": "t", "kind": "xml", "family": "reference", "upstream": {"base_url": "http://up.test/"}, "namespaces": {"a": "urn:x", "b": "urn:x"}, "endpoints": {"e": {}}})",
            nullptr, xml_format_of),
        "this namespace already has the prefix 'a'");
}

TEST(XmlAnswer, ManyDifferentChildrenAreConvertedInOnePass) {
    std::string wide = "<r>";
    std::string expected = "{";
    for (int i = 0; i < 50'000; ++i) {
        wide +=
            "<n" + std::to_string(i) + ">" + std::to_string(i) + "</n" + std::to_string(i) + ">";
        expected +=
            (i > 0 ? ",\"n" : "\"n") + std::to_string(i) + "\":\"" + std::to_string(i) + "\"";
    }
    EXPECT_EQ(mapped("{}", wide + "<n7>again</n7></r>"),
              expected.replace(expected.find("\"n7\":\"7\""), 8, "\"n7\":[\"7\",\"again\"]") + "}");
}
