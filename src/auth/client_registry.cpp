#include "auth/client_registry.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <unordered_map>

#include "auth/address_range.hpp"
#include "auth/nonce_cache.hpp"
#include "auth/publik_signature.hpp"
#include "config/config_document.hpp"
#include "core/digest.hpp"
#include "core/runtime.hpp"
#include "core/strings.hpp"
#include "core/url_encoding.hpp"

namespace relais::auth {

namespace {

struct Sha256Hash {
    std::size_t operator()(const Sha256& d) const noexcept {
        std::size_t h = 0;
        std::memcpy(&h, d.data(), sizeof h);
        return h;
    }
};

/// Connectors and endpoints one client may call.
struct Grant {
    bool every_endpoint = false;
    std::vector<std::string> endpoints;  ///< sorted
};

struct PublikEntry {
    const Client* client = nullptr;
    std::string key;
};

struct BasicEntry {
    const Client* client = nullptr;
    Sha256 password_digest{};
    /// Kept in clear for WS-Security's PasswordDigest, which hashes it with
    /// the caller's nonce and time: no digest of it alone could check one.
    std::string password;
};

/// The credential-bearing parameters found in a query.
struct QueryCredentials {
    bool has_signature = false;
    bool has_orig = false;
    unsigned apikey_count = 0;
    std::string_view apikey;  ///< raw (still encoded)
    bool malformed = false;
};

QueryCredentials scan_query(std::string_view raw_query) {
    QueryCredentials found;
    while (!raw_query.empty()) {
        const std::size_t amp = raw_query.find('&');
        const std::string_view segment = raw_query.substr(0, amp);
        raw_query = amp == std::string_view::npos ? std::string_view{} : raw_query.substr(amp + 1);
        const std::size_t eq = segment.find('=');
        const std::string_view raw_name = segment.substr(0, eq);
        std::string decoded;
        std::string_view name = raw_name;
        if (raw_name.find_first_of("%+") != std::string_view::npos) {
            auto d = url_decode(raw_name, true);
            if (!d) {
                found.malformed = true;
                continue;
            }
            decoded = std::move(*d);
            name = decoded;
        }
        if (name == "signature") {
            found.has_signature = true;
        } else if (name == "orig") {
            found.has_orig = true;
        } else if (name == "apikey") {
            ++found.apikey_count;
            found.apikey =
                eq == std::string_view::npos ? std::string_view{} : segment.substr(eq + 1);
        }
    }
    return found;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) {
            out += ", ";
        }
        out += item;
    }
    return out;
}

AuthResult refuse(ErrorClass error, std::string reason) {
    return AuthResult{nullptr, error, std::move(reason)};
}

}  // namespace

/// A configured caller, immutable once the registry is built.
class Client {
public:
    std::string name;
    std::vector<AddressRange> allow_from;  ///< empty: any address
    std::unordered_map<const ConnectorEntry*, Grant> grants;

    bool address_allowed(const boost::asio::ip::address& remote) const noexcept {
        return allow_from.empty() || std::ranges::any_of(allow_from, [&](const AddressRange& r) {
                   return r.contains(remote);
               });
    }
};

struct ClientRegistry::Impl {
    std::vector<std::unique_ptr<Client>> clients;
    std::unordered_map<std::string, PublikEntry> by_orig;
    std::unordered_map<Sha256, const Client*, Sha256Hash> by_api_key;
    std::unordered_map<std::string, BasicEntry> by_username;

    AuthResult publik(const CallerInfo& caller, NonceCache& nonces) const;
    AuthResult api_key(std::string_view key, const CallerInfo& caller) const;
    AuthResult basic(std::string_view token, const CallerInfo& caller) const;
    /// The user `username` if its password digest is `digest`, compared so
    /// that an unknown user costs what a wrong password does.
    const BasicEntry* basic_user(std::string_view username, const Sha256& digest) const;
};

namespace {

AuthResult accept(const Client& client, const CallerInfo& caller) {
    if (!client.address_allowed(caller.remote)) {
        return refuse(ErrorClass::address_not_allowed, "address outside the client's allow_from");
    }
    return AuthResult{&client, std::nullopt, {}};
}

}  // namespace

