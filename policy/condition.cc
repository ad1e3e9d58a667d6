#include "policy/condition.h"

#include <re2/re2.h>

#include <charconv>

#include "base/encoding.h"

namespace provgate {
namespace {

// RE2 memory budget per `matches` pattern: plenty for any sane pattern,
// small enough that a thousand policies cannot exhaust memory.
constexpr int64_t kRegexMaxMem = 1 << 20;
// Reasons are read by humans in denial messages; keep them bounded.
constexpr size_t kMaxReasonLength = 1000;
constexpr size_t kMaxValueInMessage = 120;

struct OperatorSpelling {
  Operator op;
  const char* name;
};
constexpr OperatorSpelling kOperators[] = {
    {Operator::kEquals, "equals"},
    {Operator::kNotEquals, "notEquals"},
    {Operator::kIn, "in"},
    {Operator::kNotIn, "notIn"},
    {Operator::kMatches, "matches"},
    {Operator::kExists, "exists"},
    {Operator::kContains, "contains"},
    {Operator::kStartsWith, "startsWith"},
    {Operator::kGreaterThan, "greaterThan"},
    {Operator::kGreaterOrEqual, "greaterOrEqual"},
    {Operator::kLessThan, "lessThan"},
    {Operator::kLessOrEqual, "lessOrEqual"},
};

// Cuts at a character boundary: a reason quoting non-ASCII metadata stays
// valid UTF-8 (it ends up in JSON documents and logs).
std::string Truncate(std::string s, size_t max_len = kMaxReasonLength) { return TruncateUtf8(std::move(s), max_len); }

// An operand of the comparison operators. Integers (JSON integers, and
// numeric strings without fraction or exponent that fit 64 bits) stay exact:
// a double cannot tell 2^53 from 2^53 + 1, and "build lessOrEqual N" must not
// pass for N + 1.
struct Number {
  bool is_integer = false;
  __int128 integer = 0;  // holds every int64 and uint64
  long double real = 0;  // x86-64: a 64-bit mantissa, exact for any 64-bit integer too
};

// A number, or a numeric string (ParseNumericString); nullopt otherwise.
std::optional<Number> AsNumber(const Json& v) {
  Number n;
  if (v.is_number_unsigned()) {
    n.is_integer = true;
    n.integer = v.get<uint64_t>();
  } else if (v.is_number_integer()) {
    n.is_integer = true;
    n.integer = v.get<int64_t>();
  } else if (v.is_number_float()) {
    n.real = v.get<double>();
    return n;
  } else if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    auto d = ParseNumericString(s);
    if (!d) return std::nullopt;
    n.real = *d;
    if (s.find_first_of(".eE") != std::string::npos) return n;
    const char* end = s.data() + s.size();
    int64_t i = 0;
    uint64_t u = 0;
    if (auto [p, ec] = std::from_chars(s.data(), end, i); ec == std::errc() && p == end) {
      n.is_integer = true;
      n.integer = i;
    } else if (auto [q, ec2] = std::from_chars(s.data(), end, u); ec2 == std::errc() && q == end) {
      n.is_integer = true;
      n.integer = u;
    }
    return n;  // a larger integer string compares as its double
  } else {
    return std::nullopt;
  }
  n.real = static_cast<long double>(n.integer);
  return n;
}

// -1, 0 or 1 as a is less than, equal to or greater than b.
int Compare(const Number& a, const Number& b) {
  if (a.is_integer && b.is_integer) return a.integer < b.integer ? -1 : a.integer > b.integer ? 1 : 0;
  return a.real < b.real ? -1 : a.real > b.real ? 1 : 0;
}

bool ContainsEqual(const Json& list, const Json& v) {
  for (const auto& e : list) {
    if (e == v) return true;
  }
  return false;
}

}  // namespace

const char* OperatorName(Operator op) {
  for (const auto& s : kOperators) {
    if (s.op == op) return s.name;
  }
  return "?";
}

std::optional<Operator> OperatorFromName(std::string_view name) {
  for (const auto& s : kOperators) {
    if (name == s.name) return s.op;
  }
  return std::nullopt;
}

const std::vector<Operator>& AllOperators() {
  static const std::vector<Operator> all = [] {
    std::vector<Operator> v;
    for (const auto& s : kOperators) v.push_back(s.op);
    return v;
  }();
  return all;
}

