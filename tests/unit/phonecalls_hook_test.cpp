// `on_call_start:` of the phonecalls kind: the hook read from the connector
// file, the demand it builds from a call, and a connector built without the
// core's services (relais validate, unit tests) that starts calls all the same.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "core/config_error.hpp"
#include "phonecalls/call_hook.hpp"
#include "phonecalls/phonecalls_connector.hpp"
#include "recording_services.hpp"

namespace relais::phonecalls {
namespace {

using namespace std::chrono_literals;
using relais::test_support::RecordingServices;

struct Loaded {
    rapidjson::Document document;
    SourceMap map{"hook.yaml"};
};

std::unique_ptr<Loaded> load(const std::string& hook_json, const std::string& slug) {
    auto loaded = std::make_unique<Loaded>();
    const std::string json = R"({"slug": ")" + slug +
                             R"(", "kind": "phonecalls", "family": "etat-civil-citoyennete",)"
                             R"( "endpoints": {"call-start": {}, "call-stop": {}, "calls": {}})" +
                             (hook_json.empty() ? std::string() : ", " + hook_json) + "}";
    loaded->document.Parse(json.c_str());
    EXPECT_FALSE(loaded->document.HasParseError());
    return loaded;
}

ConnectorSource source_of(const Loaded& loaded, const ConnectorServices* services = nullptr) {
    const auto slug = loaded.document["slug"].GetString();
    return ConnectorSource{loaded.document,          loaded.map, slug,    "phonecalls",
                           "etat-civil-citoyennete", {},         services};
}

rapidjson::Document parsed(const std::string& text) {
    rapidjson::Document document;
    document.Parse(text.c_str());
    return document;
}

HttpResponse call_start(const Connector& connector, QueryParams query, std::string body = {}) {
    boost::asio::io_context io;
    IncomingRequest request;
    request.method = body.empty() ? "GET" : "POST";
    request.query = std::move(query);
    request.body = std::move(body);
    request.request_id = "req-42";
    auto future = boost::asio::co_spawn(io, connector.handle(0, request), boost::asio::use_future);
    // Not io.run(): the connector's sweeper keeps the context busy for good.
    while (future.wait_for(0s) != std::future_status::ready) {
        io.run_one_for(50ms);
    }
    return future.get();
}

constexpr const char* hook =
    R"("on_call_start": {"formdef": "appel-entrant", "fields": {"telephone": "caller",)"
    R"( "poste": "callee", "motif": "data.reason", "dossier": "data.case"}})";

TEST(PhonecallsHook, AbsentByDefault) {
    const auto loaded = load("", "hook-none");
    EXPECT_EQ(read_call_hook(source_of(*loaded)), std::nullopt);
}

TEST(PhonecallsHook, IsRead) {
    const auto loaded = load(
        R"("on_call_start": {"formdef": "accueil-tel", "channel": "counter",)"
        R"( "fields": {"numero": "caller", "extension": "callee", "motif": "data.reason.code"}})",
        "hook-read");
    const auto read = read_call_hook(source_of(*loaded));
    ASSERT_TRUE(read);
    EXPECT_EQ(read->formdef, "accueil-tel");
    EXPECT_EQ(read->channel, "counter");
    ASSERT_EQ(read->fields.size(), 3u);
    EXPECT_EQ(read->fields[0].varname, "numero");
    EXPECT_EQ(read->fields[0].source, HookField::Source::caller);
    EXPECT_EQ(read->fields[1].source, HookField::Source::callee);
    EXPECT_EQ(read->fields[2].source, HookField::Source::data);
    EXPECT_EQ(read->fields[2].data_name, "reason.code");
}

TEST(PhonecallsHook, ChannelDefaultsToPhone) {
    const auto loaded = load(hook, "hook-default");
    EXPECT_EQ(read_call_hook(source_of(*loaded))->channel, "phone");
}

