// relais's SOAP messages read and written through the serializers gSOAP
// generates from schemas/relais.wsdl (soap/soap_message.hpp).
#include "soap/soap_message.hpp"

#include <gtest/gtest.h>

#include <string>

namespace relais::soap {
namespace {

constexpr std::string_view soap11_ns = "http://schemas.xmlsoap.org/soap/envelope/";
constexpr std::string_view soap12_ns = "http://www.w3.org/2003/05/soap-envelope";

std::string envelope(std::string_view body, std::string_view header = "",
                     std::string_view ns = soap11_ns) {
    std::string xml = "<?xml version=\"1.0\"?>\n<s:Envelope xmlns:s=\"";
    xml.append(ns).append("\" xmlns:r=\"urn:relais:gru:1\">");
    if (!header.empty()) {
        xml.append("<s:Header>").append(header).append("</s:Header>");
    }
    xml.append("<s:Body>").append(body).append("</s:Body></s:Envelope>");
    return xml;
}

SoapRequest read(std::string_view xml) {
    auto read = read_request(xml, SoapVersion::soap11);
    if (const auto* refused = std::get_if<SoapRefusal>(&read)) {
        ADD_FAILURE() << "refused: " << refused->description;
        return {};
    }
    return std::get<SoapRequest>(read);
}

SoapRefusal refused(std::string_view xml, SoapVersion fallback = SoapVersion::soap11) {
    auto read = read_request(xml, fallback);
    if (!std::holds_alternative<SoapRefusal>(read)) {
        ADD_FAILURE() << "accepted";
        return {};
    }
    return std::get<SoapRefusal>(read);
}

TEST(SoapMessage, ReportStatusSoap11) {
    const SoapRequest request = read(
        envelope("<r:ReportStatus><r:reference>PC-42</r:reference><r:status>accepted</r:status>"
                 "<r:message>Permis accord\xC3\xA9 &amp; sign\xC3\xA9</r:message>"
                 "<r:field><r:name>decision_date</r:name><r:value>2026-12-01</r:value></r:field>"
                 "<r:field><r:name>comment</r:name><r:value>say \"yes\"</r:value></r:field>"
                 "</r:ReportStatus>"));
    EXPECT_EQ(request.version, SoapVersion::soap11);
    EXPECT_FALSE(request.username_token);
    const auto& report = std::get<server::StatusReport>(request.operation);
    EXPECT_EQ(report.reference, "PC-42");
    EXPECT_EQ(report.status, "accepted");
    EXPECT_EQ(report.message, "Permis accord\xC3\xA9 & sign\xC3\xA9");
    ASSERT_EQ(report.fields.size(), 2U);
    EXPECT_EQ(report.fields[0].name, "decision_date");
    EXPECT_EQ(report.fields[0].json, "\"2026-12-01\"");
    EXPECT_EQ(report.fields[1].json, R"("say \"yes\"")");
}

TEST(SoapMessage, EmptyIdentifiersAreMissing) {
    const SoapRequest request =
        read(envelope("<r:ReportStatus><r:reference/><r:status>x</r:status></r:ReportStatus>"));
    const auto& report = std::get<server::StatusReport>(request.operation);
    EXPECT_FALSE(report.reference);
    EXPECT_FALSE(report.message);
    const SoapRequest missing = read(envelope("<r:ReportStatus/>"));
    EXPECT_FALSE(std::get<server::StatusReport>(missing.operation).status);
}

TEST(SoapMessage, CreateDemandAndPingSoap12) {
    const SoapRequest demand = read(
        envelope("<r:CreateDemand><r:reference>GEC-1</r:reference>"
                 "<r:field><r:name>adresse</r:name><r:value>1 rue de la Paix</r:value></r:field>"
                 "</r:CreateDemand>",
                 "", soap12_ns));
    EXPECT_EQ(demand.version, SoapVersion::soap12);
    const auto& call = std::get<server::DemandCall>(demand.operation);
    EXPECT_EQ(call.reference, "GEC-1");
    ASSERT_EQ(call.fields.size(), 1U);
    EXPECT_EQ(call.fields[0].json, "\"1 rue de la Paix\"");
    EXPECT_FALSE(
        std::get<server::DemandCall>(read(envelope("<r:CreateDemand/>")).operation).reference);
    const SoapRequest ping = read(envelope("<r:Ping/>", "", soap12_ns));
    EXPECT_TRUE(std::holds_alternative<PingCall>(ping.operation));
}

TEST(SoapMessage, UsernameTokenFromTheHeader) {
    const SoapRequest request = read(envelope(
        "<r:Ping/>",
        "<wsse:Security s:mustUnderstand=\"1\" "
        "xmlns:wsse=\"http://docs.oasis-open.org/wss/2004/01/"
        "oasis-200401-wss-wssecurity-secext-1.0.xsd\" "
        "xmlns:wsu=\"http://docs.oasis-open.org/wss/2004/01/"
        "oasis-200401-wss-wssecurity-utility-1.0.xsd\">"
        "<wsse:UsernameToken wsu:Id=\"t\"><wsse:Username>gec</wsse:Username>"
        "<wsse:Password Type=\"http://docs.oasis-open.org/wss/2004/01/"
        "oasis-200401-wss-username-token-profile-1.0#PasswordDigest\">ZGlnZXN0</wsse:Password>"
        "<wsse:Nonce EncodingType=\"http://docs.oasis-open.org/wss/2004/01/"
        "oasis-200401-wss-soap-message-security-1.0#Base64Binary\">bm9uY2U=</wsse:Nonce>"
        "<wsu:Created>2026-12-01T10:00:00Z</wsu:Created></wsse:UsernameToken></wsse:Security>"));
    ASSERT_TRUE(request.username_token);
    EXPECT_EQ(request.username_token->username, "gec");
    EXPECT_EQ(request.username_token->password, "ZGlnZXN0");
    EXPECT_EQ(request.username_token->password_type, auth::password_digest_type);
    EXPECT_EQ(request.username_token->nonce, "bm9uY2U=");
    EXPECT_EQ(request.username_token->created, "2026-12-01T10:00:00Z");
}

TEST(SoapMessage, MalformedEnvelopesAreRefused) {
    EXPECT_EQ(refused("not xml", SoapVersion::soap12).version, SoapVersion::soap12);
    EXPECT_EQ(refused("not xml").error, ErrorClass::invalid_xml);
    EXPECT_EQ(refused("<r:Ping xmlns:r=\"urn:relais:gru:1\"/>").description,
              "the body is not a SOAP 1.1 or 1.2 envelope");
    EXPECT_EQ(refused(envelope("<r:Ping/>", "", "urn:not-soap")).error, ErrorClass::invalid_xml);
    EXPECT_EQ(refused(envelope("<r:Ping>")).error, ErrorClass::invalid_xml);
    const SoapRefusal unknown = refused(envelope("<r:Delete/>", "", soap12_ns));
    EXPECT_EQ(unknown.error, ErrorClass::unknown_operation);
    EXPECT_EQ(unknown.version, SoapVersion::soap12);
    EXPECT_EQ(refused(envelope("<r:Ping/>", "<x:T xmlns:x=\"urn:x\" s:mustUnderstand=\"1\"/>"))
                  .description,
              "a header block marked mustUnderstand is not understood");
}

TEST(SoapMessage, LimitsAreEnforced) {
    EXPECT_EQ(refused("<!DOCTYPE s:Envelope [<!ENTITY a \"b\">]>" +
                      envelope("<r:ReportStatus><r:reference>&a;</r:reference></r:ReportStatus>"))
                  .error,
              ErrorClass::invalid_xml);
    const std::string long_value(max_xml_value_bytes + 1, 'x');
    EXPECT_EQ(refused(envelope("<r:ReportStatus><r:reference>" + long_value +
                               "</r:reference></r:ReportStatus>"))
                  .description,
              "a value is longer than the limit");
    EXPECT_EQ(refused(envelope("<r:Ping a=\"" + long_value + "\"/>")).description,
              "an attribute value is longer than the limit");
    std::string fields;
    for (std::size_t i = 0; i <= max_xml_occurrences; ++i) {
        fields += "<r:field><r:name>a</r:name><r:value>b</r:value></r:field>";
    }
    EXPECT_EQ(refused(envelope("<r:CreateDemand>" + fields + "</r:CreateDemand>")).description,
              "an element repeats more than the limit");
    std::string deep = "<r:Ping>";
    for (std::size_t i = 0; i < max_xml_depth; ++i) {
        deep += "<x>";
    }
    EXPECT_EQ(refused(envelope(deep)).description, "the XML nests elements deeper than the limit");
}

TEST(SoapMessage, AnswersInTheCallersVersion) {
    const std::string answer11 =
        write_tracking_answer(SoapVersion::soap11, TrackedOperation::report_status, "0123abcd");
    EXPECT_NE(answer11.find(soap11_ns), std::string::npos) << answer11;
    EXPECT_NE(answer11.find("<r:ReportStatusResponse><r:trackingId>0123abcd</r:trackingId>"
                            "</r:ReportStatusResponse>"),
              std::string::npos)
        << answer11;
    const std::string answer12 =
        write_tracking_answer(SoapVersion::soap12, TrackedOperation::create_demand, "ff");
    EXPECT_NE(answer12.find(soap12_ns), std::string::npos) << answer12;
    EXPECT_EQ(answer12.find(soap11_ns), std::string::npos) << answer12;
    EXPECT_NE(answer12.find("<r:CreateDemandResponse><r:trackingId>ff</r:trackingId>"),
              std::string::npos);
    const std::string ping = write_ping_answer(SoapVersion::soap11, "1.2.3");
    EXPECT_NE(ping.find("<r:PingResponse><r:version>1.2.3</r:version></r:PingResponse>"),
              std::string::npos)
        << ping;
}

TEST(SoapMessage, FaultsSoap11) {
    const std::string client =
        write_fault(SoapVersion::soap11, ErrorClass::unknown_reference, "no demand <is> \"known\"");
    EXPECT_NE(client.find("<faultcode>SOAP-ENV:Client</faultcode>"), std::string::npos) << client;
    EXPECT_NE(client.find("<faultstring>no demand &lt;is&gt; \"known\"</faultstring>"),
              std::string::npos)
        << client;
    EXPECT_NE(client.find("<detail><r:errorClass>unknown-reference</r:errorClass></detail>"),
              std::string::npos)
        << client;
    const std::string server =
        write_fault(SoapVersion::soap11, ErrorClass::outbox_unavailable, "x");
    EXPECT_NE(server.find("<faultcode>SOAP-ENV:Server</faultcode>"), std::string::npos) << server;
}

TEST(SoapMessage, FaultsSoap12) {
    const std::string sender = write_fault(SoapVersion::soap12, ErrorClass::not_granted, "no");
    EXPECT_NE(sender.find(soap12_ns), std::string::npos) << sender;
    EXPECT_NE(sender.find("<SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:Sender</SOAP-ENV:Value>"),
              std::string::npos)
        << sender;
    EXPECT_NE(sender.find("<SOAP-ENV:Reason><SOAP-ENV:Text xml:lang=\"en\">no</SOAP-ENV:Text>"),
              std::string::npos)
        << sender;
    EXPECT_NE(sender.find("<SOAP-ENV:Detail><r:errorClass>not-granted</r:errorClass>"
                          "</SOAP-ENV:Detail>"),
              std::string::npos)
        << sender;
    const std::string receiver = write_fault(SoapVersion::soap12, ErrorClass::internal_error, "x");
    EXPECT_NE(receiver.find("<SOAP-ENV:Value>SOAP-ENV:Receiver</SOAP-ENV:Value>"),
              std::string::npos)
        << receiver;
}

}  // namespace
}  // namespace relais::soap
