#include "upstream/curl_multi_service.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <new>

#include "core/log.hpp"
#include "upstream/curl_failure.hpp"
#include "upstream/take_handler.hpp"

namespace relais::upstream {

namespace {

/// Enough idle connections for a busy I/O thread talking to a few dozen
/// upstreams; beyond that curl closes the oldest.
constexpr long max_cached_connections = 128;
/// Reset easy handles kept for reuse: saves an allocation per request.
constexpr std::size_t max_idle_easy_handles = 64;

void initialise_curl_once() {
    static const bool initialised = [] {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
        if ((info->features & CURL_VERSION_ASYNCHDNS) == 0) {
            log::warn("upstream.blocking_dns", {{"curl", info->version}});
        }
        return true;
    }();
    static_cast<void>(initialised);
}

Result result_of(Transfer& transfer, CURLcode code) {
    Result result;
    if (code == CURLE_OK) {
        result.response = std::move(transfer.response);
        curl_easy_getinfo(transfer.easy, CURLINFO_RESPONSE_CODE, &result.response.status);
        return result;
    }
    if (transfer.streamed_body && transfer.streamed_body->failure()) {
        std::tie(result.failure, result.detail) = *transfer.streamed_body->failure();
        return result;
    }
    TransferFacts facts;
    facts.body_too_large = transfer.body_too_large;
    facts.headers_too_large = transfer.headers_too_large;
    facts.max_response_bytes = transfer.request.max_response_bytes;
    curl_easy_getinfo(transfer.easy, CURLINFO_OS_ERRNO, &facts.os_errno);
    curl_off_t connect_time = 0;
    long request_size = 0;
    curl_easy_getinfo(transfer.easy, CURLINFO_CONNECT_TIME_T, &connect_time);
    curl_easy_getinfo(transfer.easy, CURLINFO_REQUEST_SIZE, &request_size);
    // A reused connection has no connect time, but the request went out.
    facts.connected = connect_time > 0 || request_size > 0;
    std::tie(result.failure, result.detail) = classify(code, facts);
    return result;
}

}  // namespace

struct CurlMultiService::SocketWatch {
    explicit SocketWatch(boost::asio::io_context& context) : descriptor(context) {}

    curl_socket_t socket = CURL_SOCKET_BAD;
    /// curl owns the socket: the descriptor only watches it and is
    /// release()d, never closed.
    boost::asio::posix::stream_descriptor descriptor;
    int wanted = CURL_POLL_NONE;
    bool read_armed = false;
    bool write_armed = false;
    bool removed = false;
};

boost::asio::execution_context::id CurlMultiService::id;

CurlMultiService::CurlMultiService(boost::asio::io_context& context)
    : boost::asio::execution_context::service(context), context_(context), timer_(context) {
    initialise_curl_once();
    // Services are shut down newest first. Creating the descriptor service
    // now makes it older than this one, so it is still alive when shutdown()
    // releases the descriptors.
    boost::asio::posix::stream_descriptor registers_descriptor_service(context);
    multi_ = curl_multi_init();
    if (multi_ == nullptr) {
        throw std::bad_alloc();
    }
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlMultiService::socket_callback);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlMultiService::timer_callback);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, max_cached_connections);
}

CurlMultiService::~CurlMultiService() = default;

void CurlMultiService::shutdown() {
    std::vector<PerformHandler> abandoned;
    abandoned.reserve(transfers_.size());
    for (auto& [transfer_id, transfer] : transfers_) {
        curl_multi_remove_handle(multi_, transfer->easy);
        curl_easy_cleanup(transfer->easy);
        abandoned.push_back(take_handler(transfer->handler));
    }
    transfers_.clear();
    for (CURL* easy : idle_easy_) {
        curl_easy_cleanup(easy);
    }
    idle_easy_.clear();
    // Stop watching before curl closes its cached connections, so that no
    // closed descriptor stays registered with the reactor.
    for (auto& [socket, watch] : sockets_) {
        watch->removed = true;
        watch->descriptor.release();
    }
    sockets_.clear();
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, nullptr);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, nullptr);
    curl_multi_cleanup(multi_);
    multi_ = nullptr;
    timer_.cancel();
    // Destroying the handlers destroys the coroutines waiting on them, as
    // Asio does with its own pending operations when a context goes away.
    abandoned.clear();
}

