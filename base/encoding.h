// Base64 and hex codecs. Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace provgate {

// Standard base64 with padding.
std::string Base64Encode(std::string_view bytes);

// Decodes standard or URL-safe base64 (DSSE requires accepting both), with or
// without padding. CR and LF are skipped wherever they are (line-wrapped
// base64 decodes as Go's decoders read it); other whitespace is not
// accepted. Returns nullopt on any invalid character, bad padding, or
// non-zero trailing bits.
std::optional<std::string> Base64Decode(std::string_view text);

// Lowercase hex.
std::string HexEncode(std::string_view bytes);

// Decodes lowercase or uppercase hex; nullopt on odd length or a non-hex char.
std::optional<std::string> HexDecode(std::string_view text);

// True when every char of `s` is in [0-9a-f].
bool IsLowerHex(std::string_view s);

// Quotes a string for messages: JSON-style escapes, at most `max_len` bytes
// shown, never cutting a character. The result is always valid UTF-8 (bytes
// that are not are shown as \xNN), so it can go into any JSON document.
std::string Quote(std::string_view s, size_t max_len = 200);

// True when `s` is well-formed UTF-8 (Utf8SequenceLength over all of it).
bool IsUtf8(std::string_view s);

// Length of the well-formed UTF-8 sequence starting at s[i] (i < s.size()),
// or 0 when there is none there (RFC 3629 table 3.7: no overlongs,
// surrogates or code points above U+10FFFF).
size_t Utf8SequenceLength(std::string_view s, size_t i);

// `s` when it has at most `max_bytes` bytes; otherwise its first `max_bytes`
// bytes or fewer, never cutting a UTF-8 character, followed by "...". Valid
// UTF-8 stays valid: for reasons and warnings that travel in JSON.
std::string TruncateUtf8(std::string s, size_t max_bytes);

// `s` with every byte that is not part of a well-formed UTF-8 sequence
// (RFC 3629: no overlongs, surrogates or code points above U+10FFFF) written
// as \xNN; valid text is unchanged. For messages built from untrusted bytes.
std::string EscapeInvalidUtf8(std::string_view s);

// EscapeInvalidUtf8 that also writes control bytes (below 0x20, and 0x7F)
// as \xNN: one line of valid UTF-8, so that text from an input cannot start
// a second line in a line-per-error message.
std::string PrintableLine(std::string_view s);

}  // namespace provgate
