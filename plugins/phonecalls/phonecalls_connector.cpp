#include "phonecalls/phonecalls_connector.hpp"

#include <rapidjson/document.h>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "core/duration.hpp"
#include "core/event_channel.hpp"
#include "core/log.hpp"
#include "phonecalls/call_book_registry.hpp"
#include "phonecalls/call_hook.hpp"
#include "phonecalls/call_request.hpp"

namespace relais::phonecalls {

namespace {

namespace net = boost::asio;
using std::chrono::milliseconds;

/// Longest retention and call duration accepted: calls are personal data,
/// kept for minutes, never for days.
constexpr milliseconds max_keep{std::chrono::hours(24)};
constexpr milliseconds min_heartbeat{100};
constexpr milliseconds max_heartbeat{std::chrono::minutes(10)};

/// What an EventSource waits before reconnecting after a dropped stream.
constexpr std::string_view stream_preamble = "retry: 3000\n\n";

enum EndpointIndex : std::size_t { call_start, call_stop, calls };

/// Connectors built so far: configurations are built one after the other.
std::atomic<std::uint64_t> built{0};

milliseconds duration_member(const ConnectorSource& source, const char* name, milliseconds fallback,
                             milliseconds least, milliseconds most, const std::string& range) {
    const auto it = source.document.FindMember(name);
    if (it == source.document.MemberEnd()) {
        return fallback;
    }
    const std::string pointer = std::string("/") + name;
    const auto parsed = it->value.IsString()
                            ? parse_duration({it->value.GetString(), it->value.GetStringLength()})
                            : std::nullopt;
    if (!parsed) {
        throw source.error_at(pointer, std::string(name) + " must be a duration such as 30s");
    }
    if (*parsed < least || *parsed > most) {
        throw source.error_at(pointer, std::string(name) + " must be " + range);
    }
    return *parsed;
}

std::size_t count_member(const ConnectorSource& source, const char* name, std::size_t fallback) {
    const auto it = source.document.FindMember(name);
    if (it == source.document.MemberEnd()) {
        return fallback;
    }
    if (!it->value.IsUint() || it->value.GetUint() == 0) {
        throw source.error_at(std::string("/") + name,
                              std::string(name) + " must be a positive integer");
    }
    return it->value.GetUint();
}

/// Expires and auto-stops the calls of one call book even when nobody
/// calls; ends with the call book.
net::awaitable<void> sweep_loop(std::weak_ptr<CallBook> weak, std::string slug) {
    net::steady_timer timer(co_await net::this_coro::executor);
    for (;;) {
        milliseconds interval{};
        {
            const std::shared_ptr<CallBook> book = weak.lock();
            if (book == nullptr) {
                co_return;
            }
            try {
                if (const std::size_t stopped = book->sweep(Instant::now()); stopped > 0) {
                    log::info("phonecalls_calls_auto_stopped",
                              {{"connector", slug}, {"count", stopped}});
                }
            } catch (const std::exception&) {
                // Out of memory while rendering events: retry at the next tick
                // rather than leave calls unexpired for good.
                log::error("phonecalls_sweep_failed", {{"connector", slug}});
            }
            interval = book->sweep_interval();
        }
        timer.expires_after(interval);
        const auto [ec] = co_await timer.async_wait(net::as_tuple(net::use_awaitable));
        if (ec) {
            co_return;
        }
    }
}

HttpResponse refusal(const Refusal& r) {
    return HttpResponse::failure(r.error, r.description);
}

HttpResponse method_not_allowed(std::string_view allowed) {
    HttpResponse response = HttpResponse::failure(
        ErrorClass::method_not_allowed, "this endpoint accepts " + std::string(allowed) + " only");
    response.headers.push_back(Header{"Allow", std::string(allowed)});
    return response;
}

class PhonecallsConnector final : public Connector {
public:
    PhonecallsConnector(const ConnectorSource& source, const Settings& settings,
                        std::optional<CallHook> hook)
        : slug_(source.slug),
          family_(source.family),
          settings_(settings),
          hook_(std::move(hook)),
          services_(source.services),
          generation_(++built),
          book_(adopt_call_book(slug_, family_, settings_)),
          infos_{EndpointInfo{"call-start"}, EndpointInfo{"call-stop"}, EndpointInfo{"calls"}} {}

    std::span<const EndpointInfo> endpoints() const override { return infos_; }

    // Not when built: a reload that is refused later must leave the live
    // call book as it was. The core activates the connector once its
    // configuration serves; the first request does too, for connectors
    // built outside the daemon.
    void activate() const override {
        std::call_once(settings_applied_, [this] { book_->apply(settings_, generation_); });
    }

