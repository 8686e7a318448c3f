#include "delivery/attempt.hpp"

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <variant>

#include "auth/publik_signature.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "delivery/demand.hpp"
#include "delivery/envelope.hpp"
#include "delivery/retry_policy.hpp"
#include "upstream/http_client.hpp"

namespace relais::delivery {

namespace {

using outbox::AttemptRecord;
using Verdict = AttemptRecord::Verdict;

/// w.c.s. answers a trigger or a submission at once; a slower GRU is a
/// GRU in trouble.
constexpr std::chrono::seconds gru_timeout{30};

/// A payload that opens but does not read as an envelope will not read
/// better later: an operator has to look at it.
AttemptRecord unreadable() {
    AttemptRecord record;
    record.verdict = Verdict::dead;
    record.error_class = std::string(describe(ErrorClass::internal_error).slug);
    record.reason = "message cannot be read";
    return record;
}

/// A retry for a cause on relais's side (configuration changed), bounded by
/// the policy like any other.
AttemptRecord retry_later(const ConnectorEntry& entry, const outbox::MessageInfo& info,
                          ErrorClass error, std::string reason, std::mt19937_64& random) {
    Decision decision;
    decision.verdict = Verdict::retry;
    decision.error_class = std::string(describe(error).slug);
    decision.reason = std::move(reason);
    return settle(decision, entry.delivery, info.attempts + 1, info.created, outbox::Clock::now(),
                  random);
}

/// Records the correlation of `reference` with `demand_url` for the
/// message's connector, or warns (without values) that the delivered
/// message gave no reference to correlate.
boost::asio::awaitable<void> record_correlation(outbox::Outbox& outbox, const std::string& family,
                                                const outbox::MessageInfo& info,
                                                std::optional<std::string> reference,
                                                std::string demand_url) {
    if (reference) {
        co_await outbox.put_correlation(family, info.connector, std::move(*reference),
                                        std::move(demand_url));
    } else {
        log::warn("correlation_missing", {{"tracking_id", info.tracking_id},
                                          {"family", family},
                                          {"connector", info.connector},
                                          {"endpoint", info.endpoint}});
    }
}

/// The index of `name` if it is still an async endpoint of the connector.
std::optional<std::size_t> async_endpoint(const ConnectorEntry& entry, const std::string& name) {
    const auto found = entry.endpoint_index.find(name);
    if (found == entry.endpoint_index.end()) {
        return std::nullopt;
    }
    const auto endpoints = entry.connector->endpoints();
    if (found->second >= endpoints.size() || !endpoints[found->second].async) {
        return std::nullopt;
    }
    return found->second;
}

bool is_cancellation(const boost::system::system_error& error) {
    return error.code() == boost::asio::error::operation_aborted;
}

upstream::Result connector_failed() {
    upstream::Result result;
    result.failure = upstream::Failure::internal;
    result.detail = "the connector failed";
    return result;
}

/// A demand's body with its document spliced in at `at`, the document
/// read back from the outbox one piece at a time as the request is written:
/// a scanned mail is never whole in memory.
class DocumentBody final : public upstream::BodySource {
public:
    DocumentBody(outbox::Outbox& outbox, std::string family, std::string document,
                 std::uint64_t document_bytes, std::string body, std::size_t at)
        : outbox_(outbox),
          family_(std::move(family)),
          document_(std::move(document)),
          document_bytes_(document_bytes),
          body_(std::move(body)),
          at_(at) {}

    std::uint64_t size() const noexcept override { return body_.size() + document_bytes_; }

    void rewind() override {
        part_ = Part::head;
        next_piece_ = 0;
        read_ = 0;
        piece_.clear();
    }

    boost::asio::awaitable<std::string_view> next() override {
        const std::string_view body(body_);
        switch (part_) {
            case Part::head:
                part_ = Part::document;
                if (at_ > 0) {
                    co_return body.substr(0, at_);
                }
                [[fallthrough]];
            case Part::document:
                if (read_ < document_bytes_) {
                    co_return co_await read_piece();
                }
                part_ = Part::tail;
                [[fallthrough]];
            case Part::tail:
                part_ = Part::done;
                co_return body.substr(at_);
            case Part::done:
                break;
        }
        co_return std::string_view();
    }

private:
    enum class Part : unsigned char { head, document, tail, done };

    boost::asio::awaitable<std::string_view> read_piece() {
        auto piece = co_await outbox_.read_piece(family_, document_, next_piece_);
        if (!piece || piece->empty() || piece->size() > document_bytes_ - read_) {
            throw std::runtime_error("a piece of the document is missing or cannot be opened");
        }
        ++next_piece_;
        read_ += piece->size();
        piece_ = std::move(*piece);
        co_return std::string_view(piece_);
    }

