// Kind xml's body templates: hostile values land as text, never as markup;
// absent values leave their element or attribute out; what cannot be a
// template is refused at load, at its line.
#include "xml/xml_template.hpp"

#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "xml_test_support.hpp"

using namespace relais;
using relais::rest::CallError;
using namespace relais::rest::test_support;
using namespace relais::xml::test_support;

namespace {

const std::string declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

std::unique_ptr<Loaded> body_endpoint(const std::string& body) {
    return load_xml_endpoint(
        R"({"method": "POST", "parameters": {"v": {"max_length": 65536}, "w": {}},
        "request": {"method": "POST", "body": )" +
        json_string(body) + "}}");
}

std::string rendered(const Loaded& loaded, QueryParams query, std::string body = {}) {
    return prepare_ok(loaded, make_request("POST", std::move(query), std::move(body))).body;
}

/// The text and attribute a parser reads back from <c:r a="…">…</c:r>.
std::pair<std::string, std::string> read_back(const std::string& xml) {
    pugi::xml_document doc;
    EXPECT_TRUE(doc.load_string(xml.c_str())) << xml;
    const pugi::xml_node r = doc.document_element();
    EXPECT_EQ(std::string(r.name()), "c:r");
    EXPECT_EQ(std::distance(r.begin(), r.end()), 1) << xml;
    return {r.text().get(), r.attribute("a").value()};
}

}  // namespace

TEST(XmlTemplate, HostileValuesAreTextWhateverTheyHold) {
    const auto c = body_endpoint(R"(<c:r a="{v}">{v}</c:r>)");
    for (const std::string& hostile : std::vector<std::string>{
             "</c:r><c:admin>1</c:admin><c:r>", "a\"b'c", "x & y &amp; &#60;", "]]>",
             "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>", "{{w}} {w} {body:/}",
             "../../etc/passwd", "tab\there\nline\r\nend", "é€😀", std::string(60'000, '<')}) {
        const std::string xml = rendered(*c, {{"v", hostile}});
        const auto [text, attribute] = read_back(xml);
        EXPECT_EQ(text, hostile);
        EXPECT_EQ(attribute, hostile);
    }
}

TEST(XmlTemplate, EscapingIsExact) {
    const auto c = body_endpoint(R"(<c:r a="x{v}">pre {v} post</c:r>)");
    EXPECT_EQ(rendered(*c, {{"v", "<&>\"'\r\n\t"}}),
              declaration +
                  "<c:r xmlns:c=\"urn:example:cadastre\" "
                  "a=\"x&lt;&amp;&gt;&quot;'&#13;&#10;&#9;\">"
                  "pre &lt;&amp;&gt;\"'&#13;\n\t post</c:r>");
}

TEST(XmlTemplate, AbsentValuesLeaveTheirElementOrAttributeOut) {
    const auto c = body_endpoint(
        R"(<c:r><c:v kind="{w}">{v}</c:v><c:w>{w}</c:w><c:both a="{w}">v={v}</c:both></c:r>)");
    EXPECT_EQ(rendered(*c, {{"v", "1"}}), declaration +
                                              "<c:r xmlns:c=\"urn:example:cadastre\"><c:v>1</c:v>"
                                              "<c:both>v=1</c:both></c:r>");
    EXPECT_EQ(rendered(*c, {{"w", "2"}}), declaration +
                                              "<c:r xmlns:c=\"urn:example:cadastre\"><c:w>2</c:w>"
                                              "<c:both a=\"2\">v=</c:both></c:r>");
}

TEST(XmlTemplate, BodyValuesAndLiteralBraces) {
    const auto c = load_xml_endpoint(R"({"method": "POST", "request": {"method": "POST",
        "body": "<c:r n=\"{body:/n}\">{{{body:/name}}}</c:r>"}})");
    EXPECT_EQ(rendered(*c, {}, R"({"n": 42, "name": "a<b"})"),
              declaration + "<c:r xmlns:c=\"urn:example:cadastre\" n=\"42\">{a&lt;b}</c:r>");
    const CallError error =
        prepare_error(*c, make_request("POST", {}, R"({"n": {"x": 1}, "name": "a"})"));
    EXPECT_EQ(error.error, ErrorClass::invalid_body);
    EXPECT_EQ(error.description, "body value at /n must be a string, a number or a boolean");
}

TEST(XmlTemplate, CharactersXmlCannotCarryAreRefused) {
    const auto c = body_endpoint(R"(<c:r>{v}</c:r>)");
    for (const std::string& bad :
         {std::string("a\x01"), std::string("\x1b[31m"), std::string("nul\0byte", 8),
          std::string("\xff\xfe"), std::string("\xEF\xBF\xBF"),
          std::string("a\xEF\xBF\xBE"
                      "b")}) {
        const CallError error = prepare_error(*c, make_request("POST", {{"v", bad}}));
        EXPECT_EQ(error.error, ErrorClass::invalid_parameter);
    }
}

TEST(XmlTemplate, DeclaredPrefixesAreKeptAndConnectorOnesAdded) {
    const auto c = body_endpoint(R"(<x:r xmlns:x="urn:own"><c:v>{v}</c:v></x:r>)");
    EXPECT_EQ(rendered(*c, {{"v", "1"}}),
              declaration +
                  "<x:r xmlns:c=\"urn:example:cadastre\" xmlns:x=\"urn:own\">"
                  "<c:v>1</c:v></x:r>");
}

TEST(XmlTemplate, WhatCannotBeATemplateIsRefusedAtItsLine) {
    const std::string at_body = "/endpoints/e/request/body";
    const auto error_of = [&](const std::string& body) {
        int line = 0;
        const std::string message = xml_load_error(
            R"({"method": "POST", "parameters": {"v": {}}, "request": {"method": "POST", "body": )" +
                json_string(body) + "}}",
            &line);
        EXPECT_GT(line, 0) << message;
        return message;
    };
    // Braces are not name characters: a placeholder in a name is not XML.
    EXPECT_EQ(error_of("<{v}/>"), "not well-formed XML: Could not determine tag type at byte 1");
    EXPECT_EQ(error_of("<r a{v}=\"1\"/>"),
              "not well-formed XML: Error parsing element attribute at byte 5");
    EXPECT_EQ(error_of("<c:r/><c:s/>"), "the body must have exactly one root element");
    EXPECT_EQ(error_of("text"), "not well-formed XML: No document element found at byte 4");
    EXPECT_EQ(error_of("<?xml version=\"1.0\"?><r/>"),
              "remove the XML declaration: relais writes it");
    EXPECT_EQ(error_of("<!DOCTYPE r><r/>"), "a document type declaration is not allowed");
    EXPECT_EQ(error_of("<?php x ?><r/>"), "processing instructions are not allowed");
    EXPECT_EQ(error_of("<q:r/>"),
              "the prefix 'q' is declared neither in the body nor in namespaces");
    EXPECT_EQ(error_of("<r>{nope}</r>"), "text of <r>: '{nope}' names no parameter (declared: v)");
    EXPECT_EQ(error_of("<r xmlns:q=\"{v}\"/>"),
              "attribute 'xmlns:q' of <r>: a namespace declaration cannot hold a placeholder");
    EXPECT_EQ(error_of("<r><a>"), "not well-formed XML: Start-end tags mismatch at byte 5");
}
