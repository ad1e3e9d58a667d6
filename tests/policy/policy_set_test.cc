// PolicySet (matching, hash), CombineResults and the name functions.
#include <doctest/doctest.h>

#include "policy/policy.h"
#include "test_policies.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

std::string PolicyYaml(const std::string& name, const std::string& match, const std::string& mode = "enforce",
                       const std::string& key = "ci.pub") {
  return "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata: {name: " + name +
         "}\nspec:\n  mode: " + mode + "\n  match: " + match + "\n  authorities: [{name: ci, key: {file: " + key +
         "}}]\n";
}

Reference Ref(const std::string& s) {
  auto r = ParseReference(s);
  REQUIRE(r.ok());
  return *r;
}

PolicyResult Result(Mode mode, bool passed) {
  PolicyResult r;
  r.name = "p";
  r.mode = mode;
  r.passed = passed;
  return r;
}

}  // namespace

TEST_CASE("Matching returns the policies that select a reference, in load order") {
  PolicySet set(MustParsePolicies(
      PolicyYaml("all-models", "{references: [\"registry.example.com/models/**\"]}") + "---\n" +
      PolicyYaml("serving-only", "{references: [\"registry.example.com/**\"], namespaces: [\"serving-*\"]}") + "---\n" +
      PolicyYaml("volumes-only", "{references: [\"**\"], sources: [image-volume]}") + "---\n" +
      PolicyYaml("hub", "{references: [busybox]}")));
  auto names = [&](const std::string& ref, const std::string& ns, Source src) {
    std::vector<std::string> out;
    for (const Policy* p : set.Matching(Ref(ref), ns, src)) out.push_back(p->name);
    return out;
  };
  using V = std::vector<std::string>;
  CHECK(names("registry.example.com/models/mnist:v1", "serving-prod", Source::kImageVolume) ==
        V{"all-models", "serving-only", "volumes-only"});
  CHECK(names("registry.example.com/models/mnist:v1", "default", Source::kContainer) == V{"all-models"});
  CHECK(names("registry.example.com/tools/x:v1", "serving-a", Source::kContainer) == V{"serving-only"});
  CHECK(names("busybox:1.36", "default", Source::kContainer) == V{"hub"});
  CHECK(names("ghcr.io/acme/x:v1", "default", Source::kStorageUri).empty());
  CHECK(set.policies().at(0).Matches(Ref("registry.example.com/models/a/b:v1"), "x", Source::kContainer));
}

TEST_CASE("Keys are tagged with their policy's authority") {
  Policy p = MustParsePolicy(PolicyYaml("models", "{references: [\"**\"]}"));
  auto keys = p.Keys();
  REQUIRE(keys.size() == 1);
  CHECK(keys[0].signer == Signer("models", "ci"));
  CHECK(keys[0].key.Fingerprint() == p.authorities[0].key->Fingerprint());
  CHECK(keys[0].signer.String() == "models/ci");
}

TEST_CASE("the set hash covers content and trust material, not file locations") {
  const std::string base = PolicyYaml("p", "{references: [\"**\"]}");
  PolicySet a(MustParsePolicies(base));
  PolicySet same(MustParsePolicies("# moved down a line\n" + base));
  CHECK(a.hash().size() == 64);
  CHECK(a.hash() == same.hash());
  CHECK(a.policies()[0].file != same.policies()[0].file);

  std::vector<std::string> variants = {
      PolicyYaml("p", "{references: [\"**\"]}", "enforce", "release.pub"),  // another key
      PolicyYaml("p", "{references: [\"**\"]}", "warn"),
      PolicyYaml("q", "{references: [\"**\"]}"),
      PolicyYaml("p", "{references: [\"registry.example.com/**\"]}"),
      PolicyYaml("p", "{references: [\"**\"], namespaces: [default]}"),
      PolicyYaml("p", "{references: [\"**\"], sources: [container]}"),
      base + "  signatures: {require: 0}\n",
      base + "  metadata: {conditions: {path: config.name, equals: x}}\n",
      base + "  attestations: [{name: a, predicateType: t}]\n",
      base + "  requireDigest: true\n",
  };
  for (const auto& v : variants) {
    CAPTURE(v);
    CHECK(PolicySet(MustParsePolicies(v)).hash() != a.hash());
  }
  CHECK(PolicySet({}).hash() != a.hash());
}