    outbox::Outbox& outbox_;
    std::string family_;
    std::string document_;
    std::uint64_t document_bytes_;
    std::string body_;
    std::size_t at_;
    Part part_ = Part::head;
    std::uint64_t next_piece_ = 0;
    std::uint64_t read_ = 0;
    std::string piece_;
};

/// What a message sends to the GRU core: a body in memory, or one read
/// piece by piece (a demand with a document).
struct GruBody {
    std::string text;
    std::shared_ptr<upstream::BodySource> source;
};

/// The signed POST of `body` to `url` on the GRU core, or the record of
/// why it cannot be sent now. gru.url may have changed since the message
/// was queued: relais signs for the GRU core and nobody else.
std::variant<upstream::Request, AttemptRecord> signed_gru_post(
    const std::optional<GruSettings>& gru, const ConnectorEntry& entry,
    const outbox::MessageInfo& info, const std::string& url, std::string_view outside, GruBody body,
    std::mt19937_64& random) {
    if (!gru) {
        return retry_later(entry, info, ErrorClass::internal_error, "no gru configured", random);
    }
    const auto algorithm = auth::parse_signature_algorithm(gru->algorithm);
    if (!algorithm) {
        return retry_later(entry, info, ErrorClass::internal_error, "gru.algo unknown", random);
    }
    if (!url.starts_with(gru->url)) {
        AttemptRecord record;
        record.verdict = Verdict::dead;
        record.error_class = std::string(describe(ErrorClass::invalid_parameter).slug);
        record.reason = std::string(outside);
        return record;
    }
    upstream::Request request;
    request.method = "POST";
    request.url = auth::sign_url(auth::with_orig(url, gru->orig), gru->key, *algorithm,
                                 outbox::Clock::now(), auth::random_nonce());
    request.headers = {{"Accept", "application/json"},
                       {"Content-Type", "application/json"},
                       {"Idempotency-Key", info.tracking_id}};
    if (!info.request_id.empty()) {
        request.headers.push_back({"X-Request-ID", info.request_id});
    }
    request.body = std::move(body.text);
    request.body_source = std::move(body.source);
    request.timeout = gru_timeout;
    return request;
}

/// Makes one attempt of a message for the GRU core: the signed POST of
/// `body` to `url`, its answer judged by `classify`. `outside` is the reason
/// recorded when `url` is not under gru.url. `answer`, if given, receives
/// the body the GRU answered.
boost::asio::awaitable<AttemptOutcome> post_to_gru(
    const std::optional<GruSettings>& gru, const ConnectorEntry& entry,
    const outbox::MessageInfo& info, const std::string& url, std::string_view outside, GruBody body,
    decltype(&classify_trigger) classify, std::mt19937_64& random, std::string* answer = nullptr) {
    AttemptOutcome outcome;
    auto request = signed_gru_post(gru, entry, info, url, outside, std::move(body), random);
    if (auto* refusal = std::get_if<AttemptRecord>(&request)) {
        outcome.record = std::move(*refusal);
        co_return outcome;
    }
    const upstream::Result result =
        co_await upstream::perform(std::move(std::get<upstream::Request>(request)));
    outcome.upstream_elapsed = result.elapsed;
    const auto now = outbox::Clock::now();
    outcome.record =
        settle(classify(result, now), entry.delivery, info.attempts + 1, info.created, now, random);
    if (answer != nullptr) {
        *answer = result.response.body;
    }
    co_return outcome;
}

}  // namespace

std::optional<std::string> reference_in(std::string_view answer, const std::string& pointer) {
    const rapidjson::Pointer path(pointer.c_str(), pointer.size());
    if (!path.IsValid()) {
        return std::nullopt;
    }
    rapidjson::Document document;
    if (!parse_untrusted_json(answer, document, InexactNumbers::as_text)) {
        return std::nullopt;
    }
    const rapidjson::Value* value = path.Get(document);
    if (value == nullptr) {
        return std::nullopt;
    }
    if (value->IsString() && value->GetStringLength() > 0) {
        return std::string(value->GetString(), value->GetStringLength());
    }
    if (value->IsInt64()) {
        return std::to_string(value->GetInt64());
    }
    if (value->IsUint64()) {
        return std::to_string(value->GetUint64());
    }
    return std::nullopt;
}

boost::asio::awaitable<AttemptOutcome> attempt_push(outbox::Outbox& outbox,
                                                    const ConnectorEntry& entry,
                                                    const std::string& family,
                                                    const outbox::DueMessage& message,
                                                    std::mt19937_64& random) {
    const outbox::MessageInfo& info = message.info;
    AttemptOutcome outcome;
    const auto envelope = decode_push(message.payload);
    if (!envelope) {
        outcome.record = unreadable();
        co_return outcome;
    }
    const auto endpoint = async_endpoint(entry, info.endpoint);
    if (!endpoint) {
        outcome.record = retry_later(entry, info, ErrorClass::not_found,
                                     "endpoint no longer configured", random);
        co_return outcome;
    }
    const DeliveryContext context{info.tracking_id, info.tracking_id, info.request_id,
                                  info.attempts + 1};
    upstream::Result result;
    try {
        result = co_await entry.connector->deliver(*endpoint, envelope->message, context);
    } catch (const boost::system::system_error& error) {
        if (is_cancellation(error)) {
            throw;
        }
        result = connector_failed();
    } catch (const std::exception&) {
        // A connector that throws is a bug; what() may quote the message.
        result = connector_failed();
    }
    outcome.upstream_elapsed = result.elapsed;
    const auto now = outbox::Clock::now();
    outcome.record = settle(classify_push(result, now), entry.delivery, info.attempts + 1,
                            info.created, now, random);
    if (outcome.record.verdict == Verdict::delivered && entry.callbacks &&
        !envelope->demand_url.empty()) {
        // Written before the attempt is recorded as delivered: a crash in
        // between delivers the push again (the business application sees
        // the same idempotency key) rather than leaving a demand that no
        // report can reach.
        co_await record_correlation(
            outbox, family, info,
            reference_in(result.response.body, entry.callbacks->reference_pointer),
            envelope->demand_url);
    }
    co_return outcome;
}

boost::asio::awaitable<AttemptOutcome> attempt_trigger(
    outbox::Outbox& outbox, const std::optional<GruSettings>& gru, const ConnectorEntry& entry,
    const std::string& family, const outbox::DueMessage& message, std::mt19937_64& random) {
    const outbox::MessageInfo& info = message.info;
    AttemptOutcome outcome;
    auto envelope = decode_trigger(message.payload);
    if (!envelope) {
        outcome.record = unreadable();
        co_return outcome;
    }
    GruBody body{std::move(envelope->body), nullptr};
    outcome = co_await post_to_gru(gru, entry, info, envelope->url, "demand URL outside gru.url",
                                   std::move(body), &classify_trigger, random);
    if (outcome.record.verdict == Verdict::delivered && envelope->terminal) {
        co_await outbox.remove_correlation(family, info.connector, envelope->reference,
                                           std::string(demand_url_of(envelope->url)));
    }
    co_return outcome;
}

boost::asio::awaitable<AttemptOutcome> attempt_demand(
    outbox::Outbox& outbox, const std::optional<GruSettings>& gru, const ConnectorEntry& entry,
    const std::string& family, const outbox::DueMessage& message, std::mt19937_64& random) {
    const outbox::MessageInfo& info = message.info;
    AttemptOutcome outcome;
    auto envelope = decode_demand(message.payload);
    if (!envelope) {
        outcome.record = unreadable();
        co_return outcome;
    }
    if (envelope->document_at.has_value() == message.document.empty()) {
        outcome.record = unreadable();
        co_return outcome;
    }
    GruBody body;
    if (envelope->document_at) {
        body.source =
            std::make_shared<DocumentBody>(outbox, family, message.document, message.document_bytes,
                                           std::move(envelope->body), *envelope->document_at);
    } else {
        body.text = std::move(envelope->body);
    }
    std::string answer;
    outcome = co_await post_to_gru(gru, entry, info, envelope->url, "submit URL outside gru.url",
                                   std::move(body), &classify_demand, random,
                                   envelope->reference.empty() ? nullptr : &answer);
    if (outcome.record.verdict == Verdict::delivered && !envelope->reference.empty()) {
        // As for a push: recorded before the delivery is, so that a crash in
        // between opens the demand again rather than leaving it unreachable.
        std::optional<std::string> demand_url = opened_demand_url(answer, gru->url);
        std::optional<std::string> reference;
        if (demand_url) {
            reference = std::move(envelope->reference);
        }
        co_await record_correlation(outbox, family, info, std::move(reference),
                                    demand_url.value_or(std::string()));
    }
    co_return outcome;
}

}  // namespace relais::delivery
