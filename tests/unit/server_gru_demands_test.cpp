// GruDemands, the daemon's ConnectorServices: nothing is queued unbound or
// without `gru:`; bound, a demand is sealed in the outbox as a `demand`
// message and the delivery engine is woken.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sqlite3.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "delivery/envelope.hpp"
#include "outbox/outbox.hpp"
#include "outbox_test_support.hpp"
#include "server/gru_demands.hpp"
#include "upstream_test_support.hpp"

namespace relais::server {
namespace {

using namespace std::chrono_literals;

constexpr const char* family = "travail-social";
constexpr const char* canary = "+33999000111-canary";

template <typename T>
T wait_for(boost::asio::awaitable<T> task) {
    boost::asio::io_context io;
    return upstream::testing::run_on(io, std::move(task));
}

GruSettings gru_settings() {
    GruSettings gru;
    gru.url = "https://demarches.example.org/";
    gru.orig = "relais.test";
    gru.key = "secret";
    return gru;
}

GruDemand phone_demand() {
    return {"appel-entrant", std::string(R"({"telephone":")") + canary + R"("})", "phone", "req-7",
            ""};
}

class GruDemandsTest : public ::testing::Test {
protected:
    GruDemandsTest() {
        settings.poll_interval = 20ms;
        store.emplace(dir.path() / "outbox", outbox::testing::random_key(), settings);
    }

    std::optional<std::string> submit(const ConnectorServices& services, GruDemand demand) {
        return wait_for(services.submit_demand("accueil", family, std::move(demand)));
    }

    void bind(std::optional<GruSettings> gru) {
        demands.bind(
            *store, [this] { ++wakes; }, [gru] { return gru; });
    }

    outbox::testing::TempDir dir;
    OutboxSettings settings;
    std::optional<outbox::Outbox> store;
    GruDemands demands;
    std::atomic<int> wakes{0};
};

TEST_F(GruDemandsTest, UnboundQueuesNothing) {
    EXPECT_EQ(submit(demands, phone_demand()), std::nullopt);
    bind(gru_settings());
    demands.unbind();
    EXPECT_EQ(submit(demands, phone_demand()), std::nullopt);
    EXPECT_EQ(wakes, 0);
    EXPECT_TRUE(store->families().empty());
}

TEST_F(GruDemandsTest, WithoutGruQueuesNothing) {
    bind(std::nullopt);
    EXPECT_EQ(submit(demands, phone_demand()), std::nullopt);
    EXPECT_EQ(wakes, 0);
    EXPECT_TRUE(store->families().empty());
}

TEST_F(GruDemandsTest, InvalidDemandsAreRefused) {
    bind(gru_settings());
    auto demand = phone_demand();
    demand.formdef = "../admin";
    EXPECT_EQ(submit(demands, demand), std::nullopt);
    demand = phone_demand();
    demand.data_json = "[]";
    EXPECT_EQ(submit(demands, demand), std::nullopt);
    demand = phone_demand();
    demand.reference = "GEC\n42";
    EXPECT_EQ(submit(demands, demand), std::nullopt);
    EXPECT_EQ(wakes, 0);
}

TEST_F(GruDemandsTest, AReferenceIsSubmittedOnce) {
    bind(gru_settings());
    auto demand = phone_demand();
    demand.reference = "GEC-2026-0042";
    const auto first = submit(demands, demand);
    ASSERT_TRUE(first);
    EXPECT_EQ(submit(demands, demand), first);
    demand.reference = "GEC-2026-0043";
    const auto other = submit(demands, demand);
    ASSERT_TRUE(other);
    EXPECT_NE(other, first);

    const std::vector<std::string> none;
    const auto due = wait_for(store->due(family, "accueil", outbox::Kind::demand, 10, none));
    ASSERT_EQ(due.size(), 2u);
    const auto envelope = delivery::decode_demand(due[0].payload);
    ASSERT_TRUE(envelope);
    EXPECT_EQ(envelope->reference,
              due[0].info.tracking_id == *first ? "GEC-2026-0042" : "GEC-2026-0043");
    store.reset();
    EXPECT_FALSE(outbox::testing::any_file_contains(dir.path(), "GEC-2026-0042"));
}

TEST_F(GruDemandsTest, QueuesASealedDemandAndWakesTheEngine) {
    bind(gru_settings());
    const auto tracking_id = submit(demands, phone_demand());
    ASSERT_TRUE(tracking_id);
    EXPECT_EQ(wakes, 1);

    const auto info = wait_for(store->find(family, *tracking_id));
    ASSERT_TRUE(info);
    EXPECT_EQ(info->kind, outbox::Kind::demand);
    EXPECT_EQ(outbox::name(info->kind), "demand");
    EXPECT_EQ(info->connector, "accueil");
    EXPECT_EQ(info->endpoint, "appel-entrant");
    EXPECT_EQ(info->request_id, "req-7");
    EXPECT_EQ(info->state, outbox::State::pending);

    const std::vector<std::string> none;
    const auto due = wait_for(store->due(family, "accueil", outbox::Kind::demand, 10, none));
    ASSERT_EQ(due.size(), 1u);
    const auto envelope = delivery::decode_demand(due[0].payload);
    ASSERT_TRUE(envelope);
    EXPECT_EQ(envelope->url, "https://demarches.example.org/api/formdefs/appel-entrant/submit");
    EXPECT_EQ(envelope->body, std::string(R"({"data":{"telephone":")") + canary +
                                  R"("},"context":{"channel":"phone"}})");
    // Other kinds do not see it.
    EXPECT_TRUE(wait_for(store->due(family, "accueil", outbox::Kind::trigger, 10, none)).empty());

