// Bounded JSON parsing for untrusted input. Pure, thread-safe.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace provgate {

using Json = nlohmann::json;
// Keeps keys in insertion order: for output documents whose order is part
// of their readability (check -o json).
using OrderedJson = nlohmann::ordered_json;

inline constexpr int kDefaultMaxJsonDepth = 64;

// Parses `text` as one JSON document. Fails with InvalidArgument naming `what`
// on malformed JSON, trailing garbage, or nesting deeper than `max_depth`
// (checked by a linear pre-scan before parsing, so deep input cannot exhaust
// the stack).
StatusOr<Json> ParseJson(std::string_view text, std::string_view what,
                         int max_depth = kDefaultMaxJsonDepth);

struct JsonLimits {
  int max_depth = kDefaultMaxJsonDepth;
  // Values and object members in the document, counted by the pre-scan
  // before any tree is built (a tree costs up to ~80 bytes per value, so
  // 16 MiB of "{}," is 440 MiB); 0 = no bound.
  size_t max_values = 0;
};

// Like ParseJson, and also fails with InvalidArgument when one object holds
// the same key twice (after unescaping), at any depth, and with
// ResourceExhausted beyond limits.max_values. For documents whose meaning is
// signed: parsers disagree on which duplicate wins (nlohmann and Go's
// encoding/json take the last, simdjson the first, serde fails), so such a
// document would say different things to different verifiers. Linear time.
StatusOr<Json> ParseJsonUniqueKeys(std::string_view text, std::string_view what, JsonLimits limits = {});

// Parses `text` keeping only the members of a top-level object named in
// `keys`; other members, and the whole document when it is not an object
// (then null is returned), are skipped as they are read, never stored:
// memory bounded by the kept members, for any document. Fails like ParseJson.
StatusOr<Json> ParseJsonTopLevelMembers(std::string_view text, std::string_view what,
                                        std::initializer_list<std::string_view> keys,
                                        int max_depth = kDefaultMaxJsonDepth);

// Fails with InvalidArgument naming `where` when `object` has a key that is
// none of `fields` but that Go's encoding/json would still decode into one of
// them: Go matches keys to struct fields case-insensitively, folding the
// Kelvin sign (U+212A) to k and the long s (U+017F) to s. cosign, sigstore-go
// and policy-controller read these documents into Go structs; a key they would
// read and this program would ignore is a parser differential. Non-objects pass.
Status RejectGoFoldedKeys(const Json& object, std::initializer_list<std::string_view> fields,
                          std::string_view where);

// The JSON type name of a value, for messages ("string", "object", ...).
const char* JsonTypeName(const Json& v);

// Serializes a value for a message, truncated to at most `max_len` bytes at a
// character boundary (then "..." follows); always valid UTF-8.
std::string JsonForMessage(const Json& v, size_t max_len = 120);

}  // namespace provgate