std::optional<double> ParseNumericString(std::string_view s) {
  // JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  size_t i = 0;
  auto digit = [&](size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '9'; };
  if (i < s.size() && s[i] == '-') ++i;
  if (!digit(i)) return std::nullopt;
  if (s[i] == '0') {
    ++i;
  } else {
    while (digit(i)) ++i;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digit(i)) return std::nullopt;
    while (digit(i)) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digit(i)) return std::nullopt;
    while (digit(i)) ++i;
  }
  if (i != s.size()) return std::nullopt;
  double out = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;  // out of range
  return out;
}

StatusOr<std::shared_ptr<const RE2>> CompileRegex(std::string_view pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kRegexMaxMem);
  auto re = std::make_shared<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) return InvalidArgument("invalid regular expression " + Quote(pattern) + ": " + re->error());
  return re;
}

Condition::~Condition() = default;

StatusOr<std::shared_ptr<const Condition>> Condition::Leaf(JsonPath path, Operator op, Json operand) {
  std::shared_ptr<Condition> c(new Condition(Kind::kLeaf));
  const std::string name = OperatorName(op);
  switch (op) {
    case Operator::kEquals:
    case Operator::kNotEquals:
    case Operator::kContains:
      break;
    case Operator::kIn:
    case Operator::kNotIn:
      if (!operand.is_array() || operand.empty()) {
        return InvalidArgument(name + " expects a non-empty list, got " + JsonForMessage(operand));
      }
      break;
    case Operator::kExists:
      if (!operand.is_boolean()) return InvalidArgument("exists expects true or false, got " + JsonForMessage(operand));
      break;
    case Operator::kStartsWith:
      if (!operand.is_string()) return InvalidArgument("startsWith expects a string, got " + JsonForMessage(operand));
      if (operand.get_ref<const std::string&>().empty()) {
        // Vacuous: most likely a template that rendered empty.
        return InvalidArgument("startsWith \"\" holds for every string; write exists: true to require a value");
      }
      break;
    case Operator::kMatches: {
      if (!operand.is_string()) return InvalidArgument("matches expects a string, got " + JsonForMessage(operand));
      if (operand.get_ref<const std::string&>().empty()) {
        return InvalidArgument("matches \"\" holds for every string; write exists: true to require a value");
      }
      auto re = CompileRegex(operand.get_ref<const std::string&>());
      if (!re.ok()) return re.status();
      c->regex_ = std::move(*re);
      break;
    }
    case Operator::kGreaterThan:
    case Operator::kGreaterOrEqual:
    case Operator::kLessThan:
    case Operator::kLessOrEqual: {
      if (!AsNumber(operand)) {
        return InvalidArgument(name + " expects a number or a numeric string, got " + JsonForMessage(operand));
      }
      break;
    }
  }
  c->path_ = std::move(path);
  c->op_ = op;
  c->operand_ = std::move(operand);
  return std::shared_ptr<const Condition>(std::move(c));
}

StatusOr<std::shared_ptr<const Condition>> Condition::Composite(
    Kind kind, std::vector<std::shared_ptr<const Condition>> children) {
  if (children.empty()) return InvalidArgument("a condition list must not be empty");
  int depth = 0;
  for (const auto& ch : children) {
    if (!ch) return InvalidArgument("null condition");
    depth = std::max(depth, ch->depth());
  }
  if (depth + 1 > kMaxConditionDepth) {
    return InvalidArgument("conditions nest deeper than " + std::to_string(kMaxConditionDepth) + " levels");
  }
  std::shared_ptr<Condition> c(new Condition(kind));
  c->depth_ = depth + 1;
  c->children_ = std::move(children);
  return std::shared_ptr<const Condition>(std::move(c));
}

StatusOr<std::shared_ptr<const Condition>> Condition::All(std::vector<std::shared_ptr<const Condition>> children) {
  return Composite(Kind::kAll, std::move(children));
}
StatusOr<std::shared_ptr<const Condition>> Condition::Any(std::vector<std::shared_ptr<const Condition>> children) {
  return Composite(Kind::kAny, std::move(children));
}
StatusOr<std::shared_ptr<const Condition>> Condition::Not(std::shared_ptr<const Condition> child) {
  std::vector<std::shared_ptr<const Condition>> v;
  v.push_back(std::move(child));
  return Composite(Kind::kNot, std::move(v));
}

