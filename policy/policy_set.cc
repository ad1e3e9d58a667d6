// Policy, PolicySet and the small name functions of policy.h.
#include "base/encoding.h"
#include "policy/condition.h"
#include "policy/glob.h"
#include "policy/policy.h"
#include "verifier/digest.h"

namespace provgate {
namespace {

Json ConditionJson(const std::shared_ptr<const Condition>& c) { return c ? c->ToJson() : Json(nullptr); }

// Everything that changes what a policy decides, in a canonical form
// (nlohmann objects serialise with sorted keys). Policy::file is left out:
// moving a policy between files changes no decision.
Json CanonicalPolicy(const Policy& p) {
  Json j = Json::object();
  j["name"] = p.name;
  j["mode"] = ModeName(p.mode);
  j["match"] = p.match ? p.match->ToJson() : Json(nullptr);
  j["authorities"] = Json::array();
  for (const auto& a : p.authorities) {
    Json e{{"name", a.name}};
    if (a.key) e["key"] = {{"type", KeyTypeName(a.key->type())}, {"fingerprint", a.key->Fingerprint()}};
    if (a.keyless) {
      e["keyless"] = {{"issuer", a.keyless->issuer},
                      {"issuerRegExp", a.keyless->issuer_regexp},
                      {"subject", a.keyless->subject},
                      {"subjectRegExp", a.keyless->subject_regexp},
                      // By content: a rotated root file must not reuse old results.
                      {"trustedRootSha256", a.keyless->root ? a.keyless->root->content_hash : ""}};
    }
    j["authorities"].push_back(std::move(e));
  }
  j["signaturesRequire"] = p.signatures_require;
  j["attestations"] = Json::array();
  for (const auto& r : p.attestations) {
    j["attestations"].push_back({{"name", r.name},
                                 // One type hashes as before the list form existed.
                                 {"predicateType", r.predicate_types.size() == 1 ? Json(r.predicate_types[0])
                                                                                 : Json(r.predicate_types)},
                                 {"authorities", r.authorities},
                                 {"conditions", ConditionJson(r.conditions)}});
  }
  if (p.model_signing) {
    j["modelSigning"] = {{"authorities", p.model_signing->authorities},
                         {"ignorePaths", p.model_signing->ignore_paths}};
  }
  j["metadata"] = ConditionJson(p.metadata);
  j["requireDigest"] = p.require_digest;
  return j;
}

}  // namespace

const char* ModeName(Mode m) {
  switch (m) {
    case Mode::kEnforce:
      return "enforce";
    case Mode::kWarn:
      return "warn";
    case Mode::kAudit:
      return "audit";
  }
  return "?";
}

const char* SourceName(Source s) {
  switch (s) {
    case Source::kContainer:
      return "container";
    case Source::kImageVolume:
      return "image-volume";
    case Source::kStorageUri:
      return "storage-uri";
    case Source::kEnv:
      return "env";
    case Source::kCsiVolume:
      return "csi-volume";
    case Source::kInitArgs:
      return "init-args";
  }
  return "?";
}

const char* DecisionName(Decision d) {
  switch (d) {
    case Decision::kAllow:
      return "allow";
    case Decision::kDeny:
      return "deny";
    case Decision::kWarn:
      return "warn";
    case Decision::kAudit:
      return "audit";
    case Decision::kUnmatched:
      return "unmatched";
  }
  return "?";
}


bool Policy::Matches(const Reference& ref, const std::string& namespace_name, Source source) const {
  return match != nullptr && match->Matches(ref, namespace_name, source);
}

std::vector<TrustedKey> Policy::Keys() const {
  std::vector<TrustedKey> out;
  for (const auto& a : authorities) {
    if (a.key) out.push_back(TrustedKey{Signer(name, a.name), *a.key});
  }
  return out;
}

std::vector<KeylessAuthorityTrust> Policy::KeylessTrust() const {
  std::vector<KeylessAuthorityTrust> out;
  for (const auto& a : authorities) {
    if (a.keyless && a.keyless->root && a.keyless->matcher) {
      out.push_back(KeylessAuthorityTrust{Signer(name, a.name), a.keyless->root, a.keyless->matcher});
    }
  }
  return out;
}

PolicySet::PolicySet(std::vector<Policy> policies) : policies_(std::move(policies)) {
  Json all = Json::array();
  for (const auto& p : policies_) all.push_back(CanonicalPolicy(p));
  hash_ = HexEncode(Sha256(all.dump(-1, ' ', false, Json::error_handler_t::replace)));
}

std::vector<const Policy*> PolicySet::Matching(const Reference& ref, const std::string& namespace_name,
                                               Source source) const {
  std::vector<const Policy*> out;
  for (const auto& p : policies_) {
    if (p.Matches(ref, namespace_name, source)) out.push_back(&p);
  }
  return out;
}

Decision CombineResults(const std::vector<PolicyResult>& results, UnmatchedAction unmatched) {
  if (results.empty()) return unmatched == UnmatchedAction::kDeny ? Decision::kDeny : Decision::kUnmatched;
  bool warn = false, audit = false;
  for (const auto& r : results) {
    if (r.passed) continue;
    switch (r.mode) {
      case Mode::kEnforce:
        return Decision::kDeny;
      case Mode::kWarn:
        warn = true;
        break;
      case Mode::kAudit:
        audit = true;
        break;
    }
  }
  if (warn) return Decision::kWarn;
  if (audit) return Decision::kAudit;
  return Decision::kAllow;
}

std::vector<PolicyResult> EvaluatePolicySet(const std::vector<const Policy*>& policies,
                                            const VerifiedArtifact& facts) {
  std::vector<PolicyResult> out;
  out.reserve(policies.size());
  for (const Policy* p : policies) out.push_back(EvaluatePolicy(*p, facts));
  return out;
}

}  // namespace provgate
