#include "core/duration.hpp"

#include <charconv>

namespace relais {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) noexcept {
    long long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    const auto digits = static_cast<std::size_t>(end - text.data());
    if (ec != std::errc{} || digits == 0 || digits > 9 || value < 0) {
        return std::nullopt;
    }
    const std::string_view unit = text.substr(digits);
    using namespace std::chrono;
    if (unit == "ms") {
        return milliseconds(value);
    }
    if (unit == "s") {
        return duration_cast<milliseconds>(seconds(value));
    }
    if (unit == "m") {
        return duration_cast<milliseconds>(minutes(value));
    }
    if (unit == "h") {
        return duration_cast<milliseconds>(hours(value));
    }
    return std::nullopt;
}

}  // namespace relais
