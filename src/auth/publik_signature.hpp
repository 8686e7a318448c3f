#pragma once
/// @file
/// The Publik signature (w.c.s. `api_utils.py`, Passerelle): an HMAC over
/// the query string, carried by the query string itself. Pure functions:
/// the time and the nonce are passed in, the nonce memory is NonceCache's.
///
/// Signing appends `algo`, `timestamp` (UTC `%Y-%m-%dT%H:%M:%SZ`) and
/// `nonce` to a query that already carries `orig`, then
/// `&signature=<quoted base64(HMAC-algo(key, query so far))>`. Verifying
/// recomputes the HMAC over the query exactly as received up to
/// `&signature=`, so the caller's own encoding choices never matter.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/error_class.hpp"

namespace relais::auth {

/// Hash functions accepted in `algo`. w.c.s. accepts any name of Python's
/// `hashlib.algorithms_guaranteed`; relais accepts its SHA-1 and SHA-2
/// members and refuses md5, sha3_*, blake2* and shake_*.
enum class SignatureAlgorithm : unsigned char { sha1, sha224, sha256, sha384, sha512 };

/// The algorithm named `name` (as in `algo=`), or nullopt.
std::optional<SignatureAlgorithm> parse_signature_algorithm(std::string_view name) noexcept;

/// The `algo=` name of `algorithm`.
std::string_view algorithm_name(SignatureAlgorithm algorithm) noexcept;

/// How far a timestamp may be from now, in the past or in the future.
inline constexpr std::chrono::seconds signature_window{30};

/// Longest nonce accepted (w.c.s. keeps the first 128 characters).
inline constexpr std::size_t max_nonce_length = 128;

/// `t` as `%Y-%m-%dT%H:%M:%SZ` (UTC, truncated to the second).
std::string format_timestamp(std::chrono::system_clock::time_point t);

/// Parses `%Y-%m-%dT%H:%M:%SZ` (exactly, zero-padded, years 1970 to 2200);
/// nullopt otherwise.
std::optional<std::chrono::sys_seconds> parse_timestamp(std::string_view text) noexcept;

/// 128 random bits from OpenSSL's CSPRNG, as 32 lowercase hex digits.
/// Throws std::runtime_error if the CSPRNG fails.
std::string random_nonce();

/// Signs `query` (without `?`; it should already carry `orig=`) and returns
/// the signed query string.
std::string sign_query(std::string_view query, std::string_view key, SignatureAlgorithm algorithm,
                       std::chrono::system_clock::time_point timestamp, std::string_view nonce);

/// `url` with `orig=<orig>` (form-encoded) added to its query, before the
/// fragment and before the signature parameters that sign_url appends, so
/// that the HMAC covers it (as w.c.s. adds it). Does not look for an `orig`
/// already in the query.
std::string with_orig(std::string_view url, std::string_view orig);

/// Signs the query of `url`, keeping its scheme, host, path and fragment.
std::string sign_url(std::string_view url, std::string_view key, SignatureAlgorithm algorithm,
                     std::chrono::system_clock::time_point timestamp, std::string_view nonce);

/// The signature parameters of a received query.
struct SignedQuery {
    std::string_view signed_part;  ///< the raw query before `&signature=`
    std::string orig;              ///< decoded
    SignatureAlgorithm algorithm = SignatureAlgorithm::sha256;
    std::chrono::sys_seconds timestamp{};
    std::string nonce;      ///< decoded
    std::string signature;  ///< the HMAC, base64-decoded (binary)
};

/// Why a signature was refused: an error class and a log-safe reason that
/// never quotes a received value.
struct SignatureFailure {
    ErrorClass error;
    std::string reason;
};

/// Splits a received query (without `?`) into its signature parameters.
/// Requires one each of orig, algo (known), timestamp, nonce, and one
/// `signature`, last. Failures are `invalid_signature`. The result views
/// `raw_query`, which must outlive it.
std::variant<SignedQuery, SignatureFailure> parse_signed_query(std::string_view raw_query);

/// Checks the HMAC (in constant time) and then the timestamp against `now`.
/// nullopt when both hold. Replay is checked separately (NonceCache), and
/// only after this succeeded, so that forged requests cannot burn nonces.
std::optional<SignatureFailure> verify_signature(const SignedQuery& query, std::string_view key,
                                                 std::chrono::system_clock::time_point now);

/// Whether `stamped` is within `window` of `now`, in the past or in the
/// future (exactly `window` away passes): nullopt, or `expired_signature`
/// with a reason such as "<what> 45 s in the past".
std::optional<SignatureFailure> check_clock(std::chrono::system_clock::time_point stamped,
                                            std::chrono::system_clock::time_point now,
                                            std::chrono::seconds window, std::string_view what);

}  // namespace relais::auth