TEST_CASE("CombineResults: AND across policies, then mode decides") {
  using R = std::vector<PolicyResult>;
  struct Row {
    const char* name;
    R results;
    UnmatchedAction unmatched;
    Decision want;
  };
  std::vector<Row> rows = {
      {"no policy, unmatched allow", {}, UnmatchedAction::kAllow, Decision::kUnmatched},
      {"no policy, unmatched deny", {}, UnmatchedAction::kDeny, Decision::kDeny},
      {"all pass", {Result(Mode::kEnforce, true), Result(Mode::kWarn, true)}, UnmatchedAction::kDeny, Decision::kAllow},
      {"one enforce fails",
       {Result(Mode::kEnforce, true), Result(Mode::kEnforce, false)},
       UnmatchedAction::kAllow,
       Decision::kDeny},
      {"enforce beats warn",
       {Result(Mode::kWarn, false), Result(Mode::kEnforce, false)},
       UnmatchedAction::kAllow,
       Decision::kDeny},
      {"warn fails",
       {Result(Mode::kEnforce, true), Result(Mode::kWarn, false)},
       UnmatchedAction::kAllow,
       Decision::kWarn},
      {"warn beats audit",
       {Result(Mode::kAudit, false), Result(Mode::kWarn, false)},
       UnmatchedAction::kAllow,
       Decision::kWarn},
      {"audit fails",
       {Result(Mode::kAudit, false), Result(Mode::kEnforce, true)},
       UnmatchedAction::kAllow,
       Decision::kAudit},
      {"matched policies ignore --unmatched", {Result(Mode::kAudit, true)}, UnmatchedAction::kDeny, Decision::kAllow},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    CHECK(CombineResults(r.results, r.unmatched) == r.want);
  }
}

TEST_CASE("FailedPolicy carries the reason and the mode") {
  Policy p = MustParsePolicy(PolicyYaml("p", "{references: [\"**\"]}", "warn"));
  PolicyResult r = FailedPolicy(p, ReasonCode::kRegistryUnavailable, "registry-unavailable: connection refused");
  CHECK(r.name == "p");
  CHECK(r.mode == Mode::kWarn);
  CHECK_FALSE(r.passed);
  CHECK(r.reasons == std::vector<std::string>{"registry-unavailable: connection refused"});
  CHECK(r.code == ReasonCode::kRegistryUnavailable);
  CHECK(CombineResults({r}, UnmatchedAction::kAllow) == Decision::kWarn);
  CHECK(DecidingCode({r}, Decision::kWarn) == ReasonCode::kRegistryUnavailable);
}

TEST_CASE("names of modes, sources and decisions") {
  CHECK(std::string(ModeName(Mode::kEnforce)) == "enforce");
  CHECK(std::string(ModeName(Mode::kWarn)) == "warn");
  CHECK(std::string(ModeName(Mode::kAudit)) == "audit");
  CHECK(std::string(SourceName(Source::kContainer)) == "container");
  CHECK(std::string(SourceName(Source::kImageVolume)) == "image-volume");
  CHECK(std::string(SourceName(Source::kStorageUri)) == "storage-uri");
  CHECK(std::string(DecisionName(Decision::kAllow)) == "allow");
  CHECK(std::string(DecisionName(Decision::kDeny)) == "deny");
  CHECK(std::string(DecisionName(Decision::kWarn)) == "warn");
  CHECK(std::string(DecisionName(Decision::kAudit)) == "audit");
  CHECK(std::string(DecisionName(Decision::kUnmatched)) == "unmatched");
}
