// The decision pipeline shared by `provgate check` and `provgate serve`:
// object -> model references -> matching policies -> verification ->
// per-reference decisions -> the object's decision, with reasons. Thread-safe
// (the VerificationService is).
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/json_util.h"
#include "policy/policy.h"
#include "webhook/decide/find_model_references.h"
#include "webhook/decide/verification_service.h"

namespace provgate {

// Which matched references must carry a digest (spec.requireDigest,
// --require-digest; ApplyDigestRequirement says what failing it means).
enum class DigestRequirement {
  kAsPolicies,   // the policies with requireDigest: true require one (the default)
  kEveryPolicy,  // --require-digest: every matching policy requires one
  // Not checked: /mutate, which pins the references it verified, so that
  // /validate (after every mutation) sees them with their digest.
  kNotChecked,
};

struct DecisionOptions {
  UnmatchedAction unmatched = UnmatchedAction::kAllow;
  DigestRequirement digest_requirement = DigestRequirement::kAsPolicies;
  // Deny objects whose kind provgate does not understand (check --strict):
  // their references were not looked for.
  bool strict = false;
  std::vector<std::string> model_annotations = DefaultModelAnnotations();
};

// Why provgate could not decide by policy rules: a closed set, carried in
// the decision. What each leads to is UndecidedDecision's (references) and
// the admission handler's (objects) to say, in one place each.
enum class Undecided {
  kNo,                // decided by the matching policies' rules
  kNoPolicySet,       // no valid policy set is loaded (object)
  kMalformedObject,   // the object cannot be read: too many references, a duplicate key (object)
  kInvalidReference,  // the reference does not parse
  kFetchFailed,       // the artifact could not be fetched or verified
  kUnmatched,         // no policy matches the reference
  kKindNotUnderstood,  // provgate does not know where the object's kind keeps models (object)
};
const char* UndecidedName(Undecided u);  // "no-policy-set", "malformed-object", ...

// The decision for a reference that could not be decided, fail closed:
//   kInvalidReference -> deny (what the runtime would pull is unknown);
//   kUnmatched        -> `unmatched` (--unmatched: allow gives kUnmatched);
//   kFetchFailed      -> each matching policy fails with the reason and its
//                        mode applies (CombineResults: enforce denies), so
//                        this function is not asked;
//   kNoPolicySet, kMalformedObject -> deny;
//   kKindNotUnderstood -> DecideReferences allows the object, or denies it
//                        under DecisionOptions::strict; deny when asked.
Decision UndecidedDecision(Undecided why, UnmatchedAction unmatched);

struct ReferenceDecision {
  ModelReference ref;
  std::string digest;  // the verified digest; empty when it could not be resolved
  Decision decision = Decision::kUnmatched;
  Undecided undecided = Undecided::kNo;
  std::string reason;  // why, when undecided is kInvalidReference or a denying kUnmatched
  std::vector<PolicyResult> policies;  // the matching policies' results, in load order
  // Why `decision`, for machines: kInvalidReference, kUnmatched, or the
  // deciding policy's code (DecidingCode).
  ReasonCode code = ReasonCode::kUnmatched;
};

struct ObjectDecision {
  ObjectIdentity object;
  bool allowed = true;
  // kKindNotUnderstood when the object's kind is not one provgate reads
  // (ObjectIdentity::kind_understood): allowed unless strict; else kNo.
  Undecided undecided = Undecided::kNo;
  std::vector<ReferenceDecision> references;
  std::vector<std::string> warnings;  // one per warn-mode failure, each < 256 chars
  std::string message;                // for denials: one readable line naming everything
  bool AnyAudit() const;
  // The object's decision in one word: deny when it is denied; else the
  // strongest of its references' (warn, audit, allow); unmatched when no
  // reference was decided by a policy (none matched, or there are none).
  Decision Overall() const;
};

// At most this many distinct matched references are verified for one
// object; past it every matched reference fails with the bound.
inline constexpr size_t kMaxVerifiedReferencesPerObject = 64;

// Decides one object. `namespace_name` is the object's namespace (the
// admission request's, or --namespace for objects without one). References
// no policy matches are not fetched. Distinct references are verified once
// each, on the verification service's pool; an object with more than
// kMaxVerifiedReferencesPerObject of them fails each with "bound-exceeded:
// ...". The answer comes by `deadline`, whatever is still running: a
// verification not done by then fails with "registry-unavailable: deadline". A reference that cannot be fetched fails
// every matching policy with "registry-unavailable: ..." or "not-found:
// ...", and the policy's mode applies (fail closed under enforce). A
// reference that does not parse is denied. Fails only when the object
// itself is malformed (see FindModelReferences).
StatusOr<ObjectDecision> DecideObject(const Json& object, const std::string& namespace_name,
                                      const std::shared_ptr<const PolicySet>& policies,
                                      VerificationService& verifier, const DecisionOptions& options,
                                      Deadline deadline);

// The same for references already extracted (by FindModelReferences) from
// the object `object` identifies; its namespace_name selects policies, its
// kind_understood says whether "no references" means "none there".
ObjectDecision DecideReferences(ObjectIdentity object, std::vector<ModelReference> refs,
                                const std::shared_ptr<const PolicySet>& policies, VerificationService& verifier,
                                const DecisionOptions& options, Deadline deadline);

// The reason for a Status that prevented verification, led by its reason
// code: "not-found: ", "bound-exceeded: ", or "registry-unavailable: "
// (with "deadline: ", "permission-denied: ", "digest-mismatch: " ... after it),
// and its ReasonCode: kNotFound, kBoundExceeded, kDigestMismatch (DataLoss)
// or kRegistryUnavailable.
struct FetchFailure {
  ReasonCode code;
  std::string reason;
};
FetchFailure DescribeFetchFailure(const Status& s);
// DescribeFetchFailure(s).reason.
std::string FetchFailureReason(const Status& s);
// `policy` failed with DescribeFetchFailure(fetch_failure): its code and reason.
PolicyResult FailedPolicy(const Policy& policy, const Status& fetch_failure);

// "check -o json" rendering of one object's decision (docs/cli.md).
OrderedJson ObjectDecisionToJson(const ObjectDecision& d);

// The kinds --pin-kinds defaults to: Pod. A workload kept in Git (a
// Deployment's template) is verified and decided but not rewritten, so a
// GitOps controller does not see it drift from Git; its Pods are pinned.
std::set<std::string> DefaultPinKinds();

// What /mutate writes for reference `r` of `d` (`repo:tag@sha256:...`, the
// text as written, oci:// scheme kept), or "" when it leaves it alone: the
// object's kind is not one of `pin_kinds`; the reference was not decided
// `allow` (unmatched references, and ones a warn- or audit-mode policy
// failed, are admitted but not verified at that digest); it already
// carries a digest; or its field cannot take one (ModelReference::pinnable).
// The one pin rule: PinningPatch and `provgate test`'s expectations use it.
std::string PinnedReference(const ObjectDecision& d, const ReferenceDecision& r,
                            const std::set<std::string>& pin_kinds);

}  // namespace provgate
