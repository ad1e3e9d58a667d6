// EvaluatePolicy: decision rule 2 of docs/decision-rules.md over verified facts.
#include <algorithm>
#include <map>
#include <set>

#include "base/encoding.h"
#include "policy/condition.h"
#include "policy/policy.h"

namespace provgate {
namespace {

constexpr char kNoTrustedRoot[] = "keyless authority without a trustedRoot: no certificate is trusted";
constexpr char kJsonAnnotationSuffix[] = "+json";  // omlmd's convention for JSON-valued annotations
constexpr size_t kMaxListed = 5;

std::string Join(const std::vector<std::string>& items, const std::string& sep) {
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : sep) + i;
  return s;
}

// Distinct items, first occurrence first, at most kMaxListed and a count of the rest.
std::string JoinDistinct(const std::vector<std::string>& items, const std::string& sep) {
  std::vector<std::string> distinct;
  for (const auto& i : items) {
    if (std::find(distinct.begin(), distinct.end(), i) == distinct.end()) distinct.push_back(i);
  }
  size_t more = distinct.size() > kMaxListed ? distinct.size() - kMaxListed : 0;
  distinct.resize(std::min(distinct.size(), kMaxListed));
  std::string s = Join(distinct, sep);
  if (more) s += sep + "and " + std::to_string(more) + " more";
  return s;
}

// The policy's view of the verifier's signers: its own authorities by
// local name; another policy's vouch for nothing here.
class Signers {
 public:
  explicit Signers(const Policy& p) : policy_(p) {}

  // The local authority name of `signer` when it is one of this policy's
  // `allowed` authorities (all of them when `allowed` is empty), else "".
  std::string Allowed(const Signer& signer, const std::vector<std::string>& allowed) const {
    if (signer.policy != policy_.name) return "";
    const std::string& local = signer.authority;
    if (allowed.empty()) {
      for (const auto& a : policy_.authorities) {
        if (a.name == local) return local;
      }
      return "";
    }
    return std::find(allowed.begin(), allowed.end(), local) != allowed.end() ? local : "";
  }

  std::string Display(const Signer& signer) const {
    if (signer.policy == policy_.name) return signer.authority;
    return signer.String() + " (another policy's authority)";
  }

 private:
  const Policy& policy_;
};

// What evaluation found: failures decide, notes explain a pass.
struct Findings {
  std::vector<std::string> failures;
  std::vector<std::string> notes;
  ReasonCode code = ReasonCode::kPassed;  // of failures[0]

  // Every failure is made here with its code: the code is never read back
  // from the text.
  void Fail(ReasonCode c, std::string why) {
    if (failures.empty()) code = c;
    failures.push_back(std::move(why));
  }
};

// Names of the keyless authorities among `names` (all when empty) that
// name no trusted root, and so can never vouch.
std::vector<std::string> RootlessAmong(const Policy& p, const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& a : p.authorities) {
    bool listed = names.empty() || std::find(names.begin(), names.end(), a.name) != names.end();
    if (listed && a.keyless && !a.keyless->root) out.push_back(a.name);
  }
  return out;
}

// " (issuer ..., subject ..., log ... #N)": who a verified keyless signature
// names, for pass notes; "" for key signatures.
template <typename Fact>
std::string KeylessNote(const Fact& f) {
  if (!f.keyless) return "";
  const KeylessIdentityFacts& k = *f.keyless;
  std::string s = " (issuer " + Quote(k.issuer) + ", subject " + Quote(k.subject);
  if (!k.log.empty()) s += ", " + k.log + " entry " + std::to_string(k.log_index);
  return s + ")";
}