    net::awaitable<HttpResponse> handle(std::size_t endpoint,
                                        const IncomingRequest& request) const override {
        activate();
        if (book_->claim_sweeper()) {
            net::co_spawn(co_await net::this_coro::executor, sweep_loop(book_, slug_),
                          net::detached);
        }
        switch (endpoint) {
            case call_start:
            case call_stop: {
                if (!request.rest.empty()) {
                    co_return HttpResponse::failure(ErrorClass::not_found, "no such route");
                }
                if (request.method != "GET" && request.method != "POST") {
                    co_return method_not_allowed("GET, POST");
                }
                if (endpoint == call_stop) {
                    co_return stop(request);
                }
                std::optional<GruDemand> demand;
                HttpResponse response = start(request, demand);
                if (demand) {
                    co_await open_demand(std::move(*demand));
                }
                co_return response;
            }
            case calls:
                if (request.method != "GET") {
                    co_return method_not_allowed("GET");
                }
                if (request.rest.empty()) {
                    co_return list(request);
                }
                if (request.rest == "stream") {
                    co_return stream(request, co_await net::this_coro::executor);
                }
                co_return HttpResponse::failure(ErrorClass::not_found,
                                                "the only route under calls is calls/stream");
            default:
                co_return HttpResponse::failure(ErrorClass::not_found, "no such endpoint");
        }
    }

private:
    /// Starts the call; `demand` receives what `on_call_start` opens, if any.
    HttpResponse start(const IncomingRequest& request, std::optional<GruDemand>& demand) const {
        auto parties = read_parties(request.query);
        if (const auto* r = std::get_if<Refusal>(&parties)) {
            return refusal(*r);
        }
        auto data =
            read_data(request.query, request.method == "POST" ? std::string_view(request.body)
                                                              : std::string_view());
        if (const auto* r = std::get_if<Refusal>(&data)) {
            return refusal(*r);
        }
        const auto& [caller, callee] = std::get<Parties>(parties);
        std::string& data_json = std::get<std::string>(data);
        // Built before the book changes (its copy of the data is moved in):
        // every call that starts, a restart of a current one included, opens
        // one demand.
        std::optional<GruDemand> opened;
        if (hook_ && services_ != nullptr) {
            opened = hook_demand(*hook_, caller, callee, data_json, request.request_id);
        }
        auto call = book_->start(caller, callee, std::move(data_json), Instant::now());
        if (!call) {
            log::warn("phonecalls_call_limit", {{"connector", slug_}});
            return HttpResponse::failure(ErrorClass::overloaded,
                                         "too many current calls on this connector");
        }
        demand = std::move(opened);
        return HttpResponse::data(*call);
    }

    /// Queues the demand of `on_call_start`. The call has started whatever
    /// happens here: a demand that cannot be queued is logged (by the core,
    /// without values) and the call-start still succeeds.
    net::awaitable<void> open_demand(GruDemand demand) const {
        try {
            co_await services_->submit_demand(slug_, family_, std::move(demand));
        } catch (const std::exception&) {
            log::error("phonecalls_demand_failed", {{"connector", slug_}});
        }
    }

    HttpResponse stop(const IncomingRequest& request) const {
        auto parties = read_parties(request.query);
        if (const auto* r = std::get_if<Refusal>(&parties)) {
            return refusal(*r);
        }
        const auto& [caller, callee] = std::get<Parties>(parties);
        const auto call = book_->stop(caller, callee, Instant::now());
        // Passerelle answers a stop of an unknown call with success: phone
        // systems send stops for calls that never reached relais.
        return HttpResponse::data(call ? std::string_view(*call) : std::string_view("null"));
    }

    HttpResponse list(const IncomingRequest& request) const {
        const auto listing = read_listing(request.query);
        if (const auto* r = std::get_if<Refusal>(&listing)) {
            return refusal(*r);
        }
        const auto& [callee, limit] = std::get<Listing>(listing);
        return HttpResponse::data(book_->calls(callee, limit, Instant::now()));
    }

    HttpResponse stream(const IncomingRequest& request, net::any_io_executor executor) const {
        const auto listing = read_listing(request.query);
        if (const auto* r = std::get_if<Refusal>(&listing)) {
            return refusal(*r);
        }
        const auto& [callee, limit] = std::get<Listing>(listing);
        EventChannel::Options options;
        options.heartbeat = settings_.heartbeat;
        auto channel = EventChannel::create(std::move(executor), options);
        HttpResponse response;
        response.content_type = "text/event-stream";
        response.headers.push_back(Header{"Cache-Control", "no-store"});
        // nginx would otherwise hold events back in its buffers.
        response.headers.push_back(Header{"X-Accel-Buffering", "no"});
        response.body = stream_preamble;
        auto snapshot = book_->subscribe(callee, channel, limit, Instant::now());
        if (!snapshot) {
            log::warn("phonecalls_stream_limit", {{"connector", slug_}});
            return HttpResponse::failure(ErrorClass::overloaded,
                                         "too many open streams on this connector");
        }
        try {
            response.body += *snapshot;
        } catch (...) {
            // Closed, the book forgets the channel at its next sweep.
            channel->close();
            throw;
        }
        response.stream = std::move(channel);
        return response;
    }

    std::string slug_;
    std::string family_;
    Settings settings_;
    std::optional<CallHook> hook_;
    /// Null when relais only validates: then no demand is opened.
    const ConnectorServices* services_;
    /// Later connectors (of a later configuration) have higher numbers.
    std::uint64_t generation_;
    std::shared_ptr<CallBook> book_;
    mutable std::once_flag settings_applied_;
    std::array<EndpointInfo, 3> infos_;
};

}  // namespace

Settings read_settings(const ConnectorSource& source) {
    Settings s;
    s.max_call_duration = duration_member(source, "max_call_duration", s.max_call_duration,
                                          milliseconds(1000), max_keep, "from 1s to 24h");
    s.retention = duration_member(source, "retention", s.retention, milliseconds::zero(), max_keep,
                                  "at most 24h: ended calls are kept for minutes");
    s.max_calls = count_member(source, "max_calls", s.max_calls);
    s.max_streams = count_member(source, "max_streams", s.max_streams);
    s.heartbeat = duration_member(source, "heartbeat", s.heartbeat, min_heartbeat, max_heartbeat,
                                  "from 100ms to 10m");
    return s;
}

std::unique_ptr<Connector> make_phonecalls_connector(const ConnectorSource& source) {
    return std::make_unique<PhonecallsConnector>(source, read_settings(source),
                                                 read_call_hook(source));
}

}  // namespace relais::phonecalls
