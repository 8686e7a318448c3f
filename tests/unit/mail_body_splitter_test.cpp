// Kind mail: the body splitter that takes a posted mail's document out of
// its body as the body arrives. Every body is also fed cut at every place
// and one byte at a time, which must change nothing; every refusal is
// checked for its class, its wording, and for quoting no value.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mail/body_splitter.hpp"
#include "mail_test_support.hpp"

using namespace relais;
using namespace relais::mail;
using namespace relais::mail::test_support;
using rest::CallError;

namespace {

BodyValue pointer(const std::string& text) {
    return BodyValue{text, rapidjson::Pointer(text.c_str(), text.size())};
}

/// What feeding a body gave.
struct Outcome {
    SplitBody body;
    std::string document_text;
    std::optional<CallError> error;
    std::size_t refused_by = 0;  ///< the piece whose feed refused; pieces.size(): finish
};

struct Limits {
    std::size_t skeleton = metadata_allowance;
    std::size_t document = default_max_document_bytes;
};

Outcome split(const BodyValue& document, const std::vector<std::string_view>& pieces,
              Limits limits = {}) {
    BodySplitter splitter(document, limits.skeleton, limits.document);
    Outcome outcome;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        if (auto error = splitter.feed(pieces[i], outcome.document_text)) {
            outcome.error = std::move(error);
            outcome.refused_by = i;
            return outcome;
        }
    }
    outcome.refused_by = pieces.size();
    auto finished = splitter.finish();
    if (auto* error = std::get_if<CallError>(&finished)) {
        outcome.error = std::move(*error);
    } else {
        outcome.body = std::move(std::get<SplitBody>(finished));
    }
    return outcome;
}

Outcome split_whole(const BodyValue& document, std::string_view body, Limits limits = {}) {
    return split(document, {body}, limits);
}

std::vector<std::string_view> bytes_of(std::string_view body) {
    std::vector<std::string_view> pieces;
    for (std::size_t i = 0; i < body.size(); ++i) {
        pieces.push_back(body.substr(i, 1));
    }
    return pieces;
}

std::vector<std::string_view> pieces_of(std::string_view body, std::size_t size) {
    std::vector<std::string_view> pieces;
    for (std::size_t i = 0; i < body.size(); i += size) {
        pieces.push_back(body.substr(i, size));
    }
    return pieces;
}

void expect_same(const Outcome& got, const Outcome& whole, const std::string& how) {
    EXPECT_EQ(got.body.skeleton, whole.body.skeleton) << how;
    EXPECT_EQ(got.document_text, whole.document_text) << how;
    EXPECT_EQ(got.body.document_found, whole.body.document_found) << how;
    EXPECT_EQ(got.body.document_bytes, whole.body.document_bytes) << how;
    EXPECT_EQ(got.error.has_value(), whole.error.has_value()) << how;
}

/// Feeds `body` whole, cut in two at every place, and byte by byte: the
/// same result each time, which is returned.
Outcome split_every_way(const BodyValue& document, std::string_view body) {
    const Outcome whole = split_whole(document, body);
    for (std::size_t cut = 0; cut <= body.size(); ++cut) {
        expect_same(split(document, {body.substr(0, cut), body.substr(cut)}), whole,
                    "cut at " + std::to_string(cut));
    }
    expect_same(split(document, bytes_of(body)), whole, "byte by byte");
    return whole;
}

void expect_refusal(const Outcome& outcome, ErrorClass error, std::string_view words) {
    ASSERT_TRUE(outcome.error.has_value());
    EXPECT_EQ(outcome.error->error, error) << outcome.error->description;
    EXPECT_NE(outcome.error->description.find(words), std::string::npos)
        << outcome.error->description;
}

// A PDF whose base64 holds '/' (from the 0xFF bytes) and '+'.
const std::string pdf = "%PDF-1.7\n" + std::string(30, '\xFF') + "\xFB\xEF";
const std::string pdf_b64 = base64(pdf);

