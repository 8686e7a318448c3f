// Kind soap: envelopes of both versions, SOAPAction, WS-Security headers,
// faults (as errors and as delivery outcomes) and load-time refusals.
#include <gtest/gtest.h>

#include <pugixml.hpp>
#include <string>
#include <vector>

#include "auth/username_token.hpp"
#include "core/url_encoding.hpp"
#include "soap/soap_envelope.hpp"
#include "xml_test_support.hpp"

using namespace relais;
using namespace relais::soap;
using namespace relais::rest::test_support;
using namespace relais::xml::test_support;
using relais::rest::PreparedCall;

namespace {

std::string soap_connector(const std::string& version, const std::string& extra = "",
                           const std::string& request_extra = "") {
    return R"({"slug": "t", "kind": "soap", "family": "reference",
        "upstream": {"base_url": "http://up.test/ws"}, "soap": {"version": ")" +
           version + "\"" + extra + R"(}, "namespaces": {"ec": "urn:example:etat-civil"},
        "endpoints": {"acte": {"parameters": {"numero": {"required": true}},
          "request": {"soap_action": "urn:example:etat-civil#GetActe",)" +
           request_extra + R"( "body": "<ec:GetActe><ec:numero>{numero}</ec:numero></ec:GetActe>"},
          "response": {"data": "ec:GetActeResponse/ec:acte", "fields": {"nom": "ec:nom"}}}}})";
}

std::string envelope(std::string_view ns, const std::string& body) {
    return "<e:Envelope xmlns:e=\"" + std::string(ns) + "\"><e:Body>" + body +
           "</e:Body></e:Envelope>";
}

const std::string v11 = "http://schemas.xmlsoap.org/soap/envelope/";
const std::string v12 = "http://www.w3.org/2003/05/soap-envelope";

}  // namespace

TEST(SoapFormat, Soap11RequestHasItsEnvelopeActionAndContentType) {
    const auto loaded = load(soap_connector("1.1"), soap_format_of);
    const PreparedCall call = prepare_ok(*loaded, make_request("GET", {{"numero", "4<2"}}));
    EXPECT_EQ(call.url, "http://up.test/ws");
    EXPECT_EQ(loaded->spec.endpoints[0].upstream_method, "POST");
    EXPECT_EQ(call.body,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap:Envelope "
              "xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>"
              "<ec:GetActe xmlns:ec=\"urn:example:etat-civil\"><ec:numero>4&lt;2</ec:numero>"
              "</ec:GetActe></soap:Body></soap:Envelope>");
    ASSERT_NE(find_header(call.headers, "SOAPAction"), nullptr);
    EXPECT_EQ(*find_header(call.headers, "SOAPAction"), "\"urn:example:etat-civil#GetActe\"");
    EXPECT_EQ(*find_header(call.headers, "Content-Type"), "text/xml; charset=utf-8");
    EXPECT_EQ(*find_header(loaded->spec.upstream.headers, "Accept"), "text/xml");
}

TEST(SoapFormat, Soap12ActionGoesInTheContentType) {
    const auto loaded = load(soap_connector("1.2"), soap_format_of);
    const PreparedCall call = prepare_ok(*loaded, make_request("GET", {{"numero", "42"}}));
    EXPECT_NE(call.body.find("xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\""),
              std::string::npos);
    EXPECT_EQ(find_header(call.headers, "SOAPAction"), nullptr);
    EXPECT_EQ(*find_header(call.headers, "Content-Type"),
              "application/soap+xml; charset=utf-8; action=\"urn:example:etat-civil#GetActe\"");
}

TEST(SoapFormat, WsSecurityDigestIsFreshOnEveryAttemptAndChecksOut) {
    const auto loaded = load(
        soap_connector("1.1", R"(, "ws_security": {"username": "relais", "password": "pé$$"})"),
        soap_format_of);
    const PreparedCall call = prepare_ok(*loaded, make_request("GET", {{"numero", "42"}}));
    EXPECT_EQ(call.body.find("Security"), std::string::npos) << "a prepared call holds no secret";
    std::vector<std::string> nonces;
    for (int attempt = 0; attempt < 2; ++attempt) {
        upstream::Request request;
        request.body = call.body;
        loaded->format->finish(request);
        pugi::xml_document doc;
        ASSERT_TRUE(doc.load_string(request.body.c_str())) << request.body;
        const pugi::xml_node token = doc.document_element()
                                         .child("soap:Header")
                                         .child("wsse:Security")
                                         .child("wsse:UsernameToken");
        EXPECT_STREQ(doc.document_element()
                         .child("soap:Header")
                         .child("wsse:Security")
                         .attribute("soap:mustUnderstand")
                         .value(),
                     "1");
        EXPECT_STREQ(token.child_value("wsse:Username"), "relais");
        const std::string nonce = token.child_value("wsse:Nonce");
        const auto raw = base64_decode(nonce);
        ASSERT_TRUE(raw);
        EXPECT_EQ(token.child_value("wsse:Password"),
                  auth::password_digest(*raw, token.child_value("wsu:Created"), "pé$$"));
        EXPECT_EQ(std::string(token.child("wsse:Password").attribute("Type").value()),
                  auth::password_digest_type);
        nonces.push_back(nonce);
        EXPECT_NE(doc.document_element().child("soap:Body").child("ec:GetActe"), nullptr);
    }
    EXPECT_NE(nonces[0], nonces[1]);
}

