// Kind mail, endpoint `mails`: the strict base64 checks, the demand a good
// mail opens (its exact data), and every refusal of the contract with its
// status and err_class, through the connector and a ConnectorServices that
// records what it is asked to queue. read_mail is given bodies split by a
// BodySplitter (mail_body_splitter_test.cpp tests it on its own).
#include <gtest/gtest.h>

#include <string>

#include "mail/base64_text.hpp"
#include "mail/body_splitter.hpp"
#include "mail/inbound_mail.hpp"
#include "mail_test_support.hpp"

using namespace relais;
using namespace relais::mail;
using namespace relais::mail::test_support;
using namespace std::string_literals;

namespace {

const std::string pdf = "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n";

// The contract's example body, with `document` as given.
std::string mail_body(const std::string& document_json,
                      const std::string& reference_json = R"("GEC-2026-0042")") {
    return R"({"id":)" + reference_json + R"(,"document":)" + document_json +
           R"(,"filename":"lettre.pdf","subject":"Demande d'acte",)"
           R"("sender":{"name":"Jeanne Martin"},"arrival_date":"2026-11-20"})";
}

std::string in_quotes(const std::string& text) {
    return "\"" + text + "\"";
}

/// The decoded size of `text` if it is strict base64, read in one piece.
std::optional<std::size_t> strict_base64_size(std::string_view text) {
    StrictBase64 checker;
    if (!checker.read(text) || !checker.complete()) {
        return std::nullopt;
    }
    return checker.decoded_bytes();
}

/// Whether `text`, strict base64, decodes to bytes starting with `prefix`.
bool base64_starts_with(std::string_view text, std::string_view prefix) {
    StrictBase64 checker;
    checker.read(text);
    return checker.head().starts_with(prefix);
}

/// read_mail on `body` split in one piece, with the document's text put in
/// data_json where read_mail says, as the connector does.
std::variant<ReceivedMail, rest::CallError> read_body(const MailSpec& spec, std::string_view body) {
    BodySplitter splitter(spec.inbound.document, metadata_allowance,
                          spec.inbound.max_document_bytes);
    std::string document_text;
    if (auto error = splitter.feed(body, document_text)) {
        return std::move(*error);
    }
    auto split = splitter.finish();
    if (auto* error = std::get_if<rest::CallError>(&split)) {
        return std::move(*error);
    }
    auto read = read_mail(spec.inbound, spec.demand, std::get<SplitBody>(split));
    if (auto* mail = std::get_if<ReceivedMail>(&read)) {
        mail->demand.data_json.insert(mail->demand.document_at, document_text);
    }
    return read;
}

class MailsEndpoint : public ::testing::Test {
protected:
    MailsEndpoint() : connector_(make_connector(example_yaml, &services_)) {}

    HttpResponse call(const std::string& body) const {
        return handle(*connector_, mails_endpoint, post(body));
    }

    // Expects a refusal with `status` and `err_class`, and nothing queued.
    // Expects a refusal with `status` and `err_class`, nothing queued, and
    // what was stored of the document discarded.
    void expect_refused(const std::string& body, unsigned status, const std::string& err,
                        std::string_view words = {}) const {
        const std::size_t discarded = services_.discarded;
        const HttpResponse response = call(body);
        EXPECT_EQ(response.status, status) << response.body;
        EXPECT_EQ(err_class(response), err) << response.body;
        EXPECT_NE(response.body.find(words), std::string::npos) << response.body;
        EXPECT_TRUE(services_.calls.empty());
        EXPECT_TRUE(services_.documents.empty());
        EXPECT_EQ(services_.discarded, discarded + 1);
    }

    RecordingServices services_;
    std::unique_ptr<Connector> connector_;
};

}  // namespace

TEST(MailBase64, SizesStrictBase64FromTheTextAlone) {
    EXPECT_EQ(strict_base64_size(""), 0u);
    EXPECT_EQ(strict_base64_size("TQ=="), 1u);
    EXPECT_EQ(strict_base64_size("TWE="), 2u);
    EXPECT_EQ(strict_base64_size("TWFu"), 3u);
    EXPECT_EQ(strict_base64_size("TWFuTQ=="), 4u);
    EXPECT_EQ(strict_base64_size("+/+/"), 3u);
    EXPECT_EQ(strict_base64_size(base64(std::string(1000, '\xFF'))), 1000u);
}

