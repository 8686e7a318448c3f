#include "base-adresse/base_adresse_connector.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <vector>

#include "base-adresse/address_id.hpp"
#include "base-adresse/adopted_state.hpp"
#include "base-adresse/connector_spec.hpp"
#include "base-adresse/geo_answers.hpp"
#include "base-adresse/geo_requests.hpp"
#include "base-adresse/geo_upstream.hpp"
#include "base-adresse/id_key_file.hpp"
#include "core/log.hpp"
#include "core/response_cache.hpp"

namespace relais::base_adresse {

namespace {

using Clock = ResponseCache::Clock;
using Answer = std::variant<std::string, HttpResponse>;

/// Longest wait before a failed refresh is tried again (sooner if the TTL
/// is shorter), so that a down upstream is not asked at every call.
constexpr std::chrono::milliseconds max_refresh_retry{30'000};

HttpResponse nominatim(std::string body) {
    HttpResponse response;
    response.body = std::move(body);
    return response;
}

HttpResponse invalid_answer(const GeoUpstream& upstream) {
    return HttpResponse::failure(ErrorClass::upstream_invalid_response,
                                 "the " + upstream.name() +
                                     " upstream's answer is not what "
                                     "its API documents");
}

/// Garbled, forged, made with another key (or a lost one): the same answer.
HttpResponse unknown_id() {
    return HttpResponse::failure(ErrorClass::invalid_parameter,
                                 "invalid parameter id: not an id this connector returned");
}

/// Everything a call needs, shared with the background refreshes so that
/// one finishing after a reload still has its upstream and cache.
class Backend : public std::enable_shared_from_this<Backend> {
public:
    Backend(const ConnectorSpec& spec, const std::string& slug, std::string_view id_secret)
        : slug_(slug),
          ids_(id_secret),
          geocoder_(spec.geocoder, slug, "geocoder"),
          api_geo_(spec.api_geo, slug, "api_geo"),
          refresh_retry_(std::min(spec.cache.ttl, max_refresh_retry)) {
        for (const Endpoint e : all_endpoints) {
            const UpstreamSpec& upstream = e == Endpoint::streets ? spec.geocoder : spec.api_geo;
            caches_.push_back(is_personal(e)
                                  ? nullptr
                                  : adopt_cache(slug, e, upstream, spec.cache, ids_.fingerprint()));
        }
    }

    boost::asio::awaitable<HttpResponse> serve(Endpoint endpoint, Query query,
                                               std::string request_id) const {
        UpstreamStats stats;
        HttpResponse response;
        switch (endpoint) {
            case Endpoint::search:
            case Endpoint::reverse:
            case Endpoint::addresses:
                response = co_await serve_address(endpoint, query, request_id, stats);
                break;
            default:
                response = co_await serve_reference(endpoint, std::move(query), request_id, stats);
                break;
        }
        response.upstream = stats;
        co_return response;
    }

private:
    boost::asio::awaitable<HttpResponse> serve_address(Endpoint endpoint, const Query& query,
                                                       const std::string& request_id,
                                                       UpstreamStats& stats) const {
        if (endpoint == Endpoint::addresses && !query.id.empty()) {
            const auto address = ids_.decode_address(query.id);
            if (!address) {
                co_return unknown_id();
            }
            std::string data = "[";
            write_address(data, *address, query.id);
            co_return HttpResponse::data(data + "]");
        }
        if (endpoint != Endpoint::reverse && utf8_length(query.q) < min_search_chars) {
            if (endpoint == Endpoint::search) {
                co_return nominatim("[]");
            }
            co_return HttpResponse::data("[]");
        }
        const std::string target = geocoder_target(endpoint, query);
        Answer body = co_await geocoder_.get(target, request_id, stats);
        if (auto* failure = std::get_if<HttpResponse>(&body)) {
            co_return std::move(*failure);
        }
        const auto addresses = read_addresses(std::get<std::string>(body));
        if (!addresses) {
            co_return invalid_answer(geocoder_);
        }
        switch (endpoint) {
            case Endpoint::search:
                co_return nominatim(address_list(*addresses, ids_, query.page_limit));
            case Endpoint::reverse:
                co_return nominatim(reverse_object(*addresses, ids_));
            default:
                co_return HttpResponse::data(address_list(*addresses, ids_, query.page_limit));
        }
    }

    boost::asio::awaitable<HttpResponse> serve_reference(Endpoint endpoint, Query query,
                                                         const std::string& request_id,
                                                         UpstreamStats& stats) const {
        if (endpoint == Endpoint::streets && !query.id.empty()) {
            const auto street = ids_.decode_street(query.id);
            if (!street) {
                co_return unknown_id();
            }
            co_return HttpResponse::data(street_list({*street}, ids_, 1));
        }
        if (auto refused = check_reference_id(endpoint, query)) {
            co_return std::move(*refused);
        }
        if (endpoint == Endpoint::streets && utf8_length(query.q) < min_search_chars) {
            co_return HttpResponse::data("[]");
        }
        ResponseCache& cache = *caches_[static_cast<std::size_t>(endpoint)];
        std::string key = cache_key(endpoint, query);
        if (auto hit = cache.lookup(key, Clock::now())) {
            log::debug("base_adresse_cache_hit", {{"request_id", request_id},
                                                  {"connector", slug_},
                                                  {"endpoint", name_of(endpoint)},
                                                  {"stale", hit->stale},
                                                  {"refresh", hit->refresh}});
            if (hit->refresh) {
                const auto executor = co_await boost::asio::this_coro::executor;
                boost::asio::co_spawn(
                    executor,
                    refresh(shared_from_this(), endpoint, std::move(query), std::move(key)),
                    boost::asio::detached);
            }
            co_return HttpResponse::data(hit->data);
        }
        Answer answer = co_await fetch_reference(endpoint, query, request_id, stats);
        if (auto* failure = std::get_if<HttpResponse>(&answer)) {
            co_return std::move(*failure);
        }
        std::string& data = std::get<std::string>(answer);
        cache.store(key, data, Clock::now());
        co_return HttpResponse::data(data);
    }

    /// Ids of reference items are codes: a malformed one is refused before
    /// any call (streets' ids are checked by their decoding).
    static std::optional<HttpResponse> check_reference_id(Endpoint endpoint, const Query& query) {
        if (query.id.empty()) {
            return std::nullopt;
        }
        const bool valid = endpoint == Endpoint::cities        ? parse_city_id(query.id).has_value()
                           : endpoint == Endpoint::departments ? is_department_code(query.id)
                           : endpoint == Endpoint::regions     ? is_region_code(query.id)
                                                               : true;
        if (valid) {
            return std::nullopt;
        }
        return HttpResponse::failure(ErrorClass::invalid_parameter,
                                     "invalid parameter id: not an id this endpoint returns");
    }

    /// The data of a reference answer, or the failure to answer with.
    boost::asio::awaitable<Answer> fetch_reference(Endpoint endpoint, const Query& query,
                                                   std::string_view request_id,
                                                   UpstreamStats& stats) const {
        const bool geocoder = endpoint == Endpoint::streets;
        const GeoUpstream& upstream = geocoder ? geocoder_ : api_geo_;
        // Built before the co_await: GCC 12 destroys a temporary of a
        // conditional expression twice inside a co_await expression.
        std::string target;
        if (geocoder) {
            target = geocoder_target(endpoint, query);
        } else {
            target = api_geo_target(endpoint, query);
        }
        Answer body = co_await upstream.get(target, request_id, stats);
        if (std::holds_alternative<HttpResponse>(body)) {
            co_return body;
        }
        const std::string& text = std::get<std::string>(body);
        std::optional<std::string> data;
        switch (endpoint) {
            case Endpoint::streets:
                if (auto streets = read_streets(text)) {
                    data = street_list(*streets, ids_, query.page_limit);
                }
                break;
            case Endpoint::cities:
                if (auto cities = read_cities(text)) {
                    keep_asked_zipcode(query, *cities);
                    data = city_list(*cities);
                }
                break;
            case Endpoint::departments:
                if (auto departments = read_departments(text)) {
                    data = department_list(*departments);
                }
                break;
            default:
                if (auto regions = read_regions(text)) {
                    data = region_list(*regions);
                }
                break;
        }
        if (!data) {
            co_return invalid_answer(upstream);
        }
        co_return std::move(*data);
    }

    /// API Geo answers whole communes; a call naming a postal code (as `q`
    /// or in the id) wants the items of that code only.
    static void keep_asked_zipcode(const Query& query, std::vector<City>& cities) {
        std::string zipcode;
        if (const auto id = parse_city_id(query.id)) {
            zipcode = id->zipcode;
        } else if (is_zipcode(query.q)) {
            zipcode = query.q;
        }
        if (!zipcode.empty()) {
            std::erase_if(cities, [&](const City& c) { return c.zipcode != zipcode; });
        }
    }

    static boost::asio::awaitable<void> refresh(std::shared_ptr<const Backend> self,
                                                Endpoint endpoint, Query query, std::string key) {
        ResponseCache& cache = *self->caches_[static_cast<std::size_t>(endpoint)];
        bool stored = false;
        try {
            UpstreamStats stats;
            Answer answer = co_await self->fetch_reference(endpoint, query, {}, stats);
            if (auto* data = std::get_if<std::string>(&answer)) {
                cache.store(key, std::move(*data), Clock::now());
                stored = true;
            } else {
                log::info("base_adresse_refresh_failed",
                          {{"connector", self->slug_},
                           {"endpoint", name_of(endpoint)},
                           {"err_class", describe(*std::get<HttpResponse>(answer).error).slug}});
            }
        } catch (const std::exception&) {
            log::warn("base_adresse_refresh_failed",
                      {{"connector", self->slug_}, {"endpoint", name_of(endpoint)}});
        }
        if (!stored) {
            cache.refresh_failed(key, Clock::now() + self->refresh_retry_);
        }
    }

    std::string slug_;
    IdCodec ids_;
    GeoUpstream geocoder_;
    GeoUpstream api_geo_;
    std::chrono::milliseconds refresh_retry_;
    /// By endpoint (all_endpoints' order); null for personal endpoints.
    std::vector<std::shared_ptr<ResponseCache>> caches_;
};

class BaseAdresseConnector final : public Connector {
public:
    BaseAdresseConnector(const ConnectorSpec& spec, const std::string& slug,
                         std::string_view id_secret)
        : backend_(std::make_shared<const Backend>(spec, slug, id_secret)),
          endpoints_(spec.endpoints) {
        for (const Endpoint e : endpoints_) {
            infos_.push_back(EndpointInfo{std::string(name_of(e)), is_personal(e), false});
        }
    }

    std::span<const EndpointInfo> endpoints() const override { return infos_; }

    boost::asio::awaitable<HttpResponse> handle(std::size_t index,
                                                const IncomingRequest& request) const override {
        if (request.method != "GET") {
            HttpResponse refused = HttpResponse::failure(ErrorClass::method_not_allowed,
                                                         "this endpoint answers GET only");
            refused.headers.push_back(Header{"Allow", "GET"});
            co_return refused;
        }
        const Endpoint endpoint = endpoints_.at(index);
        auto checked = check_query(endpoint, request.query);
        if (auto* error = std::get_if<ParameterError>(&checked)) {
            co_return HttpResponse::failure(error->error, error->description);
        }
        co_return co_await backend_->serve(endpoint, std::move(std::get<Query>(checked)),
                                           request.request_id);
    }

private:
    std::shared_ptr<const Backend> backend_;
    std::vector<Endpoint> endpoints_;
    std::vector<EndpointInfo> infos_;
};

}  // namespace

std::unique_ptr<Connector> make_base_adresse_connector(const ConnectorSource& source) {
    const ConnectorSpec spec = load_connector_spec(source);
    // Without the core's services relais only validates: it writes nothing.
    std::string secret = !spec.id_key.empty()         ? spec.id_key
                         : source.services != nullptr ? load_id_key_file(source.data_dir)
                                                      : check_id_key_file(source.data_dir);
    auto connector = std::make_unique<BaseAdresseConnector>(spec, source.slug, secret);
    OPENSSL_cleanse(secret.data(), secret.size());
    return connector;
}

}  // namespace relais::base_adresse