void EvaluateSignatures(const Policy& p, const VerifiedArtifact& artifact, Findings* r) {
  if (p.signatures_require <= 0) return;
  Signers signers(p);
  std::set<std::string> signed_by;
  for (const auto& s : artifact.signatures) {
    if (!s.verified()) continue;
    for (const auto& signer : s.signers) {
      std::string local = signers.Allowed(signer, {});
      if (!local.empty()) signed_by.insert(local);
    }
  }
  // Distinct signers, not distinct names: two authorities holding one key
  // (the loader refuses them; a Policy built in code might not) count once.
  std::map<std::string, std::string> identity_of_counted;  // identity -> authority name
  std::vector<std::string> counted, details;
  for (const auto& a : p.authorities) {
    if (!signed_by.count(a.name)) continue;
    auto [it, fresh] = identity_of_counted.emplace(SignerIdentity(a), a.name);
    if (fresh) {
      counted.push_back(a.name);
    } else {
      details.push_back(a.name + ": the same " + (a.key ? "key" : "identity") + " as " + it->second +
                        " (counted once)");
    }
  }
  std::sort(counted.begin(), counted.end());
  const size_t need = static_cast<size_t>(p.signatures_require);
  if (counted.size() >= need) {
    std::vector<std::string> named;
    for (const auto& name : counted) {
      std::string note;
      for (const auto& s : artifact.signatures) {
        if (!s.verified() || !note.empty()) continue;
        for (const auto& signer : s.signers) {
          if (signers.Allowed(signer, {}) == name) note = KeylessNote(s);
        }
      }
      named.push_back(name + note);
    }
    r->notes.push_back("signatures: signed by " + Join(named, ", "));
    return;
  }
  for (const auto& a : p.authorities) {
    if (signed_by.count(a.name)) continue;
    details.push_back(a.name + ": " + (a.keyless && !a.keyless->root ? kNoTrustedRoot : "no valid signature"));
  }
  if (artifact.signatures.empty()) {
    details.push_back("no signatures found");
  } else {
    std::vector<std::string> problems;
    for (const auto& s : artifact.signatures) {
      if (!s.problem.empty()) {
        problems.push_back(s.problem);
      } else if (s.verified()) {
        std::vector<std::string> names;
        for (const auto& signer : s.signers) names.push_back(signers.Display(signer));
        problems.push_back("signed by " + Join(names, ", "));
      }
    }
    details.push_back(std::to_string(artifact.signatures.size()) +
                      " signature layer(s) present: " + JoinDistinct(problems, ", "));
  }
  r->Fail(artifact.signatures.empty() ? ReasonCode::kNoSignature : ReasonCode::kUntrustedSigner,
          "signatures: " + std::to_string(counted.size()) + " of required " + std::to_string(need) +
              " authorities signed (" + Join(details, "; ") + ")");
}

std::string AllowedList(const Policy& p, const AttestationRule& rule) {
  if (!rule.authorities.empty()) return Join(rule.authorities, ", ");
  std::vector<std::string> names;
  for (const auto& a : p.authorities) names.push_back(a.name);
  return Join(names, ", ");
}

bool TypeMatches(const AttestationRule& rule, const std::string& predicate_type) {
  return std::find(rule.predicate_types.begin(), rule.predicate_types.end(), predicate_type) !=
         rule.predicate_types.end();
}

// The rule's types for messages: predicateType "a", predicateType "a" or "b".
std::string TypesText(const AttestationRule& rule) {
  std::vector<std::string> quoted;
  for (const auto& t : rule.predicate_types) quoted.push_back(Quote(t));
  std::string s = "predicateType ";
  for (size_t i = 0; i < quoted.size(); ++i) s += (i == 0 ? "" : i + 1 == quoted.size() ? " or " : ", ") + quoted[i];
  return s;
}

// Why no attestation was usable for `rule` (none verified, signed by the
// wrong authority, or of another predicate type), and its code in `code`.
std::string NoUsableAttestation(const Policy& p, const AttestationRule& rule, const VerifiedArtifact& artifact,
                                ReasonCode* code) {
  Signers signers(p);
  std::vector<std::string> unverified, wrong_signers, other_types;
  size_t same_type = 0, unreadable = 0;
  std::vector<std::string> unreadable_problems;
  for (const auto& a : artifact.attestations) {
    if (a.predicate_type.empty()) {
      ++unreadable;
      unreadable_problems.push_back(a.problem);
      continue;
    }
    if (!TypeMatches(rule, a.predicate_type)) {
      other_types.push_back(Quote(a.predicate_type));
      continue;
    }
    ++same_type;
    if (!a.verified()) {
      unverified.push_back(a.problem.empty() ? "no trusted signer" : a.problem);
    } else {
      for (const auto& s : a.signers) wrong_signers.push_back(signers.Display(s));
    }
  }
  std::string why;
  *code = ReasonCode::kUntrustedSigner;
  if (artifact.attestations.empty()) {
    *code = ReasonCode::kNoAttestation;
    why = "no attestations found (expected " + TypesText(rule) + ")";
  } else if (same_type == 0) {
    *code = ReasonCode::kPredicateTypeMismatch;
    why = "no attestation with " + TypesText(rule);
    std::vector<std::string> found;
    if (!other_types.empty()) found.push_back(JoinDistinct(other_types, ", "));
    if (unreadable) {
      found.push_back(std::to_string(unreadable) + " unreadable layer(s): " + JoinDistinct(unreadable_problems, ", "));
    }
    why += " (found " + Join(found, "; ") + ")";
  } else if (wrong_signers.empty()) {
    why = std::to_string(same_type) + " attestation(s) with " + TypesText(rule) +
          " present but none verified: " + JoinDistinct(unverified, ", ");
  } else {
    why = TypesText(rule) + " attestation signed by " +
          JoinDistinct(wrong_signers, ", ") + ", not by an allowed authority (" + AllowedList(p, rule) + ")";
  }
  if (auto rootless = RootlessAmong(p, rule.authorities); !rootless.empty()) {
    why += "; " + Join(rootless, ", ") + ": " + kNoTrustedRoot;
  }
  return why;
}

