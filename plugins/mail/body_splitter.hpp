#pragma once
/// @file
/// A posted mail's body read as it arrives, in pieces cut anywhere: the
/// document's base64 text is checked and handed on piece by piece, and the
/// rest of the body, small, is kept whole for read_mail to parse.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "mail/base64_text.hpp"
#include "mail/mail_spec.hpp"
#include "rest/body_json.hpp"
#include "rest/parameters.hpp"

namespace relais::mail {

/// How refusals name the document: "the document (<pointer>)".
std::string document_subject(const BodyValue& document);

/// What the splitter kept of a whole body.
struct SplitBody {
    std::string skeleton;            ///< the body with the document's string emptied ("")
    bool document_found = false;     ///< a JSON string stood at the document's pointer
    std::size_t document_bytes = 0;  ///< its decoded size
};

/// Splits a JSON body into its document's text and the rest, the
/// skeleton. A small lexer follows strings (and their escapes), containers
/// and the path of each value, without validating the JSON: read_mail
/// parses the skeleton afterwards. The document's string is the one whose
/// path is the document's pointer; its characters must be strict base64,
/// with `\/` and `\u` escapes of base64 characters read as the characters.
///
/// Refusals, whose descriptions name the pointer and never a value:
/// | refusal             | when                                                    |
/// |---------------------|---------------------------------------------------------|
/// | `invalid_parameter` | the document is not base64, not a PDF, or given twice   |
/// | `payload_too_large` | the document decodes to more than max_document_bytes    |
/// | `payload_too_large` | the skeleton would outgrow max_skeleton_bytes           |
/// | `invalid_json`      | arrays and objects nest deeper than max_json_depth |
///
/// Each is returned by the first feed() after which it is certain: a
/// document too large as soon as its characters pass the bound, one that
/// is not a PDF as soon as its first bytes differ from `%PDF-`.
class BodySplitter {
public:
    /// `document` (which must outlive the splitter) is InboundSpec::document;
    /// `max_skeleton_bytes` bounds everything kept (metadata_allowance for a
    /// mail); `max_document_bytes` bounds the decoded document.
    BodySplitter(const BodyValue& document, std::size_t max_skeleton_bytes,
                 std::size_t max_document_bytes);

    /// Reads the next piece. The document's base64 characters found in it
    /// are appended to `document_text`, which the caller drains as it likes.
    /// After a refusal, every call returns it again.
    std::optional<rest::CallError> feed(std::string_view piece, std::string& document_text);

    /// The body ended: the kept skeleton and the document's facts, or the
    /// refusal. A body cut short is no refusal here: its skeleton is not JSON.
    std::variant<SplitBody, rest::CallError> finish();

private:
    /// Where the lexer stands.
    enum class Lexeme : std::uint8_t { between_tokens, string, escape, unicode_escape };
    /// What the string being read is.
    enum class StringRole : std::uint8_t { value, member_name, document };
    /// What the next token may start, as far as paths go.
    enum class Expected : std::uint8_t { value, member_name, other };

    /// An array or object being read, and the key of its current value.
    struct Container {
        std::size_t index = 0;  ///< of the current element, in an array
        bool is_object = false;
        bool on_path = false;       ///< its own path is a prefix of the pointer's
        bool name_matches = false;  ///< the current member's name is the next token
    };

    std::size_t read_kept(std::string_view piece, std::size_t at);
    std::size_t read_document(std::string_view piece, std::size_t at, std::string& document_text);
    void read_between_tokens(char c);
    void read_string(char c);
    void read_escape(char c);
    void read_unicode_escape(char c);
    void read_document_escape(char c, std::string& document_text);
    void start_unicode_escape();
    bool add_hex_digit(std::uint32_t digit);

    bool start_value();
    void open_container(bool is_object);
    void close_container();
    bool value_on_path() const noexcept;
    bool in_document() const noexcept;

    void start_member_name();
    void name_code_unit(std::uint32_t unit);
    void name_code_point(std::uint32_t code_point);
    void name_byte(char byte);
    void end_member_name();

    void keep(std::string_view text);
    bool take_document(std::string_view text, std::string& document_text);
    void end_document();
    void refuse(ErrorClass error, std::string description);
    void refuse_not_base64();
    void refuse_not_pdf();

    const BodyValue& document_;
    std::size_t max_skeleton_bytes_;
    std::size_t max_document_bytes_;

    std::string skeleton_;
    std::optional<rest::CallError> refusal_;

    Lexeme lexeme_ = Lexeme::between_tokens;
    StringRole role_ = StringRole::value;
    Expected expected_ = Expected::value;
    std::array<Container, max_json_depth> containers_{};
    std::size_t depth_ = 0;

    std::uint32_t code_unit_ = 0;  ///< of a \u escape being read
    unsigned hex_digits_ = 0;
    /// A member name compared with the pointer's token, byte by byte.
    bool name_equal_ = false;
    std::size_t name_length_ = 0;
    std::uint32_t high_surrogate_ = 0;  ///< waiting for its low half, or 0

    StrictBase64 base64_;
    bool document_seen_ = false;   ///< a value started at the pointer
    bool document_found_ = false;  ///< and it was a string, now read whole
};

}  // namespace relais::mail
