// JSON paths of policy conditions (docs/policy-language.md): dotted keys, ["quoted key"],
// [N] and [*] steps. Parsed once at load; evaluation is pure. Immutable
// after parsing; safe to share between threads.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/json_util.h"
#include "base/status.h"

namespace provgate {

inline constexpr size_t kMaxPathLength = 1024;
inline constexpr size_t kMaxPathSteps = 64;

// Grammar:
//   path   := first step*
//   first  := key | bracket
//   step   := "." key | bracket
//   key    := one or more characters other than . [ ] " ' whitespace or control,
//             but not "*" or "**" (refused: write [*] to fan out, ["*"] for
//             a key named *)
//   bracket:= "[" ( '"' quoted '"' | digits | "*" ) "]"
//   quoted := characters with \" and \\ as the only escapes
// Examples: predicate.builder.id, annotations["org.opencontainers.image.source"],
// predicate.materials[*].uri, subject[0].digest.sha256.
class JsonPath {
 public:
  struct Step {
    enum class Kind { kKey, kIndex, kEach };
    Kind kind;
    std::string key;   // kKey
    size_t index = 0;  // kIndex
  };

  // Parses `text`. Fails with InvalidArgument whose message names the
  // 1-based character position of the problem ("... at character 7").
  static StatusOr<JsonPath> Parse(std::string_view text);

  // The values the path selects in `doc`, in document order. A key step on a
  // non-object, an index step on a non-array or out of range, and a [*] step
  // on a non-array select nothing; [*] fans out over every array element.
  // An empty result means the path is missing.
  std::vector<const Json*> Evaluate(const Json& doc) const;

  // The path as written.
  const std::string& text() const { return text_; }
  const std::vector<Step>& steps() const { return steps_; }
  // True when a [*] step can select more than one value.
  bool fans_out() const { return fans_out_; }

 private:
  std::string text_;
  std::vector<Step> steps_;
  bool fans_out_ = false;
};

}  // namespace provgate
