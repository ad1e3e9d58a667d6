// `provgate check`, `provgate policy lint` and `provgate verify --policies`:
// the decision pipeline from the command line, deciding exactly as the
// webhook does.
#include <cstdio>
#include <set>

#include "base/clock.h"
#include "policy/policy_loader.h"
#include "verifier/registry/fetch_artifact.h"
#include "webhook/cli/check_outcome.h"
#include "webhook/cli/cli_support.h"
#include "webhook/cli/commands.h"
#include "webhook/decide/decide_object.h"
#include "webhook/read_manifests.h"

namespace provgate {
namespace {

constexpr size_t kMaxManifestFile = 16 << 20;

const char* Upper(Decision d) {
  switch (d) {
    case Decision::kAllow: return "ALLOW";
    case Decision::kDeny: return "DENY";
    case Decision::kWarn: return "WARN";
    case Decision::kAudit: return "AUDIT";
    case Decision::kUnmatched: return "UNMATCHED";
  }
  return "?";
}

std::string PolicySummary(const std::vector<PolicyResult>& results) {
  std::string out;
  for (const auto& p : results) {
    std::string part = p.name + " (" + ModeName(p.mode) + ")";
    if (p.passed) {
      part += ": passed";
    } else {
      std::string reasons;
      for (const auto& r : p.reasons) reasons += (reasons.empty() ? "" : "; ") + r;
      part += ": " + (reasons.empty() ? std::string("failed") : reasons);
    }
    out += (out.empty() ? "" : " | ") + part;
  }
  return out;
}

void PrintObjectText(const ObjectDecision& d) {
  std::string obj = d.object.kind + " " + (d.object.namespace_name.empty() ? "" : d.object.namespace_name + "/") +
                    d.object.name;
  if (d.undecided == Undecided::kKindNotUnderstood) {
    // Not "no model references": nobody looked (docs/cli.md, --strict).
    std::string kind = d.object.api_version.empty() ? d.object.kind : d.object.api_version + " " + d.object.kind;
    std::printf("%-9s %s: kind not understood (%s)%s\n", d.allowed ? "SKIPPED" : "DENY", obj.c_str(),
                kind.empty() ? "no kind" : kind.c_str(), d.allowed ? "" : ": --strict denies it");
    return;
  }
  if (d.references.empty()) {
    std::printf("%-9s %s: no model references\n", "ALLOW", obj.c_str());
    return;
  }
  for (const auto& r : d.references) {
    std::string ref = r.ref.parsed ? r.ref.reference.String() : r.ref.raw;
    if (!r.digest.empty() && r.ref.parsed && r.ref.reference.digest.empty()) ref += "@" + r.digest;
    std::string why = !r.reason.empty() ? r.reason : PolicySummary(r.policies);
    if (r.decision == Decision::kUnmatched) why = "no policy matches";
    std::printf("%-9s %s %s %s: %s\n", Upper(r.decision), obj.c_str(), r.ref.field_path.c_str(), ref.c_str(),
                why.c_str());
  }
}

// The policy set `--policies` names.
StatusOr<std::shared_ptr<const PolicySet>> LoadPoliciesFlag(const std::vector<std::string>& paths) {
  if (paths.empty()) return InvalidArgument("--policies is required");
  return LoadPolicySet(paths);
}

}  // namespace

int RunLint(const LintOptions& o) {
  auto set = LoadPolicySet(o.paths);
  if (!set.ok()) {
    std::fprintf(stderr, "%s\n", set.status().message().c_str());
    return kExitError;
  }
  std::printf("%zu policies OK\n", (*set)->policies().size());
  return kExitOk;
}

int RunCheck(const CheckOptions& o) {
  auto set = LoadPoliciesFlag(o.policies);
  if (!set.ok()) return FailInput(set.status(), o.output);
  auto files = ExpandManifestPaths(o.files, o.recursive);
  if (!files.ok()) return FailInput(files.status(), o.output);
  std::vector<Json> objects;
  for (const auto& file : *files) {
    auto text = ReadInputFile(file, kMaxManifestFile);
    if (!text.ok()) return FailInput(text.status(), o.output);
    auto objs = ReadManifestObjects(*text, file == "-" ? "<stdin>" : file);
    if (!objs.ok()) return FailInput(objs.status(), o.output);
    for (auto& obj : *objs) objects.push_back(std::move(obj));
  }
  auto ctx = MakeRegistryContext(o.common);
  if (!ctx.ok()) return FailInput(ctx.status(), o.output);
  SteadyClock clock;
  VerificationService verifier(*ctx->client, clock, {});
  DecisionOptions options;
  options.unmatched = o.unmatched_deny ? UnmatchedAction::kDeny : UnmatchedAction::kAllow;
  options.strict = o.strict;
  if (o.require_digest) options.digest_requirement = DigestRequirement::kEveryPolicy;

  bool allowed = true;
  std::vector<ObjectDecision> decisions;  // for the exit code (check_outcome.h)
  OrderedJson objects_json = OrderedJson::array();
  for (const auto& obj : objects) {
    auto d = DecideObject(obj, o.namespace_name, *set, verifier, options, ctx->deadline);
    if (!d.ok()) return FailInput(d.status(), o.output);
    allowed = allowed && d->allowed;
    if (o.output == "json") {
      objects_json.push_back(ObjectDecisionToJson(*d));
    } else {
      PrintObjectText(*d);
      for (const auto& w : d->warnings) std::printf("          warning: %s\n", w.c_str());
    }
    decisions.push_back(std::move(*d));
  }
  // The summary: skipped objects (a kind provgate does not read, admitted
  // without --strict) are counted apart from the allowed ones.
  size_t n_allowed = 0, n_denied = 0, n_skipped = 0;
  for (const auto& d : decisions) {
    if (!d.allowed) {
      ++n_denied;
    } else if (d.undecided == Undecided::kKindNotUnderstood) {
      ++n_skipped;
    } else {
      ++n_allowed;
    }
  }
  if (o.output != "json") {
    std::printf("%zu objects: %zu allowed, %zu denied, %zu skipped (kind not understood)\n", decisions.size(),
                n_allowed, n_denied, n_skipped);
  }
  if (o.output == "json") {
    OrderedJson out;
    out["allowed"] = allowed;
    out["summary"] = {{"objects", decisions.size()}, {"allowed", n_allowed}, {"denied", n_denied}, {"skipped", n_skipped}};
    out["objects"] = std::move(objects_json);
    // Reasons may quote artifact metadata cut inside a character: replace
    // what is not UTF-8 rather than throw.
    std::printf("%s\n", out.dump(2, ' ', false, OrderedJson::error_handler_t::replace).c_str());
  }
  const int exit_code = CheckExitCode(decisions);
  return exit_code == kExitError ? ExitUndecidedDenial() : exit_code;
}

int RunVerifyWithPolicies(const VerifyOptions& o) {
  auto ref = ParseReference(o.reference);
  if (!ref.ok()) return FailInput(ref.status(), o.output);
  auto set = LoadPoliciesFlag(o.policies);
  if (!set.ok()) return FailInput(set.status(), o.output);
  // A reference on its own has no source: every policy that matches it from
  // any source applies.
  std::vector<const Policy*> matched;
  std::set<std::string> seen;
  for (Source s : kAllSources) {
    for (const Policy* p : (*set)->Matching(*ref, o.namespace_name, s)) {
      if (seen.insert(p->name).second) matched.push_back(p);
    }
  }
  auto ctx = MakeRegistryContext(o.common);
  if (!ctx.ok()) return FailInput(ctx.status(), o.output);
  SteadyClock clock;
  VerificationService::Options vo;
  vo.keep_facts = true;
  VerificationService verifier(*ctx->client, clock, vo);
  if (matched.empty()) {
    if (o.output == "json") {
      Json j = {{"reference", ref->String()},
                {"decision", DecisionName(Decision::kUnmatched)},
                {"reasonCode", ReasonCodeName(ReasonCode::kUnmatched)},
                {"policies", Json::array()}};
      std::printf("%s\n", j.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
      return kExitOk;
    }
    std::printf("reference:  %s\nno policy matches this reference in namespace %s\n", ref->String().c_str(),
                o.namespace_name.c_str());
    return kExitOk;
  }
  auto v = verifier.Verify(*ref, *set, ctx->deadline);
  std::vector<PolicyResult> results;
  if (v.ok() && !(*v)->fetch_failure.ok()) {
    for (const Policy* p : matched) results.push_back(FailedPolicy(*p, (*v)->fetch_failure));
  } else if (v.ok()) {
    for (const Policy* p : matched) results.push_back((*v)->results.at(p->name));
  } else {
    for (const Policy* p : matched) results.push_back(FailedPolicy(*p, v.status()));
  }
  // spec.requireDigest, as at admission: REF as given must carry the digest.
  for (size_t i = 0; i < results.size(); ++i) {
    results[i] = ApplyDigestRequirement(std::move(results[i]), matched[i]->require_digest, *ref, o.reference,
                                        v.ok() ? (*v)->digest : "");
  }
  Decision d = CombineResults(results, UnmatchedAction::kAllow);
  // Facts exist when the attachments were fetched; the digest as soon as the tag resolved.
  const bool has_facts = v.ok() && (*v)->facts;
  if (o.output == "json") {
    Json j = has_facts ? VerifiedArtifactToJson(*(*v)->facts) : Json{{"reference", ref->String()}};
    if (!has_facts && v.ok()) j["digest"] = (*v)->digest;
    j["decision"] = DecisionName(d);
    j["reasonCode"] = ReasonCodeName(DecidingCode(results, d));
    j["policies"] = Json::array();
    for (const auto& r : results) {
      Json pj = {{"name", r.name}, {"mode", ModeName(r.mode)}, {"passed", r.passed}, {"reasons", r.reasons}};
      if (!r.passed) pj["reasonCode"] = ReasonCodeName(r.code);
      j["policies"].push_back(std::move(pj));
    }
    std::printf("%s\n", j.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
  } else {
    if (has_facts) {
      const VerifiedArtifact& a = *(*v)->facts;
      std::printf("reference:  %s\ndigest:     %s\n", a.reference.String().c_str(), a.digest.c_str());
      std::string signers;
      for (const auto& s : a.SignedBy()) signers += (signers.empty() ? "" : ", ") + s.String();
      std::printf("signed by:  %s\n", signers.empty() ? "(nobody trusted)" : signers.c_str());
      for (const auto& at : a.attestations) {
        std::printf("attestation: %s %s\n", at.predicate_type.empty() ? "(unreadable)" : at.predicate_type.c_str(),
                    at.verified() ? "verified" : ("NOT VERIFIED: " + at.problem).c_str());
      }
      if (!a.config.is_null()) std::printf("config:     %s\n", JsonForMessage(a.config, 300).c_str());
    } else if (v.ok()) {
      std::printf("reference:  %s\ndigest:     %s\nerror:      %s\n", ref->String().c_str(), (*v)->digest.c_str(),
                  (*v)->fetch_failure.ToString().c_str());
    } else {
      std::printf("reference:  %s\nerror:      %s\n", ref->String().c_str(), v.status().ToString().c_str());
    }
    for (const auto& r : results) {
      std::string reasons;
      for (const auto& x : r.reasons) reasons += (reasons.empty() ? "" : "; ") + x;
      std::printf("policy %s (%s): %s%s%s\n", r.name.c_str(), ModeName(r.mode), r.passed ? "passed" : "FAILED",
                  reasons.empty() ? "" : ": ", reasons.c_str());
    }
    std::printf("decision:   %s\n", DecisionName(d));
  }
  // As for `check`: a denial only because the registry could not be asked is
  // no decision (exit 2).
  ReferenceDecision outcome;
  outcome.decision = d;
  outcome.undecided = v.ok() && (*v)->fetch_failure.ok() ? Undecided::kNo : Undecided::kFetchFailed;
  outcome.policies = std::move(results);
  if (DeniedUndecided(outcome)) return ExitUndecidedDenial();
  return d == Decision::kDeny ? kExitDenied : kExitOk;
}

}  // namespace provgate