/// `b64` as PHP writes it: every '/' as `\/`; the first character, 'J',
/// also as a \u escape.
std::string php_escaped(const std::string& b64) {
    std::string json = "\\u004A";
    for (const char c : b64.substr(1)) {
        json += c == '/' ? std::string("\\/") : std::string(1, c);
    }
    return json;
}

// The contract's body, with escapes in a metadata value, in the document
// and in a member name (a surrogate pair), and values of every kind.
std::string contract_body(const std::string& document_json) {
    return R"({"id":"GEC-2026-0042", "document" : ")" + document_json +
           R"(","filename":"lettre.pdf","subject":"Acte d'\u00e9tat civil \"copie\" \\ \/",)"
           R"("sender":{"name":"Jeanne Martin"},"arrival_date":"2026-11-20",)"
           "\n\t"
           R"("\ud83d\udce7":[1,-2.5e3,true,false,null,{},[]]})";
}

const std::string contract_skeleton = contract_body("");

}  // namespace

TEST(MailBodySplitter, KeepsTheBodyWithTheDocumentsStringEmptied) {
    const Outcome whole = split_whole(pointer("/document"), contract_body(pdf_b64));
    ASSERT_FALSE(whole.error) << whole.error->description;
    EXPECT_EQ(whole.body.skeleton, contract_skeleton);
    EXPECT_EQ(whole.document_text, pdf_b64);
    EXPECT_TRUE(whole.body.document_found);
    EXPECT_EQ(whole.body.document_bytes, pdf.size());
}

TEST(MailBodySplitter, CutsAnywhereAndByteByByteChangeNothing) {
    ASSERT_NE(pdf_b64.find('/'), std::string::npos);
    const std::string body = contract_body(php_escaped(pdf_b64));
    const Outcome whole = split_every_way(pointer("/document"), body);
    ASSERT_FALSE(whole.error) << whole.error->description;
    EXPECT_EQ(whole.body.skeleton, contract_skeleton);
    EXPECT_EQ(whole.document_text, pdf_b64);
    EXPECT_EQ(whole.body.document_bytes, pdf.size());
}

TEST(MailBodySplitter, EscapesAreReadAcrossPieces) {
    // \u00e9 in a metadata value, \/ in the document, a surrogate pair in
    // the name of the document's member, each cut in its middle.
    const BodyValue where = pointer("/\xF0\x9F\x93\xA7");
    const std::string body = R"({"subject":"\u00e9t\u00e9","\ud83d\udce7":"JVBERi0x\/\/\/\/"})";
    const std::vector<std::string_view> pieces = {
        std::string_view(body).substr(0, 16), std::string_view(body).substr(16, 22),
        std::string_view(body).substr(38, 14), std::string_view(body).substr(52)};
    ASSERT_EQ(pieces[0], R"({"subject":"\u00)");
    ASSERT_EQ(pieces[1], R"(e9t\u00e9","\ud83d\udc)");
    ASSERT_EQ(pieces[2], R"(e7":"JVBERi0x\)");
    const Outcome outcome = split(where, pieces);
    ASSERT_FALSE(outcome.error) << outcome.error->description;
    EXPECT_EQ(outcome.body.skeleton, R"({"subject":"\u00e9t\u00e9","\ud83d\udce7":""})");
    EXPECT_EQ(outcome.document_text, "JVBERi0x////");
    EXPECT_TRUE(outcome.body.document_found);
    EXPECT_EQ(outcome.body.document_bytes, 9u);
}

TEST(MailBodySplitter, MemberNamesAreComparedUnescaped) {
    const std::string b64 = base64(pdf);
    for (const auto& [where, body] : std::vector<std::pair<std::string, std::string>>{
             {"/document", R"({"docu\u006dent":")" + b64 + "\"}"},
             {"/pi\xC3\xA8"
              "ce/\xF0\x9F\x93\xA7",
              R"({"pi\u00E8ce":{"\uD83D\uDCE7":")" + b64 + "\"}}"},
             {"/pi\xC3\xA8"
              "ce",
              "{\"pi\xC3\xA8"
              "ce\":\"" +
                  b64 + "\"}"},
             {"/a~1b/c~0d", R"({"a\/b":{"c~d":")" + b64 + "\"}}"},
             {"/q\"\\", R"({"q\"\\":")" + b64 + "\"}"},
         }) {
        const Outcome outcome = split_every_way(pointer(where), body);
        ASSERT_FALSE(outcome.error) << where;
        EXPECT_TRUE(outcome.body.document_found) << where;
        EXPECT_EQ(outcome.document_text, b64) << where;
    }
}

