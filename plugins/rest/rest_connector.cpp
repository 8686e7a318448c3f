#include "rest/rest_connector.hpp"

#include <rapidjson/document.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <optional>
#include <random>
#include <variant>
#include <vector>

#include "core/log.hpp"
#include "rest/connector_spec.hpp"
#include "rest/push_message.hpp"
#include "rest/upstream_request.hpp"
#include "upstream/http_client.hpp"

namespace relais::rest {

namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

/// First retry delay; doubled on each further attempt, plus up to half of it
/// at random so that callers failing together do not retry together.
constexpr milliseconds base_backoff{100};
/// A retry is pointless if less than this is left of the endpoint's budget.
constexpr milliseconds min_attempt{50};

std::string_view failure_name(upstream::Failure f) noexcept {
    switch (f) {
        case upstream::Failure::none:
            return "none";
        case upstream::Failure::unreachable:
            return "unreachable";
        case upstream::Failure::timeout:
            return "timeout";
        case upstream::Failure::too_large:
            return "too_large";
        case upstream::Failure::auth_failed:
            return "auth_failed";
        case upstream::Failure::internal:
            return "internal";
    }
    return "internal";
}

bool is_retryable(const upstream::Result& r) noexcept {
    if (r.failure == upstream::Failure::unreachable || r.failure == upstream::Failure::timeout) {
        return true;
    }
    return r.failure == upstream::Failure::none &&
           (r.response.status == 502 || r.response.status == 503 || r.response.status == 504);
}

milliseconds backoff(unsigned attempt) {
    thread_local std::minstd_rand random{std::random_device{}()};
    const milliseconds delay = base_backoff * (1u << std::min(attempt, 10u));
    std::uniform_int_distribution<milliseconds::rep> jitter(0, delay.count() / 2);
    return delay + milliseconds(jitter(random));
}

class EndpointConnector final : public Connector {
public:
    EndpointConnector(ConnectorSpec spec, std::string slug,
                      std::shared_ptr<const WireFormat> format)
        : spec_(std::move(spec)), slug_(std::move(slug)), format_(std::move(format)) {
        for (const auto& e : spec_.endpoints) {
            infos_.push_back(EndpointInfo{e.name, e.personal_data, e.async});
            caches_.push_back(e.cache_ttl
                                  ? std::make_unique<ResponseCache>(e.cache_size, *e.cache_ttl)
                                  : nullptr);
        }
        auth_ = make_authenticator(spec_.upstream, slug_);
    }

    std::span<const EndpointInfo> endpoints() const override { return infos_; }

    boost::asio::awaitable<HttpResponse> handle(std::size_t index,
                                                const IncomingRequest& request) const override {
        const EndpointSpec& endpoint = spec_.endpoints[index];
        if (endpoint.async) {
            co_return HttpResponse::failure(ErrorClass::internal_error,
                                            "an async endpoint is served through the outbox");
        }
        PreparedCall call;
        if (auto error = prepare_call(spec_.upstream, endpoint, request, call)) {
            co_return refusal(endpoint, *error);
        }
        ResponseCache* cache = caches_[index].get();
        if (cache != nullptr) {
            if (auto hit = cache->find(call.cache_key, Clock::now())) {
                log::debug("rest_cache_hit", {{"request_id", request.request_id},
                                              {"connector", slug_},
                                              {"endpoint", endpoint.name}});
                co_return HttpResponse::data(*hit);
            }
        }
        UpstreamStats stats;
        upstream::Result result = co_await call_upstream(endpoint, call, request.request_id, stats);
        HttpResponse response = answer(endpoint, result, cache, call.cache_key);
        response.upstream = stats;
        co_return response;
    }

    std::variant<PushMessage, HttpResponse> prepare_push(
        std::size_t index, const IncomingRequest& request) const override {
        const EndpointSpec& endpoint = spec_.endpoints[index];
        if (!endpoint.async) {
            return HttpResponse::failure(ErrorClass::internal_error,
                                         "this endpoint is not async: it has no push");
        }
        PreparedCall call;
        if (auto error = prepare_call(spec_.upstream, endpoint, request, call)) {
            return refusal(endpoint, *error);
        }
        return encode_push(StoredPush{endpoint.upstream_method,
                                      target_of(spec_.upstream.base_url, call.url),
                                      std::move(call.headers), std::move(call.body)});
    }

    boost::asio::awaitable<upstream::Result> deliver(
        std::size_t index, std::string_view message,
        const DeliveryContext& context) const override {
        if (index >= spec_.endpoints.size()) {
            upstream::Result unusable;
            unusable.failure = upstream::Failure::internal;
            unusable.detail = "no such endpoint";
            co_return unusable;
        }
        co_return co_await deliver_push(spec_.upstream, auth_.get(), *format_, message, context,
                                        spec_.endpoints[index].timeout);
    }

private:
    static HttpResponse refusal(const EndpointSpec& endpoint, const CallError& error) {
        HttpResponse response = HttpResponse::failure(error.error, error.description);
        if (error.error == ErrorClass::method_not_allowed) {
            response.headers.push_back(Header{"Allow", endpoint.method});
        }
        return response;
    }

