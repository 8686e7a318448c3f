// Kind mail: loading a connector file (schemas/mail.schema.json, then the
// semantic checks of load_mail_spec, each at its YAML line) and the
// endpoints the connector declares.
#include <gtest/gtest.h>

#include <variant>

#include "config/config_schema.hpp"
#include "mail_test_support.hpp"
#include "schema_test_support.hpp"

using namespace relais;
using relais::test_support::check_documented;
using relais::test_support::read_source;
using namespace relais::mail;
using namespace relais::mail::test_support;

namespace {

const config::ConfigSchema& mail_schema() {
    static const config::ConfigSchema schema(read_source("schemas/mail.schema.json"));
    return schema;
}

std::vector<std::string> schema_errors(const std::string& yaml) {
    std::vector<std::string> out;
    for (const auto& e : mail_schema().validate(parse(yaml))) {
        out.push_back(e.what());
    }
    return out;
}

struct LoadError {
    std::string message;  ///< "" when the file loads
    int line = 0;
};

// The semantic error of a file the schema accepts.
LoadError load_error(const std::string& yaml) {
    EXPECT_EQ(schema_errors(yaml), std::vector<std::string>{});
    try {
        load_spec(yaml);
    } catch (const ConfigError& e) {
        return {e.message(), e.position().line};
    }
    return {};
}

// Expects `yaml` to fail at the line holding `at`, with a message holding `words`.
void expect_error_at(const std::string& yaml, std::string_view at, std::string_view words) {
    const LoadError error = load_error(yaml);
    EXPECT_NE(error.message.find(words), std::string::npos) << error.message;
    EXPECT_EQ(error.line, line_of(yaml, at)) << error.message;
}

}  // namespace

TEST(MailSchema, IsDocumentedAndClosed) {
    rapidjson::Document schema;
    schema.Parse(read_source("schemas/mail.schema.json").c_str());
    ASSERT_FALSE(schema.HasParseError());
    check_documented(schema, "");
}

TEST(MailSchema, AcceptsTheContractExample) {
    EXPECT_EQ(schema_errors(example_yaml), std::vector<std::string>{});
}

TEST(MailSchema, RefusesWhatItCanSee) {
    const auto refused = [](const std::string& yaml, std::string_view words) {
        const auto errors = schema_errors(yaml);
        ASSERT_FALSE(errors.empty()) << words;
        bool found = false;
        for (const auto& e : errors) {
            found = found || e.find(words) != std::string::npos;
        }
        EXPECT_TRUE(found) << errors.front();
    };
    refused(replaced(example_yaml, "  max_document_bytes: 20971520", "  max_document_bytes: 1000"),
            "max_document_bytes");
    refused(
        replaced(example_yaml, "  max_document_bytes: 20971520", "  max_document_bytes: 268435457"),
        "max_document_bytes");
    refused(replaced(example_yaml, "  closed: {description: Demande close par le GRU}\n", ""),
            "closed");
    refused(replaced(example_yaml, "  formdef: courrier-entrant", "  formdef: Courrier"),
            "formdef");
    refused(replaced(example_yaml, "  document_field: courrier", "  document_field: cour-rier"),
            "document_field");
    refused(replaced(example_yaml, "  method: PUT", "  method: GET"), "method");
    refused(replaced(example_yaml, "    subject: /subject", "    sub ject: /subject"), "sub ject");
    refused(replaced(example_yaml, "    objet: subject", "    objet: 42"), "objet");
    refused(replaced(example_yaml, "notify:", "callbacks: {reference: /id, statuses: {}}\nnotify:"),
            "callbacks");
}

TEST(MailSpecLoad, ReadsTheContractExample) {
    const MailSpec spec = load_spec(example_yaml);
    EXPECT_EQ(spec.upstream.base_url, "http://127.0.0.1:8091/api/");
    EXPECT_TRUE(std::holds_alternative<upstream::BasicAuth>(spec.upstream.auth));
    EXPECT_EQ(spec.inbound.max_document_bytes, 20971520u);
    EXPECT_EQ(spec.inbound.reference.pointer_text, "/id");
    EXPECT_EQ(spec.inbound.document.pointer_text, "/document");
    ASSERT_TRUE(spec.inbound.filename);
    EXPECT_EQ(spec.inbound.filename->pointer_text, "/filename");
    ASSERT_EQ(spec.inbound.metadata.size(), 3u);
    EXPECT_EQ(spec.inbound.metadata[1].name, "sender");
    EXPECT_EQ(spec.inbound.metadata[1].value.pointer_text, "/sender/name");
    EXPECT_EQ(spec.demand.formdef, "courrier-entrant");
    EXPECT_EQ(spec.demand.channel, "mail");
    EXPECT_EQ(spec.demand.document_field, "courrier");
    EXPECT_EQ(spec.demand.reference_field, "reference_gec");
    ASSERT_EQ(spec.demand.fields.size(), 3u);
    EXPECT_EQ(spec.demand.fields[2].varname, "date_arrivee");
    EXPECT_EQ(spec.demand.fields[2].metadata, 2u);
    EXPECT_EQ(spec.notify.method, "PUT");
    EXPECT_FALSE(spec.notify.path.empty());
    EXPECT_TRUE(spec.notify.body);
    EXPECT_EQ(spec.notify.body_pointer_texts,
              (std::vector<std::string>{"/demand_url", "/message"}));
}

