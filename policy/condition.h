// Compiled policy conditions (docs/policy-language.md): all / any / not trees over leaves
// "path + one operator", evaluated over a JSON document. Pure. A Condition
// is immutable after construction and safe to evaluate from many threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json_util.h"
#include "base/status.h"
#include "policy/path.h"

namespace re2 {
class RE2;
}

namespace provgate {

inline constexpr int kMaxConditionDepth = 32;

enum class Operator {
  kEquals,
  kNotEquals,
  kIn,
  kNotIn,
  kMatches,
  kExists,
  kContains,
  kStartsWith,
  kGreaterThan,
  kGreaterOrEqual,
  kLessThan,
  kLessOrEqual,
};

// The policy-file spelling: "equals", "notEquals", ..., "lessOrEqual".
const char* OperatorName(Operator op);
// The operator spelled `name`, or nullopt.
std::optional<Operator> OperatorFromName(std::string_view name);
// Every operator, in declaration order.
const std::vector<Operator>& AllOperators();

// Compiles an RE2 pattern the way every policy regex is compiled: bounded
// memory (1 MiB), errors not logged. Fails with InvalidArgument carrying
// RE2's own error text.
StatusOr<std::shared_ptr<const re2::RE2>> CompileRegex(std::string_view pattern);

// Parses a "numeric string" strictly: the whole string must be a JSON
// number ("0.97", "-3", "1e-3"; not "", " 1", "+1", ".5", "0x10", "inf").
std::optional<double> ParseNumericString(std::string_view s);

struct ConditionResult {
  bool passed = false;
  // When failed: what was found and what was expected, e.g.
  // `predicate.builder.id is "x", expected "https://tekton.dev/chains/v2"`.
  std::string reason;
  // How many leaves failed (a measure of "how close" a document came).
  int failed_leaves = 0;
  // When failed: true when the failure is not a decided "false" but comes
  // from a missing path or a value of the wrong type for its operator (see
  // Condition). `not` of an undecidable condition fails as well.
  bool undecidable = false;
};

// Semantics of a leaf, for the values its path selects:
//  - missing (nothing selected; [*] over an empty array or a non-array
//    selects nothing): only `exists: false`, `notEquals` and `notIn` hold;
//  - otherwise the leaf holds when ANY selected value satisfies the operator
//    (a [*] path fans out; without [*] there is exactly one value) — except
//    for the negations `notEquals`, `notIn` and `exists: false`, which hold
//    when NO selected value equals / is in / exists: `materials[*].uri
//    notEquals X` means "no material is X", never "some material is not X";
//  - equals / notEquals / in / notIn / contains-on-arrays compare JSON values
//    by type: strings to strings, numbers to numbers numerically (1 == 1.0),
//    booleans, null, and arrays/objects deeply. There is no coercion: 1 does
//    not equal "1";
//  - matches: RE2 partial match (anchor with ^ and $) of a string value;
//  - contains: a string value contains the operand as a substring, or an
//    array value has an element equal to the operand;
//  - startsWith: a string value starts with the operand;
//  - greaterThan ... lessOrEqual: numbers, or strings that ParseNumericString
//    accepts, on either side; anything else (booleans, null, "0.95abc", "",
//    " 1", "0x10", "NaN", "inf", "1e999") is a type mismatch and fails with a
//    reason that says so. Integers (and integer strings) compare exactly,
//    beyond 2^53 too;
//  - exists: true when the path selects something (a JSON null counts);
//  - undecidable: a leaf that fails because its path is missing (exists:
//    true included: `not: {exists: true}` fails on a missing path, write
//    exists: false) or because no value satisfied it and one had the
//    wrong type (matches/startsWith on a non-string, contains on a
//    non-string/non-array or a string with a non-string operand, numeric
//    operators on a non-number) is undecidable, not false. `not` of an
//    undecidable condition fails too, so `not: {path: x, equals: y}` fails
//    when x is missing (write `notEquals` to accept absence). all/any follow
//    Kleene logic: all is decidedly false when any child is; any is
//    undecidable when a failing child is. Top-level undecidable = failed.
class Condition {
 public:
  enum class Kind { kAll, kAny, kNot, kLeaf };

  // A leaf. Validates the operand: in/notIn take a non-empty array;
  // matches takes a non-empty string that RE2 compiles (bounded memory);
  // exists takes a boolean; startsWith takes a non-empty string (an empty
  // one would hold for every string); the numeric operators take a
  // number or a numeric string; equals/notEquals/contains take any value.
  // Fails with InvalidArgument describing the problem (without a location).
  static StatusOr<std::shared_ptr<const Condition>> Leaf(JsonPath path, Operator op, Json operand);
  // Composite nodes. Fail with InvalidArgument when `children` is empty or
  // the tree would be deeper than kMaxConditionDepth.
  static StatusOr<std::shared_ptr<const Condition>> All(std::vector<std::shared_ptr<const Condition>> children);
  static StatusOr<std::shared_ptr<const Condition>> Any(std::vector<std::shared_ptr<const Condition>> children);
  static StatusOr<std::shared_ptr<const Condition>> Not(std::shared_ptr<const Condition> child);

  // Evaluates over `doc`. Never fails: a type mismatch is a failed leaf.
  ConditionResult Evaluate(const Json& doc) const;

  // Short human form: `predicate.builder.id equals "x"`, `all(...)`, ...
  std::string Describe() const;
  // Canonical form as written in a policy; part of PolicySet::hash().
  Json ToJson() const;

  Kind kind() const { return kind_; }
  int depth() const { return depth_; }  // a leaf has depth 1

  ~Condition();
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

 private:
  explicit Condition(Kind kind) : kind_(kind) {}
  static StatusOr<std::shared_ptr<const Condition>> Composite(Kind kind,
                                                              std::vector<std::shared_ptr<const Condition>> children);
  ConditionResult EvaluateLeaf(const Json& doc) const;
  bool Satisfies(const Json& value, std::string* mismatch) const;
  std::string Expectation() const;

  Kind kind_;
  int depth_ = 1;
  std::vector<std::shared_ptr<const Condition>> children_;
  std::optional<JsonPath> path_;
  Operator op_ = Operator::kEquals;
  Json operand_;
  std::shared_ptr<const re2::RE2> regex_;  // matches
};

}  // namespace provgate