    store.reset();
    EXPECT_FALSE(outbox::testing::any_file_contains(dir.path(), canary));
}

/// `bytes` bytes of text holding the canary, as a document's base64 would.
std::string document_text(std::size_t bytes) {
    std::string text;
    while (text.size() < bytes) {
        text += canary;
    }
    text.resize(bytes);
    return text;
}

/// Writes `text` in pieces of `step` bytes and finishes the document.
std::optional<StoredDocument> store_document(DocumentWriter& writer, const std::string& text,
                                             std::size_t step) {
    for (std::size_t at = 0; at < text.size(); at += step) {
        EXPECT_TRUE(wait_for(writer.write(std::string_view(text).substr(at, step))));
    }
    return wait_for(writer.finish());
}

TEST_F(GruDemandsTest, ADocumentIsStoredInSealedPiecesAndCarriedByItsDemand) {
    EXPECT_EQ(demands.open_document(family), nullptr);
    bind(gru_settings());
    EXPECT_EQ(demands.open_document("Not A Family"), nullptr);
    const auto writer = demands.open_document(family);
    ASSERT_NE(writer, nullptr);
    const std::string text = document_text(600 * 1024);
    const auto stored = store_document(*writer, text, 100'000);
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->bytes, text.size());

    GruDemand demand = phone_demand();
    demand.data_json = R"({"courrier":{"b64_content":""}})";
    demand.document = stored;
    demand.document_at = demand.data_json.find(R"("")") + 1;
    const auto tracking_id = submit(demands, demand);
    ASSERT_TRUE(tracking_id);

    const std::vector<std::string> none;
    const auto due = wait_for(store->due(family, "accueil", outbox::Kind::demand, 10, none));
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].document, stored->id);
    EXPECT_EQ(due[0].document_bytes, text.size());
    const auto envelope = delivery::decode_demand(due[0].payload);
    ASSERT_TRUE(envelope);
    ASSERT_TRUE(envelope->document_at);
    std::string body = envelope->body;
    std::string read_back;
    for (std::uint64_t seq = 0;; ++seq) {
        const auto piece = wait_for(store->read_piece(family, stored->id, seq));
        if (!piece) {
            break;
        }
        EXPECT_LE(piece->size(), 256u * 1024);
        read_back += *piece;
    }
    EXPECT_EQ(read_back, text);
    body.insert(*envelope->document_at, read_back);
    rapidjson::Document parsed;
    parsed.Parse(body.c_str(), body.size());
    ASSERT_FALSE(parsed.HasParseError()) << body.substr(0, 80);
    EXPECT_EQ(parsed["data"]["courrier"]["b64_content"].GetStringLength(), text.size());

    store.reset();
    EXPECT_FALSE(outbox::testing::any_file_contains(dir.path(), canary));
}

TEST_F(GruDemandsTest, ADocumentNoDemandTakesIsDropped) {
    bind(gru_settings());
    const auto discarded = demands.open_document(family);
    const auto refused = demands.open_document(family);
    ASSERT_NE(discarded, nullptr);
    ASSERT_NE(refused, nullptr);
    const std::string text = document_text(300 * 1024);
    EXPECT_TRUE(wait_for(discarded->write(text)));
    wait_for([](DocumentWriter& writer) -> boost::asio::awaitable<bool> {
        co_await writer.discard();
        co_return true;
    }(*discarded));
    const auto stored = store_document(*refused, text, text.size());
    ASSERT_TRUE(stored);
    // A demand that cannot be queued drops the document it carries.
    GruDemand demand = phone_demand();
    demand.formdef = "Not A Form";
    demand.document = stored;
    EXPECT_EQ(submit(demands, demand), std::nullopt);
    EXPECT_EQ(wait_for(store->read_piece(family, stored->id, 0)), std::nullopt);
    // Nothing of either document is left, not even sealed.
    store.reset();
    sqlite3* db = nullptr;
    ASSERT_EQ(
        sqlite3_open((dir.path() / "outbox" / (std::string(family) + ".sqlite")).c_str(), &db),
        SQLITE_OK);
    sqlite3_stmt* count = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM document_pieces", -1, &count, nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(count), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(count, 0), 0);
    sqlite3_finalize(count);
    sqlite3_close(db);
}

TEST(ConnectorSourceTest, ServicesDefaultToNone) {
    const rapidjson::Value document;
    const SourceMap locations;
    const ConnectorSource source{document, locations, "slug", "kind", "family", "/tmp"};
    EXPECT_EQ(source.services, nullptr);
}

}  // namespace
}  // namespace relais::server
