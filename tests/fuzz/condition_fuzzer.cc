// A policy condition (YAML, parsed by ParseCondition as the loader does) and
// a JSON document, "<yaml>\n%%\n<json>": Condition::Evaluate over arbitrary
// facts. Invariants (policy/condition.h): a pass is never undecidable and a
// failure has a reason; reasons and Describe() are valid UTF-8 (they travel
// in admission answers); evaluation is deterministic; not() follows the
// documented Kleene rules; all/any of one child decide as the child; the
// canonical form (ToJson) re-parses to the same condition, unless it holds a
// key longer than YAML lets a reader take (HasKeyTooLongForYaml).
#include <string>

#include "base/encoding.h"
#include "base/json_util.h"
#include "policy/condition.h"
#include "policy/condition_parser.h"
#include "policy/yaml_reader.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/fuzz/fuzz_target.h"

using namespace provgate;
using provgate::fuzz::FuzzCheck;

namespace {

constexpr size_t kNodeBudget = 100000;

std::shared_ptr<const Condition> Parse(std::string_view yaml) {
  YamlErrors errors("c.yaml", kNodeBudget);
  auto docs = LoadYamlDocuments(yaml, 4, errors);
  if (!docs || docs->empty() || (*docs)[0].IsNull()) return nullptr;
  try {
    auto c = ParseCondition(YamlValue{(*docs)[0], "", (*docs)[0].Mark()}, errors);
    if (errors.count() > 0) return nullptr;
    return c;
  } catch (const YAML::Exception&) {
    return nullptr;  // the policy parser turns these into errors too
  }
}

// YAML allows an implicit key, JSON-like keys included, at most 1024
// characters, and yaml-cpp holds to it: a canonical form with a longer key as
// JSON writes it (a tab becomes \t) is valid JSON that no YAML reader may read
// back (regressions/condition/json-key-over-1024). The loader never re-reads a
// canonical form (it is hashed), so such a form skips the round trip; 1000
// leaves room for the quotes and the position yaml-cpp counts from.
bool HasKeyTooLongForYaml(const Json& j) {
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      if (Json(key).dump().size() > 1000 || HasKeyTooLongForYaml(value)) return true;
    }
  } else if (j.is_array()) {
    for (const auto& e : j) {
      if (HasKeyTooLongForYaml(e)) return true;
    }
  }
  return false;
}

bool Same(const ConditionResult& a, const ConditionResult& b) {
  return a.passed == b.passed && a.undecidable == b.undecidable && a.reason == b.reason &&
         a.failed_leaves == b.failed_leaves;
}

// Text a policy file can put into conditions is as valid as the file; the
// loader refuses files that are not UTF-8 (finding policy-text-not-utf8, fixed),
// and an input that still gets through is reported under its own message.
std::string Utf8Problem(std::string_view yaml) {
  return IsUtf8(yaml) ? "not valid UTF-8: " : "non-UTF-8 policy text reaches the output: ";
}

void CheckResult(const ConditionResult& r, const char* what, std::string_view yaml) {
  if (r.passed) {
    FuzzCheck(!r.undecidable, std::string(what) + ": passed and undecidable");
  } else {
    FuzzCheck(!r.reason.empty(), std::string(what) + ": failed without a reason");
  }
  FuzzCheck(IsUtf8(r.reason), Utf8Problem(yaml) + what + " reason");
}

}  // namespace

PROVGATE_FUZZ_TARGET(condition) {
  std::string_view yaml = input;
  std::string_view json = "{}";
  if (auto sep = input.find("\n%%\n"); sep != std::string_view::npos) {
    yaml = input.substr(0, sep);
    json = input.substr(sep + 4);
  }
  auto c = Parse(yaml);
  if (!c) return;
  auto doc = ParseJson(json, "document");
  if (!doc.ok()) return;

  FuzzCheck(IsUtf8(c->Describe()), Utf8Problem(yaml) + "Describe()");
  ConditionResult r = c->Evaluate(*doc);
  CheckResult(r, "condition", yaml);
  FuzzCheck(Same(r, c->Evaluate(*doc)), "Evaluate is not deterministic");

  if (c->depth() < kMaxConditionDepth) {
    auto n = Condition::Not(c);
    FuzzCheck(n.ok(), "Not() of a condition within the depth bound fails");
    ConditionResult nr = (*n)->Evaluate(*doc);
    CheckResult(nr, "not", yaml);
    if (r.passed) {
      FuzzCheck(!nr.passed, "not() of a passing condition passes");
    } else if (r.undecidable) {
      FuzzCheck(!nr.passed, "not() of an undecidable condition passes");
    } else {
      FuzzCheck(nr.passed, "not() of a decided failure fails");
    }
    for (bool all : {true, false}) {
      auto one = all ? Condition::All({c}) : Condition::Any({c});
      FuzzCheck(one.ok(), "all/any of one child fails to build");
      ConditionResult o = (*one)->Evaluate(*doc);
      FuzzCheck(o.passed == r.passed && o.undecidable == r.undecidable, "all/any of one child decides otherwise");
    }
  }

  // The canonical form is JSON, and JSON is YAML: it must read back as the
  // same condition.
  Json canonical = c->ToJson();
  std::string text;
  try {
    text = canonical.dump();
  } catch (const Json::exception& e) {
    FuzzCheck(false, Utf8Problem(yaml) + "ToJson() cannot be serialised: " + e.what());
    return;  // tolerated while the finding is open
  }
  if (HasKeyTooLongForYaml(canonical)) return;
  auto back = Parse(text);
  FuzzCheck(back != nullptr, "ToJson() does not parse back as a condition: " + text.substr(0, 300));
  FuzzCheck(back->ToJson() == canonical, "ToJson() re-parses to another condition: " + text.substr(0, 300));
  FuzzCheck(Same(back->Evaluate(*doc), r), "the re-parsed condition decides otherwise");
}
