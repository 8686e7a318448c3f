// The pass over SOAP messages before gSOAP reads them (soap/xml_guard.hpp).
#include <gtest/gtest.h>

#include <string>

#include "soap/xml_guard.hpp"

namespace relais::soap {
namespace {

constexpr XmlLimits limits{4, 16, 3, 8};

std::optional<std::string_view> guard(std::string_view xml) {
    return guard_xml(xml, limits);
}

std::string nested(std::size_t depth) {
    std::string xml;
    for (std::size_t i = 0; i < depth; ++i) {
        xml += "<a>";
    }
    for (std::size_t i = 0; i < depth; ++i) {
        xml += "</a>";
    }
    return xml;
}

TEST(SoapXmlGuard, PlainMessagesPass) {
    EXPECT_FALSE(guard(R"(<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment with <!DOCTYPE inside -->
<e:Envelope xmlns:e="urn:e"><e:Body a='1' b="2"><x/><y>t &amp; <![CDATA[<!ENTITY x "y">]]></y></e:Body></e:Envelope>)"));
    EXPECT_FALSE(guard(""));
    EXPECT_FALSE(guard("not xml at all"));
}

TEST(SoapXmlGuard, AnyDeclarationIsRefused) {
    const std::string_view refusal =
        "document type declarations (DTD) and entity declarations are refused";
    EXPECT_EQ(guard("<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>"), refusal);
    EXPECT_EQ(guard("<?xml version=\"1.0\"?>\n<!doctype x SYSTEM \"file:///etc/passwd\"><x/>"),
              refusal);
    // Where no DTD may stand, a declaration is refused all the same.
    EXPECT_EQ(guard("<x><!ENTITY a \"b\"></x>"), refusal);
    EXPECT_EQ(guard("<x><!-- c --></x><!ELEMENT x ANY>"), refusal);
}

TEST(SoapXmlGuard, DepthIsBounded) {
    EXPECT_FALSE(guard(nested(4)));
    EXPECT_EQ(guard(nested(5)), "the XML nests elements deeper than the limit");
    // Siblings and empty elements do not add up.
    EXPECT_FALSE(guard("<a><b><c><d/><d/><d></d></c><c><d/></c></b></a>"));
    EXPECT_FALSE(guard("<a><b/><b/><b/><b/><b/><b/></a>"));
    EXPECT_EQ(guard(nested(10000)), "the XML nests elements deeper than the limit");
}

TEST(SoapXmlGuard, ElementsAreCounted) {
    EXPECT_FALSE(guard("<a><b/><b></b><b/><b/><b/><b/><b/></a>"));
    EXPECT_EQ(guard("<a><b/><b></b><b/><b/><b/><b/><b/><b/></a>"),
              "the message holds more elements than the limit");
    // End tags, comments and processing instructions are no elements.
    EXPECT_FALSE(guard("<?pi?><a><!-- <c/> --><b/><b/><b/><b/><b/><b/><b/></a>"));
}

TEST(SoapXmlGuard, AttributeValuesAreBounded) {
    EXPECT_FALSE(guard("<a x=\"" + std::string(16, 'v') + "\"/>"));
    EXPECT_EQ(guard("<a x=\"" + std::string(17, 'v') + "\"/>"),
              "an attribute value is longer than the limit");
    EXPECT_EQ(guard("<a x='ok' y='" + std::string(17, 'v') + "'>"),
              "an attribute value is longer than the limit");
    // Unterminated, it is as long as the rest of the message.
    EXPECT_EQ(guard("<a x=\"" + std::string(17, 'v')),
              "an attribute value is longer than the limit");
    // A '>' in a value does not end the tag.
    EXPECT_FALSE(guard("<a x=\">\"><b/></a>"));
}

TEST(SoapXmlGuard, AttributesPerTagAreBounded) {
    const std::string_view refusal = "an element has more attributes than the limit";
    EXPECT_FALSE(guard("<a xmlns:p='u' b=\"1\" p:c = '2'/>"));
    EXPECT_EQ(guard("<a xmlns:p='u' b=\"1\" p:c='2' d=''/>"), refusal);
    // Without spaces between them, or without values, they count all the same.
    EXPECT_EQ(guard("<a b='1'c='2'd='3'e='4'>"), refusal);
    EXPECT_EQ(guard("<a b c d e></a>"), refusal);
    EXPECT_FALSE(guard("<a b c d/>"));
    EXPECT_EQ(guard("<a" + std::string(10'000, ' ') + "b='' c='' d='' e=''/>"), refusal);
}

TEST(SoapXmlGuard, ReferencesAndControlCharactersXmlForbids) {
    EXPECT_FALSE(guard("<a b=\"&quot;&#x41;\">&amp;&lt;&gt;&apos;&#233;&#x1F4EE;&#9;</a>"));
    // Inside CDATA and comments, '&' is text.
    EXPECT_FALSE(guard("<a><![CDATA[Tom & Jerry &#0;]]><!-- & --></a>"));
    for (const char* refused :
         {"<a>&#0;</a>", "<a>&#xD800;</a>", "<a>&#xFFFE;</a>", "<a>&#x110000;</a>", "<a>&#1;</a>",
          "<a>&nbsp;</a>", "<a b=\"&unknown;\"/>", "<a>a & b</a>", "<a>&#;</a>", "<a>&#x;</a>",
          "<a>&#12a;</a>"}) {
        EXPECT_EQ(guard(refused), "a character or entity reference XML does not allow") << refused;
    }
    EXPECT_EQ(guard("<a>bell\x07</a>"), "a control character XML does not allow");
    EXPECT_EQ(guard("<a><![CDATA[\x01]]></a>"), "a control character XML does not allow");
}

TEST(SoapXmlGuard, UnterminatedMarkupIsRefused) {
    EXPECT_EQ(guard("<a/><!-- never closed"), "unterminated markup");
    EXPECT_EQ(guard("<a/><b"), "unterminated markup");
}

TEST(SoapXmlGuard, NoEncodingButUtf8MayBeDeclared) {
    for (const char* accepted :
         {"<?xml version=\"1.0\"?><a/>", "<?xml version='1.0' encoding='utf-8'?><a/>",
          "<?xml version = \"1.0\"\nencoding = \"UTF-8\" standalone=\"yes\" ?><a/>",
          "<?xml-stylesheet href=\"s.xsl\" encoding=\"latin1\"?><a/>",
          "<a><?app encoding=\"ISO-8859-1\"?></a>"}) {
        EXPECT_FALSE(guard(accepted)) << accepted;
    }
    for (const char* refused :
         {"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>", "<?XML encoding='latin1'?><a/>",
          "<?xml\tencoding=\"UTF-16\"?><a/>", "<?xml encoding=\"UTF-8 \"?><a/>",
          "<a/><?xml version=\"1.0\" encoding=\"iso-8859-1\"?>"}) {
        EXPECT_EQ(guard(refused), "the XML declaration names an encoding other than UTF-8")
            << refused;
    }
    for (const char* malformed :
         {"<?xml version=\"1.0\" encoding?><a/>", "<?xml encoding=\"UTF-8?><a/>",
          "<?xml encoding=UTF-8?><a/>", "<?xml =\"1.0\"?><a/>"}) {
        EXPECT_EQ(guard(malformed), "the XML declaration is malformed") << malformed;
    }
}

TEST(SoapXmlGuard, OnlyUtf8Passes) {
    EXPECT_FALSE(guard("<a>caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\xAE</a>"));
    EXPECT_EQ(guard("<a>caf\xE9</a>"), "the message is not UTF-8");           // Latin-1
    EXPECT_EQ(guard("<a>\xC0\xAF</a>"), "the message is not UTF-8");          // overlong '/'
    EXPECT_EQ(guard("<a>\xED\xA0\x80</a>"), "the message is not UTF-8");      // surrogate
    EXPECT_EQ(guard("<a>\xF4\x90\x80\x80</a>"), "the message is not UTF-8");  // past U+10FFFF
    EXPECT_EQ(guard("<a>\xE2\x82"), "the message is not UTF-8");              // cut short
    // Well-formed UTF-8, but no XML characters: U+FFFE and U+FFFF.
    EXPECT_EQ(guard("<a>\xEF\xBF\xBE</a>"), "a character XML does not allow");
    EXPECT_EQ(guard("<a b=\"\xEF\xBF\xBF\"/>"), "a character XML does not allow");
    EXPECT_FALSE(guard("<a>\xEF\xBF\xBD</a>"));  // U+FFFD
}

}  // namespace
}  // namespace relais::soap
