#pragma once
/// @file
/// Reading the provider's answers during a callback (the token answer, the
/// subject of an ID token, userinfo) and building the identity handed to
/// the GRU: FranceConnect's pivot identity and nothing else.

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace relais::franceconnect {

/// The claims handed over when the provider gives them, besides `sub`.
inline constexpr const char* pivot_claims[] = {"given_name", "family_name",       "birthdate",
                                               "gender",     "birthplace",        "birthcountry",
                                               "email",      "preferred_username"};

/// What relais keeps of a successful token answer, until the callback ends.
struct TokenAnswer {
    std::string access_token;
    std::string id_token;
};

/// The access and ID tokens of a token endpoint's JSON answer; nullopt when
/// the answer is not JSON or lacks either.
std::optional<TokenAnswer> read_token_answer(std::string_view body);

/// The OAuth 2.0 `error` code of a refusal from the token endpoint, made
/// safe to quote (see provider_error_code); "no error code" when absent.
std::string token_refusal_code(std::string_view body);

/// The `sub` claim of a verified JWT payload; nullopt when absent or not a
/// non-empty string.
std::optional<std::string> subject_of(std::string_view payload_json);

/// Whether a verified ID token payload's `acr` meets `acr_values` (the
/// space-separated list relais requested). An empty list accepts anything;
/// otherwise `acr` must be present and either one of the values or an eIDAS
/// level (`eidas1` < `eidas2` < `eidas3`) at least the lowest one requested.
bool acr_satisfies(std::string_view payload_json, std::string_view acr_values);

/// Why userinfo was refused.
enum class UserinfoProblem {
    malformed,       ///< not a JSON object
    wrong_subject,   ///< its sub is not the ID token's
    wrong_issuer,    ///< signed, with an iss other than the provider's
    wrong_audience,  ///< signed, with an aud that lacks client_id
};

/// Checks the `iss` and `aud` claims of a signed userinfo's payload when
/// they are present: iss must be `issuer`, aud (a string or an array) must
/// contain `client_id`. nullopt when they pass.
std::optional<UserinfoProblem> check_signed_userinfo(std::string_view payload_json,
                                                     std::string_view issuer,
                                                     std::string_view client_id);

/// Log-safe words for `problem`.
std::string_view describe(UserinfoProblem problem) noexcept;

/// The `data` object of the identity endpoint: `sub`, the pivot claims
/// userinfo gives (strings, numbers and booleans; other values are left
/// out), and `id_token` (for the GRU's logout). Userinfo's `sub` must be
/// `subject`.
std::variant<std::string, UserinfoProblem> handover_data(std::string_view userinfo_json,
                                                         std::string_view subject,
                                                         std::string_view id_token);

}  // namespace relais::franceconnect
