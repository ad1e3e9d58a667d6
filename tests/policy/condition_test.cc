#include "policy/condition.h"

#include <doctest/doctest.h>

using namespace provgate;

namespace {

using ConditionPtr = std::shared_ptr<const Condition>;

ConditionPtr Leaf(const std::string& path, const std::string& op, const Json& operand) {
  auto p = JsonPath::Parse(path);
  REQUIRE_MESSAGE(p.ok(), p.status().ToString());
  auto o = OperatorFromName(op);
  REQUIRE_MESSAGE(o.has_value(), op);
  auto c = Condition::Leaf(*p, *o, operand);
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  return *c;
}

ConditionPtr Must(StatusOr<ConditionPtr> c) {
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  return *c;
}

const Json kDoc = Json::parse(R"({
  "s": "https://tekton.dev/chains/v2",
  "n": 0.97,
  "i": 3,
  "ns": "0.97",
  "bad": "abc",
  "t": true,
  "z": null,
  "list": ["a", "b", 1],
  "obj": {"k": "v"},
  "uris": ["git+https://github.com/acme/models", "oci://registry.example.com/base"],
  "scores": [0.5, 0.99],
  "empty": [],
  "mixed": ["x", 1]
})");

struct Row {
  const char* path;
  const char* op;
  const char* operand;  // JSON
  bool pass;
  const char* reason;  // substring of the reason when failing; "" = not checked
};

void RunRows(const std::vector<Row>& rows) {
  for (const auto& r : rows) {
    std::string leaf = std::string(r.path) + " " + r.op + " " + r.operand;
    CAPTURE(leaf);
    ConditionResult got = Leaf(r.path, r.op, Json::parse(r.operand))->Evaluate(kDoc);
    CHECK(got.passed == r.pass);
    if (!r.pass) {
      CHECK(got.failed_leaves == 1);
      CHECK_MESSAGE(got.reason.find(r.reason) != std::string::npos, got.reason);
    } else {
      CHECK(got.reason.empty());
    }
  }
}

}  // namespace

