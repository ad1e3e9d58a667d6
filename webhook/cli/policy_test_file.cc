#include "webhook/cli/policy_test_file.h"

#include <filesystem>

#include "base/encoding.h"
#include "policy/yaml_reader.h"

namespace provgate {
namespace {

constexpr size_t kNodeBudget = 200000;
constexpr size_t kMaxPaths = 100;

const char* const kDecisions[] = {"allow", "deny", "warn", "audit", "unmatched"};

std::string Resolve(const std::string& base_dir, const std::string& p) {
  if (p.empty() || p.front() == '/') return p;
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

std::optional<std::string> ReadNonEmpty(const YamlValue& v, YamlErrors& errors) {
  auto s = ReadString(v, errors);
  if (s && s->empty()) {
    errors.Add(v.mark, v.where + ": must not be empty");
    return std::nullopt;
  }
  return s;
}

std::vector<std::string> ReadPaths(const YamlMapping& m, const char* key, const std::string& base_dir,
                                   YamlErrors& errors) {
  std::vector<std::string> out;
  auto v = m.Require(key, errors);
  if (!v) return out;
  auto items = ReadList(*v, errors, /*allow_empty=*/false, kMaxPaths);
  if (!items) return out;
  for (const auto& item : *items) {
    if (auto s = ReadNonEmpty(item, errors)) out.push_back(Resolve(base_dir, *s));
  }
  return out;
}

// "Kind ns/name", "Kind name" or "name".
std::optional<ObjectSelector> ParseSelector(const YamlValue& v, YamlErrors& errors) {
  auto s = ReadNonEmpty(v, errors);
  if (!s) return std::nullopt;
  ObjectSelector sel;
  sel.text = *s;
  std::string rest = *s;
  auto space = rest.find(' ');
  if (space != std::string::npos) {
    sel.kind = rest.substr(0, space);
    rest = rest.substr(space + 1);
  }
  auto slash = rest.find('/');
  if (space != std::string::npos && slash != std::string::npos) {
    sel.namespace_name = rest.substr(0, slash);
    rest = rest.substr(slash + 1);
  }
  sel.name = rest;
  if (sel.name.empty() || rest.find_first_of(" /") != std::string::npos ||
      (space != std::string::npos && (sel.kind.empty() || (slash != std::string::npos && sel.namespace_name.empty())))) {
    errors.Add(v.mark, v.where + ": " + Quote(*s) + " is not \"Kind namespace/name\", \"Kind name\" or \"name\"");
    return std::nullopt;
  }
  return sel;
}

std::optional<Expectation> ParseExpectation(const YamlValue& v, YamlErrors& errors) {
  auto m = YamlMapping::Open(v, {"object", "field", "decision", "reasonContains", "pin"}, errors);
  if (!m) return std::nullopt;
  Expectation e;
  e.location = errors.Location(v.mark);
  bool ok = !m->had_bad_fields();
  if (auto o = m->Require("object", errors)) {
    auto sel = ParseSelector(*o, errors);
    ok = ok && sel.has_value();
    if (sel) e.object = std::move(*sel);
  } else {
    ok = false;
  }
  if (auto f = m->Get("field")) {
    auto s = ReadNonEmpty(*f, errors);
    ok = ok && s.has_value();
    if (s) e.field = *s;
  }
  if (auto d = m->Require("decision", errors)) {
    auto s = ReadString(*d, errors);
    bool known = false;
    for (const char* k : kDecisions) known = known || (s && *s == k);
    if (s && !known) {
      errors.Add(d->mark, d->where + ": " + Quote(*s) + " is not one of allow, deny, warn, audit, unmatched");
    }
    ok = ok && known;
    if (known) e.decision = *s;
  } else {
    ok = false;
  }
  if (auto r = m->Get("reasonContains")) {
    auto s = ReadNonEmpty(*r, errors);
    ok = ok && s.has_value();
    if (s) e.reason_contains = *s;
  }
  if (auto p = m->Get("pin")) {
    auto s = ReadString(*p, errors);
    ok = ok && s.has_value();
    if (s) e.pin = *s;
    if (s && e.field.empty()) {
      errors.Add(m->KeyMark("pin"), v.where + ": pin needs a field (the reference it pins)");
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return e;
}

}  // namespace

StatusOr<PolicyTestFile> ParsePolicyTestFile(std::string_view text, const std::string& path) {
  YamlErrors errors(path, kNodeBudget);
  PolicyTestFile out;
  out.path = path;
  const std::string base_dir = std::filesystem::path(path).parent_path().string();
  auto fail = [&]() -> Status {
    std::string joined;
    for (const auto& line : errors.lines()) joined += (joined.empty() ? "" : "\n") + line;
    return InvalidArgument(joined);
  };
  if (text.size() > kMaxPolicyTestFileBytes) {
    return InvalidArgument(path + ": larger than " + std::to_string(kMaxPolicyTestFileBytes) + " bytes");
  }
  auto docs = LoadYamlDocuments(text, 2, errors);
  if (!docs) return fail();
  std::vector<YAML::Node> nonempty;
  for (const auto& d : *docs) {
    if (!d.IsNull()) nonempty.push_back(d);
  }
  if (nonempty.size() != 1) {
    return InvalidArgument(path + ": expected exactly one YAML document, found " + std::to_string(nonempty.size()));
  }
  try {
    YamlValue root{nonempty[0], "", nonempty[0].Mark()};
    auto m = YamlMapping::Open(
        root, {"policies", "manifests", "ociLayout", "registryConfig", "namespace", "unmatched", "expect"}, errors);
    if (!m) return fail();
    out.policies = ReadPaths(*m, "policies", base_dir, errors);
    out.manifests = ReadPaths(*m, "manifests", base_dir, errors);
    if (auto v = m->Get("ociLayout")) {
      if (auto s = ReadNonEmpty(*v, errors)) out.oci_layout = Resolve(base_dir, *s);
    }
    if (auto v = m->Get("registryConfig")) {
      if (auto s = ReadNonEmpty(*v, errors)) out.registry_config = Resolve(base_dir, *s);
    }
    if (auto v = m->Get("namespace")) {
      if (auto s = ReadNonEmpty(*v, errors)) out.namespace_name = *s;
    }
    if (auto v = m->Get("unmatched")) {
      auto s = ReadString(*v, errors);
      if (s && *s != "allow" && *s != "deny") errors.Add(v->mark, "unmatched: must be allow or deny");
      out.unmatched_deny = s && *s == "deny";
    }
    if (auto v = m->Require("expect", errors)) {
      if (auto items = ReadList(*v, errors, /*allow_empty=*/false, kMaxExpectations)) {
        for (const auto& item : *items) {
          if (auto e = ParseExpectation(item, errors)) out.expect.push_back(std::move(*e));
        }
      }
    }
  } catch (const YAML::Exception& e) {
    errors.Add(e.mark, "YAML error: " + e.msg);
  }
  if (errors.count() > 0) return fail();
  return out;
}

}  // namespace provgate