TEST(MailSpecLoad, AppliesTheDefaults) {
    const std::string yaml = R"(slug: courrier
kind: mail
family: etat-civil-citoyennete
upstream: {base_url: "http://gec.test"}
inbound: {reference: /id, document: /pdf}
demand: {formdef: courrier, document_field: courrier, reference_field: reference}
notify: {}
endpoints: {mails: {}, closed: {}}
)";
    EXPECT_EQ(schema_errors(yaml), std::vector<std::string>{});
    const MailSpec spec = load_spec(yaml);
    EXPECT_EQ(spec.inbound.max_document_bytes, 20u * 1024 * 1024);
    EXPECT_FALSE(spec.inbound.filename);
    EXPECT_TRUE(spec.inbound.metadata.empty());
    EXPECT_EQ(spec.demand.channel, "mail");
    EXPECT_TRUE(spec.demand.fields.empty());
    EXPECT_EQ(spec.notify.method, "POST");
    EXPECT_TRUE(spec.notify.path.empty());
    EXPECT_FALSE(spec.notify.body);
    EXPECT_TRUE(std::holds_alternative<upstream::NoAuth>(spec.upstream.auth));
}

TEST(MailSpecLoad, TheBodyLimitIsTheBase64OfTheLargestDocumentPlus256KiB) {
    EXPECT_EQ(max_mail_body_bytes(20971520), 4u * 6990507 + 262144);
    EXPECT_EQ(max_mail_body_bytes(1024), 4u * 342 + 262144);
    EXPECT_EQ(max_mail_body_bytes(1023), 4u * 341 + 262144);
    EXPECT_EQ(max_mail_body_bytes(1025), 4u * 342 + 262144);
}

TEST(MailConnectorEndpoints, MailsIsSynchronousWithItsBodyLimitAndClosedClosesDemands) {
    const auto connector = make_connector(
        replaced(example_yaml, "  max_document_bytes: 20971520", "  max_document_bytes: 3000"));
    const auto endpoints = connector->endpoints();
    ASSERT_EQ(endpoints.size(), 2u);
    EXPECT_EQ(endpoints[mails_endpoint].name, "mails");
    EXPECT_FALSE(endpoints[mails_endpoint].async);
    EXPECT_FALSE(endpoints[mails_endpoint].closes_demand);
    EXPECT_TRUE(endpoints[mails_endpoint].personal_data);
    EXPECT_FALSE(endpoints[mails_endpoint].browser);
    EXPECT_EQ(endpoints[mails_endpoint].max_body_bytes, 4000u + 262144);
    EXPECT_EQ(endpoints[closed_endpoint].name, "closed");
    EXPECT_TRUE(endpoints[closed_endpoint].async);
    EXPECT_TRUE(endpoints[closed_endpoint].closes_demand);
    EXPECT_TRUE(endpoints[closed_endpoint].personal_data);
    EXPECT_FALSE(endpoints[closed_endpoint].browser);
    EXPECT_EQ(endpoints[closed_endpoint].max_body_bytes, 0u);
}

TEST(MailSpecErrors, AFieldMustNameDeclaredMetadata) {
    expect_error_at(replaced(example_yaml, "    objet: subject", "    objet: subjet"),
                    "    objet: subjet",
                    "'subjet' is not declared under inbound.metadata (declared: subject, sender, "
                    "received)");
    std::string none = replaced(example_yaml,
                                "  metadata:\n    subject: /subject\n    sender: /sender/name\n"
                                "    received: /arrival_date\n",
                                "");
    expect_error_at(none, "    objet: subject", "(declared: none)");
}

