// The `test-echo` connector kind, for tests only. Each endpoint does one
// action, named by its `action` field or, when that is absent, by the
// endpoint's own name:
//
// | action  | answers                                                            |
// |---------|--------------------------------------------------------------------|
// | `echo`  | method, rest, query pairs, header names, body size (never the body) |
// | `sleep` | after `?ms=N` (0..60000) on an Asio timer: `{"slept_ms":N}`          |
// | `fail`  | the envelope failure whose err_class is `?class=…`                 |
// | `throw` | throws, with the query's values in the message                     |
// | `stream`| Server-Sent Events: `?count=N` events (0: until stopped), one every |
// |         | `?interval_ms=M`, heartbeat every `?heartbeat_ms=H` (default 60000) |
#include <rapidjson/document.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_channel.hpp"
#include "plugin/plugin_api.hpp"

namespace {

using relais::ErrorClass;
using relais::HttpResponse;
using relais::IncomingRequest;

enum class Action { echo, sleep, fail, raise, stream };

constexpr long max_sleep_ms = 60'000;

constexpr std::string_view echo_schema = R"({
  "$schema": "http://json-schema.org/draft-04/schema#",
  "title": "test-echo connector",
  "description": "Test-only kind whose endpoints answer from memory.",
  "type": "object",
  "required": ["slug", "kind", "family", "endpoints"],
  "properties": {
    "slug": {"$ref": "connector.schema.json#/definitions/slug"},
    "kind": {"enum": ["test-echo"]},
    "family": {"$ref": "connector.schema.json#/definitions/family"},
    "description": {"$ref": "connector.schema.json#/definitions/description"},
    "limits": {"$ref": "connector.schema.json#/definitions/limits"},
    "endpoints": {
      "description": "Endpoints by name; `action` defaults to the name.",
      "type": "object",
      "minProperties": 1,
      "patternProperties": {
        "^[a-z0-9][a-z0-9_-]*$": {
          "type": "object",
          "properties": {
            "action": {
              "description": "What the endpoint does.",
              "enum": ["echo", "sleep", "fail", "throw", "stream"]
            },
            "description": {"$ref": "connector.schema.json#/definitions/description"},
            "personal_data": {"$ref": "connector.schema.json#/definitions/personal_data"},
            "browser": {
              "description": "Reached without client credentials (EndpointInfo::browser).",
              "type": "boolean"
            },
            "max_body_bytes": {
              "description": "The endpoint's own body limit (EndpointInfo::max_body_bytes).",
              "type": "integer",
              "minimum": 1
            }
          },
          "additionalProperties": false
        }
      },
      "additionalProperties": false
    }
  },
  "additionalProperties": false
})";

std::optional<Action> action_named(std::string_view name) {
    if (name == "echo") {
        return Action::echo;
    }
    if (name == "sleep") {
        return Action::sleep;
    }
    if (name == "fail") {
        return Action::fail;
    }
    if (name == "throw") {
        return Action::raise;
    }
    if (name == "stream") {
        return Action::stream;
    }
    return std::nullopt;
}

std::optional<ErrorClass> error_class_named(std::string_view slug) {
    for (unsigned i = 0; i <= static_cast<unsigned>(ErrorClass::upstream_timeout); ++i) {
        const auto error = static_cast<ErrorClass>(i);
        if (relais::describe(error).slug == slug) {
            return error;
        }
    }
    return std::nullopt;
}

std::string echo_data(const IncomingRequest& request) {
    std::string out = R"({"method":)";
    relais::append_json_string(out, request.method);
    out += R"(,"rest":)";
    relais::append_json_string(out, request.rest);
    out += R"(,"query":[)";
    for (std::size_t i = 0; i < request.query.size(); ++i) {
        out += i == 0 ? "[" : ",[";
        relais::append_json_string(out, request.query[i].first);
        out += ',';
        relais::append_json_string(out, request.query[i].second);
        out += ']';
    }
    out += R"(],"header_names":[)";
    for (std::size_t i = 0; i < request.headers.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        relais::append_json_string(out, request.headers[i].name);
    }
    out += R"(],"body_bytes":)";
    out += std::to_string(request.body.size());
    out += R"(,"client":)";
    relais::append_json_string(out, request.client);
    out += R"(,"request_id":)";
    relais::append_json_string(out, request.request_id);
    out += '}';
    return out;
}

class EchoConnector final : public relais::Connector {
public:
    EchoConnector(std::vector<relais::EndpointInfo> endpoints, std::vector<Action> actions)
        : endpoints_(std::move(endpoints)), actions_(std::move(actions)) {}

    std::span<const relais::EndpointInfo> endpoints() const override { return endpoints_; }