TEST(SoapFormat, PasswordDigestMatchesAnIndependentComputation) {
    // base64(sha1(bytes 0..15 + created + password)), computed with Python's hashlib.
    std::string nonce;
    for (char i = 0; i < 16; ++i) {
        nonce += i;
    }
    EXPECT_EQ(auth::password_digest(nonce, "2026-12-06T10:00:00Z", "s3cr3t-é"),
              "TNOKQawOCimYwdkJ+L0MKKj+frY=");
}

TEST(SoapFormat, WsSecurityTextAndSoap12) {
    const auto loaded = load(soap_connector("1.2", R"(, "ws_security": {"username": "u<1>",
        "password": "p&w", "password_type": "text"})"),
                             soap_format_of);
    upstream::Request request;
    request.body = prepare_ok(*loaded, make_request("GET", {{"numero", "1"}})).body;
    loaded->format->finish(request);
    EXPECT_NE(request.body.find("soap:mustUnderstand=\"true\""), std::string::npos);
    EXPECT_NE(request.body.find("<wsse:Username>u&lt;1&gt;</wsse:Username>"), std::string::npos);
    EXPECT_NE(request.body.find("#PasswordText\">p&amp;w</wsse:Password>"), std::string::npos);
}

TEST(SoapFormat, AnswersAreMappedFromTheBody) {
    const auto loaded = load(soap_connector("1.1"), soap_format_of);
    EXPECT_EQ(read_answer(*loaded, envelope(v11,
                                            "<GetActeResponse xmlns=\"urn:example:etat-civil\">"
                                            "<acte><nom>Martin</nom></acte>"
                                            "</GetActeResponse>")),
              R"({"nom":"Martin"})");
}

TEST(SoapFormat, FaultsOfBothVersionsAreUpstreamFaults) {
    rest::CallError error;
    const auto v1 = load(soap_connector("1.1"), soap_format_of);
    EXPECT_EQ(read_answer(*v1,
                          envelope(v11,
                                   "<e:Fault><faultcode>x:Client</faultcode>"
                                   "<faultstring>Acte\ninconnu</faultstring></e:Fault>"),
                          500, &error),
              "error: upstream-fault");
    // The fault's text may quote the person: shown only with error_body.
    EXPECT_EQ(error.description, "SOAP fault Client");
    const auto v2 = load(soap_connector("1.2"), soap_format_of);
    EXPECT_EQ(read_answer(*v2,
                          envelope(v12,
                                   "<e:Fault><e:Code><e:Value>e:Receiver</e:Value><e:Subcode>"
                                   "<e:Value>m:Busy</e:Value></e:Subcode></e:Code><e:Reason>"
                                   "<e:Text xml:lang=\"fr\">Occupé</e:Text></e:Reason>"
                                   "</e:Fault>"),
                          200, &error, true),
              "error: upstream-fault");
    EXPECT_EQ(error.description, "SOAP fault Receiver.Busy: Occupé");
    const std::string long_reason(2000, 'r');
    read_answer(*v1,
                envelope(v11, "<e:Fault><faultcode>Server</faultcode><faultstring>" + long_reason +
                                  "</faultstring></e:Fault>"),
                500, &error, true);
    EXPECT_EQ(error.description, "SOAP fault Server: " + std::string(512, 'r') + "…");
    // In 1.1, some write faultcode in the envelope's namespace.
    read_answer(*v1,
                envelope(v11,
                         "<e:Fault><e:faultcode>e:Client</e:faultcode>"
                         "<e:faultstring>x</e:faultstring></e:Fault>"),
                500, &error, true);
    EXPECT_EQ(error.description, "SOAP fault Client: x");
}