TEST(MailSpecErrors, FieldsDoNotOverwriteTheDocumentOrTheReference) {
    expect_error_at(replaced(example_yaml, "    objet: subject", "    courrier: subject"),
                    "    courrier: subject", "'courrier' already receives the document");
    expect_error_at(replaced(example_yaml, "    objet: subject", "    reference_gec: subject"),
                    "    reference_gec: subject", "'reference_gec' already receives the reference");
    expect_error_at(
        replaced(example_yaml, "  reference_field: reference_gec", "  reference_field: courrier"),
        "  reference_field: courrier", "two different fields");
}

TEST(MailSpecErrors, PointersAreCheckedAtLoad) {
    expect_error_at(replaced(example_yaml, "  reference: /id", "  reference: id"),
                    "  reference: id", "is not a JSON Pointer (it must start with '/')");
    expect_error_at(replaced(example_yaml, "  document: /document", "  document: \"\""),
                    "  document: \"\"", "point at a value inside the body");
    expect_error_at(replaced(example_yaml, "  filename: /filename", "  filename: /a~2b"),
                    "  filename: /a~2b", "is not a valid JSON Pointer");
    expect_error_at(replaced(example_yaml, "    sender: /sender/name", "    sender: sender"),
                    "    sender: sender", "is not a JSON Pointer");
}

TEST(MailSpecErrors, NotifyTemplatesAreCheckedAtLoad) {
    const auto path = [](std::string_view text) {
        return replaced(example_yaml, "  path: \"mails/{reference}/reply\"",
                        "  path: \"" + std::string(text) + "\"");
    };
    expect_error_at(path("mails/{reference/reply"), "  path:", "unclosed '{'");
    expect_error_at(path("mails/reference}/reply"), "  path:", "unmatched '}'");
    expect_error_at(path("mails/{ref}/reply"), "  path:",
                    "'{ref}' is not a placeholder of notify: use {reference} or {body:/pointer}");
    expect_error_at(path("mails/{body:demand}"), "  path:", "is not a JSON Pointer");
    expect_error_at(path("mails/../{reference}"), "  path:", "'.' and '..' segments");
    expect_error_at(path("mails/a b/{reference}"), "  path:", "is not allowed here");

    expect_error_at(replaced(example_yaml, "  headers: {X-Source: relais}",
                             "  headers: {X-Source: \"{source}\"}"),
                    "  headers:", "'{source}' is not a placeholder of notify");
    expect_error_at(
        replaced(example_yaml, "  headers: {X-Source: relais}", "  headers: {X-Request-ID: x}"),
        "  headers:", "is set by relais");
    expect_error_at(replaced(example_yaml, "  headers: {X-Source: relais}",
                             "  headers: {Idempotency-Key: \"{reference}\"}"),
                    "  headers:", "relais sets Idempotency-Key");
    expect_error_at(
        replaced(example_yaml, "  headers: {X-Source: relais}", "  headers: {Authorization: x}"),
        "  headers:", "Authorization");

    expect_error_at(replaced(example_yaml, "    status: reply-ready", "    status: \"{state}\""),
                    "    status:", "/status: '{state}' is not a placeholder of notify");
    expect_error_at(replaced(example_yaml, "    status: reply-ready", "    status: \"{{x}\""),
                    "    status:", "/status: unmatched '}'");
}

TEST(MailSpecErrors, TheUpstreamIsCheckedAsKindRestDoes) {
    expect_error_at(replaced(example_yaml, "  base_url: http://127.0.0.1:8091/api/",
                             "  base_url: http://127.0.0.1:8091/api/?v=1"),
                    "  base_url:", "notify.path is appended to base_url");
    expect_error_at(replaced(example_yaml, "username: relais,", "username: \"re:lais\","),
                    "  auth:", "a Basic username cannot contain ':'");
    expect_error_at(replaced(example_yaml,
                             "  auth: {basic: {username: relais, password: password-canary-5e1d}}",
                             "  headers: {Idempotency-Key: fixed}"),
                    "  headers: {Idempotency-Key", "relais sets Idempotency-Key");
}

TEST(MailSpecErrors, MessagesNeverQuoteTheSecrets) {
    const LoadError error =
        load_error(replaced(example_yaml, "password-canary-5e1d", "\"password-canary-5e1d\\n\""));
    EXPECT_NE(error.message.find("control characters"), std::string::npos) << error.message;
    EXPECT_EQ(error.message.find("password-canary-5e1d"), std::string::npos);
    EXPECT_EQ(error.line, line_of(example_yaml, "  auth:"));
}
