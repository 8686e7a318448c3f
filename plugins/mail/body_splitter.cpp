#include "mail/body_splitter.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

namespace relais::mail {

namespace {

using rest::CallError;
using Token = rapidjson::Pointer::Token;

constexpr std::string_view pdf_magic = "%PDF-";

bool is_json_whitespace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/// The value of a hexadecimal digit, or nullopt.
std::optional<std::uint32_t> hex_value(char c) {
    std::uint32_t value = 0;
    const auto [end, error] = std::from_chars(&c, &c + 1, value, 16);
    return error == std::errc() && end == &c + 1 ? std::optional(value) : std::nullopt;
}

/// The byte an escape other than \u stands for (`c` follows the
/// backslash), or nullopt if JSON has no such escape.
std::optional<char> unescaped(char c) {
    switch (c) {
        case '"':
        case '\\':
        case '/':
            return c;
        case 'b':
            return '\b';
        case 'f':
            return '\f';
        case 'n':
            return '\n';
        case 'r':
            return '\r';
        case 't':
            return '\t';
        default:
            return std::nullopt;
    }
}

bool is_high_surrogate(std::uint32_t unit) {
    return unit >= 0xD800 && unit <= 0xDBFF;
}

bool is_low_surrogate(std::uint32_t unit) {
    return unit >= 0xDC00 && unit <= 0xDFFF;
}

}  // namespace

std::string document_subject(const BodyValue& document) {
    return "the document (" + document.pointer_text + ")";
}

BodySplitter::BodySplitter(const BodyValue& document, std::size_t max_skeleton_bytes,
                           std::size_t max_document_bytes)
    : document_(document),
      max_skeleton_bytes_(max_skeleton_bytes),
      max_document_bytes_(max_document_bytes) {}

std::optional<CallError> BodySplitter::feed(std::string_view piece, std::string& document_text) {
    std::size_t at = 0;
    while (!refusal_ && at < piece.size()) {
        at = in_document() ? read_document(piece, at, document_text) : read_kept(piece, at);
    }
    return refusal_;
}

std::variant<SplitBody, CallError> BodySplitter::finish() {
    if (refusal_) {
        return *refusal_;
    }
    SplitBody body;
    body.skeleton = std::move(skeleton_);
    body.document_found = document_found_;
    body.document_bytes = document_found_ ? base64_.decoded_bytes() : 0;
    return body;
}

// Kept bytes are appended once per piece, or once up to the document's
// opening quote.
std::size_t BodySplitter::read_kept(std::string_view piece, std::size_t at) {
    std::size_t end = at;
    while (end < piece.size() && !refusal_ && !in_document()) {
        const char c = piece[end++];
        switch (lexeme_) {
            case Lexeme::between_tokens:
                read_between_tokens(c);
                break;
            case Lexeme::string:
                read_string(c);
                break;
            case Lexeme::escape:
                read_escape(c);
                break;
            case Lexeme::unicode_escape:
                read_unicode_escape(c);
                break;
        }
    }
    if (!refusal_) {
        keep(piece.substr(at, end - at));
    }
    return end;
}

// The document's characters go on in runs, between escapes.
std::size_t BodySplitter::read_document(std::string_view piece, std::size_t at,
                                        std::string& document_text) {
    while (at < piece.size() && !refusal_) {
        if (lexeme_ != Lexeme::string) {
            read_document_escape(piece[at++], document_text);
            continue;
        }
        const std::size_t stop = std::min(piece.find_first_of("\"\\", at), piece.size());
        if (!take_document(piece.substr(at, stop - at), document_text) || stop == piece.size()) {
            return piece.size();
        }
        at = stop + 1;
        if (piece[stop] == '"') {
            end_document();
            return at;
        }
        lexeme_ = Lexeme::escape;
    }
    return at;
}

void BodySplitter::read_between_tokens(char c) {
    switch (c) {
        case '"':
            lexeme_ = Lexeme::string;
            if (expected_ == Expected::member_name) {
                start_member_name();
            } else {
                role_ = start_value() ? StringRole::document : StringRole::value;
            }
            break;
        case '{':
            open_container(true);
            break;
        case '[':
            open_container(false);
            break;
        case '}':
        case ']':
            close_container();
            break;
        case ':':
            expected_ = Expected::value;
            break;
        case ',':
            if (depth_ == 0) {
                break;
            }
            if (Container& top = containers_[depth_ - 1]; top.is_object) {
                top.name_matches = false;
                expected_ = Expected::member_name;
            } else {
                ++top.index;
                expected_ = Expected::value;
            }
            break;
        default:
            // A number or a literal: only its first character starts a value.
            if (!is_json_whitespace(c) && expected_ == Expected::value) {
                start_value();
            }
            break;
    }
}

void BodySplitter::read_string(char c) {
    if (c == '"') {
        if (role_ == StringRole::member_name) {
            end_member_name();
        }
        lexeme_ = Lexeme::between_tokens;
    } else if (c == '\\') {
        lexeme_ = Lexeme::escape;
    } else if (role_ == StringRole::member_name) {
        name_byte(c);
    }
}

// Only member names are decoded: in other kept strings an escape matters
// just for not taking its character for the string's end.
void BodySplitter::read_escape(char c) {
    lexeme_ = Lexeme::string;
    if (role_ != StringRole::member_name) {
        return;
    }
    if (c == 'u') {
        start_unicode_escape();
    } else if (const std::optional<char> byte = unescaped(c)) {
        name_byte(*byte);
    } else {
        name_equal_ = false;
    }
}

void BodySplitter::read_unicode_escape(char c) {
    const std::optional<std::uint32_t> digit = hex_value(c);
    if (!digit) {
        // Not JSON: the name matches nothing, and `c` is read as if the
        // escape had ended, so that a quote still ends the string.
        name_equal_ = false;
        lexeme_ = Lexeme::string;
        read_string(c);
    } else if (add_hex_digit(*digit)) {
        name_code_unit(code_unit_);
    }
}

// PHP's json_encode writes '/' as `\/`; an encoder may also write any
// character as \u00XX. Anything else escaped is not base64.
void BodySplitter::read_document_escape(char c, std::string& document_text) {
    if (lexeme_ == Lexeme::escape) {
        if (c == '/') {
            lexeme_ = Lexeme::string;
            take_document("/", document_text);
        } else if (c == 'u') {
            start_unicode_escape();
        } else {
            refuse_not_base64();
        }
        return;
    }
    const std::optional<std::uint32_t> digit = hex_value(c);
    if (!digit) {
        refuse_not_base64();
        return;
    }
    if (!add_hex_digit(*digit)) {
        return;
    }
    if (code_unit_ >= 0x80) {
        refuse_not_base64();
        return;
    }
    const char character = static_cast<char>(code_unit_);
    take_document(std::string_view(&character, 1), document_text);
}

void BodySplitter::start_unicode_escape() {
    lexeme_ = Lexeme::unicode_escape;
    code_unit_ = 0;
    hex_digits_ = 0;
}

/// Adds a digit to the \u escape being read; true when it was the last
/// one, and the escape has ended.
bool BodySplitter::add_hex_digit(std::uint32_t digit) {
    code_unit_ = code_unit_ << 4 | digit;
    if (++hex_digits_ < 4) {
        return false;
    }
    lexeme_ = Lexeme::string;
    return true;
}

/// Whether the value starting now is at the document's pointer; a second
/// value there, whatever both are, is refused.
bool BodySplitter::start_value() {
    expected_ = Expected::other;
    if (depth_ != document_.pointer.GetTokenCount() || !value_on_path()) {
        return false;
    }
    if (document_seen_) {
        refuse(ErrorClass::invalid_parameter,
               document_subject(document_) + " is given more than once");
        return false;
    }
    document_seen_ = true;
    return true;
}

void BodySplitter::open_container(bool is_object) {
    const bool on_path = value_on_path();
    start_value();
    if (refusal_) {
        return;
    }
    if (depth_ == containers_.size()) {
        refuse(ErrorClass::invalid_json,
               "the body nests deeper than " + std::to_string(max_json_depth) + " levels");
        return;
    }
    containers_[depth_++] = Container{0, is_object, on_path, false};
    expected_ = is_object ? Expected::member_name : Expected::value;
}

void BodySplitter::close_container() {
    if (depth_ > 0) {
        --depth_;
    }
    expected_ = Expected::other;
}

/// Whether the path of the value starting now is the pointer's first
/// depth_ tokens.
bool BodySplitter::value_on_path() const noexcept {
    if (depth_ == 0) {
        return true;
    }
    const Container& top = containers_[depth_ - 1];
    if (!top.on_path || depth_ > document_.pointer.GetTokenCount()) {
        return false;
    }
    const Token& token = document_.pointer.GetTokens()[depth_ - 1];
    return top.is_object
               ? top.name_matches
               : token.index != rapidjson::kPointerInvalidIndex && token.index == top.index;
}

bool BodySplitter::in_document() const noexcept {
    return role_ == StringRole::document && lexeme_ != Lexeme::between_tokens;
}

void BodySplitter::start_member_name() {
    role_ = StringRole::member_name;
    expected_ = Expected::other;
    name_equal_ = depth_ > 0 && containers_[depth_ - 1].on_path &&
                  depth_ <= document_.pointer.GetTokenCount();
    name_length_ = 0;
    high_surrogate_ = 0;
}

// A name that is not valid UTF-16 (a lone surrogate) matches no token:
// RapidJSON refuses it when parsing the skeleton anyway.
void BodySplitter::name_code_unit(std::uint32_t unit) {
    if (is_low_surrogate(unit)) {
        if (high_surrogate_ == 0) {
            name_equal_ = false;
            return;
        }
        const std::uint32_t code_point =
            0x10000 + ((high_surrogate_ - 0xD800) << 10) + (unit - 0xDC00);
        high_surrogate_ = 0;
        name_code_point(code_point);
    } else if (is_high_surrogate(unit)) {
        if (high_surrogate_ != 0) {
            name_equal_ = false;
        }
        high_surrogate_ = unit;
    } else {
        name_code_point(unit);
    }
}

// Pointer tokens are UTF-8, as RapidJSON decodes names.
void BodySplitter::name_code_point(std::uint32_t code_point) {
    if (code_point < 0x80) {
        name_byte(static_cast<char>(code_point));
        return;
    }
    const int continuations = code_point < 0x800 ? 1 : code_point < 0x10000 ? 2 : 3;
    const std::uint32_t lead = continuations == 1 ? 0xC0 : continuations == 2 ? 0xE0 : 0xF0;
    name_byte(static_cast<char>(lead | code_point >> (6 * continuations)));
    for (int i = continuations - 1; i >= 0; --i) {
        name_byte(static_cast<char>(0x80 | ((code_point >> (6 * i)) & 0x3F)));
    }
}

void BodySplitter::name_byte(char byte) {
    if (high_surrogate_ != 0) {
        name_equal_ = false;
    }
    if (!name_equal_) {
        return;
    }
    const Token& token = document_.pointer.GetTokens()[depth_ - 1];
    name_equal_ = name_length_ < token.length && token.name[name_length_] == byte;
    ++name_length_;
}

void BodySplitter::end_member_name() {
    if (depth_ == 0) {
        return;
    }
    const bool whole = name_equal_ && high_surrogate_ == 0 &&
                       name_length_ == document_.pointer.GetTokens()[depth_ - 1].length;
    containers_[depth_ - 1].name_matches = whole;
}

void BodySplitter::keep(std::string_view text) {
    if (text.size() > max_skeleton_bytes_ - skeleton_.size()) {
        refuse(ErrorClass::payload_too_large, "the mail without its document is larger than " +
                                                  std::to_string(max_skeleton_bytes_) + " bytes");
        return;
    }
    skeleton_.append(text);
}

bool BodySplitter::take_document(std::string_view text, std::string& document_text) {
    if (!base64_.read(text)) {
        refuse_not_base64();
        return false;
    }
    if (base64_.decoded_bytes() > max_document_bytes_) {
        refuse(ErrorClass::payload_too_large,
               "the document is larger than " + std::to_string(max_document_bytes_) + " bytes");
        return false;
    }
    // Certain as soon as one of the first bytes differs.
    const std::string_view head = base64_.head();
    const std::size_t known = std::min(head.size(), pdf_magic.size());
    if (head.substr(0, known) != pdf_magic.substr(0, known)) {
        refuse_not_pdf();
        return false;
    }
    document_text.append(text);
    return true;
}

void BodySplitter::end_document() {
    lexeme_ = Lexeme::between_tokens;
    keep("\"");
    if (!base64_.complete()) {
        refuse_not_base64();
    } else if (!base64_.head().starts_with(pdf_magic)) {
        refuse_not_pdf();
    } else {
        document_found_ = true;
    }
}

void BodySplitter::refuse(ErrorClass error, std::string description) {
    if (!refusal_) {
        refusal_ = CallError{error, std::move(description)};
    }
}

void BodySplitter::refuse_not_base64() {
    refuse(ErrorClass::invalid_parameter,
           document_subject(document_) +
               " must be base64: the standard alphabet, with '=' padding, without spaces or line "
               "breaks");
}

void BodySplitter::refuse_not_pdf() {
    refuse(ErrorClass::invalid_parameter,
           document_subject(document_) + " must be a PDF (its bytes start with %PDF-)");
}

}  // namespace relais::mail
