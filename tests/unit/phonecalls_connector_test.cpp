// The phonecalls connector as the core sees it: settings read from the
// connector file, routes and methods, the stream's response, and call
// books carried across a rebuild of the connector (a reload).
#include "phonecalls/phonecalls_connector.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "core/connector.hpp"
#include "core/response_stream.hpp"
#include "phonecalls/call_book_registry.hpp"

namespace relais::phonecalls {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t call_start = 0;
constexpr std::size_t call_stop = 1;
constexpr std::size_t calls = 2;

struct Loaded {
    rapidjson::Document document;
    SourceMap map{"test.yaml"};
};

std::unique_ptr<Loaded> load(const std::string& settings_json) {
    auto loaded = std::make_unique<Loaded>();
    const std::string json =
        R"({"slug": "s", "kind": "phonecalls", "family": "etat-civil-citoyennete",)"
        R"( "endpoints": {"call-start": {}, "call-stop": {}, "calls": {}})" +
        (settings_json.empty() ? std::string() : ", " + settings_json) + "}";
    loaded->document.Parse(json.c_str());
    EXPECT_FALSE(loaded->document.HasParseError());
    loaded->map.add("/retention", SourcePosition{7, 12});
    return loaded;
}

/// The family of the connectors built here.
constexpr const char* family = "etat-civil-citoyennete";

ConnectorSource source_of(const Loaded& loaded, const std::string& slug) {
    return ConnectorSource{loaded.document, loaded.map, slug, "phonecalls", family, {}};
}

HttpResponse call(boost::asio::io_context& io, const Connector& connector, std::size_t endpoint,
                  IncomingRequest request) {
    auto future =
        boost::asio::co_spawn(io, connector.handle(endpoint, request), boost::asio::use_future);
    io.restart();
    // Not io.run(): the connector's sweeper keeps the context busy for good.
    while (future.wait_for(0s) != std::future_status::ready) {
        io.run_one_for(50ms);
    }
    return future.get();
}

IncomingRequest get(QueryParams query, std::string rest = {}) {
    IncomingRequest r;
    r.method = "GET";
    r.query = std::move(query);
    r.rest = std::move(rest);
    return r;
}

TEST(PhonecallsConnector, SettingsHaveDefaults) {
    const auto loaded = load("");
    EXPECT_EQ(read_settings(source_of(*loaded, "s")), (Settings{2h, 10min, 10000, 2000, 15s}));
}

TEST(PhonecallsConnector, SettingsAreRead) {
    const auto loaded =
        load(R"("max_call_duration": "90m", "retention": "1s", "max_calls": 5, "max_streams": 7,)"
             R"( "heartbeat": "250ms")");
    EXPECT_EQ(read_settings(source_of(*loaded, "s")), (Settings{90min, 1s, 5, 7, 250ms}));
}

TEST(PhonecallsConnector, RetentionOverADayIsRefusedWhereItIsWritten) {
    const auto loaded = load(R"("retention": "25h")");
    try {
        read_settings(source_of(*loaded, "s"));
        FAIL() << "accepted";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.position().line, 7);
        EXPECT_EQ(e.message(), "retention must be at most 24h: ended calls are kept for minutes");
    }
}

TEST(PhonecallsConnector, OutOfRangeDurationsAreRefused) {
    for (const char* json : {R"("max_call_duration": "0s")", R"("max_call_duration": "25h")",
                             R"("heartbeat": "10ms")", R"("heartbeat": "1h")"}) {
        const auto loaded = load(json);
        EXPECT_THROW(read_settings(source_of(*loaded, "s")), ConfigError) << json;
    }
}