    boost::asio::awaitable<upstream::Result> call_upstream(const EndpointSpec& endpoint,
                                                           const PreparedCall& call,
                                                           const std::string& request_id,
                                                           UpstreamStats& stats) const {
        const auto deadline = Clock::now() + endpoint.timeout;
        for (unsigned attempt = 0;; ++attempt) {
            upstream::Request r =
                upstream_request(spec_.upstream, auth_.get(), *format_, endpoint.upstream_method,
                                 call.url, call.headers, call.body, request_id);
            r.timeout = std::max(std::chrono::duration_cast<milliseconds>(deadline - Clock::now()),
                                 milliseconds(1));
            r.connect_timeout = std::min(spec_.upstream.connect_timeout, r.timeout);
            upstream::Result result = co_await upstream::perform(std::move(r));
            stats.elapsed += result.elapsed;
            ++stats.attempts;
            log_attempt(endpoint, call, request_id, attempt, result);
            if (attempt >= endpoint.retries || !is_retryable(result)) {
                co_return result;
            }
            const milliseconds delay = backoff(attempt);
            if (Clock::now() + delay + min_attempt >= deadline) {
                co_return result;
            }
            boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, delay);
            const auto [ec] =
                co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
            if (ec) {
                co_return result;
            }
        }
    }

    void log_attempt(const EndpointSpec& endpoint, const PreparedCall& call,
                     const std::string& request_id, unsigned attempt,
                     const upstream::Result& result) const {
        if (!log::enabled(log::Level::debug)) {
            return;
        }
        const double elapsed_ms = static_cast<double>(result.elapsed.count()) / 1000.0;
        // Parameter values are shown only for endpoints free of personal data.
        std::optional<std::string_view> parameters;
        if (!endpoint.personal_data) {
            parameters = call.loggable_parameters;
        }
        log::debug("rest_upstream_call", {{"request_id", request_id},
                                          {"connector", slug_},
                                          {"endpoint", endpoint.name},
                                          {"attempt", attempt + 1},
                                          {"status", result.response.status},
                                          {"failure", failure_name(result.failure)},
                                          {"elapsed_ms", elapsed_ms},
                                          {"parameters", parameters}});
    }

    /// The answer to the caller; parses the upstream body in place.
    HttpResponse answer(const EndpointSpec& endpoint, upstream::Result& result,
                        ResponseCache* cache, const std::string& cache_key) const {
        switch (result.failure) {
            case upstream::Failure::none:
                break;
            case upstream::Failure::unreachable:
                return HttpResponse::failure(ErrorClass::upstream_unreachable,
                                             "upstream unreachable: " + result.detail);
            case upstream::Failure::timeout:
                return HttpResponse::failure(ErrorClass::upstream_timeout,
                                             "the upstream did not answer within " +
                                                 std::to_string(endpoint.timeout.count()) + " ms");
            case upstream::Failure::too_large:
                return HttpResponse::failure(upstream::error_class_of(result.failure),
                                             "the upstream answer is larger than " +
                                                 std::to_string(spec_.upstream.max_response_bytes) +
                                                 " bytes");
            case upstream::Failure::auth_failed:
                return HttpResponse::failure(
                    upstream::error_class_of(result.failure),
                    "could not obtain an upstream access token: " + result.detail);
            case upstream::Failure::internal:
                return HttpResponse::failure(
                    upstream::error_class_of(result.failure),
                    "the upstream request could not be made: " + result.detail);
        }
        std::string data;
        if (auto error = endpoint.answer->read(result.response, endpoint.error_body, data)) {
            return HttpResponse::failure(error->error, error->description);
        }
        if (cache != nullptr) {
            cache->store(cache_key, data, Clock::now());
        }
        return HttpResponse::data(data);
    }

    ConnectorSpec spec_;
    std::string slug_;
    std::shared_ptr<const WireFormat> format_;
    std::vector<EndpointInfo> infos_;
    std::vector<std::unique_ptr<ResponseCache>> caches_;
    std::unique_ptr<upstream::Authenticator> auth_;
};

}  // namespace

std::unique_ptr<Connector> make_endpoint_connector(ConnectorSpec spec, std::string slug,
                                                   std::shared_ptr<const WireFormat> format) {
    return std::make_unique<EndpointConnector>(std::move(spec), std::move(slug), std::move(format));
}

std::unique_ptr<Connector> make_rest_connector(const ConnectorSource& source) {
    return make_endpoint_connector(load_connector_spec(source), source.slug, json_format());
}

}  // namespace relais::rest