// True when `value` satisfies the operator. On a type mismatch sets
// `*mismatch` to what the value should have been.
bool Condition::Satisfies(const Json& value, std::string* mismatch) const {
  switch (op_) {
    case Operator::kEquals:
      return value == operand_;
    case Operator::kNotEquals:
      return value != operand_;
    case Operator::kIn:
      return ContainsEqual(operand_, value);
    case Operator::kNotIn:
      return !ContainsEqual(operand_, value);
    case Operator::kExists:
      return operand_.get<bool>();
    case Operator::kMatches:
      if (!value.is_string()) {
        *mismatch = "not a string";
        return false;
      }
      return RE2::PartialMatch(value.get_ref<const std::string&>(), *regex_);
    case Operator::kStartsWith:
      if (!value.is_string()) {
        *mismatch = "not a string";
        return false;
      }
      return value.get_ref<const std::string&>().starts_with(operand_.get_ref<const std::string&>());
    case Operator::kContains:
      if (value.is_array()) return ContainsEqual(value, operand_);
      if (value.is_string()) {
        if (!operand_.is_string()) {
          *mismatch = "a string, which cannot contain a " + std::string(JsonTypeName(operand_));
          return false;
        }
        return value.get_ref<const std::string&>().find(operand_.get_ref<const std::string&>()) != std::string::npos;
      }
      *mismatch = "not a string or an array";
      return false;
    case Operator::kGreaterThan:
    case Operator::kGreaterOrEqual:
    case Operator::kLessThan:
    case Operator::kLessOrEqual: {
      auto n = AsNumber(value);
      if (!n) {
        *mismatch = "not a number";
        return false;
      }
      int cmp = Compare(*n, *AsNumber(operand_));  // the operand was checked in Leaf
      if (op_ == Operator::kGreaterThan) return cmp > 0;
      if (op_ == Operator::kGreaterOrEqual) return cmp >= 0;
      if (op_ == Operator::kLessThan) return cmp < 0;
      return cmp <= 0;
    }
  }
  return false;
}

std::string Condition::Expectation() const {
  std::string operand = JsonForMessage(operand_, kMaxValueInMessage);
  switch (op_) {
    case Operator::kEquals:
      return operand;
    case Operator::kNotEquals:
      return "not " + operand;
    case Operator::kIn:
      return "one of " + operand;
    case Operator::kNotIn:
      return "none of " + operand;
    case Operator::kMatches:
      return "to match " + operand;
    case Operator::kExists:
      return operand_.get<bool>() ? "to exist" : "to be absent";
    case Operator::kContains:
      return "to contain " + operand;
    case Operator::kStartsWith:
      return "to start with " + operand;
    case Operator::kGreaterThan:
    case Operator::kGreaterOrEqual:
    case Operator::kLessThan:
    case Operator::kLessOrEqual: {
      // A numeric string operand is shown as the number it stands for.
      std::string n = operand_.is_string() ? operand_.get<std::string>() : operand;
      const char* sym = op_ == Operator::kGreaterThan      ? ">"
                        : op_ == Operator::kGreaterOrEqual ? ">="
                        : op_ == Operator::kLessThan       ? "<"
                                                           : "<=";
      return std::string(sym) + " " + n;
    }
  }
  return operand;
}

namespace {

// notEquals, notIn and exists: false are the negations of equals, in and
// exists: true: they hold when no selected value matches, so over [*] one
// matching element fails them (and nothing selected passes them).
bool IsNegation(Operator op, const Json& operand) {
  return op == Operator::kNotEquals || op == Operator::kNotIn || (op == Operator::kExists && !operand.get<bool>());
}

}  // namespace

ConditionResult Condition::EvaluateLeaf(const Json& doc) const {
  std::vector<const Json*> values = path_->Evaluate(doc);
  ConditionResult r;
  if (values.empty()) {
    r.passed = IsNegation(op_, operand_);
    if (!r.passed) {
      r.failed_leaves = 1;
      // A missing value is undecidable for every operator that fails on it,
      // exists: true included, so `not` cannot turn it into a pass (write
      // exists: false for absence).
      r.undecidable = true;
      r.reason = Truncate(path_->text() + " is missing, expected " + Expectation());
    }
    return r;
  }
  if (IsNegation(op_, operand_)) {
    // Every value must satisfy the negation; report the first that does not.
    for (const Json* v : values) {
      std::string unused;
      if (Satisfies(*v, &unused)) continue;
      r.failed_leaves = 1;
      std::string found;
      if (values.size() == 1 && !path_->fans_out()) {
        found = JsonForMessage(*v, kMaxValueInMessage);
      } else {
        Json all = Json::array();
        for (const Json* e : values) all.push_back(*e);
        found = JsonForMessage(all, kMaxValueInMessage * 2) + " (" + JsonForMessage(*v, kMaxValueInMessage) +
                " is among them)";
      }
      r.reason = Truncate(path_->text() + " is " + found + ", expected " + Expectation());
      return r;
    }
    r.passed = true;
    return r;
  }
  std::string mismatch;
  for (const Json* v : values) {
    std::string m;
    if (Satisfies(*v, &m)) {
      r.passed = true;
      return r;
    }
    if (mismatch.empty()) mismatch = m;
  }
  r.failed_leaves = 1;
  // A value of the wrong type (a number where matches wants a string, "abc"
  // where greaterThan wants a number) leaves the leaf undecided.
  r.undecidable = !mismatch.empty();
  std::string found;
  if (values.size() == 1 && !path_->fans_out()) {
    found = JsonForMessage(*values[0], kMaxValueInMessage);
    if (!mismatch.empty()) found += " (" + mismatch + ")";
  } else {
    Json all = Json::array();
    for (const Json* v : values) all.push_back(*v);
    found = JsonForMessage(all, kMaxValueInMessage * 2) + " (no element satisfies it" +
            (mismatch.empty() ? "" : "; one is " + mismatch) + ")";
  }
  r.reason = Truncate(path_->text() + " is " + found + ", expected " + Expectation());
  return r;
}