TEST(SoapFormat, FaultCodesThatAreNotNamesAreNotShown) {
    // A code is shown only if it reads as a name: free text there could be
    // about the person, and is held back like the fault's text.
    rest::CallError error;
    const auto v1 = load(soap_connector("1.1"), soap_format_of);
    for (const std::string& code :
         std::vector<std::string>{"soap:Client.NIR 1850578006048 CANARY", "Dupont Jean", "1abc",
                                  "Client/x", "n" + std::string(70, 'x'), "Ren\xC3\xA9"}) {
        read_answer(*v1,
                    envelope(v11, "<e:Fault><faultcode>" + code +
                                      "</faultcode><faultstring>s</faultstring></e:Fault>"),
                    500, &error);
        EXPECT_EQ(error.description, "SOAP fault unknown") << code;
    }
    const auto v2 = load(soap_connector("1.2"), soap_format_of);
    read_answer(*v2,
                envelope(v12,
                         "<e:Fault><e:Code><e:Value>e:Sender</e:Value><e:Subcode>"
                         "<e:Value>Dupont_Jean CANARY</e:Value></e:Subcode></e:Code><e:Reason>"
                         "<e:Text xml:lang=\"fr\">t</e:Text></e:Reason></e:Fault>"),
                500, &error);
    EXPECT_EQ(error.description, "SOAP fault Sender.unknown");
    read_answer(*v1,
                envelope(v11,
                         "<e:Fault><faultcode>x:Server.Db_Down-2</faultcode>"
                         "<faultstring>s</faultstring></e:Fault>"),
                500, &error);
    EXPECT_EQ(error.description, "SOAP fault Server.Db_Down-2");
}

TEST(SoapFormat, WhatIsNotAnEnvelopeOfTheVersion) {
    rest::CallError error;
    const auto v1 = load(soap_connector("1.1"), soap_format_of);
    EXPECT_EQ(read_answer(*v1, envelope(v12, "<x/>"), 200, &error),
              "error: upstream-invalid-response");
    EXPECT_EQ(error.description,
              "the upstream answer is not usable XML: not a SOAP envelope of the connector's "
              "version");
    EXPECT_EQ(read_answer(*v1, "<html><body>Service Unavailable</body></html>", 503, &error),
              "error: upstream-error");
    EXPECT_EQ(error.description, "upstream answered 503");
    EXPECT_EQ(read_answer(*v1, "<e:Envelope xmlns:e=\"" + v11 + "\"/>", 200, &error),
              "error: upstream-invalid-response");
    EXPECT_EQ(read_answer(*v1, "", 202), "null");
}

TEST(SoapFormat, DeliveriesOfFaultsAreFinalOnlyForTheSendersFaults) {
    const auto loaded = load(soap_connector("1.1"), soap_format_of);
    const auto outcome = [&](unsigned status, const std::string& body) {
        upstream::Result result;
        result.response.status = status;
        result.response.body = body;
        loaded->format->interpret_delivery(result);
        return result.response.status;
    };
    EXPECT_EQ(outcome(500, envelope(v11, "<e:Fault><faultcode>e:Client</faultcode></e:Fault>")),
              400u);
    EXPECT_EQ(outcome(200, envelope(v11, "<e:Fault><faultcode>e:Client</faultcode></e:Fault>")),
              400u);
    EXPECT_EQ(outcome(500, envelope(v11, "<e:Fault><faultcode>e:Server</faultcode></e:Fault>")),
              502u);
    EXPECT_EQ(outcome(200, envelope(v11, "<DeposerDemandeResponse/>")), 200u);
    EXPECT_EQ(outcome(503, "<html/>"), 503u);
}

TEST(SoapFormat, LoadErrors) {
    EXPECT_EQ(load_error(soap_connector("1.1", "", R"( "headers": {"SOAPAction": "x"},)"), nullptr,
                         soap_format_of),
              "relais sets SOAPAction from the SOAP version and soap_action");
    EXPECT_EQ(load_error(
                  soap_connector("1.1", R"(, "ws_security": {"username": "u", "password": "a\n"})"),
                  nullptr, soap_format_of),
              "must be non-empty, without control characters (a trailing newline?)");
    const std::string retried = R"({"slug": "t", "kind": "soap", "family": "reference",
        "upstream": {"base_url": "http://up.test/ws"}, "endpoints": {"e": {"retries": 1,
        "request": {"body": "<a/>"}}}})";
    EXPECT_EQ(load_error(retried, nullptr, soap_format_of),
              "retries are allowed only when the upstream request is idempotent (GET, HEAD, PUT, "
              "DELETE, or an operation with request.idempotent: true): a POST that failed may "
              "still have been applied, and a retry would apply it twice");
    EXPECT_EQ(load_error(R"({"slug": "t", "kind": "soap", "family": "reference",
        "upstream": {"base_url": "http://up.test/ws"}, "namespaces": {"soap": "urn:x"},
        "endpoints": {"e": {"request": {"body": "<a/>"}}}})",
                         nullptr, soap_format_of),
              "the prefix 'soap' is defined by the kind");
}

TEST(SoapEnvelope, HeadersGoAfterEitherVersionsStart) {
    for (const SoapVersion version : {SoapVersion::soap11, SoapVersion::soap12}) {
        std::string message = envelope_start(version) + "<x/>" + envelope_end();
        EXPECT_EQ(version_of(message), version);
        ASSERT_TRUE(insert_header(message, "<h/>"));
        EXPECT_NE(message.find("\"><soap:Header><h/></soap:Header><soap:Body><x/>"),
                  std::string::npos)
            << message;
    }
    std::string other = "<x/>";
    EXPECT_FALSE(insert_header(other, "<h/>"));
    EXPECT_EQ(other, "<x/>");
}
