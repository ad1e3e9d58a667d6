// Bounded JSON parsing for untrusted input. Pure, thread-safe.
#pragma once

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

// The JSON type name of a value, for messages ("string", "object", ...).
const char* JsonTypeName(const Json& v);

// Serializes a value for a message, truncated to `max_len` bytes.
std::string JsonForMessage(const Json& v, size_t max_len = 120);

}  // namespace provgate