ConditionResult Condition::Evaluate(const Json& doc) const {
  switch (kind_) {
    case Kind::kLeaf:
      return EvaluateLeaf(doc);
    // Kleene logic over passed / failed / undecidable (docs/policy-language.md,
    // "undecidable leaves"): all
    // fails decidedly when one child fails decidedly; any is undecidable
    // when one of its failing children is.
    case Kind::kAll: {
      ConditionResult r;
      r.passed = true;
      bool decided_false = false;
      for (const auto& ch : children_) {
        ConditionResult c = ch->Evaluate(doc);
        if (c.passed) continue;
        r.passed = false;
        decided_false |= !c.undecidable;
        r.failed_leaves += c.failed_leaves;
        r.reason += (r.reason.empty() ? "" : "; ") + c.reason;
      }
      r.undecidable = !r.passed && !decided_false;
      r.reason = Truncate(std::move(r.reason));
      return r;
    }
    case Kind::kAny: {
      ConditionResult r;
      std::string branches;
      int best = -1;
      for (const auto& ch : children_) {
        ConditionResult c = ch->Evaluate(doc);
        if (c.passed) return c;
        r.undecidable |= c.undecidable;
        if (best < 0 || c.failed_leaves < best) best = c.failed_leaves;
        branches += (branches.empty() ? "" : " | ") + c.reason;
      }
      r.failed_leaves = std::max(best, 1);
      r.reason = Truncate("none of " + std::to_string(children_.size()) + " alternatives holds: " + branches);
      return r;
    }
    case Kind::kNot: {
      ConditionResult c = children_[0]->Evaluate(doc);
      ConditionResult r;
      if (!c.passed && c.undecidable) {
        // A missing or mistyped value is not evidence of the opposite.
        r.failed_leaves = std::max(c.failed_leaves, 1);
        r.undecidable = true;
        r.reason = Truncate("not(" + children_[0]->Describe() + ") cannot hold: " + c.reason);
        return r;
      }
      r.passed = !c.passed;
      if (!r.passed) {
        r.failed_leaves = 1;
        r.reason = Truncate("expected not: " + children_[0]->Describe());
      }
      return r;
    }
  }
  return {};
}

std::string Condition::Describe() const {
  switch (kind_) {
    case Kind::kLeaf:
      return Truncate(path_->text() + " " + OperatorName(op_) + " " + JsonForMessage(operand_, kMaxValueInMessage),
                      300);
    case Kind::kNot:
      return "not(" + children_[0]->Describe() + ")";
    case Kind::kAll:
    case Kind::kAny: {
      std::string s = kind_ == Kind::kAll ? "all(" : "any(";
      for (size_t i = 0; i < children_.size(); ++i) {
        if (i) s += ", ";
        s += children_[i]->Describe();
        if (s.size() > 300) break;
      }
      return Truncate(s + ")", 300);
    }
  }
  return {};
}

Json Condition::ToJson() const {
  switch (kind_) {
    case Kind::kLeaf:
      return Json{{"path", path_->text()}, {OperatorName(op_), operand_}};
    case Kind::kNot:
      return Json{{"not", children_[0]->ToJson()}};
    case Kind::kAll:
    case Kind::kAny: {
      Json list = Json::array();
      for (const auto& ch : children_) list.push_back(ch->ToJson());
      return Json{{kind_ == Kind::kAll ? "all" : "any", std::move(list)}};
    }
  }
  return nullptr;
}

}  // namespace provgate