TEST(MailBodySplitter, NamesThatOnlyLookAlikeAreKept) {
    const std::string body =
        R"({"documen":"a b","documents":"c","Document":"d","x":{"document":"e"},)"
        R"("docum\u0065nt\u0000":"f","\ud800document":"g","document\ud800":"h"})";
    const Outcome outcome = split_every_way(pointer("/document"), body);
    ASSERT_FALSE(outcome.error) << outcome.error->description;
    EXPECT_EQ(outcome.body.skeleton, body);
    EXPECT_FALSE(outcome.body.document_found);
    EXPECT_EQ(outcome.document_text, "");
}

TEST(MailBodySplitter, FindsTheDocumentThroughArrayIndexes) {
    const std::string b64 = base64(pdf);
    const Outcome outcome =
        split_every_way(pointer("/files/0/content"),
                        R"({"files":[{"name":"a.pdf","content":")" + b64 +
                            R"("},{"content":"not base64 !"}],"content":"x","id":"R1"})");
    ASSERT_FALSE(outcome.error) << outcome.error->description;
    EXPECT_EQ(outcome.body.skeleton,
              R"({"files":[{"name":"a.pdf","content":""},{"content":"not base64 !"}],)"
              R"("content":"x","id":"R1"})");
    EXPECT_EQ(outcome.document_text, b64);

    const Outcome second =
        split_every_way(pointer("/files/2"), R"({"files":["a",[["b"]],")" + b64 + R"(","c"]})");
    ASSERT_FALSE(second.error) << second.error->description;
    EXPECT_EQ(second.body.skeleton, R"({"files":["a",[["b"]],"","c"]})");
    EXPECT_EQ(second.document_text, b64);

    // As RapidJSON's pointers do, a token that is a number also names a member.
    const Outcome member =
        split_every_way(pointer("/files/0"), R"({"files":{"0":")" + b64 + R"("}})");
    EXPECT_TRUE(member.body.document_found);
}

TEST(MailBodySplitter, LeavesADocumentThatIsNotAStringInTheSkeleton) {
    for (const std::string_view body :
         {R"({"id":"R1","document":42})", R"({"document":{"document":"JVBERi0="}})",
          R"({"document":["JVBERi0="]})", R"({"document":null})", R"({"document":true})",
          R"({"id":"R1"})", R"({"id":"R1","sub":{"document":"JVBERi0="}})", R"(["JVBERi0="])"}) {
        const Outcome outcome = split_every_way(pointer("/document"), body);
        ASSERT_FALSE(outcome.error) << body;
        EXPECT_EQ(outcome.body.skeleton, body);
        EXPECT_FALSE(outcome.body.document_found) << body;
        EXPECT_EQ(outcome.document_text, "");
    }
}

TEST(MailBodySplitter, RefusesASecondValueAtThePointer) {
    const std::string doc = "\"" + base64(pdf) + "\"";
    for (const std::string& body : {R"({"document":)" + doc + R"(,"document":)" + doc + "}",
                                    R"({"document":42,"document":)" + doc + "}",
                                    R"({"document":)" + doc + R"(,"docum\u0065nt":{}})"}) {
        expect_refusal(split_whole(pointer("/document"), body), ErrorClass::invalid_parameter,
                       "the document (/document) is given more than once");
    }
}