void CurlMultiService::start(Request request, boost::asio::any_io_executor caller,
                             PerformHandler handler) {
    auto transfer = std::make_unique<Transfer>();
    transfer->id = next_id_++;
    transfer->request = std::move(request);
    if (transfer->request.body_source) {
        transfer->streamed_body =
            std::make_shared<StreamedBody>(transfer->request.body_source, std::move(caller));
    }
    transfer->slot = boost::asio::get_associated_cancellation_slot(handler);
    transfer->handler.swap(handler);
    transfer->easy = take_easy();
    if (transfer->easy == nullptr) {
        complete(*transfer, {}, Result{Failure::internal, "out of memory", {}, {}});
        return;
    }
    std::optional<std::string> refused = configure_easy(*transfer);
    if (!refused && curl_multi_add_handle(multi_, transfer->easy) != CURLM_OK) {
        refused = "request refused by libcurl";
    }
    if (refused) {
        recycle_easy(transfer->easy);
        complete(*transfer, {}, Result{Failure::internal, std::move(*refused), {}, {}});
        return;
    }
    if (transfer->slot.is_connected()) {
        transfer->slot.assign(
            [this, transfer_id = transfer->id](boost::asio::cancellation_type type) {
                using boost::asio::cancellation_type;
                if ((type & (cancellation_type::terminal | cancellation_type::partial)) !=
                    cancellation_type::none) {
                    cancel(transfer_id);
                }
            });
    }
    const std::uint64_t transfer_id = transfer->id;
    transfers_.emplace(transfer_id, std::move(transfer));
}

void CurlMultiService::cancel(std::uint64_t transfer_id) {
    const auto found = transfers_.find(transfer_id);
    if (found == transfers_.end()) {
        return;
    }
    Transfer& transfer = *found->second;
    curl_multi_remove_handle(multi_, transfer.easy);
    recycle_easy(transfer.easy);
    complete(transfer, boost::asio::error::operation_aborted, {});
    transfers_.erase(found);
}

void CurlMultiService::complete(Transfer& transfer, boost::system::error_code error,
                                Result result) {
    PerformHandler handler = take_handler(transfer.handler);
    auto executor = boost::asio::get_associated_executor(handler, context_.get_executor());
    // Posted, never run inline: the coroutine must not resume inside curl's
    // callbacks or while the finished transfers are being drained.
    boost::asio::post(context_, boost::asio::bind_executor(
                                    executor, [handler = std::move(handler), slot = transfer.slot,
                                               error, result = std::move(result)]() mutable {
                                        if (slot.is_connected()) {
                                            slot.clear();
                                        }
                                        std::move(handler)(error, std::move(result));
                                    }));
}

void CurlMultiService::drain_finished() {
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &queued)) {
        if (message->msg != CURLMSG_DONE) {
            continue;
        }
        CURL* easy = message->easy_handle;
        const CURLcode code = message->data.result;
        char* owner = nullptr;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &owner);
        Transfer& transfer = *reinterpret_cast<Transfer*>(owner);
        Result result = result_of(transfer, code);
        curl_multi_remove_handle(multi_, easy);
        recycle_easy(easy);
        complete(transfer, {}, std::move(result));
        transfers_.erase(transfer.id);
    }
}

int CurlMultiService::socket_callback(CURL*, curl_socket_t socket, int what, void* self, void*) {
    static_cast<CurlMultiService*>(self)->watch_socket(socket, what);
    return 0;
}