ClientRegistry::ClientRegistry(const RelaisConfig& config,
                               const std::vector<std::unique_ptr<ConnectorEntry>>& connectors)
    : impl_(std::make_unique<Impl>()) {
    std::unordered_map<std::string_view, const ConnectorEntry*> by_slug;
    std::vector<std::string> slugs;
    for (const auto& c : connectors) {
        by_slug.emplace(c->slug, c.get());
        slugs.push_back(c->slug);
    }
    std::ranges::sort(slugs);

    std::vector<ConfigError> errors;
    auto error_at = [&](const std::string& pointer, const std::string& message) {
        errors.emplace_back(config.locations, pointer, message);
    };

    for (const ClientConfig& cc : config.clients) {
        auto client = std::make_unique<Client>();
        client->name = cc.name;
        std::string base = "/clients";
        config::append_pointer_token(base, cc.name);

        for (std::size_t i = 0; i < cc.allow_from.size(); ++i) {
            if (auto range = AddressRange::parse(cc.allow_from[i])) {
                client->allow_from.push_back(*range);
            } else {
                error_at(base + "/allow_from/" + std::to_string(i),
                         "client '" + cc.name + "': '" + cc.allow_from[i] +
                             "' is not an address or a CIDR block (e.g. 10.0.0.0/8, ::1/128)");
            }
        }

        for (const Credentials& credentials : cc.credentials) {
            if (const auto* p = std::get_if<PublikCredentials>(&credentials)) {
                if (p->orig.empty() || p->key.empty()) {
                    error_at(base + "/publik", "client '" + cc.name +
                                                   "': publik needs a non-empty " +
                                                   (p->orig.empty() ? "orig" : "key"));
                    continue;
                }
                auto [it, inserted] = impl_->by_orig.try_emplace(p->orig, client.get(), p->key);
                if (!inserted) {
                    error_at(base + "/publik/orig", "client '" + cc.name + "': orig '" + p->orig +
                                                        "' is already used by client '" +
                                                        it->second.client->name + "'");
                }
            } else if (const auto* a = std::get_if<ApiKeyCredentials>(&credentials)) {
                if (a->key.empty()) {
                    error_at(base + "/apikey", "client '" + cc.name + "': apikey is empty");
                    continue;
                }
                auto [it, inserted] = impl_->by_api_key.try_emplace(sha256(a->key), client.get());
                if (!inserted) {
                    error_at(base + "/apikey", "client '" + cc.name +
                                                   "' has the same apikey as client '" +
                                                   it->second->name + "'");
                }
            } else if (const auto* b = std::get_if<BasicCredentials>(&credentials)) {
                if (b->username.empty() || b->password.empty()) {
                    error_at(base + "/basic", "client '" + cc.name + "': basic needs a non-empty " +
                                                  (b->username.empty() ? "username" : "password"));
                    continue;
                }
                auto [it, inserted] = impl_->by_username.try_emplace(
                    b->username, BasicEntry{client.get(), sha256(b->password), b->password});
                if (!inserted) {
                    error_at(base + "/basic/username",
                             "client '" + cc.name + "': username '" + b->username +
                                 "' is already used by client '" + it->second.client->name + "'");
                }
            }
        }

        for (const auto& [slug, endpoints] : cc.grants) {
            std::string pointer = base + "/grants";
            config::append_pointer_token(pointer, slug);
            const auto found = by_slug.find(slug);
            if (found == by_slug.end()) {
                error_at(pointer, "client '" + cc.name + "' is granted unknown connector '" + slug +
                                      "' (loaded connectors: " + join(slugs) + ")");
                continue;
            }
            const ConnectorEntry& connector = *found->second;
            if (std::ranges::find(cc.families, connector.family) == cc.families.end()) {
                error_at(pointer, "client '" + cc.name + "' is granted connector '" + slug +
                                      "' of family '" + connector.family +
                                      "' but its families are [" + join(cc.families) + "]");
                continue;
            }
            Grant grant;
            grant.every_endpoint = endpoints.empty();
            for (std::size_t i = 0; i < endpoints.size(); ++i) {
                if (connector.endpoint_index.contains(endpoints[i])) {
                    grant.endpoints.push_back(endpoints[i]);
                    continue;
                }
                std::vector<std::string> names;
                for (const auto& [name, index] : connector.endpoint_index) {
                    names.push_back(name);
                }
                std::ranges::sort(names);
                error_at(pointer + "/" + std::to_string(i),
                         "client '" + cc.name + "': connector '" + slug + "' has no endpoint '" +
                             endpoints[i] + "' (its endpoints: " + join(names) + ")");
            }
            std::ranges::sort(grant.endpoints);
            client->grants.emplace(&connector, std::move(grant));
        }
        impl_->clients.push_back(std::move(client));
    }
    if (!errors.empty()) {
        throw ConfigErrors(std::move(errors));
    }
}