TEST_CASE("equality operators compare JSON values without coercion") {
  RunRows({
      {"s", "equals", R"("https://tekton.dev/chains/v2")", true, ""},
      {"s", "equals", R"("x")", false, R"(s is "https://tekton.dev/chains/v2", expected "x")"},
      {"i", "equals", "3", true, ""},
      {"i", "equals", "3.0", true, ""},  // numbers compare numerically
      {"i", "equals", R"("3")", false, R"(i is 3, expected "3")"},
      {"ns", "equals", "0.97", false, ""},  // a numeric string is not a number for equals
      {"t", "equals", "true", true, ""},
      {"t", "equals", R"("true")", false, ""},
      {"z", "equals", "null", true, ""},
      {"obj", "equals", R"({"k": "v"})", true, ""},
      {"list", "equals", R"(["a", "b", 1.0])", true, ""},
      {"missing", "equals", "null", false, "missing is missing, expected null"},
      {"s", "notEquals", R"("x")", true, ""},
      {"s", "notEquals", R"("https://tekton.dev/chains/v2")", false, R"(expected not "https://tekton.dev/chains/v2")"},
      {"missing", "notEquals", R"("x")", true, ""},
      {"s", "in", R"(["a", "https://tekton.dev/chains/v2"])", true, ""},
      {"i", "in", "[1, 2, 3]", true, ""},
      {"s", "in", R"(["a", "b"])", false, R"(expected one of ["a","b"])"},
      {"missing", "in", R"(["a"])", false, "missing is missing"},
      {"s", "notIn", R"(["a", "b"])", true, ""},
      {"s", "notIn", R"(["https://tekton.dev/chains/v2"])", false, "expected none of"},
      {"missing", "notIn", R"(["a"])", true, ""},
  });
}

TEST_CASE("string operators") {
  RunRows({
      {"s", "matches", R"("^https://tekton\\.dev/")", true, ""},
      {"s", "matches", R"("chains")", true, ""},  // partial match unless anchored
      {"s", "matches", R"("^chains$")", false, R"(expected to match "^chains$")"},
      {"i", "matches", R"("3")", false, "i is 3 (not a string), expected to match"},
      {"missing", "matches", R"(".*")", false, "missing is missing"},
      {"s", "startsWith", R"("https://")", true, ""},
      {"s", "startsWith", R"("http://")", false, R"(expected to start with "http://")"},
      {"t", "startsWith", R"("t")", false, "(not a string)"},
      {"s", "contains", R"("tekton")", true, ""},
      {"s", "contains", R"("github")", false, R"(expected to contain "github")"},
      {"list", "contains", R"("b")", true, ""},
      {"list", "contains", "1", true, ""},
      {"list", "contains", R"("c")", false, R"(list is ["a","b",1], expected to contain "c")"},
      {"s", "contains", "1", false, "cannot contain a number"},
      {"obj", "contains", R"("k")", false, "(not a string or an array)"},
      {"missing", "contains", R"("x")", false, "missing is missing"},
  });
}

TEST_CASE("exists") {
  RunRows({
      {"s", "exists", "true", true, ""},
      {"z", "exists", "true", true, ""},  // present with a null value
      {"missing", "exists", "true", false, "missing is missing, expected to exist"},
      {"missing", "exists", "false", true, ""},
      {"s", "exists", "false", false, "expected to be absent"},
      {"obj.k", "exists", "true", true, ""},
      {"obj.k.deeper", "exists", "false", true, ""},
  });
}

TEST_CASE("numeric operators accept numbers and strict numeric strings") {
  RunRows({
      {"n", "greaterOrEqual", "0.95", true, ""},
      {"n", "greaterOrEqual", "0.97", true, ""},
      {"n", "greaterOrEqual", "0.98", false, "n is 0.97, expected >= 0.98"},
      {"n", "greaterThan", "0.97", false, "expected > 0.97"},
      {"n", "greaterThan", "0.5", true, ""},
      {"n", "lessThan", "1", true, ""},
      {"n", "lessThan", "0.97", false, "expected < 0.97"},
      {"n", "lessOrEqual", "0.97", true, ""},
      {"n", "lessOrEqual", "0.9", false, "expected <= 0.9"},
      {"i", "greaterThan", "2", true, ""},
      {"ns", "greaterOrEqual", "0.95", true, ""},      // numeric string value
      {"n", "greaterOrEqual", R"("0.95")", true, ""},  // numeric string operand
      {"n", "greaterOrEqual", R"("0.98")", false, "expected >= 0.98"},
      {"bad", "greaterOrEqual", "0.95", false, R"(bad is "abc" (not a number), expected >= 0.95)"},
      {"t", "greaterThan", "0", false, "(not a number)"},
      {"z", "lessThan", "1", false, "(not a number)"},
      {"missing", "greaterOrEqual", "0.95", false, "missing is missing, expected >= 0.95"},
  });
}

// 2^53 + 1 is not representable as a double: integers (JSON integers and
// integer strings) are compared exactly, not after rounding to a double.
TEST_CASE("numeric operators compare integers exactly") {
  const Json doc = Json::parse(R"({"big": 9007199254740993, "bigs": "9007199254740993", "u": 18446744073709551615,
                                   "neg": -9223372036854775808, "f": 9007199254740992.0})");
  struct Case {
    const char* path;
    const char* op;
    Json operand;
    bool pass;
  };
  std::vector<Case> cases = {
      {"big", "greaterThan", 9007199254740992, true},
      {"big", "lessOrEqual", 9007199254740992, false},
      {"big", "greaterThan", "9007199254740992", true},
      {"bigs", "greaterThan", 9007199254740992, true},
      {"bigs", "lessOrEqual", "9007199254740992", false},
      {"big", "greaterOrEqual", 9007199254740993, true},
      {"big", "lessThan", 9007199254740994ULL, true},
      {"u", "greaterThan", 18446744073709551614ULL, true},
      {"u", "lessOrEqual", 18446744073709551614ULL, false},
      {"u", "greaterThan", -1, true},
      {"neg", "lessThan", -9223372036854775807LL, true},
      {"neg", "lessThan", 0.5, true},
      {"f", "lessThan", 9007199254740993, true},  // a float against an integer
      {"big", "greaterThan", 9007199254740992.0, true},
      {"big", "lessThan", 1e300, true},
      {"bigs", "lessThan", "1e300", true},
  };
  for (const auto& c : cases) {
    std::string row = std::string(c.path) + " " + c.op + " " + c.operand.dump();
    CAPTURE(row);
    CHECK(Leaf(c.path, c.op, c.operand)->Evaluate(doc).passed == c.pass);
  }
}

TEST_CASE("[*] paths hold when any element satisfies the operator") {
  RunRows({
      {"uris[*]", "contains", R"("github.com/acme")", true, ""},
      {"uris[*]", "startsWith", R"("oci://")", true, ""},
      {"uris[*]", "matches", R"("^https://")", false, "(no element satisfies it), expected to match"},
      {"scores[*]", "greaterOrEqual", "0.95", true, ""},
      {"scores[*]", "greaterOrEqual", "0.995", false, "scores[*] is [0.5,0.99]"},
      {"uris[*]", "equals", R"("oci://registry.example.com/base")", true, ""},
      {"list[*]", "notIn", R"(["a", "b", 1])", false, "expected none of"},
      {"missing[*]", "exists", "false", true, ""},
      {"missing[*]", "contains", R"("x")", false, "missing[*] is missing"},
  });
}

// notEquals, notIn and exists: false are the negations of equals, in and
// exists: true. Over [*] they hold when NO element matches (that is also why a
// missing path, or an empty array, passes them): `materials[*].uri notEquals
// evil` must not pass because some other material is not evil.
TEST_CASE("[*] with notEquals / notIn / exists: false holds only when no element matches") {
  RunRows({
      {"uris[*]", "notEquals", R"("oci://registry.example.com/base")", false,
       R"(("oci://registry.example.com/base" is among them), expected not "oci://registry.example.com/base")"},
      {"uris[*]", "notEquals", R"("x")", true, ""},
      {"list[*]", "notIn", R"(["a"])", false, R"(("a" is among them), expected none of ["a"])"},
      {"list[*]", "notIn", R"(["c", 2])", true, ""},
      {"list[*]", "notEquals", "1", false, "expected not 1"},
      {"list[*]", "notEquals", R"("1")", true, ""},  // no coercion: 1 is not "1"
      {"list[*]", "exists", "false", false, "expected to be absent"},
      {"empty[*]", "notEquals", R"("x")", true, ""},  // nothing selected: missing
      {"empty[*]", "notIn", R"(["x"])", true, ""},
      {"empty[*]", "exists", "false", true, ""},
      {"empty[*]", "exists", "true", false, "empty[*] is missing"},
      {"empty[*]", "equals", R"("x")", false, "empty[*] is missing"},
      {"s[*]", "notEquals", R"("x")", true, ""},  // [*] over a non-array selects nothing
      {"s[*]", "equals", R"("https://tekton.dev/chains/v2")", false, "s[*] is missing"},
      {"obj[*]", "exists", "true", false, "obj[*] is missing"},
  });
}

// `not` negates a decided result only. A leaf that failed because its path is
// missing, or because a value has the wrong type for the operator, is
// undecidable, and `not` of it fails too (Kleene logic: all is false when any
// child is false, any is true when any child is true, otherwise undecidable
// children make the node undecidable). Absence is a fact only for exists.
TEST_CASE("not never turns a missing path or a mistyped value into a pass") {
  auto leaf = [](const char* path, const char* op, const char* operand) {
    return Leaf(path, op, Json::parse(operand));
  };
  auto not_ = [](ConditionPtr c) { return Must(Condition::Not(std::move(c))); };
  auto all = [](std::vector<ConditionPtr> c) { return Must(Condition::All(std::move(c))); };
  auto any = [](std::vector<ConditionPtr> c) { return Must(Condition::Any(std::move(c))); };
  struct NotRow {
    const char* name;
    ConditionPtr condition;
    bool pass;
    const char* reason;  // substring when failing
  };
  std::vector<NotRow> rows = {
      {"not equals, missing", not_(leaf("missing", "equals", R"("x")")), false, "missing is missing"},
      {"not greaterThan, missing", not_(leaf("missing", "greaterThan", "1")), false, "missing is missing"},
      {"not lessThan, not a number", not_(leaf("bad", "lessThan", "0.9")), false, "(not a number)"},
      {"not matches, not a string", not_(leaf("i", "matches", R"("x")")), false, "(not a string)"},
      {"not startsWith, not a string", not_(leaf("t", "startsWith", R"("x")")), false, "(not a string)"},
      {"not contains, not a string or array", not_(leaf("obj", "contains", R"("x")")), false, "(not a string"},
      {"not in, missing", not_(leaf("missing", "in", R"(["x"])")), false, "missing is missing"},
      {"not exists: true, missing", not_(leaf("missing", "exists", "true")), false, "missing is missing, expected to exist"},
      {"not exists: false, present", not_(leaf("s", "exists", "false")), true, ""},
      {"not notEquals, missing", not_(leaf("missing", "notEquals", R"("x")")), false,
       "expected not: missing notEquals"},
      {"not equals, different value", not_(leaf("s", "equals", R"("x")")), true, ""},
      {"not equals, other type is a decided inequality", not_(leaf("i", "equals", R"("3")")), true, ""},
      {"not equals, equal", not_(leaf("s", "equals", R"("https://tekton.dev/chains/v2")")), false, "expected not: s"},
      {"not not, missing", not_(not_(leaf("missing", "equals", R"("x")"))), false, "missing is missing"},
      {"not any(undecidable, false)", not_(any({leaf("missing", "equals", R"("x")"), leaf("s", "equals", R"("y")")})),
       false, "missing is missing"},
      {"not any(undecidable, true)", not_(any({leaf("missing", "equals", R"("x")"), leaf("i", "equals", "3")})), false,
       "expected not: any("},
      {"not all(undecidable, false) is decided",
       not_(all({leaf("missing", "equals", R"("x")"), leaf("s", "equals", R"("y")")})), true, ""},
      {"not all(undecidable, true)", not_(all({leaf("missing", "equals", R"("x")"), leaf("i", "equals", "3")})), false,
       "missing is missing"},
      {"not [*] matches, all strings", not_(leaf("uris[*]", "matches", R"("^x")")), true, ""},
      {"not [*] matches, one element mistyped", not_(leaf("mixed[*]", "matches", R"("^z")")), false,
       "(no element satisfies it; one is not a string)"},
      {"not [*] matches, one element matches", not_(leaf("mixed[*]", "matches", R"("^x")")), false, "expected not:"},
      {"not [*] equals, empty array", not_(leaf("empty[*]", "equals", R"("x")")), false, "empty[*] is missing"},
      {"not [*] greaterThan, one element mistyped", not_(leaf("mixed[*]", "greaterThan", "5")), false,
       "one is not a number"},
      {"not [*] greaterThan, one element greater", not_(leaf("scores[*]", "greaterThan", "0.9")), false,
       "expected not:"},
  };
  for (const auto& r : rows) {
    std::string name = r.name;
    CAPTURE(name);
    ConditionResult got = r.condition->Evaluate(kDoc);
    CHECK(got.passed == r.pass);
    if (!r.pass) CHECK_MESSAGE(got.reason.find(r.reason) != std::string::npos, got.reason);
  }
}

TEST_CASE("undecidable leaves are reported as such") {
  CHECK(Leaf("missing", "equals", 1)->Evaluate(kDoc).undecidable);
  CHECK(Leaf("bad", "greaterThan", 1)->Evaluate(kDoc).undecidable);
  CHECK(Leaf("mixed[*]", "startsWith", "z")->Evaluate(kDoc).undecidable);
  CHECK_FALSE(Leaf("s", "equals", 1)->Evaluate(kDoc).undecidable);  // a decided inequality
  CHECK(Leaf("missing", "exists", true)->Evaluate(kDoc).undecidable);  // so `not` of it fails
  CHECK_FALSE(Leaf("s", "exists", false)->Evaluate(kDoc).undecidable);  // a decided presence
  CHECK_FALSE(Leaf("n", "greaterThan", 1)->Evaluate(kDoc).undecidable);
  CHECK_FALSE(Leaf("uris[*]", "startsWith", "z")->Evaluate(kDoc).undecidable);
  // all: a decided false child decides; any: only undecidable failures stay undecidable.
  auto undecided = Leaf("missing", "equals", 1);
  auto decided_false = Leaf("s", "equals", 1);
  CHECK_FALSE(Must(Condition::All({undecided, decided_false}))->Evaluate(kDoc).undecidable);
  CHECK(Must(Condition::All({undecided, Leaf("i", "equals", 3)}))->Evaluate(kDoc).undecidable);
  CHECK(Must(Condition::Any({undecided, decided_false}))->Evaluate(kDoc).undecidable);
  CHECK_FALSE(Must(Condition::Any({decided_false, decided_false}))->Evaluate(kDoc).undecidable);
}

TEST_CASE("all / any / not combine leaves and explain failures") {
  auto builder_ok = Leaf("s", "equals", "https://tekton.dev/chains/v2");
  auto builder_bad = Leaf("s", "equals", "https://example.com/builder");
  auto acc_bad = Leaf("n", "greaterOrEqual", 0.99);
  auto repo_ok = Leaf("uris[*]", "contains", "github.com/acme");

  auto all_ok = Must(Condition::All({builder_ok, repo_ok}));
  CHECK(all_ok->Evaluate(kDoc).passed);

  auto all_bad = Must(Condition::All({builder_bad, repo_ok, acc_bad}));
  ConditionResult r = all_bad->Evaluate(kDoc);
  CHECK_FALSE(r.passed);
  CHECK(r.failed_leaves == 2);
  CHECK(r.reason == R"(s is "https://tekton.dev/chains/v2", expected "https://example.com/builder"; )"
                    "n is 0.97, expected >= 0.99");

  auto any_ok = Must(Condition::Any({builder_bad, repo_ok}));
  CHECK(any_ok->Evaluate(kDoc).passed);

  auto any_bad = Must(Condition::Any({builder_bad, acc_bad}));
  r = any_bad->Evaluate(kDoc);
  CHECK_FALSE(r.passed);
  CHECK(r.failed_leaves == 1);
  CHECK(r.reason.find("none of 2 alternatives holds: ") == 0);
  CHECK(r.reason.find(R"(expected "https://example.com/builder" | n is 0.97)") != std::string::npos);

  auto not_bad = Must(Condition::Not(builder_ok));
  r = not_bad->Evaluate(kDoc);
  CHECK_FALSE(r.passed);
  CHECK(r.reason == R"(expected not: s equals "https://tekton.dev/chains/v2")");
  CHECK(Must(Condition::Not(builder_bad))->Evaluate(kDoc).passed);

  auto nested = Must(Condition::All({builder_ok, Must(Condition::Any({acc_bad, Must(Condition::Not(repo_ok))}))}));
  r = nested->Evaluate(kDoc);
  CHECK_FALSE(r.passed);
  CHECK(r.reason.find("expected not: uris[*] contains \"github.com/acme\"") != std::string::npos);
  CHECK(nested->depth() == 4);
  CHECK(nested->Describe().find("all(s equals") == 0);
  CHECK(nested->ToJson() == Json::parse(R"({"all": [{"path": "s", "equals": "https://tekton.dev/chains/v2"},
                                {"any": [{"path": "n", "greaterOrEqual": 0.99},
                                         {"not": {"path": "uris[*]", "contains": "github.com/acme"}}]}]})"));
}

TEST_CASE("operands are validated when the condition is built") {
  auto path = *JsonPath::Parse("a");
  struct Bad {
    Operator op;
    Json operand;
    const char* message;
  };
  std::vector<Bad> rows = {
      {Operator::kIn, "x", "in expects a non-empty list"},
      {Operator::kNotIn, Json::array(), "notIn expects a non-empty list"},
      {Operator::kExists, "true", "exists expects true or false"},
      {Operator::kStartsWith, 1, "startsWith expects a string"},
      {Operator::kMatches, 1, "matches expects a string"},
      {Operator::kMatches, "^(unclosed", "invalid regular expression \"^(unclosed\": missing )"},
      {Operator::kMatches, "(a)\\1", "invalid escape sequence"},
      {Operator::kGreaterThan, "abc", "greaterThan expects a number or a numeric string"},
      {Operator::kLessOrEqual, true, "lessOrEqual expects a number"},
      {Operator::kGreaterOrEqual, " 1", "expects a number"},
      {Operator::kStartsWith, "", "startsWith \"\" holds for every string"},
      {Operator::kMatches, "", "matches \"\" holds for every string"},
  };
  for (const auto& r : rows) {
    CAPTURE(OperatorName(r.op));
    auto c = Condition::Leaf(path, r.op, r.operand);
    REQUIRE_FALSE(c.ok());
    CHECK_MESSAGE(c.status().message().find(r.message) != std::string::npos, c.status().message());
  }
  // A regex needing more than the memory bound is refused, not compiled.
  auto huge = Condition::Leaf(path, Operator::kMatches, "(\\pL{100}){10}");
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.status().message().find("pattern too large") != std::string::npos);
  CHECK_FALSE(Condition::All({}).ok());
  CHECK_FALSE(Condition::Any({}).ok());
}

TEST_CASE("condition depth is bounded") {
  ConditionPtr c = Leaf("a", "exists", true);
  for (int i = 1; i < kMaxConditionDepth; ++i) c = Must(Condition::Not(c));
  CHECK(c->depth() == kMaxConditionDepth);
  auto too_deep = Condition::Not(c);
  REQUIRE_FALSE(too_deep.ok());
  CHECK(too_deep.status().message().find("deeper than 32") != std::string::npos);
}

TEST_CASE("numeric strings are parsed strictly") {
  struct Row {
    const char* in;
    bool ok;
    double value;
  };
  Row rows[] = {
      {"0.97", true, 0.97}, {"-3", true, -3},  {"1e-3", true, 0.001}, {"10", true, 10},   {"0", true, 0},
      {"1.5E2", true, 150}, {"", false, 0},    {" 1", false, 0},      {"1 ", false, 0},   {"+1", false, 0},
      {".5", false, 0},     {"1.", false, 0},  {"01", false, 0},      {"0x10", false, 0}, {"inf", false, 0},
      {"nan", false, 0},    {"abc", false, 0}, {"1e", false, 0},      {"--1", false, 0},  {"1e999", false, 0},
  };
  for (const auto& r : rows) {
    CAPTURE(r.in);
    auto v = ParseNumericString(r.in);
    CHECK(v.has_value() == r.ok);
    if (r.ok && v) CHECK(*v == doctest::Approx(r.value));
  }
}

TEST_CASE("operator names round-trip") {
  for (Operator op : AllOperators()) CHECK(OperatorFromName(OperatorName(op)) == op);
  CHECK_FALSE(OperatorFromName("equal").has_value());
  CHECK(AllOperators().size() == 12);
}

TEST_CASE("reasons quoting long non-ASCII values are cut at a character boundary") {
  // 'é' is two bytes: a cut at any byte count could fall inside one.
  for (size_t n : {300u, 499u, 500u, 501u, 999u, 1000u, 2000u}) {
    std::string value;
    for (size_t i = 0; i < n; ++i) value += "\xc3\xa9";
    Json doc = {{"v", value}, {"w", std::string(n, 'x') + "\xe2\x82\xac"}};
    for (const char* path : {"v", "w"}) {
      CAPTURE(n);
      CAPTURE(path);
      ConditionResult got = Leaf(path, "equals", Json("other"))->Evaluate(doc);
      CHECK_FALSE(got.passed);
      // nlohmann refuses to dump invalid UTF-8 (throws type_error 316).
      CHECK_NOTHROW((void)Json(got.reason).dump());
      CHECK(got.reason.size() <= 1100);
    }
  }
}