int CurlMultiService::timer_callback(CURLM*, long timeout_ms, void* self) {
    static_cast<CurlMultiService*>(self)->schedule_timeout(timeout_ms);
    return 0;
}

void CurlMultiService::watch_socket(curl_socket_t socket, int what) {
    auto found = sockets_.find(socket);
    if (what == CURL_POLL_REMOVE) {
        if (found != sockets_.end()) {
            found->second->removed = true;
            found->second->descriptor.release();
            sockets_.erase(found);
        }
        return;
    }
    if (found == sockets_.end()) {
        auto watch = std::make_shared<SocketWatch>(context_);
        boost::system::error_code error;
        watch->descriptor.assign(socket, error);
        if (error) {
            log::error("upstream.socket_watch_failed", {{"error", error.message()}});
            return;
        }
        watch->socket = socket;
        found = sockets_.emplace(socket, std::move(watch)).first;
    }
    found->second->wanted = what;
    arm(found->second);
}

void CurlMultiService::arm(const std::shared_ptr<SocketWatch>& watch) {
    using boost::asio::posix::stream_descriptor;
    if ((watch->wanted & CURL_POLL_IN) != 0 && !watch->read_armed) {
        watch->read_armed = true;
        watch->descriptor.async_wait(stream_descriptor::wait_read,
                                     [this, watch](boost::system::error_code error) {
                                         watch->read_armed = false;
                                         on_socket_ready(watch, error, CURL_CSELECT_IN);
                                     });
    }
    if ((watch->wanted & CURL_POLL_OUT) != 0 && !watch->write_armed) {
        watch->write_armed = true;
        watch->descriptor.async_wait(stream_descriptor::wait_write,
                                     [this, watch](boost::system::error_code error) {
                                         watch->write_armed = false;
                                         on_socket_ready(watch, error, CURL_CSELECT_OUT);
                                     });
    }
}

void CurlMultiService::on_socket_ready(const std::shared_ptr<SocketWatch>& watch,
                                       boost::system::error_code error, int event) {
    if (watch->removed || error == boost::asio::error::operation_aborted) {
        return;
    }
    const int interest = event == CURL_CSELECT_IN ? CURL_POLL_IN : CURL_POLL_OUT;
    if ((watch->wanted & interest) == 0) {
        // curl stopped caring about this direction while the wait was armed.
        return;
    }
    int running = 0;
    curl_multi_socket_action(multi_, watch->socket, error ? CURL_CSELECT_ERR : event, &running);
    drain_finished();
    if (!watch->removed) {
        arm(watch);
    }
}

void CurlMultiService::schedule_timeout(long timeout_ms) {
    timer_.cancel();
    if (timeout_ms < 0) {
        return;
    }
    // curl must not be re-entered from its own callback, so even a zero
    // timeout is deferred. curl asks for one on every new transfer: posting
    // it instead of arming the timer spares a kernel timer per request
    // (a quarter of relais's CPU per request in tools/bench).
    if (timeout_ms == 0) {
        if (!timeout_posted_) {
            timeout_posted_ = true;
            boost::asio::post(context_, [this] {
                timeout_posted_ = false;
                on_timeout();
            });
        }
        return;
    }
    timer_.expires_after(std::chrono::milliseconds(timeout_ms));
    timer_.async_wait([this](boost::system::error_code error) {
        if (!error) {
            on_timeout();
        }
    });
}

void CurlMultiService::on_timeout() {
    int running = 0;
    curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
    drain_finished();
}

CURL* CurlMultiService::take_easy() {
    if (idle_easy_.empty()) {
        return curl_easy_init();
    }
    CURL* easy = idle_easy_.back();
    idle_easy_.pop_back();
    return easy;
}

void CurlMultiService::recycle_easy(CURL* easy) {
    if (idle_easy_.size() >= max_idle_easy_handles) {
        curl_easy_cleanup(easy);
        return;
    }
    curl_easy_reset(easy);
    idle_easy_.push_back(easy);
}

}  // namespace relais::upstream
