#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "auth/publik_signature.hpp"
#include "cli/commands.hpp"
#include "core/url_encoding.hpp"

namespace relais::cli {

namespace {

constexpr std::string_view sign_usage =
    R"(usage: relais sign --orig ORIG (--key KEY | --key-file PATH | --key-env NAME)
                   [--algo ALGO] [--timestamp TS] [--nonce NONCE] URL

Prints URL signed with the Publik signature (as w.c.s. and Passerelle sign
their calls), for trying a relais endpoint with curl or checking a peer's key.

  --orig ORIG        the caller's name, added to the query as orig=ORIG
                     (as declared in the client's `publik.orig`)
  --key KEY          the shared key. Visible to every local user through ps
                     and kept in shell history: prefer one of the next two
  --key-file PATH    read the key from PATH (one trailing newline is dropped)
  --key-env NAME     read the key from the environment variable NAME
  --algo ALGO        sha256 (default), sha1, sha224, sha384 or sha512
  --timestamp TS     sign as of TS (UTC, YYYY-MM-DDTHH:MM:SSZ) instead of now,
                     to reproduce a signature; relais accepts it for 30 s
  --nonce NONCE      use NONCE instead of 128 random bits (reproduction only:
                     relais refuses a nonce it has seen in the last 30 s)
  -h, --help         show this help

The signed URL is valid for 30 seconds and for one call.
)";

struct Options {
    std::optional<std::string> orig;
    std::optional<std::string> key;
    std::optional<std::string> key_file;
    std::optional<std::string> key_env;
    std::string algo = "sha256";
    std::optional<std::string> timestamp;
    std::optional<std::string> nonce;
    std::optional<std::string> url;
};

int usage_error(const std::string& message) {
    std::fprintf(stderr, "relais sign: %s (see relais sign --help)\n", message.c_str());
    return 2;
}

int failure(const std::string& message) {
    std::fprintf(stderr, "relais sign: %s\n", message.c_str());
    return 1;
}

/// Fills `options`; returns an error message, empty on success.
std::string parse(std::span<char* const> args, Options& options) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg(args[i]);
        std::optional<std::string_view> inline_value;
        if (arg.starts_with("--")) {
            if (const auto eq = arg.find('='); eq != std::string_view::npos) {
                inline_value = arg.substr(eq + 1);
                arg = arg.substr(0, eq);
            }
        }
        std::optional<std::string>* target = nullptr;
        if (arg == "--orig") {
            target = &options.orig;
        } else if (arg == "--key") {
            target = &options.key;
        } else if (arg == "--key-file") {
            target = &options.key_file;
        } else if (arg == "--key-env") {
            target = &options.key_env;
        } else if (arg == "--timestamp") {
            target = &options.timestamp;
        } else if (arg == "--nonce") {
            target = &options.nonce;
        } else if (arg != "--algo") {
            // Only an option's name is quoted: a stray argument may be a key
            // or a URL whose query holds personal data.
            if (arg.starts_with("--")) {
                return "unknown option '" + std::string(arg) + "'";
            }
            if (arg.starts_with("-") || options.url) {
                return "unexpected argument number " + std::to_string(i + 1) +
                       " after 'sign': give one URL";
            }
            options.url = std::string(arg);
            continue;
        }
        std::string value;
        if (inline_value) {
            value = std::string(*inline_value);
        } else if (i + 1 < args.size()) {
            value = args[++i];
        } else {
            return std::string(arg) + " needs a value";
        }
        if (target == nullptr) {
            options.algo = std::move(value);
        } else {
            *target = std::move(value);
        }
    }
    if (!options.orig || options.orig->empty()) {
        return "--orig is required";
    }
    if (!options.url) {
        return "the URL to sign is required";
    }
    if (options.nonce &&
        (options.nonce->empty() || options.nonce->size() > auth::max_nonce_length)) {
        return "--nonce must have 1 to " + std::to_string(auth::max_nonce_length) +
               " characters (relais and w.c.s. refuse any other)";
    }
    const int key_sources =
        (options.key ? 1 : 0) + (options.key_file ? 1 : 0) + (options.key_env ? 1 : 0);
    if (key_sources != 1) {
        return "give the key with exactly one of --key, --key-file, --key-env";
    }
    return {};
}

/// The key from whichever source was given; nullopt after printing why.
std::optional<std::string> read_key(const Options& options) {
    std::string key;
    if (options.key) {
        key = *options.key;
    } else if (options.key_env) {
        const char* value = std::getenv(options.key_env->c_str());
        if (value == nullptr) {
            std::fprintf(stderr, "relais sign: environment variable %s is not set\n",
                         options.key_env->c_str());
            return std::nullopt;
        }
        key = value;
    } else {
        std::ifstream in(*options.key_file, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        if (!in) {
            std::fprintf(stderr, "relais sign: cannot read key file %s\n",
                         options.key_file->c_str());
            return std::nullopt;
        }
        key = std::move(text).str();
        if (key.ends_with('\n')) {
            key.pop_back();
            if (key.ends_with('\r')) {
                key.pop_back();
            }
        }
    }
    if (key.empty()) {
        std::fputs("relais sign: the key is empty\n", stderr);
        return std::nullopt;
    }
    return key;
}

/// Whether the query of `url` has a parameter named `name`; sets `value` to
/// its decoded value.
bool find_query_param(std::string_view url, std::string_view name, std::string& value) {
    url = url.substr(0, url.find('#'));
    const auto mark = url.find('?');
    if (mark == std::string_view::npos) {
        return false;
    }
    std::string_view query = url.substr(mark + 1);
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view segment = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        const auto eq = segment.find('=');
        if (url_decode(segment.substr(0, eq), true) == name) {
            const auto decoded = url_decode(
                eq == std::string_view::npos ? std::string_view{} : segment.substr(eq + 1), true);
            value = decoded.value_or(std::string{});
            return true;
        }
    }
    return false;
}

}  // namespace

int sign(std::span<char* const> args) {
    if (wants_help(args)) {
        std::fputs(sign_usage.data(), stdout);
        return 0;
    }
    Options options;
    if (const std::string error = parse(args, options); !error.empty()) {
        return usage_error(error);
    }
    const auto algorithm = auth::parse_signature_algorithm(options.algo);
    if (!algorithm) {
        return usage_error("unknown --algo '" + options.algo + "'");
    }
    auto timestamp = std::chrono::system_clock::now();
    if (options.timestamp) {
        const auto parsed = auth::parse_timestamp(*options.timestamp);
        if (!parsed) {
            return usage_error(
                "--timestamp must read YYYY-MM-DDTHH:MM:SSZ, a year from 1970 to 2200");
        }
        timestamp = *parsed;
    }
    std::string url = *options.url;
    std::string existing;
    for (std::string_view reserved : {"signature", "algo", "timestamp", "nonce"}) {
        if (find_query_param(url, reserved, existing)) {
            return usage_error("the URL already has a '" + std::string(reserved) +
                               "' parameter: give the URL before signing");
        }
    }
    if (find_query_param(url, "orig", existing)) {
        if (existing != *options.orig) {
            return usage_error("the URL's orig differs from --orig");
        }
    } else {
        url = auth::with_orig(url, *options.orig);
    }
    const auto key = read_key(options);
    if (!key) {
        return 1;
    }
    try {
        const std::string nonce = options.nonce ? *options.nonce : auth::random_nonce();
        const std::string signed_url = auth::sign_url(url, *key, *algorithm, timestamp, nonce);
        std::printf("%s\n", signed_url.c_str());
    } catch (const std::exception& e) {
        return failure(e.what());
    }
    return 0;
}

}  // namespace relais::cli
