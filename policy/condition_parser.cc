#include "policy/condition_parser.h"

#include <string>
#include <vector>

#include "policy/policy_loader.h"

namespace provgate {
namespace {

std::string OperatorList() {
  std::string s;
  for (Operator op : AllOperators()) s += (s.empty() ? "" : ", ") + std::string(OperatorName(op));
  return s;
}

std::string Prefix(const YamlValue& v) { return v.where.empty() ? "" : v.where + ": "; }

std::shared_ptr<const Condition> Parse(const YamlValue& v, YamlErrors& errors, int depth);

std::shared_ptr<const Condition> ParseList(const YamlMapping& m, const char* key, YamlErrors& errors, int depth) {
  auto list_value = m.Get(key);
  auto items = ReadList(*list_value, errors, /*allow_empty=*/false, kMaxListItems);
  if (!items) return nullptr;
  std::vector<std::shared_ptr<const Condition>> children;
  bool ok = true;
  for (const auto& item : *items) {
    auto c = Parse(item, errors, depth + 1);
    if (!c) {
      ok = false;
      continue;
    }
    children.push_back(std::move(c));
  }
  if (!ok) return nullptr;
  auto c = std::string(key) == "all" ? Condition::All(std::move(children)) : Condition::Any(std::move(children));
  if (!c.ok()) {
    errors.Add(list_value->mark, list_value->where + ": " + c.status().message());
    return nullptr;
  }
  return *c;
}

std::shared_ptr<const Condition> ParseLeaf(const YamlMapping& m, YamlErrors& errors) {
  const YamlValue& self = m.value();
  std::vector<Operator> ops;
  for (const auto& key : m.Keys()) {
    if (auto op = OperatorFromName(key)) ops.push_back(*op);
  }
  auto path_value = m.Get("path");
  if (!path_value) {
    if (m.had_bad_fields()) return nullptr;
    if (ops.empty()) {
      errors.Add(self.mark, Prefix(self) + "a condition needs all, any, not, or path with one operator");
    } else {
      errors.Add(self.mark, Prefix(self) + "missing required field \"path\" for operator " + OperatorName(ops[0]));
    }
    return nullptr;
  }
  auto path_text = ReadString(*path_value, errors);
  std::optional<JsonPath> path;
  if (path_text) {
    auto p = JsonPath::Parse(*path_text);
    if (p.ok()) {
      path = std::move(*p);
    } else {
      errors.Add(path_value->mark, path_value->where + ": " + p.status().message());
    }
  }
  if (ops.empty()) {
    if (m.had_bad_fields()) return nullptr;  // the misspelt operator was reported
    errors.Add(self.mark, Prefix(self) + "condition on path " + (path_text ? "\"" + *path_text + "\" " : "") +
                              "has no operator (expected one of: " + OperatorList() + ")");
    return nullptr;
  }
  if (ops.size() > 1) {
    errors.Add(m.KeyMark(OperatorName(ops[1])), Prefix(self) + "condition has " + std::to_string(ops.size()) +
                                                    " operators (" + OperatorName(ops[0]) + " and " +
                                                    OperatorName(ops[1]) + "); a leaf takes exactly one");
    return nullptr;
  }
  auto operand_value = m.Get(OperatorName(ops[0]));
  auto operand = YamlToJson(*operand_value, errors);
  if (!operand || !path) return nullptr;
  auto c = Condition::Leaf(std::move(*path), ops[0], std::move(*operand));
  if (!c.ok()) {
    errors.Add(operand_value->mark, operand_value->where + ": " + c.status().message());
    return nullptr;
  }
  return *c;
}

std::shared_ptr<const Condition> Parse(const YamlValue& v, YamlErrors& errors, int depth) {
  if (!errors.Spend(v.mark)) return nullptr;
  if (depth > kMaxConditionDepth) {
    errors.Add(v.mark, Prefix(v) + "conditions nest deeper than " + std::to_string(kMaxConditionDepth) + " levels");
    return nullptr;
  }
  auto m = YamlMapping::Open(v,
                             {"all", "any", "not", "path", "equals", "notEquals", "in", "notIn", "matches", "exists",
                              "contains", "startsWith", "greaterThan", "greaterOrEqual", "lessThan", "lessOrEqual"},
                             errors);
  if (!m) return nullptr;
  std::vector<std::string> combinators;
  for (const auto& key : m->Keys()) {
    if (key == "all" || key == "any" || key == "not") combinators.push_back(key);
  }
  if (combinators.empty()) return ParseLeaf(*m, errors);
  if (m->Keys().size() > 1) {
    std::string other;
    for (const auto& key : m->Keys()) {
      if (key != combinators[0]) {
        other = key;
        break;
      }
    }
    errors.Add(m->KeyMark(other), Prefix(v) + "\"" + combinators[0] + "\" cannot be combined with \"" + other +
                                      "\" in one condition; nest them in all/any");
    return nullptr;
  }
  const std::string& kind = combinators[0];
  if (kind == "not") {
    auto child_value = m->Get("not");
    auto child = Parse(*child_value, errors, depth + 1);
    if (!child) return nullptr;
    auto c = Condition::Not(std::move(child));
    if (!c.ok()) {
      errors.Add(child_value->mark, child_value->where + ": " + c.status().message());
      return nullptr;
    }
    return *c;
  }
  return ParseList(*m, kind.c_str(), errors, depth);
}

}  // namespace

std::shared_ptr<const Condition> ParseCondition(const YamlValue& v, YamlErrors& errors) { return Parse(v, errors, 1); }

}  // namespace provgate