TEST(PhonecallsConnector, EndpointsAreFixedAndPersonal) {
    const auto loaded = load("");
    const auto connector = make_phonecalls_connector(source_of(*loaded, "unit-endpoints"));
    const auto endpoints = connector->endpoints();
    ASSERT_EQ(endpoints.size(), 3u);
    EXPECT_EQ(endpoints[call_start].name, "call-start");
    EXPECT_EQ(endpoints[call_stop].name, "call-stop");
    EXPECT_EQ(endpoints[calls].name, "calls");
    for (const auto& e : endpoints) {
        EXPECT_TRUE(e.personal_data);
        EXPECT_FALSE(e.async);
    }
}

TEST(PhonecallsConnector, RoundTripThroughHandle) {
    boost::asio::io_context io;
    const auto loaded = load("");
    const auto connector = make_phonecalls_connector(source_of(*loaded, "unit-round-trip"));
    IncomingRequest start = get({{"caller", "0612345678"}, {"callee", "1001"}});
    start.method = "POST";
    start.body = R"({"ticket": 12})";
    HttpResponse r = call(io, *connector, call_start, start);
    EXPECT_EQ(r.status, 200u);
    EXPECT_NE(r.body.find(R"("data":{"ticket":12})"), std::string::npos) << r.body;

    r = call(io, *connector, calls, get({{"callee", "1001"}}));
    EXPECT_EQ(r.status, 200u);
    EXPECT_NE(r.body.find(R"("current":[{"caller":"0612345678")"), std::string::npos) << r.body;

    r = call(io, *connector, call_stop, get({{"caller", "0612345678"}, {"callee", "1001"}}));
    EXPECT_EQ(r.status, 200u);
    EXPECT_NE(r.body.find(R"("end":"20)"), std::string::npos) << r.body;

    r = call(io, *connector, call_stop, get({{"caller", "0612345678"}, {"callee", "1001"}}));
    EXPECT_EQ(r.body, R"({"err":0,"data":null})");
}

TEST(PhonecallsConnector, RefusalsCarryTheirClass) {
    boost::asio::io_context io;
    const auto loaded = load("");
    const auto connector = make_phonecalls_connector(source_of(*loaded, "unit-refusals"));
    EXPECT_EQ(call(io, *connector, call_start, get({{"callee", "1001"}})).error,
              ErrorClass::missing_parameter);
    IncomingRequest put = get({{"caller", "1"}, {"callee", "2"}});
    put.method = "PUT";
    const HttpResponse refused = call(io, *connector, call_start, put);
    EXPECT_EQ(refused.error, ErrorClass::method_not_allowed);
    ASSERT_EQ(refused.headers.size(), 1u);
    EXPECT_EQ(refused.headers[0].value, "GET, POST");
    EXPECT_EQ(call(io, *connector, calls, get({{"callee", "1001"}}, "other")).error,
              ErrorClass::not_found);
    EXPECT_EQ(call(io, *connector, call_stop, get({{"caller", "1"}, {"callee", "2"}}, "x")).error,
              ErrorClass::not_found);
    EXPECT_EQ(call(io, *connector, calls, get({{"callee", "1001"}, {"limit", "500"}})).error,
              ErrorClass::invalid_parameter);
}

TEST(PhonecallsConnector, StreamStartsWithTheSnapshot) {
    boost::asio::io_context io;
    const auto loaded = load(R"("max_streams": 1)");
    const auto connector = make_phonecalls_connector(source_of(*loaded, "unit-stream"));
    call(io, *connector, call_start, get({{"caller", "0612345678"}, {"callee", "1001"}}));
    const HttpResponse r = call(io, *connector, calls, get({{"callee", "1001"}}, "stream"));
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.content_type, "text/event-stream");
    ASSERT_NE(r.stream, nullptr);
    ASSERT_EQ(r.headers.size(), 2u);
    EXPECT_EQ(r.headers[0].name, "Cache-Control");
    EXPECT_EQ(r.headers[0].value, "no-store");
    EXPECT_EQ(r.headers[1].name, "X-Accel-Buffering");
    EXPECT_EQ(r.headers[1].value, "no");
    EXPECT_EQ(r.body.rfind("retry: 3000\n\nevent: calls\ndata: {\"current\":[{\"caller\":", 0), 0u)
        << r.body;

    const HttpResponse second = call(io, *connector, calls, get({{"callee", "1002"}}, "stream"));
    EXPECT_EQ(second.status, 503u);
    EXPECT_EQ(second.error, ErrorClass::overloaded);
    r.stream->stop();
}