ClientRegistry::~ClientRegistry() = default;

AuthResult ClientRegistry::authenticate(const CallerInfo& caller, NonceCache& nonces) const {
    const QueryCredentials query = scan_query(caller.raw_query);
    if (query.malformed) {
        return refuse(ErrorClass::bad_request, "malformed query");
    }
    if (query.has_signature) {
        return impl_->publik(caller, nonces);
    }
    if (query.apikey_count > 1) {
        return refuse(ErrorClass::invalid_credentials, "apikey given more than once");
    }
    if (query.apikey_count == 1) {
        const auto key = url_decode(query.apikey, true);
        if (!key) {
            return refuse(ErrorClass::bad_request, "malformed query");
        }
        return impl_->api_key(*key, caller);
    }
    if (const std::string* authorization = find_header(caller.headers, "Authorization")) {
        const std::string_view value = trim_ows(*authorization);
        const std::string_view scheme = value.substr(0, value.find(' '));
        const std::string_view token = trim_ows(value.substr(scheme.size()));
        if (iequals_ascii(scheme, "Bearer")) {
            return impl_->api_key(token, caller);
        }
        if (iequals_ascii(scheme, "Basic")) {
            return impl_->basic(token, caller);
        }
        return refuse(ErrorClass::missing_credentials, "unsupported authorization scheme");
    }
    if (query.has_orig) {
        return refuse(ErrorClass::invalid_signature, "orig without signature");
    }
    return refuse(ErrorClass::missing_credentials, "no credentials");
}

AuthResult ClientRegistry::Impl::publik(const CallerInfo& caller, NonceCache& nonces) const {
    auto parsed = parse_signed_query(caller.raw_query);
    if (auto* failure = std::get_if<SignatureFailure>(&parsed)) {
        return refuse(failure->error, std::move(failure->reason));
    }
    const SignedQuery& query = std::get<SignedQuery>(parsed);
    const auto entry = by_orig.find(query.orig);
    if (entry == by_orig.end()) {
        return refuse(ErrorClass::invalid_credentials, "unknown orig");
    }
    if (auto failure = verify_signature(query, entry->second.key, caller.now)) {
        return refuse(failure->error, std::move(failure->reason));
    }
    AuthResult result = accept(*entry->second.client, caller);
    if (result.error) {
        return result;
    }
    // Recorded last: only a request that would otherwise be served uses up its
    // nonce. It stays recorded as long as its timestamp would pass, which is
    // longer than 30 s when the caller's clock is ahead of ours. Nonces are
    // per orig: two peers never collide, whatever their nonce generator, and
    // one cannot fill the cache for the others.
    const auto outcome =
        nonces.remember(query.orig, query.nonce, caller.now, query.timestamp + signature_window);
    if (outcome == NonceCache::Outcome::replayed) {
        return refuse(ErrorClass::replayed_nonce, "nonce already used");
    }
    if (outcome == NonceCache::Outcome::full) {
        return refuse(ErrorClass::overloaded, "nonce cache full");
    }
    return result;
}

AuthResult ClientRegistry::Impl::api_key(std::string_view key, const CallerInfo& caller) const {
    if (key.empty()) {
        return refuse(ErrorClass::invalid_credentials, "empty API key");
    }
    // Looked up by digest: the map's timing depends on the digest, which
    // tells nothing usable about the key.
    const auto found = by_api_key.find(sha256(key));
    if (found == by_api_key.end()) {
        return refuse(ErrorClass::invalid_credentials, "unknown API key");
    }
    return accept(*found->second, caller);
}

AuthResult ClientRegistry::Impl::basic(std::string_view token, const CallerInfo& caller) const {
    const auto decoded = base64_decode(token);
    const std::size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
        return refuse(ErrorClass::invalid_credentials, "malformed Basic credentials");
    }
    const std::string_view credentials(*decoded);
    const BasicEntry* user =
        basic_user(credentials.substr(0, colon), sha256(credentials.substr(colon + 1)));
    if (user == nullptr) {
        return refuse(ErrorClass::invalid_credentials, "wrong username or password");
    }
    return accept(*user->client, caller);
}

