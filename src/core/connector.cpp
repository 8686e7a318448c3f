#include "core/connector.hpp"

#include "upstream/http_client.hpp"

namespace relais {

std::variant<PushMessage, HttpResponse> Connector::prepare_push(std::size_t,
                                                                const IncomingRequest&) const {
    return HttpResponse::failure(ErrorClass::internal_error,
                                 "this connector kind does not support async endpoints");
}

boost::asio::awaitable<upstream::Result> Connector::deliver(std::size_t, std::string_view,
                                                            const DeliveryContext&) const {
    upstream::Result result;
    result.failure = upstream::Failure::internal;
    result.detail = "this connector kind does not deliver pushes";
    co_return result;
}

}  // namespace relais
