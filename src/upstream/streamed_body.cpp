#include "upstream/streamed_body.hpp"

#include <algorithm>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <cstdio>
#include <cstring>

#include "upstream/exchange_rules.hpp"

namespace relais::upstream {

StreamedBody::StreamedBody(std::shared_ptr<BodySource> source,
                           boost::asio::any_io_executor executor)
    : source_(std::move(source)), executor_(std::move(executor)), size_(source_->size()) {}

void StreamedBody::attach(CURL* easy) {
    easy_ = easy;
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, &StreamedBody::on_read);
    curl_easy_setopt(easy, CURLOPT_READDATA, this);
    curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, &StreamedBody::on_seek);
    curl_easy_setopt(easy, CURLOPT_SEEKDATA, this);
}

void StreamedBody::detach() {
    easy_ = nullptr;
    stop_.emit(boost::asio::cancellation_type::terminal);
}

std::size_t StreamedBody::on_read(char* out, std::size_t size, std::size_t count, void* self) {
    return static_cast<StreamedBody*>(self)->read(out, size * count);
}

int StreamedBody::on_seek(void* self, curl_off_t offset, int origin) {
    if (offset != 0 || origin != SEEK_SET) {
        return CURL_SEEKFUNC_CANTSEEK;
    }
    return static_cast<StreamedBody*>(self)->rewind();
}

std::size_t StreamedBody::read(char* out, std::size_t room) {
    if (failure_) {
        return CURL_READFUNC_ABORT;
    }
    if (!piece_.empty()) {
        std::size_t bytes = std::min(piece_.size(), room);
        // curl stops asking once it has size() bytes. The last one waits
        // until the source has said it has no more, so that a source giving
        // more than it announced is noticed.
        if (!ended_ && given_ + bytes == size_) {
            --bytes;
        }
        if (bytes > 0) {
            std::memcpy(out, piece_.data(), bytes);
            piece_.remove_prefix(bytes);
            given_ += bytes;
            return bytes;
        }
    }
    if (!ended_) {
        if (!piece_.empty()) {
            // The next call to the source invalidates the piece.
            held_ = piece_.front();
            holding_ = true;
            piece_ = {};
        }
        fetch();
        return CURL_READFUNC_PAUSE;
    }
    if (holding_) {
        *out = held_;
        holding_ = false;
        ++given_;
        return 1;
    }
    if (received_ != size_) {
        failure_ = body_size_mismatch();
        return CURL_READFUNC_ABORT;
    }
    return 0;
}

int StreamedBody::rewind() {
    if (fetching_) {
        // The source is busy with a piece; it cannot start again meanwhile.
        return CURL_SEEKFUNC_CANTSEEK;
    }
    try {
        source_->rewind();
    } catch (...) {
        failure_ = body_unavailable();
        return CURL_SEEKFUNC_FAIL;
    }
    piece_ = {};
    received_ = 0;
    given_ = 0;
    holding_ = false;
    ended_ = false;
    return CURL_SEEKFUNC_OK;
}

void StreamedBody::fetch() {
    fetching_ = true;
    boost::asio::post(executor_, [self = shared_from_this()] {
        if (self->easy_ == nullptr) {
            self->fetching_ = false;
            return;
        }
        boost::asio::co_spawn(
            self->executor_, self->source_->next(),
            boost::asio::bind_cancellation_slot(
                self->stop_.slot(), [self](std::exception_ptr error, std::string_view piece) {
                    self->take(error, piece);
                }));
    });
}

void StreamedBody::take(std::exception_ptr error, std::string_view piece) {
    fetching_ = false;
    if (easy_ == nullptr) {
        return;
    }
    if (error) {
        failure_ = body_unavailable();
    } else if (piece.empty()) {
        ended_ = true;
    } else if (piece.size() > size_ - received_) {
        failure_ = body_size_mismatch();
    } else {
        received_ += piece.size();
        piece_ = piece;
    }
    // From the event loop, never from inside a curl callback.
    curl_easy_pause(easy_, CURLPAUSE_CONT);
}

}  // namespace relais::upstream