const BasicEntry* ClientRegistry::Impl::basic_user(std::string_view username,
                                                   const Sha256& digest) const {
    const auto found = by_username.find(std::string(username));
    // Compared against a dummy digest for unknown users so that both paths
    // cost the same; fixed-size digests make the comparison length-blind.
    static const Sha256 no_password{};
    const Sha256& expected =
        found == by_username.end() ? no_password : found->second.password_digest;
    const bool match = CRYPTO_memcmp(digest.data(), expected.data(), digest.size()) == 0;
    return found == by_username.end() || !match ? nullptr : &found->second;
}

AuthResult ClientRegistry::authenticate_username_token(const UsernameToken& token,
                                                       const CallerInfo& caller,
                                                       NonceCache& nonces) const {
    const bool digest = token.password_type == password_digest_type;
    if (!digest && !token.password_type.empty() && token.password_type != password_text_type) {
        return refuse(ErrorClass::invalid_credentials, "unsupported password type");
    }
    if (!digest) {
        // PasswordText travels as Basic does: its nonce and time add nothing
        // an eavesdropper could not forge, so they are not checked.
        const BasicEntry* user = impl_->basic_user(token.username, sha256(token.password));
        if (user == nullptr) {
            return refuse(ErrorClass::invalid_credentials, "wrong username or password");
        }
        return accept(*user->client, caller);
    }
    const auto nonce = base64_decode(token.nonce);
    const auto created = parse_created(token.created);
    if (!nonce || nonce->empty() || !created) {
        return refuse(ErrorClass::invalid_credentials,
                      "a password digest needs a base64 nonce and wsu:Created");
    }
    if (nonce->size() > max_nonce_length) {
        return refuse(ErrorClass::invalid_credentials,
                      "nonce longer than " + std::to_string(max_nonce_length) + " bytes");
    }
    const auto found = impl_->by_username.find(token.username);
    // An unknown user is checked against an empty password: the same work
    // as a wrong password, and the same answer.
    static const std::string no_password;
    const std::string& password =
        found == impl_->by_username.end() ? no_password : found->second.password;
    const std::string expected = password_digest(*nonce, token.created, password);
    const bool match = token.password.size() == expected.size() &&
                       CRYPTO_memcmp(token.password.data(), expected.data(), expected.size()) == 0;
    if (found == impl_->by_username.end() || !match) {
        return refuse(ErrorClass::invalid_credentials, "wrong username or password");
    }
    if (auto failure = check_clock(*created, caller.now, username_token_window, "created")) {
        return refuse(failure->error, std::move(failure->reason));
    }
    AuthResult result = accept(*found->second.client, caller);
    if (result.error) {
        return result;
    }
    // As for Publik signatures: recorded last, for as long as the token's
    // Created would pass (a Created exactly at the edge still passes, hence
    // the extra second), and per user.
    const auto outcome =
        nonces.remember("wsse\n" + token.username, *nonce, caller.now,
                        *created + username_token_window + std::chrono::seconds(1));
    if (outcome == NonceCache::Outcome::replayed) {
        return refuse(ErrorClass::replayed_nonce, "nonce already used");
    }
    if (outcome == NonceCache::Outcome::full) {
        return refuse(ErrorClass::overloaded, "nonce cache full");
    }
    return result;
}

bool ClientRegistry::granted(const Client& client, const ConnectorEntry& connector,
                             std::string_view endpoint) const {
    const auto found = client.grants.find(&connector);
    if (found == client.grants.end()) {
        return false;
    }
    const Grant& grant = found->second;
    return grant.every_endpoint ||
           std::binary_search(grant.endpoints.begin(), grant.endpoints.end(), endpoint,
                              std::less<>{});
}

const std::string& ClientRegistry::name(const Client& client) noexcept {
    return client.name;
}

bool is_credential_parameter(std::string_view name) noexcept {
    return name == "orig" || name == "algo" || name == "timestamp" || name == "nonce" ||
           name == "signature" || name == "apikey";
}

}  // namespace relais::auth
