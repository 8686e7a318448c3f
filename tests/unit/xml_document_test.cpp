// Kind xml's reading of untrusted XML: refusals (DTDs of every kind, depth,
// unbound prefixes, malformed text) and the renaming of names to the
// connector's prefixes, whatever prefixes the document used.
#include "xml/xml_document.hpp"

#include <gtest/gtest.h>

#include <pugixml.hpp>

using namespace relais::xml;

namespace {

const NamespaceMap cadastre{{"c", "urn:example:cadastre"}};

std::string refusal(const std::string& text) {
    pugi::xml_document doc;
    return read_untrusted_xml(text, doc, cadastre).value_or("accepted");
}

std::string renamed(const std::string& text) {
    pugi::xml_document doc;
    const auto error = read_untrusted_xml(text, doc, cadastre);
    EXPECT_FALSE(error) << *error;
    std::ostringstream out;
    doc.save(out, "", pugi::format_raw | pugi::format_no_declaration);
    return out.str();
}

std::string nested(std::size_t depth) {
    std::string text;
    for (std::size_t i = 0; i < depth; ++i) {
        text += "<a>";
    }
    for (std::size_t i = 0; i < depth; ++i) {
        text += "</a>";
    }
    return text;
}

}  // namespace

TEST(XmlDocument, BillionLaughsIsRefusedBeforeAnyExpansion) {
    const std::string laughs =
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
        "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
        "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>"
        "<lolz>&lol3;</lolz>";
    EXPECT_EQ(refusal(laughs), "a document type declaration (DTD) is not accepted");
}

TEST(XmlDocument, ExternalEntitiesAreRefusedAndNeverRead) {
    EXPECT_EQ(refusal("<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>"),
              "a document type declaration (DTD) is not accepted");
    EXPECT_EQ(refusal("<!DOCTYPE r SYSTEM \"http://evil.test/x.dtd\"><r/>"),
              "a document type declaration (DTD) is not accepted");
    // Without a DTD an unknown entity is refused: nothing is looked up.
    EXPECT_EQ(refusal("<r>&x;</r>"), "a character or entity reference XML does not allow");
}