void EvaluateAttestation(const Policy& p, const AttestationRule& rule, const VerifiedArtifact& artifact, Findings* r) {
  Signers signers(p);
  std::vector<const AttestationFact*> usable;
  for (const auto& a : artifact.attestations) {
    if (!a.verified() || !TypeMatches(rule, a.predicate_type)) continue;
    bool allowed = false;
    for (const auto& s : a.signers) allowed |= !signers.Allowed(s, rule.authorities).empty();
    if (allowed) usable.push_back(&a);
  }
  const std::string prefix = "attestation " + rule.name + ": ";
  if (usable.empty()) {
    ReasonCode code = ReasonCode::kUntrustedSigner;
    std::string why = NoUsableAttestation(p, rule, artifact, &code);
    r->Fail(code, prefix + why);
    return;
  }
  if (!rule.conditions) {
    r->notes.push_back(prefix + "satisfied by " + usable[0]->layer_digest + KeylessNote(*usable[0]));
    return;
  }
  std::optional<ConditionResult> best;
  for (const AttestationFact* a : usable) {
    // Paths start at the statement: predicateType, predicate.<...>. A
    // statement without a predicate has none (missing, not null).
    Json doc = {{"predicateType", a->predicate_type}};
    if (!a->predicate.is_null()) doc["predicate"] = a->predicate;
    ConditionResult c = rule.conditions->Evaluate(doc);
    if (c.passed) {
      r->notes.push_back(prefix + "satisfied by " + a->layer_digest + KeylessNote(*a));
      return;
    }
    if (!best || c.failed_leaves < best->failed_leaves) best = std::move(c);
  }
  std::string reason = prefix + best->reason;
  if (usable.size() > 1) reason += " (closest of " + std::to_string(usable.size()) + " verified attestations)";
  r->Fail(ReasonCode::kConditionFailed, std::move(reason));
}

// spec.modelSigning: one verified model signature by an allowed authority
// whose resources cover the layers exactly.
void EvaluateModelSigning(const Policy& p, const ModelSigningRule& rule, const VerifiedArtifact& artifact,
                          Findings* r) {
  Signers signers(p);
  std::vector<std::string> unverified, wrong_signers, uncovered;
  for (const auto& m : artifact.model_signatures) {
    if (!m.verified()) {
      unverified.push_back(m.problem.empty() ? "no trusted signer" : m.problem);
      continue;
    }
    bool allowed = false;
    for (const auto& s : m.signers) allowed |= !signers.Allowed(s, rule.authorities).empty();
    if (!allowed) {
      for (const auto& s : m.signers) wrong_signers.push_back(signers.Display(s));
      continue;
    }
    // The signature's own layer is not a file of the model.
    const std::string own = m.origin == kOriginModelSigLayer ? m.layer_digest : "";
    Status covered = CheckModelCoverage(*m.statement, artifact.manifest, own, rule.ignore_paths);
    if (covered.ok()) {
      r->notes.push_back("modelSigning: " + std::to_string(m.statement->resources.size()) + " files covered by " +
                         m.origin + " " + m.layer_digest + KeylessNote(m));
      return;
    }
    uncovered.push_back(covered.message());
  }
  std::string why;
  ReasonCode code = ReasonCode::kUntrustedSigner;
  if (artifact.model_signatures.empty()) {
    code = ReasonCode::kNoModelSignature;
    why = "no model signature found (no layer titled model.sig, no model-signing bundle referrer)";
  } else if (!uncovered.empty()) {
    code = ReasonCode::kModelFilesNotCovered;
    why = "the signed files do not match the layers: " + JoinDistinct(uncovered, "; ");
  } else if (!wrong_signers.empty()) {
    std::vector<std::string> names = rule.authorities;
    if (names.empty()) {
      for (const auto& a : p.authorities) names.push_back(a.name);
    }
    why = "model signature signed by " + JoinDistinct(wrong_signers, ", ") + ", not by an allowed authority (" +
          Join(names, ", ") + ")";
  } else {
    why = std::to_string(unverified.size()) + " model signature(s) present but none verified: " +
          JoinDistinct(unverified, ", ");
  }
  if (auto rootless = RootlessAmong(p, rule.authorities); !rootless.empty()) {
    why += "; " + Join(rootless, ", ") + ": " + kNoTrustedRoot;
  }
  r->Fail(code, "modelSigning: " + why);
}

