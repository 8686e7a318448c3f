// The core's part of async delivery in configuration: relais.yaml `outbox:`
// and `gru:`, connector `delivery:` and `callbacks:`, and the routes the
// core adds to a connector.
#include <gtest/gtest.h>

#include "../fixtures/config/config_test_support.hpp"
#include "core/runtime.hpp"

namespace relais {
namespace {

using Lines = std::vector<std::string>;

constexpr std::string_view gru = R"(gru:
  url: https://demarches.example.org
  orig: relais.example.org
  key: gru-key
)";

constexpr std::string_view pushing = R"(slug: urba
kind: test-config
family: economie-urbanisme
delivery: {max_attempts: 3, max_age: 2h, initial_backoff: 250ms, max_backoff: 1m, concurrency: 2}
callbacks:
  reference: /id
  fields: [decision_date]
  statuses:
    accepted: {trigger: accepte, terminal: true}
    received: {trigger: recu}
endpoints:
  submit: {method: POST, async: true}
  lookup: {}
)";

TEST(ConfigDelivery, DefaultsWithoutSections) {
    test::TempDir dir;
    dir.write("connectors/a.yaml",
              "slug: a\nkind: test-config\nfamily: sante\nendpoints: {e: {}}\n");
    const auto runtime = load_runtime(dir.write("relais.yaml", test::relais_yaml()));
    const RelaisConfig& config = runtime->config();
    EXPECT_FALSE(config.outbox.key);
    EXPECT_EQ(config.outbox.retention, std::chrono::hours(168));
    EXPECT_EQ(config.outbox.dead_letter_retention, std::chrono::hours(72));
    EXPECT_EQ(config.outbox.correlation_retention, std::chrono::hours(720));
    EXPECT_EQ(config.outbox.poll_interval, std::chrono::seconds(1));
    EXPECT_FALSE(config.gru);
    const ConnectorEntry& entry = *runtime->find("test-config", "a");
    EXPECT_FALSE(entry.has_async);
    EXPECT_FALSE(entry.callbacks);
    EXPECT_TRUE(entry.core_routes.empty());
    EXPECT_EQ(entry.delivery.max_attempts, 20U);
    EXPECT_EQ(entry.delivery.concurrency, 4U);
}