TEST(XmlDocument, NestingIsBounded) {
    EXPECT_EQ(refusal(nested(max_xml_depth)), "accepted");
    EXPECT_EQ(refusal(nested(max_xml_depth + 1)), "elements nested deeper than 256");
    EXPECT_EQ(refusal(nested(10'000)), "elements nested deeper than 256");
    // So many elements are refused before they are parsed.
    EXPECT_EQ(refusal(nested(1'000'000)), "more than 500000 elements and attributes");
}

TEST(XmlDocument, MalformedTextIsRefusedWithoutQuotingIt) {
    EXPECT_EQ(refusal("<r><secret-canary></r>"),
              "not well-formed XML (Start-end tags mismatch at byte 20)");
    EXPECT_EQ(refusal(""), "not well-formed XML (No document element found at byte 0)");
    EXPECT_EQ(refusal("just text"), "not well-formed XML (No document element found at byte 9)");
    EXPECT_EQ(refusal("<html><body>Bad gateway</body>"),
              "not well-formed XML (Start-end tags mismatch at byte 29)");
}

TEST(XmlDocument, NamesAreRewrittenToTheConnectorsPrefixes) {
    EXPECT_EQ(renamed("<x:r xmlns:x=\"urn:example:cadastre\"><x:id>1</x:id></x:r>"),
              "<c:r><c:id>1</c:id></c:r>");
    EXPECT_EQ(renamed("<r xmlns=\"urn:example:cadastre\"><id a=\"1\">2</id></r>"),
              "<c:r><c:id a=\"1\">2</c:id></c:r>");
    // Another namespace, or none: the local name only.
    EXPECT_EQ(renamed("<o:r xmlns:o=\"urn:other\"><id/></o:r>"), "<r><id/></r>");
    // A redeclared prefix inside: the innermost binding counts.
    EXPECT_EQ(renamed("<p:r xmlns:p=\"urn:other\"><p:a xmlns:p=\"urn:example:cadastre\"/>"
                      "<p:b/></p:r>"),
              "<r><c:a/><b/></r>");
    EXPECT_EQ(renamed("<r xmlns:q=\"urn:example:cadastre\" q:code=\"7\" xml:lang=\"fr\"/>"),
              "<r c:code=\"7\" lang=\"fr\"/>");
    // A declaration goes out of scope with its element.
    EXPECT_EQ(renamed("<p:r xmlns:p=\"urn:other\"><p:a xmlns:p=\"urn:example:cadastre\">"
                      "<p:b xmlns:p=\"urn:third\"/><p:c/></p:a><p:d/></p:r>"),
              "<r><c:a><b/><c:c/></c:a><d/></r>");
    EXPECT_EQ(refusal("<r><a xmlns:p=\"urn:example:cadastre\"><p:b/></a><p:c/></r>"),
              "a namespace prefix is used without being declared");
}

TEST(XmlDocument, CharactersXmlForbidsAreRefusedBeforeParsing) {
    // pugixml would cut the text at &#0;.
    EXPECT_EQ(refusal("<r>a&#0;b</r>"), "a character or entity reference XML does not allow");
    EXPECT_EQ(refusal("<r a=\"&#xD800;\"/>"), "a character or entity reference XML does not allow");
    EXPECT_EQ(refusal("<r>bell\x07</r>"), "a control character XML does not allow");
    EXPECT_EQ(refusal("<r><![CDATA[Tom & Jerry]]></r>"), "accepted");
}

TEST(XmlDocument, ElementsAreCountedBeforeParsing) {
    std::string many = "<r>";
    for (std::size_t i = 0; i < max_xml_nodes; ++i) {
        many += "<a/>";
    }
    EXPECT_EQ(refusal(many + "</r>"), "more than 500000 elements and attributes");
    // Attributes count too: 170,000 elements, 340,000 attributes.
    std::string attributes = "<r>";
    for (std::size_t i = 0; i < 170'000; ++i) {
        attributes += "<a b='' c=''/>";
    }
    EXPECT_EQ(refusal(attributes + "</r>"), "more than 500000 elements and attributes");
}

TEST(XmlDocument, AttributesOfOneElementAreBounded) {
    const auto element = [](std::size_t declarations, std::size_t attributes) {
        std::string text = "<r xmlns:a=\"urn:z\"";
        for (std::size_t i = 0; i < declarations; ++i) {
            text += " xmlns:p" + std::to_string(i) + "=\"urn:p" + std::to_string(i) + "\"";
        }
        for (std::size_t i = 0; i < attributes; ++i) {
            text += " a:k" + std::to_string(i) + "=\"\"";
        }
        return text + "/>";
    };
    EXPECT_EQ(refusal(element(63, 0)), "accepted");
    EXPECT_EQ(refusal(element(64, 0)), "an element declares more than 64 namespaces");
    EXPECT_EQ(refusal(element(0, 255)), "accepted");
    EXPECT_EQ(refusal(element(0, 256)), "an element has more than 256 attributes");
    EXPECT_EQ(refusal(element(60, 196)), "an element has more than 256 attributes");
    // What took 35 s to read.
    EXPECT_EQ(refusal(element(120'000, 120'000)), "an element declares more than 64 namespaces");
    EXPECT_EQ(refusal(element(0, 120'000)), "an element has more than 256 attributes");
}

TEST(XmlDocument, AttributesThatBecomeTwinsAreRefused) {
    EXPECT_EQ(refusal("<r xmlns:a=\"urn:a\" xmlns:b=\"urn:b\" a:k=\"1\" b:k=\"2\"/>"),
              "two attributes of an element have the same local name");
}

TEST(XmlDocument, UnboundPrefixesAreRefused) {
    EXPECT_EQ(refusal("<p:r/>"), "a namespace prefix is used without being declared");
    EXPECT_EQ(refusal("<r p:a=\"1\"/>"), "a namespace prefix is used without being declared");
}

TEST(XmlDocument, NamesThatAreNoQualifiedNamesAreRefused) {
    const std::string refused = "a name has more than one colon, or an empty prefix or local part";
    // Split at its first colon, it read as c:parcelle.
    EXPECT_EQ(refusal("<r xmlns:x=\"urn:evil\"><x:cad:parcelle/></r>"), refused);
    EXPECT_EQ(refusal("<r xmlns:x=\"urn:evil\" x:cad:id=\"1\"/>"), refused);
    EXPECT_EQ(refusal("<:r/>"), refused);
    EXPECT_EQ(refusal("<r: xmlns:r=\"urn:example:cadastre\"/>"), refused);
    EXPECT_EQ(refusal("<r :a=\"1\"/>"), refused);
    // A declaration is a name too: `xmlns:` would bind the default namespace.
    EXPECT_EQ(refusal("<r xmlns:=\"urn:example:cadastre\"/>"), refused);
    EXPECT_EQ(refusal("<r xmlns:a:b=\"urn:example:cadastre\"/>"), refused);
}

TEST(XmlDocument, DeclaredEncodingsAreDecodedToUtf8) {
    EXPECT_EQ(renamed("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r>Ren\xe9</r>"),
              "<r>René</r>");
}

TEST(XmlDocument, NoncharactersAreRefusedOnceDecoded) {
    // In text, in a CDATA section, in an attribute's value and names.
    for (const char* text :
         {"<r>a\xEF\xBF\xBE</r>", "<r xmlns:c=\"urn:example:cadastre\"><c:v>\xEF\xBF\xBF</c:v></r>",
          "<r><![CDATA[\xEF\xBF\xBF]]></r>", "<r a=\"\xEF\xBF\xBE\"/>", "<r\xEF\xBF\xBE/>",
          "<r a\xEF\xBF\xBF=\"1\"/>"}) {
        EXPECT_EQ(refusal(text), "a character XML does not allow (U+FFFE or U+FFFF)") << text;
    }
    // U+FFFD, the character just before them, is an XML character.
    EXPECT_EQ(refusal("<r a=\"\xEF\xBF\xBD\">\xEF\xBF\xBD</r>"), "accepted");
    // The same bytes in ISO-8859-1 are three other characters.
    EXPECT_EQ(renamed("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r>\xEF\xBF\xBE</r>"),
              "<r>\xC3\xAF\xC2\xBF\xC2\xBE</r>");
}

TEST(XmlDocument, PrefixNames) {
    EXPECT_TRUE(is_prefix_name("c"));
    EXPECT_TRUE(is_prefix_name("_a.b-c9"));
    EXPECT_FALSE(is_prefix_name(""));
    EXPECT_FALSE(is_prefix_name("9a"));
    EXPECT_FALSE(is_prefix_name("a:b"));
    EXPECT_FALSE(is_prefix_name("a b"));
}