constexpr size_t kMaxAnnotationJsonValues = 65536;

// {"config": ..., "annotations": {...}} with "+json" annotations decoded
// under the key without the suffix (omlmd: customProperties+json).
Json MetadataDocument(const VerifiedArtifact& artifact) {
  Json annotations = Json::object();
  for (const auto& [k, v] : artifact.annotations) annotations[k] = v;
  const std::string suffix = kJsonAnnotationSuffix;
  for (const auto& [k, v] : artifact.annotations) {
    if (k.size() <= suffix.size() || k.compare(k.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    std::string plain = k.substr(0, k.size() - suffix.size());
    if (annotations.contains(plain)) continue;  // an explicit annotation wins
    // Decoded as strictly as the signed documents it comes from: duplicate
    // keys (readers disagree on which wins) make it undecodable, and its
    // tree is bounded like the manifest's (a 4 MiB string of "[]," would
    // otherwise be a tree of ~100 MiB). Undecodable = missing.
    JsonLimits limits;
    limits.max_values = kMaxAnnotationJsonValues;
    auto decoded = ParseJsonUniqueKeys(v, "annotation", limits);
    if (decoded.ok()) annotations[plain] = std::move(*decoded);
  }
  Json doc = {{"annotations", std::move(annotations)}};
  // The verifier leaves config null when there is none to trust (an index,
  // a blob that is not JSON or fails its digest): then `config` is missing,
  // so `exists: true` cannot pass on it.
  if (!artifact.config.is_null()) doc["config"] = artifact.config;
  return doc;
}

}  // namespace

std::string SignerIdentity(const Authority& a) {
  if (a.key) return "key:" + a.key->Identity();
  if (a.keyless) {
    const KeylessIdentity& k = *a.keyless;
    return Json::array({"keyless", k.issuer, k.issuer_regexp, k.subject, k.subject_regexp}).dump();
  }
  return "none:" + a.name;
}

PolicyResult EvaluatePolicy(const Policy& policy, const VerifiedArtifact& artifact) {
  Findings f;
  EvaluateSignatures(policy, artifact, &f);
  for (const auto& rule : policy.attestations) EvaluateAttestation(policy, rule, artifact, &f);
  if (policy.model_signing) EvaluateModelSigning(policy, *policy.model_signing, artifact, &f);
  if (policy.metadata) {
    ConditionResult c = policy.metadata->Evaluate(MetadataDocument(artifact));
    if (c.passed) {
      f.notes.push_back("metadata: conditions hold");
    } else {
      f.Fail(ReasonCode::kConditionFailed, "metadata: " + c.reason);
    }
  }
  PolicyResult r;
  r.name = policy.name;
  r.mode = policy.mode;
  r.passed = f.failures.empty();
  r.code = f.code;
  r.reasons = r.passed ? std::move(f.notes) : std::move(f.failures);
  return r;
}

PolicyResult FailedPolicy(const Policy& policy, ReasonCode code, const std::string& reason) {
  PolicyResult r;
  r.name = policy.name;
  r.mode = policy.mode;
  r.passed = false;
  r.code = code;
  r.reasons.push_back(reason);
  return r;
}

PolicyResult ApplyDigestRequirement(PolicyResult result, bool required, const Reference& ref,
                                    const std::string& written, const std::string& resolved_digest) {
  if (!required || !ref.digest.empty()) return result;
  // The reason says what to write: the admitted object keeps the tag, and a
  // tag can move after admission, so only a digest in the object itself
  // makes "what runs is what was verified" hold without /mutate.
  std::string reason = "digest-required: the reference names a tag, not a digest";
  if (!resolved_digest.empty()) reason += "; write " + Quote(written + "@" + resolved_digest);
  if (result.passed) result.reasons.clear();  // a pass's notes are not reasons for this failure
  result.passed = false;
  result.code = ReasonCode::kDigestRequired;  // it leads the reasons
  result.reasons.insert(result.reasons.begin(), std::move(reason));
  return result;
}

}  // namespace provgate
