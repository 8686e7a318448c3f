#include "mail/mail_connector.hpp"

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "core/log.hpp"
#include "mail/body_splitter.hpp"
#include "mail/closing_notice.hpp"
#include "mail/inbound_mail.hpp"
#include "mail/mail_spec.hpp"
#include "rest/push_message.hpp"
#include "rest/upstream_request.hpp"
#include "upstream/http_client.hpp"

namespace relais::mail {

namespace {

HttpResponse refusal(const rest::CallError& error) {
    return HttpResponse::failure(error.error, error.description);
}

/// Both endpoints are POSTed, with nothing after their name.
std::optional<HttpResponse> route_refusal(const IncomingRequest& request) {
    if (request.method != "POST") {
        HttpResponse response = HttpResponse::failure(ErrorClass::method_not_allowed,
                                                      "this endpoint is called with POST");
        response.headers.push_back(Header{"Allow", "POST"});
        return response;
    }
    if (!request.rest.empty()) {
        return HttpResponse::failure(ErrorClass::not_found,
                                     "this endpoint takes no path after its name");
    }
    return std::nullopt;
}

HttpResponse outbox_unavailable() {
    return HttpResponse::failure(ErrorClass::outbox_unavailable,
                                 "the demand could not be queued; try again later");
}

class MailConnector final : public Connector {
public:
    MailConnector(MailSpec spec, const ConnectorSource& source)
        : spec_(std::move(spec)),
          slug_(source.slug),
          family_(source.family),
          services_(source.services) {
        infos_[mails_endpoint].name = "mails";
        infos_[mails_endpoint].max_body_bytes =
            max_mail_body_bytes(spec_.inbound.max_document_bytes);
        infos_[mails_endpoint].streamed_body = true;
        infos_[closed_endpoint].name = "closed";
        infos_[closed_endpoint].async = true;
        infos_[closed_endpoint].closes_demand = true;
        auth_ = rest::make_authenticator(spec_.upstream, slug_);
    }

    std::span<const EndpointInfo> endpoints() const override { return infos_; }

    boost::asio::awaitable<HttpResponse> handle(std::size_t index,
                                                const IncomingRequest& request) const override {
        if (index != mails_endpoint) {
            co_return HttpResponse::failure(ErrorClass::internal_error,
                                            "an async endpoint is served through the outbox");
        }
        if (auto refused = route_refusal(request)) {
            co_return std::move(*refused);
        }
        // The document's text goes to the outbox as the body arrives; what
        // is refused afterwards drops what was stored.
        const std::unique_ptr<DocumentWriter> document =
            services_ != nullptr ? services_->open_document(family_) : nullptr;
        auto read = co_await receive(request, document.get());
        if (auto* refused = std::get_if<HttpResponse>(&read)) {
            if (document != nullptr) {
                co_await document->discard();
            }
            co_return std::move(*refused);
        }
        if (document == nullptr) {
            co_return outbox_unavailable();
        }
        const std::optional<StoredDocument> stored = co_await document->finish();
        if (!stored) {
            co_await document->discard();
            co_return outbox_unavailable();
        }
        ReceivedMail& mail = std::get<ReceivedMail>(read);
        const std::size_t document_bytes = mail.document_bytes;
        GruDemand demand = std::move(mail.demand);
        demand.request_id = request.request_id;
        demand.document = *stored;
        const std::optional<std::string> tracking_id =
            co_await services_->submit_demand(slug_, family_, std::move(demand));
        if (!tracking_id) {
            // The core drops a document it could not queue; this makes sure.
            co_await document->discard();
            co_return outbox_unavailable();
        }
        log::info("mail_demand_queued", {{"request_id", request.request_id},
                                         {"connector", slug_},
                                         {"tracking_id", *tracking_id},
                                         {"document_bytes", document_bytes}});
        co_return HttpResponse::accepted(*tracking_id);
    }

    std::variant<PushMessage, HttpResponse> prepare_push(
        std::size_t index, const IncomingRequest& request) const override {
        if (index != closed_endpoint) {
            return HttpResponse::failure(ErrorClass::internal_error,
                                         "this endpoint is not async: it has no push");
        }
        if (auto refused = route_refusal(request)) {
            return std::move(*refused);
        }
        auto notice = closing_notice(spec_.upstream, spec_.notify, request.body);
        if (const auto* error = std::get_if<rest::CallError>(&notice)) {
            return refusal(*error);
        }
        return rest::encode_push(std::get<rest::StoredPush>(notice));
    }

    boost::asio::awaitable<upstream::Result> deliver(
        std::size_t index, std::string_view message,
        const DeliveryContext& context) const override {
        if (index != closed_endpoint) {
            upstream::Result unusable;
            unusable.failure = upstream::Failure::internal;
            unusable.detail = "this endpoint delivers nothing";
            co_return unusable;
        }
        co_return co_await rest::deliver_push(spec_.upstream, auth_.get(), *rest::json_format(),
                                              message, context, spec_.upstream.timeout);
    }

private:
    /// Text of the document gathered before it is handed to the outbox.
    static constexpr std::size_t document_batch_bytes = 64 * 1024;

    /// Reads the body of a `mails` call through a BodySplitter: its
    /// document's text to `document` (dropped when null), the rest checked
    /// into the mail's demand. Returns the refusal to answer otherwise.
    boost::asio::awaitable<std::variant<ReceivedMail, HttpResponse>> receive(
        const IncomingRequest& request, DocumentWriter* document) const {
        BodySplitter splitter(spec_.inbound.document, metadata_allowance,
                              spec_.inbound.max_document_bytes);
        std::string text;
        // A call without a body (or a unit test's) has no reader: its body
        // is then one piece. (No co_await behind && or ?: here: GCC 12
        // miscompiles it.)
        std::string_view piece = request.body;
        for (bool more = true; more;) {
            if (request.body_reader != nullptr) {
                piece = co_await request.body_reader->next();
            }
            more = request.body_reader != nullptr && !piece.empty();
            if (auto error = splitter.feed(piece, text)) {
                co_return refusal(*error);
            }
            if (text.size() < document_batch_bytes && more) {
                continue;
            }
            if (document != nullptr && !text.empty()) {
                const bool written = co_await document->write(text);
                if (!written) {
                    co_return outbox_unavailable();
                }
            }
            text.clear();
        }
        if (request.body_reader != nullptr) {
            if (const auto failure = request.body_reader->failure()) {
                co_return HttpResponse::failure(*failure,
                                                "the request body could not be read whole");
            }
        }
        auto split = splitter.finish();
        if (const auto* error = std::get_if<rest::CallError>(&split)) {
            co_return refusal(*error);
        }
        auto read = read_mail(spec_.inbound, spec_.demand, std::get<SplitBody>(split));
        if (const auto* error = std::get_if<rest::CallError>(&read)) {
            co_return refusal(*error);
        }
        co_return std::move(std::get<ReceivedMail>(read));
    }

    MailSpec spec_;
    std::string slug_;
    std::string family_;
    /// Null when relais only validates: then no demand can be queued.
    const ConnectorServices* services_;
    std::array<EndpointInfo, 2> infos_;
    std::unique_ptr<upstream::Authenticator> auth_;
};

}  // namespace

std::unique_ptr<Connector> make_mail_connector(const ConnectorSource& source) {
    return std::make_unique<MailConnector>(load_mail_spec(source), source);
}

}  // namespace relais::mail
