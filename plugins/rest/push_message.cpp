#include "rest/push_message.hpp"

#include <algorithm>
#include <cstdint>

namespace relais::rest {

namespace {

constexpr char format_version = 0x01;

void put_count(std::string& out, std::size_t n) {
    const auto v = static_cast<std::uint32_t>(n);
    out += static_cast<char>((v >> 24) & 0xFF);
    out += static_cast<char>((v >> 16) & 0xFF);
    out += static_cast<char>((v >> 8) & 0xFF);
    out += static_cast<char>(v & 0xFF);
}

void put_string(std::string& out, std::string_view s) {
    put_count(out, s.size());
    out += s;
}

class Reader {
public:
    explicit Reader(std::string_view bytes) : rest_(bytes) {}

    bool count(std::uint32_t& n) {
        if (rest_.size() < 4) {
            return false;
        }
        n = 0;
        for (int i = 0; i < 4; ++i) {
            n = (n << 8) | static_cast<unsigned char>(rest_[static_cast<std::size_t>(i)]);
        }
        rest_.remove_prefix(4);
        return true;
    }

    bool string(std::string& s) {
        std::uint32_t n = 0;
        if (!count(n) || n > rest_.size()) {
            return false;
        }
        s.assign(rest_.substr(0, n));
        rest_.remove_prefix(n);
        return true;
    }

    bool at_end() const noexcept { return rest_.empty(); }
    std::size_t left() const noexcept { return rest_.size(); }

private:
    std::string_view rest_;
};

bool is_upstream_method(std::string_view m) noexcept {
    return m == "GET" || m == "HEAD" || m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE";
}

}  // namespace

PushMessage encode_push(const StoredPush& push) {
    std::size_t size = 1 + 4 * 4 + push.method.size() + push.target.size() + push.body.size();
    for (const auto& h : push.headers) {
        size += 8 + h.name.size() + h.value.size();
    }
    PushMessage out;
    out.reserve(size);
    out += format_version;
    put_string(out, push.method);
    put_string(out, push.target);
    put_count(out, push.headers.size());
    for (const auto& h : push.headers) {
        put_string(out, h.name);
        put_string(out, h.value);
    }
    put_string(out, push.body);
    return out;
}

std::optional<StoredPush> decode_push(std::string_view message) {
    if (message.empty() || message.front() != format_version) {
        return std::nullopt;
    }
    Reader in(message.substr(1));
    StoredPush push;
    std::uint32_t headers = 0;
    if (!in.string(push.method) || !is_upstream_method(push.method) || !in.string(push.target) ||
        !in.count(headers)) {
        return std::nullopt;
    }
    // Each header takes at least 8 bytes: a corrupt count cannot make us
    // reserve more than the message could hold.
    if (headers > in.left() / 8) {
        return std::nullopt;
    }
    push.headers.resize(headers);
    for (auto& h : push.headers) {
        if (!in.string(h.name) || h.name.empty() || !in.string(h.value)) {
            return std::nullopt;
        }
    }
    if (!in.string(push.body) || !in.at_end()) {
        return std::nullopt;
    }
    return push;
}

std::string target_of(std::string_view base_url, std::string_view url) {
    std::string_view target = url.substr(std::min(base_url.size(), url.size()));
    if (!base_url.ends_with('/') && target.starts_with('/')) {
        target.remove_prefix(1);
    }
    return std::string(target);
}

std::string url_of(std::string_view base_url, std::string_view target) {
    std::string url(base_url);
    if (!target.empty() && !target.starts_with('?') && !url.ends_with('/')) {
        url += '/';
    }
    url += target;
    return url;
}

}  // namespace relais::rest