TEST(ConfigDelivery, EverySectionIsTyped) {
    test::TempDir dir;
    test::ScopedEnv key("RELAIS_TEST_OUTBOX_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
    dir.write("connectors/urba.yaml", pushing);
    const auto runtime = load_runtime(dir.write("relais.yaml", test::relais_yaml(R"(outbox:
  key: "${env:RELAIS_TEST_OUTBOX_KEY}"
  retention: 48h
  dead_letter_retention: 2s
  correlation_retention: 10m
  sweep_interval: 50ms
  poll_interval: 20ms
)" + std::string(gru))));
    const RelaisConfig& config = runtime->config();
    ASSERT_TRUE(config.outbox.key);
    EXPECT_EQ(config.outbox.retention, std::chrono::hours(48));
    EXPECT_EQ(config.outbox.dead_letter_retention, std::chrono::seconds(2));
    EXPECT_EQ(config.outbox.correlation_retention, std::chrono::minutes(10));
    EXPECT_EQ(config.outbox.sweep_interval, std::chrono::milliseconds(50));
    EXPECT_EQ(config.outbox.poll_interval, std::chrono::milliseconds(20));
    ASSERT_TRUE(config.gru);
    // A base URL is cut at a path boundary, so that no other host matches it.
    EXPECT_EQ(config.gru->url, "https://demarches.example.org/");
    EXPECT_EQ(config.gru->orig, "relais.example.org");
    EXPECT_EQ(config.gru->algorithm, "sha256");

    const ConnectorEntry& entry = *runtime->find("test-config", "urba");
    EXPECT_TRUE(entry.has_async);
    EXPECT_EQ(entry.delivery.max_attempts, 3U);
    EXPECT_EQ(entry.delivery.max_age, std::chrono::hours(2));
    EXPECT_EQ(entry.delivery.initial_backoff, std::chrono::milliseconds(250));
    EXPECT_EQ(entry.delivery.max_backoff, std::chrono::minutes(1));
    EXPECT_EQ(entry.delivery.concurrency, 2U);
    ASSERT_TRUE(entry.callbacks);
    EXPECT_EQ(entry.callbacks->endpoint, "status");
    EXPECT_EQ(entry.callbacks->demand_parameter, "form_url");
    EXPECT_EQ(entry.callbacks->reference_pointer, "/id");
    EXPECT_EQ(entry.callbacks->fields, std::vector<std::string>{"decision_date"});
    ASSERT_EQ(entry.callbacks->statuses.size(), 2U);
    EXPECT_EQ(entry.callbacks->statuses.at("accepted").trigger, "accepte");
    EXPECT_TRUE(entry.callbacks->statuses.at("accepted").terminal);
    EXPECT_FALSE(entry.callbacks->statuses.at("received").terminal);
    // The core's routes follow the connector's endpoints.
    EXPECT_EQ(entry.core_routes, (std::vector<std::string>{"deliveries", "status", "soap"}));
    EXPECT_EQ(entry.endpoint_index.at("deliveries"), 2U);
    EXPECT_EQ(entry.endpoint_index.at("status"), 3U);
    EXPECT_EQ(entry.endpoint_index.at("soap"), 4U);
    EXPECT_FALSE(entry.demands);
}

TEST(ConfigDelivery, DemandsAreTyped) {
    test::TempDir dir;
    // No async endpoint: the correlations of the reports come from the
    // demands the business application opens itself.
    dir.write("connectors/voirie.yaml", R"(slug: voirie
kind: test-config
family: polices-voirie
demands:
  endpoint: signalements
  formdef: signalement-voirie
  channel: web
  fields: [adresse, description]
callbacks:
  reference: /id
  statuses: {done: {trigger: fini, terminal: true}}
endpoints:
  lookup: {}
)");
    dir.write("connectors/minimal.yaml", R"(slug: minimal
kind: test-config
family: polices-voirie
demands: {formdef: f}
endpoints: {lookup: {}}
)");
    const auto runtime = load_runtime(dir.write("relais.yaml", test::relais_yaml(gru)));
    const ConnectorEntry& entry = *runtime->find("test-config", "voirie");
    ASSERT_TRUE(entry.demands);
    EXPECT_EQ(entry.demands->endpoint, "signalements");
    EXPECT_EQ(entry.demands->formdef, "signalement-voirie");
    EXPECT_EQ(entry.demands->channel, "web");
    EXPECT_EQ(entry.demands->fields, (std::vector<std::string>{"adresse", "description"}));
    EXPECT_FALSE(entry.has_async);
    EXPECT_EQ(entry.core_routes, (std::vector<std::string>{"status", "signalements", "soap"}));
    EXPECT_EQ(entry.endpoint_index.at("soap"), 3U);

    const ConnectorEntry& minimal = *runtime->find("test-config", "minimal");
    ASSERT_TRUE(minimal.demands);
    EXPECT_EQ(minimal.demands->endpoint, "demands");
    EXPECT_EQ(minimal.demands->channel, "");
    EXPECT_TRUE(minimal.demands->fields.empty());
    EXPECT_EQ(minimal.core_routes, (std::vector<std::string>{"demands", "soap"}));
}

TEST(ConfigDelivery, DemandErrorsPointAtTheirLine) {
    test::TempDir dir;
    dir.write("connectors/a-no-gru.yaml", R"(slug: a
kind: test-config
family: sante
demands:
  formdef: signalement
endpoints: {e: {}}
)");
    dir.write("connectors/b-collisions.yaml", R"(slug: b
kind: test-config
family: sante
callbacks:
  endpoint: soap
  reference: /id
  statuses: {done: {trigger: fini}}
demands:
  endpoint: e
  formdef: signalement
endpoints:
  e: {}
  soap: {}
)");
    dir.write("connectors/c-same-route.yaml", R"(slug: c
kind: test-config
family: sante
callbacks:
  reference: /id
  statuses: {done: {trigger: fini}}
demands: {endpoint: status, formdef: signalement}
endpoints: {e: {}}
)");
    dir.write("connectors/d-schema.yaml", R"(slug: d
kind: test-config
family: sante
demands:
  formdef: Signalement Voirie
  channel: 9web
  fields: [adresse, "tel/fixe"]
  form: x
endpoints: {e: {}}
)");
    EXPECT_EQ(test::runtime_errors(dir.write("relais.yaml", test::relais_yaml())),
              (Lines{
                  "a-no-gru.yaml:5:3: demands: need a gru: section in relais.yaml (the GRU core "
                  "the demands are opened in)",
                  "b-collisions.yaml:5:3: callbacks: need a gru: section in relais.yaml (the GRU "
                  "core the statuses are relayed to)",
                  "b-collisions.yaml:5:13: callbacks.endpoint: 'soap' is already a route of this "
                  "connector; name the endpoint otherwise",
                  "b-collisions.yaml:9:3: demands: need a gru: section in relais.yaml (the GRU "
                  "core the demands are opened in)",
                  "b-collisions.yaml:9:13: demands.endpoint: 'e' is already a route of this "
                  "connector; name the endpoint otherwise",
                  "b-collisions.yaml:13:9: endpoint 'soap': the name is taken by relais's SOAP "
                  "service on connectors with callbacks: or demands:",
                  "c-same-route.yaml:5:3: callbacks: need a gru: section in relais.yaml (the GRU "
                  "core the statuses are relayed to)",
                  "c-same-route.yaml:7:10: demands: need a gru: section in relais.yaml (the GRU "
                  "core the demands are opened in)",
                  "c-same-route.yaml:7:21: demands.endpoint: 'status' is already a route of this "
                  "connector; name the endpoint otherwise",
                  "d-schema.yaml:5:12: demands.formdef: expected a string matching "
                  "^[a-z0-9][a-z0-9_-]{0,63}$",
                  "d-schema.yaml:6:12: demands.channel: expected a string matching "
                  "^[a-z][a-z0-9_-]{0,31}$",
                  "d-schema.yaml:7:21: demands.fields[1]: expected a string matching "
                  "^[A-Za-z0-9_-]{1,64}$",
                  "d-schema.yaml:8:3: demands: unknown property 'form' (expected one of: "
                  "endpoint, formdef, channel, fields)",
              }));
}

TEST(ConfigDelivery, ClientsCanBeGrantedTheCoreRoutes) {
    test::TempDir dir;
    dir.write("connectors/urba.yaml", pushing);
    const Lines errors = test::runtime_errors(dir.write("relais.yaml", test::relais_yaml(R"(clients:
  urba-app:
    apikey: k1
    families: [economie-urbanisme]
    grants: {urba: [status]}
  wcs:
    apikey: k2
    families: [economie-urbanisme]
    grants: {urba: [submit, deliveries]}
)" + std::string(gru))));
    EXPECT_TRUE(errors.empty()) << errors.front();
}

TEST(ConfigDelivery, SemanticErrorsPointAtTheirLine) {
    test::TempDir dir;
    dir.write("connectors/a-no-async.yaml", R"(slug: a
kind: test-config
family: sante
callbacks:
  reference: /id
  statuses: {done: {trigger: fini}}
endpoints: {e: {}}
)");
    dir.write("connectors/b-collision.yaml", R"(slug: b
kind: test-config
family: sante
callbacks:
  endpoint: e
  reference: /id
  fields: [status, note]
  statuses: {done: {trigger: fini}}
endpoints:
  e: {async: true}
  deliveries: {}
)");
    dir.write("connectors/c-backoff.yaml", R"(slug: c
kind: test-config
family: sante
delivery: {initial_backoff: 2m, max_backoff: 1m}
endpoints: {e: {async: true}}
)");
    dir.write("connectors/d-schema.yaml", R"(slug: d
kind: test-config
family: sante
delivery: {max_attempts: 0, retry: always}
callbacks: {reference: id, statuses: {}}
endpoints: {e: {async: true}}
)");
    const Lines connector_errors =
        test::runtime_errors(dir.write("relais.yaml", test::relais_yaml()));
    EXPECT_EQ(connector_errors,
              (Lines{
                  "a-no-async.yaml:5:3: callbacks: need an endpoint with async: true or a "
                  "demands: section (correlations are recorded when pushes are delivered or "
                  "demands opened)",
                  "a-no-async.yaml:5:3: callbacks: need a gru: section in relais.yaml (the GRU "
                  "core the statuses are relayed to)",
                  "b-collision.yaml:5:3: callbacks: need a gru: section in relais.yaml (the GRU "
                  "core the statuses are relayed to)",
                  "b-collision.yaml:5:13: callbacks.endpoint: 'e' is already a route of this "
                  "connector; name the endpoint otherwise",
                  "b-collision.yaml:7:12: callbacks.fields: 'status' is reserved (reference, "
                  "status and message are always relayed)",
                  "b-collision.yaml:11:15: endpoint 'deliveries': the name is taken by GET "
                  "/{kind}/{slug}/deliveries/{tracking_id} on connectors with async endpoints",
                  "c-backoff.yaml:4:29: delivery.initial_backoff: expected at most max_backoff",
                  "d-schema.yaml:4:26: delivery.max_attempts: expected an integer >= 1",
                  "d-schema.yaml:4:29: delivery: unknown property 'retry' (expected one of: "
                  "max_attempts, max_age, initial_backoff, max_backoff, concurrency)",
                  "d-schema.yaml:5:24: callbacks.reference: expected a string matching ^(/.*)?$",
                  "d-schema.yaml:5:28: callbacks.statuses: expected at least 1 entry",
              }));
}

TEST(ConfigDelivery, OutboxAndGruErrorsPointAtTheirLine) {
    test::TempDir dir;
    dir.write("connectors/a.yaml",
              "slug: a\nkind: test-config\nfamily: sante\nendpoints: {e: {}}\n");
    test::ScopedEnv key("RELAIS_TEST_OUTBOX_KEY", "c2VjcmV0LWtleS10b28tc2hvcnQ=");
    const Lines errors = test::runtime_errors(dir.write("relais.yaml", test::relais_yaml(R"(outbox:
  key: "${env:RELAIS_TEST_OUTBOX_KEY}"
  poll_interval: 5ms
gru: {url: "https://gru.example.org/?x=1", orig: r, key: k}
)")));
    EXPECT_EQ(errors,
              (Lines{
                  "relais.yaml:6:8: outbox.key: expected the base64 text of a 32-byte key",
                  "relais.yaml:7:18: outbox.poll_interval: expected a duration of at least 10ms",
                  "relais.yaml:8:12: gru.url: expected a base URL without query or fragment",
              }));
    for (const auto& line : errors) {
        EXPECT_EQ(line.find("c2VjcmV0"), std::string::npos) << line;
    }
}

}  // namespace
}  // namespace relais