    boost::asio::awaitable<HttpResponse> handle(std::size_t endpoint,
                                                const IncomingRequest& request) const override {
        switch (actions_.at(endpoint)) {
            case Action::echo:
                co_return HttpResponse::data(echo_data(request));
            case Action::sleep:
                co_return co_await sleep(request);
            case Action::stream:
                co_return co_await stream(request);
            case Action::fail:
                co_return fail(request);
            case Action::raise: {
                std::string message = "test-echo failure with";
                for (const auto& [name, value] : request.query) {
                    message += ' ' + value;
                }
                throw std::runtime_error(message);
            }
        }
        co_return HttpResponse::failure(ErrorClass::internal_error, "unknown action");
    }

private:
    static boost::asio::awaitable<HttpResponse> sleep(const IncomingRequest& request) {
        const std::string* text = relais::find_param(request.query, "ms");
        if (text == nullptr) {
            co_return HttpResponse::failure(ErrorClass::missing_parameter, "ms is required");
        }
        const auto ms = integer_param(request, "ms", 0);
        if (!ms) {
            co_return HttpResponse::failure(ErrorClass::invalid_parameter,
                                            "ms must be an integer from 0 to 60000");
        }
        boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
        timer.expires_after(std::chrono::milliseconds(*ms));
        co_await timer.async_wait(boost::asio::use_awaitable);
        co_return HttpResponse::data(R"({"slept_ms":)" + std::to_string(*ms) + "}");
    }

    /// The value of the integer parameter `name` (`fallback` when absent),
    /// or nullopt when it is not an integer from 0 to max_sleep_ms.
    static std::optional<long> integer_param(const IncomingRequest& request, std::string_view name,
                                             long fallback) {
        const std::string* text = relais::find_param(request.query, name);
        if (text == nullptr) {
            return fallback;
        }
        long value = 0;
        const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
        if (ec != std::errc() || end != text->data() + text->size() || value < 0 ||
            value > max_sleep_ms) {
            return std::nullopt;
        }
        return value;
    }

    static boost::asio::awaitable<HttpResponse> stream(const IncomingRequest& request) {
        const auto count = integer_param(request, "count", 0);
        const auto interval = integer_param(request, "interval_ms", 10);
        const auto heartbeat = integer_param(request, "heartbeat_ms", max_sleep_ms);
        if (!count || !interval || !heartbeat || *heartbeat == 0) {
            co_return HttpResponse::failure(ErrorClass::invalid_parameter,
                                            "count, interval_ms and heartbeat_ms are integers "
                                            "from 0 to 60000, heartbeat_ms above 0");
        }
        const auto executor = co_await boost::asio::this_coro::executor;
        relais::EventChannel::Options options;
        options.heartbeat = std::chrono::milliseconds(*heartbeat);
        auto channel = relais::EventChannel::create(executor, options);
        // The producer runs beside the connection: it stops when the
        // channel is stopped (the client left, relais drains).
        boost::asio::co_spawn(executor, produce(channel, *count, *interval), boost::asio::detached);
        HttpResponse response;
        response.content_type = "text/event-stream";
        response.body = "retry: 1000\n\n";
        response.stream = std::move(channel);
        co_return response;
    }

    static boost::asio::awaitable<void> produce(std::shared_ptr<relais::EventChannel> channel,
                                                long count, long interval_ms) {
        boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
        for (long i = 1; count == 0 || i <= count; ++i) {
            timer.expires_after(std::chrono::milliseconds(interval_ms));
            co_await timer.async_wait(boost::asio::use_awaitable);
            if (!channel->push(relais::format_sse_event("tick", std::to_string(i)))) {
                co_return;
            }
        }
        channel->close();
    }

    static HttpResponse fail(const IncomingRequest& request) {
        const std::string* slug = relais::find_param(request.query, "class");
        const auto error = slug != nullptr ? error_class_named(*slug) : std::nullopt;
        if (!error) {
            return HttpResponse::failure(ErrorClass::invalid_parameter,
                                         "class must be an err_class slug");
        }
        return HttpResponse::failure(*error, "failure requested by the test");
    }

    std::vector<relais::EndpointInfo> endpoints_;
    std::vector<Action> actions_;
};

class EchoFactory final : public relais::ConnectorFactory {
public:
    std::string_view kind() const override { return "test-echo"; }
    std::string_view schema() const override { return echo_schema; }

    std::unique_ptr<relais::Connector> create(
        const relais::ConnectorSource& source) const override {
        std::vector<relais::EndpointInfo> endpoints;
        std::vector<Action> actions;
        const auto& declared = source.document["endpoints"];
        for (auto member = declared.MemberBegin(); member != declared.MemberEnd(); ++member) {
            const std::string name = member->name.GetString();
            const auto& body = member->value;
            const std::string_view action_text =
                body.HasMember("action") ? std::string_view(body["action"].GetString()) : name;
            const auto action = action_named(action_text);
            if (!action) {
                throw source.error_at(
                    "/endpoints/" + name,
                    "endpoint '" + name + "' needs an action: echo, sleep, fail, throw or stream");
            }
            const bool personal =
                !body.HasMember("personal_data") || body["personal_data"].GetBool();
            const bool browser = body.HasMember("browser") && body["browser"].GetBool();
            const std::size_t max_body =
                body.HasMember("max_body_bytes") ? body["max_body_bytes"].GetUint64() : 0;
            endpoints.push_back({name, personal, false, browser, max_body, false});
            actions.push_back(*action);
        }
        return std::make_unique<EchoConnector>(std::move(endpoints), std::move(actions));
    }
};

}  // namespace

RELAIS_PLUGIN_DEFINE("test-echo", [](relais::FactoryRegistry& factories) {
    factories.add(std::make_unique<EchoFactory>());
})