TEST(MailBodySplitter, RefusesADocumentThatIsNotStrictBase64) {
    const std::string b64 = base64(pdf);
    for (const std::string& bad : std::vector<std::string>{
             b64.substr(0, 8) + "*" + b64.substr(9), b64.substr(0, 8) + " " + b64.substr(8),
             b64.substr(0, 8) + "\\n" + b64.substr(8), b64.substr(0, 8) + "\\u00e9" + b64.substr(8),
             b64.substr(0, 8) + "\\u0020" + b64.substr(8),
             b64.substr(0, 8) + "\\\\" + b64.substr(8),
             b64.substr(0, 8) + "\\uZZZZ" + b64.substr(8),
             b64.substr(0, 8) + "\xC3\xA9" + b64.substr(8), b64.substr(0, b64.size() - 1),
             "JVBERi0=JVBE", "JVBERi0==", "JVBERi1=", "JVBERi0x=", "JVBERi0x===="}) {
        const std::string body = R"({"document":")" + bad + R"(","id":"R1"})";
        for (const Outcome& outcome : {split_whole(pointer("/document"), body),
                                       split(pointer("/document"), bytes_of(body))}) {
            expect_refusal(outcome, ErrorClass::invalid_parameter,
                           "the document (/document) must be base64: the standard alphabet, "
                           "with '=' padding, without spaces or line breaks");
            EXPECT_EQ(outcome.error->description.find("JVBE"), std::string::npos);
        }
    }
}

TEST(MailBodySplitter, RefusesALargeDocumentAsSoonAsItPassesTheBound) {
    const Limits limits{metadata_allowance, 1024};
    const std::string fits = R"({"document":")" + base64(pdf_of_size(1024)) + "\"}";
    const Outcome accepted = split(pointer("/document"), pieces_of(fits, 100), limits);
    ASSERT_FALSE(accepted.error) << accepted.error->description;
    EXPECT_EQ(accepted.body.document_bytes, 1024u);

    // 1367 characters carry 1025 bytes: the piece holding the 1367th is refused.
    const std::string over = R"({"document":")" + base64(pdf_of_size(1025)) + "\"}";
    const std::size_t passing = std::string_view(R"({"document":")").size() + 1366;
    const Outcome refused = split(pointer("/document"), pieces_of(over, 100), limits);
    expect_refusal(refused, ErrorClass::payload_too_large,
                   "the document is larger than 1024 bytes");
    EXPECT_EQ(refused.refused_by, passing / 100);
    EXPECT_LE(refused.document_text.size(), passing);

    const std::string huge = R"({"document":")" + base64(pdf_of_size(100 * 1024)) + "\"}";
    const Outcome early = split(pointer("/document"), pieces_of(huge, 1000), limits);
    expect_refusal(early, ErrorClass::payload_too_large, "larger than 1024 bytes");
    EXPECT_EQ(early.refused_by, 1u);
}

TEST(MailBodySplitter, RefusesWhatIsNotAPdfOnceItIsCertain) {
    const BodyValue where = pointer("/document");
    const std::string words = "the document (/document) must be a PDF (its bytes start with %PDF-)";
    // "<" is the first byte of "PG…": known from the second character on.
    BodySplitter html(where, metadata_allowance, default_max_document_bytes);
    std::string text;
    EXPECT_FALSE(html.feed(R"({"document":"P)", text));
    const auto refused = html.feed("G", text);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->error, ErrorClass::invalid_parameter);
    EXPECT_EQ(refused->description, words);
    EXPECT_TRUE(std::holds_alternative<CallError>(html.finish()));

    // "%PDF" may yet go on until the string ends.
    BodySplitter short_pdf(where, metadata_allowance, default_max_document_bytes);
    EXPECT_FALSE(short_pdf.feed(R"({"document":")" + base64("%PDF"), text));
    EXPECT_TRUE(short_pdf.feed("\"", text));

    for (const std::string& document : {std::string(), base64("%PDF"), base64("x%PDF-1.7")}) {
        expect_refusal(split_whole(where, R"({"document":")" + document + "\"}"),
                       ErrorClass::invalid_parameter, words);
    }
}