TEST(MailBase64, RefusesAnythingButTheCanonicalStandardForm) {
    for (const std::string_view bad : {
             "TWF",        // not a multiple of 4
             "TWFuT",      // idem
             "TW.u",       // outside the alphabet
             "TWFu TWFu",  // space
             "TWF\nTWE=",  // a line break, in a text of 8 characters
             "TWFu\r\nTWFu",
             "TQ==TWFu",  // padding inside
             "T=Fu",      // idem
             "====",      // padding only
             "T===",      // three '='
             "TWE-",      // URL-safe alphabet
             "TWE_",
             "TR==",  // unused bits set (not canonical)
             "TWF=",
         }) {
        EXPECT_FALSE(strict_base64_size(bad)) << bad;
    }
}

TEST(MailBase64, ReadsThePrefixByDecodingOnlyTheFirstCharacters) {
    EXPECT_TRUE(base64_starts_with(base64("%PDF-1.7 and more"), "%PDF-"));
    EXPECT_TRUE(base64_starts_with(base64("%PDF-"), "%PDF-"));  // "JVBERi0="
    EXPECT_TRUE(base64_starts_with(base64("%PDF-1"), "%PDF-"));
    EXPECT_FALSE(base64_starts_with(base64("%PDF"), "%PDF-"));
    EXPECT_FALSE(base64_starts_with(base64("%PDX-1.7"), "%PDF-"));
    EXPECT_FALSE(base64_starts_with(base64("x%PDF-1.7"), "%PDF-"));
    EXPECT_FALSE(base64_starts_with("", "%PDF-"));
    EXPECT_TRUE(base64_starts_with("", ""));
}

TEST(MailRead, AGoodMailBecomesTheDemandOfTheContract) {
    const MailSpec spec = load_spec(example_yaml);
    const std::string b64 = base64(pdf);
    auto read = read_body(spec, mail_body(in_quotes(b64)));
    ASSERT_TRUE(std::holds_alternative<ReceivedMail>(read));
    const ReceivedMail& mail = std::get<ReceivedMail>(read);
    EXPECT_EQ(mail.demand.formdef, "courrier-entrant");
    EXPECT_EQ(mail.demand.channel, "mail");
    EXPECT_EQ(mail.demand.reference, "GEC-2026-0042");
    EXPECT_EQ(mail.demand.request_id, "");
    EXPECT_EQ(mail.document_bytes, pdf.size());
    EXPECT_EQ(mail.demand.data_json,
              R"({"courrier":{"filename":"lettre.pdf","content_type":"application/pdf",)"
              R"("b64_content":")" +
                  b64 +
                  R"("},"reference_gec":"GEC-2026-0042","objet":"Demande d'acte",)"
                  R"("expediteur":"Jeanne Martin","date_arrivee":"2026-11-20"})");
}

TEST(MailRead, LeavesTheDocumentsTextEmptyAndSaysWhereItGoes) {
    const MailSpec spec = load_spec(example_yaml);
    SplitBody body;
    body.skeleton = mail_body("\"\"");
    body.document_found = true;
    body.document_bytes = 1234;
    auto read = read_mail(spec.inbound, spec.demand, body);
    ASSERT_TRUE(std::holds_alternative<ReceivedMail>(read));
    const ReceivedMail& mail = std::get<ReceivedMail>(read);
    EXPECT_EQ(mail.document_bytes, 1234u);
    const std::string head =
        R"({"courrier":{"filename":"lettre.pdf","content_type":"application/pdf",)"
        R"("b64_content":")";
    EXPECT_EQ(mail.demand.document_at, head.size());
    EXPECT_EQ(mail.demand.data_json,
              head + R"("},"reference_gec":"GEC-2026-0042","objet":"Demande d'acte",)"
                     R"("expediteur":"Jeanne Martin","date_arrivee":"2026-11-20"})");

    // A string the splitter did not take for the document is none.
    body.document_found = false;
    auto refused = read_mail(spec.inbound, spec.demand, body);
    ASSERT_TRUE(std::holds_alternative<rest::CallError>(refused));
    EXPECT_EQ(std::get<rest::CallError>(refused).error, ErrorClass::invalid_parameter);
}

TEST(MailRead, ValuesAreWrittenAsJsonWhateverTheyHold) {
    const MailSpec spec = load_spec(example_yaml);
    const std::string b64 = base64(pdf);
    auto read = read_body(
        spec, R"({"id":1234567890123,"document":")" + b64 +
                  R"(","filename":"Réponse \"n°2\".pdf","subject":3.5,"sender":{"name":true},)"
                  R"("arrival_date":-20261120})");
    ASSERT_TRUE(std::holds_alternative<ReceivedMail>(read));
    const ReceivedMail& mail = std::get<ReceivedMail>(read);
    EXPECT_EQ(mail.demand.reference, "1234567890123");
    EXPECT_EQ(mail.demand.data_json,
              R"({"courrier":{"filename":"Réponse \"n°2\".pdf","content_type":"application/pdf",)"
              R"("b64_content":")" +
                  b64 +
                  R"("},"reference_gec":"1234567890123","objet":3.5,"expediteur":true,)"
                  R"("date_arrivee":-20261120})");
}

