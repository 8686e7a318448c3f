#pragma once
/// @file
/// How a finished curl transfer that produced no usable response becomes a
/// `Failure` with a detail in words. Kept apart so that the table is tested
/// without a network.

#include <curl/curl.h>

#include <cstddef>
#include <string>
#include <utility>

#include "upstream/exchange_rules.hpp"

namespace relais::upstream {

/// What the transfer knew when it ended, beyond curl's code.
struct TransferFacts {
    long os_errno = 0;            ///< CURLINFO_OS_ERRNO
    bool connected = false;       ///< a connection was established
    bool body_too_large = false;  ///< the body callback refused more bytes
    bool headers_too_large = false;
    std::size_t max_response_bytes = 0;
};

/// Maps `code` (never CURLE_OK) to a failure. The detail never contains the
/// URL, header values or curl's own error text, which may quote the host.
std::pair<Failure, std::string> classify(CURLcode code, const TransferFacts& facts);

}  // namespace relais::upstream