TEST(MailBodySplitter, RefusesASkeletonOverItsBound) {
    const BodyValue where = pointer("/document");
    const Limits limits{64, default_max_document_bytes};
    // The document's text does not count.
    const std::string small = R"({"id":"R1","document":")" + base64(pdf_of_size(5000)) + "\"}";
    EXPECT_FALSE(split(where, pieces_of(small, 7), limits).error);

    const std::string subject = std::string(60, 's');
    const std::string large = R"({"document":"JVBERi0=","subject":")" + subject + "\"}";
    for (const Outcome& outcome :
         {split_whole(where, large, limits), split(where, bytes_of(large), limits)}) {
        expect_refusal(outcome, ErrorClass::payload_too_large,
                       "the mail without its document is larger than 64 bytes");
        EXPECT_EQ(outcome.error->description.find("sss"), std::string::npos);
    }
    EXPECT_EQ(split(where, bytes_of(large), limits).refused_by, 64u + 8u);
}

TEST(MailBodySplitter, RefusesNestingDeeperThanOtherJson) {
    const BodyValue where = pointer("/document");
    const std::string deep(100000, '[');
    for (const Outcome& outcome : {split_whole(where, deep), split(where, pieces_of(deep, 333))}) {
        expect_refusal(outcome, ErrorClass::invalid_json, "the body nests deeper than 128 levels");
    }
    std::string objects;
    for (unsigned i = 0; i < max_json_depth; ++i) {
        objects += R"({"a":)";
    }
    EXPECT_FALSE(split_whole(where, objects + "1" + std::string(max_json_depth, '}')).error);
    expect_refusal(split_whole(where, objects + "[1]"), ErrorClass::invalid_json, "deeper");
}

TEST(MailBodySplitter, SurvivesGarbage) {
    const BodyValue where = pointer("/a/0/document");
    std::uint32_t seed = 12345;
    const auto next = [&seed] {
        seed = seed * 1103515245u + 12345u;
        return seed >> 8;
    };
    const std::string_view alphabet = "{}[]\":,\\u0aZ/= \n\xC3\xA9\xFF";
    for (int round = 0; round < 2000; ++round) {
        std::string body;
        const std::size_t size = next() % 200;
        for (std::size_t i = 0; i < size; ++i) {
            body += round % 2 == 0 ? alphabet[next() % alphabet.size()]
                                   : static_cast<char>(next() & 0xFF);
        }
        std::vector<std::string_view> pieces;
        for (std::size_t at = 0; at < body.size();) {
            const std::size_t length = 1 + next() % 17;
            pieces.push_back(std::string_view(body).substr(at, length));
            at += length;
        }
        const Outcome outcome = split(where, pieces, Limits{150, 100});
        EXPECT_LE(outcome.body.skeleton.size(), 150u);
        EXPECT_LE(outcome.document_text.size(), body.size());
    }
    for (const std::string& body :
         {std::string("\"\\u"), std::string("{\"a\\"), std::string("}}]]{\"a\":[\""),
          std::string("{\"a\":[\"\\u12\"],\"document\":\"\\"), std::string("\0\0\"", 3),
          std::string("{\"\\ud800\\ud800\":1}"), std::string("{\"a\":[{\"document\":\"JVBE")}) {
        const Outcome outcome = split_every_way(where, body);
        EXPECT_FALSE(outcome.body.document_found) << body;
    }
}

TEST(MailBase64Pieces, ReadsTheSameTextWhateverItsPieces) {
    const std::string b64 = base64(pdf);
    StrictBase64 whole;
    EXPECT_TRUE(whole.read(b64));
    StrictBase64 pieces;
    for (const char c : b64) {
        EXPECT_TRUE(pieces.read(std::string_view(&c, 1)));
        EXPECT_LE(pieces.head().size(), StrictBase64::head_capacity);
    }
    EXPECT_TRUE(pieces.complete());
    EXPECT_EQ(pieces.decoded_bytes(), whole.decoded_bytes());
    EXPECT_EQ(pieces.head(), whole.head());
    EXPECT_EQ(whole.head(), pdf.substr(0, StrictBase64::head_capacity));
    StrictBase64 broken;
    EXPECT_FALSE(broken.read("TR=="));
    EXPECT_FALSE(broken.read("TQ"));
}