TEST(PhonecallsHook, RefusesWhatTheSchemaWouldHave) {
    const auto loaded =
        load(R"("on_call_start": {"formdef": "a", "fields": {"numero": "somewhere"}})", "hook-bad");
    EXPECT_THROW(read_call_hook(source_of(*loaded)), ConfigError);
    const auto empty = load(R"("on_call_start": {"formdef": "a", "fields": {}})", "hook-empty");
    EXPECT_THROW(read_call_hook(source_of(*empty)), ConfigError);
}

TEST(PhonecallsHook, DemandTakesTheCallsValues) {
    const auto loaded = load(hook, "hook-demand");
    const auto read = read_call_hook(source_of(*loaded));
    ASSERT_TRUE(read);
    const GruDemand demand = hook_demand(
        *read, "+33102030405", "1234", R"({"reason":"état civil","case":42,"other":"x"})", "req-1");
    EXPECT_EQ(demand.formdef, "appel-entrant");
    EXPECT_EQ(demand.channel, "phone");
    EXPECT_EQ(demand.request_id, "req-1");
    const auto data = parsed(demand.data_json);
    ASSERT_TRUE(data.IsObject()) << demand.data_json;
    EXPECT_STREQ(data["telephone"].GetString(), "+33102030405");
    EXPECT_STREQ(data["poste"].GetString(), "1234");
    EXPECT_STREQ(data["motif"].GetString(), "état civil");
    EXPECT_EQ(data["dossier"].GetInt(), 42);
    EXPECT_EQ(data.MemberCount(), 4u);
}

TEST(PhonecallsHook, MissingOrStructuredDataIsLeftOut) {
    const auto loaded = load(hook, "hook-missing");
    const auto read = read_call_hook(source_of(*loaded));
    const auto data =
        parsed(hook_demand(*read, "0102", "12", R"({"case":{"id":1}})", "r").data_json);
    EXPECT_FALSE(data.HasMember("motif"));
    EXPECT_FALSE(data.HasMember("dossier"));
    EXPECT_STREQ(data["telephone"].GetString(), "0102");
}

TEST(PhonecallsHook, CallStartOpensADemand) {
    const auto loaded = load(hook, "hook-connector");
    RecordingServices services;
    const auto connector = make_phonecalls_connector(source_of(*loaded, &services));
    const HttpResponse response =
        call_start(*connector, {{"caller", "0102030405"}, {"callee", "12"}, {"reason", "rdv"}});
    EXPECT_EQ(response.status, 200u);
    ASSERT_EQ(services.calls.size(), 1u);
    EXPECT_EQ(services.calls[0].connector, "hook-connector");
    EXPECT_EQ(services.calls[0].family, "etat-civil-citoyennete");
    EXPECT_EQ(services.calls[0].demand.request_id, "req-42");
    const auto data = parsed(services.calls[0].demand.data_json);
    EXPECT_STREQ(data["telephone"].GetString(), "0102030405");
    EXPECT_STREQ(data["motif"].GetString(), "rdv");
}

TEST(PhonecallsHook, CallStartSucceedsWhenNothingIsQueued) {
    const auto loaded = load(hook, "hook-refused");
    RecordingServices services;
    services.answer = std::nullopt;
    const auto connector = make_phonecalls_connector(source_of(*loaded, &services));
    EXPECT_EQ(call_start(*connector, {{"caller", "0102030405"}, {"callee", "12"}}).status, 200u);
    EXPECT_EQ(services.calls.size(), 1u);
}

TEST(PhonecallsHook, RefusedCallStartOpensNothing) {
    const auto loaded = load(hook, "hook-garbage");
    RecordingServices services;
    const auto connector = make_phonecalls_connector(source_of(*loaded, &services));
    EXPECT_EQ(call_start(*connector, {{"callee", "12"}}).status, 400u);
    EXPECT_TRUE(services.calls.empty());
}

TEST(PhonecallsHook, WithoutServicesCallsStartAllTheSame) {
    const auto loaded = load(hook, "hook-validate");
    const auto connector = make_phonecalls_connector(source_of(*loaded));
    EXPECT_EQ(call_start(*connector, {{"caller", "0102030405"}, {"callee", "12"}}).status, 200u);
}

}  // namespace
}  // namespace relais::phonecalls