TEST(MailRead, AbsentValuesAreLeftOutAndTheFileNameDefaults) {
    const MailSpec spec = load_spec(example_yaml);
    const std::string b64 = base64(pdf);
    for (const std::string& body : {R"({"id":"R1","document":")" + b64 + R"("})",
                                    R"({"id":"R1","document":")" + b64 +
                                        R"(","filename":null,"subject":null,"sender":{}})"}) {
        auto read = read_body(spec, body);
        ASSERT_TRUE(std::holds_alternative<ReceivedMail>(read)) << body;
        EXPECT_EQ(std::get<ReceivedMail>(read).demand.data_json,
                  R"({"courrier":{"filename":"courrier.pdf","content_type":"application/pdf",)"
                  R"("b64_content":")" +
                      b64 + R"("},"reference_gec":"R1"})");
    }
}

// A JSON encoder may escape '/' (PHP does by default): the base64 text is
// the decoded string, whatever escapes the body used.
TEST(MailRead, TheDocumentIsTheJsonStringDecoded) {
    const MailSpec spec = load_spec(example_yaml);
    const std::string b64 = base64(std::string("%PDF-\xFF\xFF\xFF\xFF\xFF\xFF", 11));
    ASSERT_NE(b64.find('/'), std::string::npos);
    std::string escaped;
    for (const char c : b64) {
        escaped += c == '/' ? std::string("\\/") : std::string(1, c);
    }
    auto read = read_body(spec, mail_body(in_quotes(escaped)));
    ASSERT_TRUE(std::holds_alternative<ReceivedMail>(read));
    EXPECT_NE(std::get<ReceivedMail>(read).demand.data_json.find("\"b64_content\":\"" + b64 + "\""),
              std::string::npos);
}

