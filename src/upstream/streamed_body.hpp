#pragma once
/// @file
/// A request body from a BodySource, handed to libcurl piece by piece. When
/// curl asks for bytes and no piece is at hand, the read callback pauses the
/// transfer; a coroutine on the caller's executor awaits the source's next
/// piece and then resumes the transfer. curl is never called from inside its
/// own callbacks: the wait is posted, and the resumption runs from the event
/// loop.

#include <curl/curl.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "upstream/http_client.hpp"

namespace relais::upstream {

class StreamedBody : public std::enable_shared_from_this<StreamedBody> {
public:
    /// `executor` is the perform() caller's: the source runs there.
    StreamedBody(std::shared_ptr<BodySource> source, boost::asio::any_io_executor executor);

    /// Bytes in all, as the source announced them.
    std::uint64_t size() const noexcept { return size_; }

    /// Makes `easy` read its body (and rewind it) from here.
    void attach(CURL* easy);

    /// The transfer is over: a piece still awaited is cancelled, and curl is
    /// never called again from here.
    void detach();

    /// Why the body could not be sent, once the transfer aborted for it.
    const std::optional<std::pair<Failure, std::string>>& failure() const noexcept {
        return failure_;
    }

private:
    static std::size_t on_read(char* out, std::size_t size, std::size_t count, void* self);
    static int on_seek(void* self, curl_off_t offset, int origin);

    std::size_t read(char* out, std::size_t room);
    int rewind();
    void fetch();
    void take(std::exception_ptr error, std::string_view piece);

    std::shared_ptr<BodySource> source_;
    boost::asio::any_io_executor executor_;
    /// Cancels the pending next() when the transfer ends first.
    boost::asio::cancellation_signal stop_;
    CURL* easy_ = nullptr;
    std::uint64_t size_;
    std::string_view piece_;      ///< what curl has not taken yet of the last piece
    std::uint64_t received_ = 0;  ///< bytes the source gave
    std::uint64_t given_ = 0;     ///< bytes handed to curl
    char held_ = 0;               ///< the body's last byte, while `holding_`
    bool holding_ = false;
    bool ended_ = false;     ///< the source gave its empty piece
    bool fetching_ = false;  ///< a next() is pending; curl is paused for it
    std::optional<std::pair<Failure, std::string>> failure_;
};

}  // namespace relais::upstream