TEST(PhonecallsConnector, RegistryAdoptsTheLiveBookAsItIs) {
    Settings first;
    first.max_streams = 5;
    const auto book = adopt_call_book("unit-adopt", family, first);
    Settings second;
    second.max_streams = 9;
    const auto again = adopt_call_book("unit-adopt", family, second);
    EXPECT_EQ(again, book);
    EXPECT_EQ(book->settings().max_streams, 5u);
    const auto other = adopt_call_book("unit-adopt-other", family, second);
    EXPECT_NE(other, book);
    EXPECT_EQ(other->settings().max_streams, 9u);
    // The same slug in another family (a reload that changed it) has a book
    // of its own: a number must not cross from one family to another.
    const auto moved = adopt_call_book("unit-adopt", "travail-social", second);
    EXPECT_NE(moved, book);
    EXPECT_EQ(moved->size(), 0u);
}

TEST(PhonecallsConnector, NewSettingsApplyAtTheFirstRequest) {
    boost::asio::io_context io;
    const auto loaded = load(R"("max_calls": 5)");
    const auto before = make_phonecalls_connector(source_of(*loaded, "unit-apply"));
    call(io, *before, calls, get({{"callee", "1001"}}));
    const auto book = adopt_call_book("unit-apply", family, Settings{});
    EXPECT_EQ(book->settings().max_calls, 5u);

    // A reload builds the next connector, then may still be refused.
    const auto changed = load(R"("max_calls": 1, "retention": "0s")");
    const auto refused = make_phonecalls_connector(source_of(*changed, "unit-apply"));
    EXPECT_EQ(book->settings().max_calls, 5u);
    EXPECT_EQ(book->settings().retention, 10min);
    call(io, *before, calls, get({{"callee", "1001"}}));
    EXPECT_EQ(book->settings().max_calls, 5u);

    call(io, *refused, calls, get({{"callee", "1001"}}));
    EXPECT_EQ(book->settings().max_calls, 1u);
    EXPECT_EQ(book->settings().retention, 0ms);
}

TEST(PhonecallsConnector, ActivationAppliesTheSettingsWithoutARequest) {
    const auto loaded = load(R"("max_calls": 5)");
    const auto before = make_phonecalls_connector(source_of(*loaded, "unit-activate"));
    before->activate();
    const auto book = adopt_call_book("unit-activate", family, Settings{});
    EXPECT_EQ(book->settings().max_calls, 5u);
    const auto changed = load(R"("retention": "0s")");
    const auto next = make_phonecalls_connector(source_of(*changed, "unit-activate"));
    EXPECT_EQ(book->settings().retention, 10min);
    // The core installed the new configuration: the sweeper must not wait
    // for a request to forget ended calls sooner.
    next->activate();
    EXPECT_EQ(book->settings().retention, 0ms);
    next->activate();  // once only
    EXPECT_EQ(book->settings().retention, 0ms);
}

TEST(PhonecallsConnector, AnOlderConnectorServingLastKeepsTheNewSettings) {
    boost::asio::io_context io;
    const auto loaded = load(R"("max_calls": 5)");
    const auto older = make_phonecalls_connector(source_of(*loaded, "unit-late"));
    const auto changed = load(R"("max_calls": 2)");
    const auto newer = make_phonecalls_connector(source_of(*changed, "unit-late"));
    call(io, *newer, calls, get({{"callee", "1001"}}));
    call(io, *older, calls, get({{"callee", "1001"}}));
    EXPECT_EQ(adopt_call_book("unit-late", family, Settings{})->settings().max_calls, 2u);
}