TEST_F(MailsEndpoint, AcceptsAMailAndQueuesItsDemandWithItsReference) {
    const std::string b64 = base64(pdf);
    const HttpResponse response = call(mail_body(in_quotes(b64)));
    EXPECT_EQ(response.status, 202u);
    EXPECT_EQ(response.body,
              R"({"err":0,"data":{"tracking_id":"0123456789abcdef0123456789abcdef"}})");
    ASSERT_EQ(services_.calls.size(), 1u);
    const auto& queued = services_.calls.front();
    EXPECT_EQ(queued.connector, "courrier");
    EXPECT_EQ(queued.family, "etat-civil-citoyennete");
    EXPECT_EQ(queued.demand.formdef, "courrier-entrant");
    EXPECT_EQ(queued.demand.channel, "mail");
    EXPECT_EQ(queued.demand.reference, "GEC-2026-0042");
    EXPECT_EQ(queued.demand.request_id, "req-mail-1");
    // The document went to the outbox apart; the data says where it goes.
    EXPECT_EQ(queued.demand.data_json.find(b64), std::string::npos);
    EXPECT_EQ(services_.document_of(queued.demand), b64);
    std::string data = queued.demand.data_json;
    data.insert(queued.demand.document_at, b64);
    EXPECT_NE(data.find(R"("b64_content":")" + b64 + '"'), std::string::npos) << data;
}

/// A body handed over in pieces of `piece_bytes`, ending in `failure`.
class PiecesReader final : public BodyReader {
public:
    PiecesReader(std::string body, std::size_t piece_bytes,
                 std::optional<ErrorClass> failure = std::nullopt)
        : body_(std::move(body)), piece_bytes_(piece_bytes), failure_at_end_(failure) {}

    boost::asio::awaitable<std::string_view> next() override {
        const std::string_view piece = std::string_view(body_).substr(at_, piece_bytes_);
        at_ += piece.size();
        if (piece.empty()) {
            failure_ = failure_at_end_;
        }
        co_return piece;
    }
    std::optional<ErrorClass> failure() const noexcept override { return failure_; }

private:
    std::string body_;
    std::size_t piece_bytes_;
    std::size_t at_ = 0;
    std::optional<ErrorClass> failure_at_end_;
    std::optional<ErrorClass> failure_;
};

TEST_F(MailsEndpoint, ABodyReadInPiecesGivesTheSameDemand) {
    const std::string b64 = base64(pdf);
    PiecesReader reader(mail_body(in_quotes(b64)), 7);
    IncomingRequest request = post("");
    request.body_reader = &reader;
    const HttpResponse response = handle(*connector_, mails_endpoint, request);
    EXPECT_EQ(response.status, 202u) << response.body;
    ASSERT_EQ(services_.calls.size(), 1u);
    EXPECT_EQ(services_.document_of(services_.calls.front().demand), b64);
    EXPECT_EQ(services_.calls.front().demand.reference, "GEC-2026-0042");
}

TEST_F(MailsEndpoint, ABodyThatCouldNotBeReadWholeIsRefusedAndItsDocumentDropped) {
    const std::string body = mail_body(in_quotes(base64(pdf)));
    PiecesReader reader(body.substr(0, body.size() / 2), 16, ErrorClass::payload_too_large);
    IncomingRequest request = post("");
    request.body_reader = &reader;
    const HttpResponse response = handle(*connector_, mails_endpoint, request);
    EXPECT_EQ(response.status, 413u);
    EXPECT_EQ(err_class(response), "payload-too-large");
    EXPECT_TRUE(services_.calls.empty());
    EXPECT_TRUE(services_.documents.empty());
    EXPECT_EQ(services_.discarded, 1u);
}

TEST_F(MailsEndpoint, OnlyPostReachesIt) {
    const HttpResponse get = handle(*connector_, mails_endpoint, post("", "GET"));
    EXPECT_EQ(get.status, 405u);
    EXPECT_EQ(err_class(get), "method-not-allowed");
    ASSERT_NE(find_header(get.headers, "Allow"), nullptr);
    EXPECT_EQ(*find_header(get.headers, "Allow"), "POST");
    IncomingRequest beyond = post(mail_body(in_quotes(base64(pdf))));
    beyond.rest = "x";
    const HttpResponse deeper = handle(*connector_, mails_endpoint, beyond);
    EXPECT_EQ(deeper.status, 404u);
    EXPECT_EQ(err_class(deeper), "not-found");
    EXPECT_TRUE(services_.calls.empty());
}

TEST_F(MailsEndpoint, RefusesABodyThatIsNotAJsonObject) {
    for (const std::string& body :
         {std::string(), std::string("not json"), std::string("[1, 2]"), std::string("\"x\""),
          std::string("{\"id\":\"R1\"} trailing"), std::string("{\"id\":\"R\0\"}", 11),
          std::string("{\"id\":\"\xC3\x28\"}")}) {
        expect_refused(body, 400, "invalid-json");
    }
}

TEST_F(MailsEndpoint, RefusesAMissingOrMalformedReference) {
    const std::string doc = in_quotes(base64(pdf));
    expect_refused(R"({"document":)" + doc + "}", 400, "missing-parameter", "reference (/id)");
    expect_refused(mail_body(doc, "null"), 400, "missing-parameter");
    for (const std::string& bad :
         {"true"s, "1.5"s, "\"\""s, "{\"a\":1}"s, "[\"R1\"]"s, "\"R\\n1\""s, "\"R\\u0000\""s,
          in_quotes(std::string(257, 'r'))}) {
        expect_refused(mail_body(doc, bad), 400, "invalid-parameter", "reference (/id)");
    }
    EXPECT_EQ(call(mail_body(doc, in_quotes(std::string(256, 'r')))).status, 202u);
}

TEST_F(MailsEndpoint, RefusesAMissingOrMalformedDocument) {
    expect_refused(R"({"id":"R1"})", 400, "missing-parameter", "document (/document)");
    expect_refused(mail_body("null"), 400, "missing-parameter", "document (/document)");
    expect_refused(mail_body("42"), 400, "invalid-parameter", "document (/document)");
    expect_refused(mail_body("[\"JVBERi0=\"]"), 400, "invalid-parameter");
    const std::string b64 = base64(pdf);
    for (const std::string& bad :
         {b64.substr(0, b64.size() - 1), b64.substr(0, 8) + " " + b64.substr(8),
          b64.substr(0, 8) + "\\n" + b64.substr(8), b64.substr(0, 8) + "\\r\\n" + b64.substr(8),
          b64.substr(0, 8) + "*" + b64.substr(9), "JVBERi0=JVBE"s}) {
        expect_refused(mail_body(in_quotes(bad)), 400, "invalid-parameter", "must be base64");
    }
    expect_refused(mail_body("\"\""), 400, "invalid-parameter", "must be a PDF");
    expect_refused(mail_body(in_quotes(base64("%PDF"))), 400, "invalid-parameter", "must be a PDF");
    expect_refused(mail_body(in_quotes(base64("<html>not a pdf</html>"))), 400, "invalid-parameter",
                   "must be a PDF");
}

// The decoded size is computed from the text's length and padding, before
// anything is decoded: one character of padding more or less decides.
TEST(MailsEndpointLimit, ADocumentLargerThanTheLimitIs413) {
    RecordingServices services;
    const auto connector = make_connector(
        replaced(example_yaml, "  max_document_bytes: 20971520", "  max_document_bytes: 1024"),
        &services);
    const auto call = [&](std::size_t size) {
        return handle(*connector, mails_endpoint,
                      post(mail_body(in_quotes(base64(pdf_of_size(size))))));
    };
    ASSERT_EQ(base64(pdf_of_size(1024)).size(), base64(pdf_of_size(1025)).size());
    EXPECT_EQ(call(1024).status, 202u);
    const HttpResponse over = call(1025);
    EXPECT_EQ(over.status, 413u);
    EXPECT_EQ(err_class(over), "payload-too-large");
    EXPECT_NE(over.body.find("larger than 1024 bytes"), std::string::npos);
    EXPECT_EQ(call(4096).status, 413u);
    EXPECT_EQ(services.calls.size(), 1u);
}

TEST_F(MailsEndpoint, RefusesABadFileName) {
    const std::string doc = in_quotes(base64(pdf));
    const auto with_filename = [&](const std::string& filename_json) {
        return R"({"id":"R1","document":)" + doc + R"(,"filename":)" + filename_json + "}";
    };
    for (const std::string& bad :
         {std::string("42"), std::string("\"\""), std::string("\"a/b.pdf\""),
          std::string("\"a\\\\b.pdf\""), std::string("\"a\\tb.pdf\""), std::string("{}"),
          in_quotes(std::string(256, 'f'))}) {
        expect_refused(with_filename(bad), 400, "invalid-parameter", "file name (/filename)");
    }
    EXPECT_EQ(call(with_filename(in_quotes(std::string(255, 'f')))).status, 202u);
}

TEST_F(MailsEndpoint, RefusesMetadataThatIsNotAScalarNamingItButNotItsValue) {
    const std::string doc = in_quotes(base64(pdf));
    expect_refused(
        R"({"id":"R1","document":)" + doc + R"(,"sender":{"name":{"first":"value-canary-77"}}})",
        400, "invalid-parameter", "metadata 'sender' (/sender/name)");
    expect_refused(R"({"id":"R1","document":)" + doc + R"(,"subject":["value-canary-77"]})", 400,
                   "invalid-parameter", "metadata 'subject' (/subject)");
    const HttpResponse response =
        call(R"({"id":"R1","document":)" + doc + R"(,"subject":["value-canary-77"]})");
    EXPECT_EQ(response.body.find("value-canary-77"), std::string::npos);
}

TEST_F(MailsEndpoint, RefusalsNeverQuoteTheValues) {
    const std::string canary = "ref-canary-3c9a";
    for (const std::string& body :
         {mail_body("\"not base64!\"", in_quotes(canary + "\\n")),
          mail_body(in_quotes("Y2FuYXJ5" + canary), in_quotes(canary)),
          mail_body(in_quotes(base64("canary-pdf-bytes")), in_quotes(canary))}) {
        const HttpResponse response = call(body);
        EXPECT_EQ(response.status, 400u);
        EXPECT_EQ(response.body.find("canary"), std::string::npos) << response.body;
    }
}

TEST_F(MailsEndpoint, ADemandThatCannotBeQueuedIs503) {
    services_.answer.reset();
    const HttpResponse response = call(mail_body(in_quotes(base64(pdf))));
    EXPECT_EQ(response.status, 503u);
    EXPECT_EQ(err_class(response), "outbox-unavailable");
    EXPECT_EQ(services_.discarded, 1u);
}

TEST(MailsEndpointWithoutServices, AnswersOutboxUnavailable) {
    const auto connector = make_connector(example_yaml);
    const HttpResponse response =
        handle(*connector, mails_endpoint, post(mail_body(in_quotes(base64(pdf)))));
    EXPECT_EQ(response.status, 503u);
    EXPECT_EQ(err_class(response), "outbox-unavailable");
}

TEST_F(MailsEndpoint, ClosedIsNeverHandledSynchronously) {
    const HttpResponse response = handle(*connector_, closed_endpoint, post("{}"));
    EXPECT_EQ(response.status, 500u);
    EXPECT_EQ(err_class(response), "internal-error");
}