TEST(PhonecallsConnector, ExtraQueryParametersAndBodyAreTheData) {
    boost::asio::io_context io;
    const auto loaded = load("");
    const auto connector = make_phonecalls_connector(source_of(*loaded, "unit-extra"));
    IncomingRequest start =
        get({{"caller", "0612345678"}, {"callee", "1001"}, {"name", "q"}, {"queue", "accueil"}});
    start.method = "POST";
    start.body = R"({"name": "Dupont"})";
    HttpResponse r = call(io, *connector, call_start, start);
    EXPECT_NE(r.body.find(R"("data":{"queue":"accueil","name":"Dupont"})"), std::string::npos)
        << r.body;
    start.query.emplace_back("bad name", "x");
    r = call(io, *connector, call_start, start);
    EXPECT_EQ(r.error, ErrorClass::invalid_parameter);
}

TEST(PhonecallsConnector, RefusedCallStartWithAStreamOpenChangesNothing) {
    using namespace std::string_literals;
    boost::asio::io_context io;
    const auto loaded = load("");
    const auto connector = make_phonecalls_connector(source_of(*loaded, "unit-nul"));
    const HttpResponse stream = call(io, *connector, calls, get({{"callee", "1001"}}, "stream"));
    ASSERT_NE(stream.stream, nullptr);
    for (const std::string& body : {"{}\0"s, "{\"a\":1}\0\n{\"b\":\"\n\"}"s, "{} {}"s}) {
        IncomingRequest start = get({{"caller", "0612345678"}, {"callee", "1001"}});
        start.method = "POST";
        start.body = body;
        EXPECT_EQ(call(io, *connector, call_start, start).error, ErrorClass::invalid_json);
    }
    const HttpResponse listed = call(io, *connector, calls, get({{"callee", "1001"}}));
    EXPECT_EQ(listed.body, R"({"err":0,"data":{"current":[],"past":[]}})");
    IncomingRequest start = get({{"caller", "0612345678"}, {"callee", "1001"}, {"n", "1"}});
    EXPECT_EQ(call(io, *connector, call_start, start).status, 200u);
    const HttpResponse after = call(io, *connector, calls, get({{"callee", "1001"}}));
    EXPECT_NE(after.body.find(R"("data":{"n":"1"})"), std::string::npos) << after.body;
    EXPECT_EQ(adopt_call_book("unit-nul", family, Settings{})->open_streams(), 1u);
    stream.stream->stop();
}

TEST(PhonecallsConnector, RegistryStartsAfreshOnceTheBookIsGone) {
    std::weak_ptr<CallBook> old = adopt_call_book("unit-fresh", family, Settings{});
    EXPECT_TRUE(old.expired());
    auto book = adopt_call_book("unit-fresh", family, Settings{});
    book->start("0612345678", "1001", "{}", Instant::now());
    book.reset();
    EXPECT_EQ(adopt_call_book("unit-fresh", family, Settings{})->size(), 0u);
}

TEST(PhonecallsConnector, CallsSurviveARebuildOfTheSameSlug) {
    boost::asio::io_context io;
    const auto loaded = load("");
    auto before = make_phonecalls_connector(source_of(*loaded, "unit-reload"));
    call(io, *before, call_start, get({{"caller", "0612345678"}, {"callee", "1001"}}));
    const auto changed = load(R"("max_calls": 3)");
    auto after = make_phonecalls_connector(source_of(*changed, "unit-reload"));
    before.reset();
    const HttpResponse r = call(io, *after, calls, get({{"callee", "1001"}}));
    EXPECT_NE(r.body.find("0612345678"), std::string::npos) << r.body;
    EXPECT_EQ(adopt_call_book("unit-reload", family, Settings{})->size(), 1u);
}

}  // namespace
}  // namespace relais::phonecalls
