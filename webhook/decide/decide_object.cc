#include "webhook/decide/decide_object.h"

#include <algorithm>
#include <future>
#include <string_view>
#include <unordered_map>

#include "base/encoding.h"

namespace provgate {
namespace {

constexpr size_t kMaxWarningLength = 250;

// At most `n` bytes, cut before a UTF-8 continuation byte never inside a
// character: warnings travel in JSON, which must be valid UTF-8.
std::string Truncate(std::string s, size_t n) {
  if (s.size() <= n) return s;
  return TruncateUtf8(std::move(s), n - 3);  // "..." included in the n
}

std::string FirstReason(const PolicyResult& r) {
  if (r.reasons.empty()) return "failed";
  std::string out;
  for (const auto& reason : r.reasons) out += (out.empty() ? "" : "; ") + reason;
  return out;
}

struct PendingVerification {
  Reference reference;
  StatusOr<std::shared_ptr<const Verification>> result;
};

// Verifies each of `refs`: cache hits on this thread; misses started on
// the verification service's pool all at once, then waited for until
// `deadline` -- whatever is still running then fails this admission with
// the deadline and lands in the cache for the next one. A warm admission
// starts nothing; no object starts a thread.
void VerifyAll(std::vector<PendingVerification>& refs, const std::shared_ptr<const PolicySet>& policies,
               VerificationService& verifier, Deadline deadline) {
  std::vector<std::pair<PendingVerification*, std::shared_future<VerificationService::Result>>> started;
  for (auto& r : refs) {
    if (auto hit = verifier.Cached(r.reference, *policies)) {
      r.result = hit;
    } else {
      started.emplace_back(&r, verifier.Start(r.reference, policies, deadline));
    }
  }
  for (auto& [r, future] : started) r->result = VerificationService::WaitFor(future, r->reference, deadline);
}

}  // namespace

const char* UndecidedName(Undecided u) {
  switch (u) {
    case Undecided::kNo: return "decided";
    case Undecided::kNoPolicySet: return "no-policy-set";
    case Undecided::kMalformedObject: return "malformed-object";
    case Undecided::kInvalidReference: return "invalid-reference";
    case Undecided::kFetchFailed: return "fetch-failed";
    case Undecided::kUnmatched: return "unmatched";
    case Undecided::kKindNotUnderstood: return "kind-not-understood";
  }
  return "?";
}

Decision UndecidedDecision(Undecided why, UnmatchedAction unmatched) {
  switch (why) {
    case Undecided::kUnmatched:
      return unmatched == UnmatchedAction::kDeny ? Decision::kDeny : Decision::kUnmatched;
    case Undecided::kNo:
    case Undecided::kFetchFailed:  // decided by the policies' modes (CombineResults); fail closed if asked
    case Undecided::kInvalidReference:
    case Undecided::kNoPolicySet:
    case Undecided::kMalformedObject:
    case Undecided::kKindNotUnderstood:  // DecideReferences decides by DecisionOptions::strict
      return Decision::kDeny;
  }
  return Decision::kDeny;
}

Decision ObjectDecision::Overall() const {
  if (!allowed) return Decision::kDeny;
  bool warn = false, audit = false, allow = false;
  for (const auto& r : references) {
    warn = warn || r.decision == Decision::kWarn;
    audit = audit || r.decision == Decision::kAudit;
    allow = allow || r.decision == Decision::kAllow;
  }
  return warn ? Decision::kWarn : audit ? Decision::kAudit : allow ? Decision::kAllow : Decision::kUnmatched;
}

bool ObjectDecision::AnyAudit() const {
  for (const auto& r : references) {
    if (r.decision == Decision::kAudit) return true;
  }
  return false;
}

FetchFailure DescribeFetchFailure(const Status& s) {
  // The reason codes users see (docs/decision-rules.md), made here and only
  // here from the Status codes below them: the text's prefix and the
  // ReasonCode side by side.
  using C = ReasonCode;
  switch (s.code()) {
    case StatusCode::kNotFound: return {C::kNotFound, "not-found: " + s.message()};  // decided: the tag is not there
    case StatusCode::kResourceExhausted: return {C::kBoundExceeded, "bound-exceeded: " + s.message()};  // our bound
    case StatusCode::kUnavailable: return {C::kRegistryUnavailable, "registry-unavailable: " + s.message()};
    case StatusCode::kDeadlineExceeded:
      return {C::kRegistryUnavailable, "registry-unavailable: deadline: " + s.message()};
    case StatusCode::kPermissionDenied:
      return {C::kRegistryUnavailable, "registry-unavailable: permission-denied: " + s.message()};
    case StatusCode::kDataLoss: return {C::kDigestMismatch, "registry-unavailable: digest-mismatch: " + s.message()};
    default:
      return {C::kRegistryUnavailable,
              std::string("registry-unavailable: ") + StatusCodeName(s.code()) + ": " + s.message()};
  }
}

std::string FetchFailureReason(const Status& s) { return DescribeFetchFailure(s).reason; }

PolicyResult FailedPolicy(const Policy& policy, const Status& fetch_failure) {
  FetchFailure f = DescribeFetchFailure(fetch_failure);
  return FailedPolicy(policy, f.code, f.reason);
}

StatusOr<ObjectDecision> DecideObject(const Json& object, const std::string& namespace_name,
                                      const std::shared_ptr<const PolicySet>& policies,
                                      VerificationService& verifier, const DecisionOptions& options,
                                      Deadline deadline) {
  ObjectIdentity id = IdentifyObject(object);
  if (id.namespace_name.empty()) id.namespace_name = namespace_name;
  ASSIGN_OR_RETURN(std::vector<ModelReference> refs, FindModelReferences(object, options.model_annotations));
  return DecideReferences(std::move(id), std::move(refs), policies, verifier, options, deadline);
}

ObjectDecision DecideReferences(ObjectIdentity object, std::vector<ModelReference> refs,
                                const std::shared_ptr<const PolicySet>& policies, VerificationService& verifier,
                                const DecisionOptions& options, Deadline deadline) {
  ObjectDecision out;
  out.object = std::move(object);
  if (!out.object.kind_understood) out.undecided = Undecided::kKindNotUnderstood;

  // Which policies match each reference, and the distinct matched
  // references (by Reference::String()) to verify: result[i] indexes
  // `distinct` for reference i.
  using Result = StatusOr<std::shared_ptr<const Verification>>;
  std::vector<std::vector<const Policy*>> matched(refs.size());
  std::vector<PendingVerification> distinct;
  std::unordered_map<std::string, size_t> seen;
  std::vector<size_t> result(refs.size(), 0);
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!refs[i].parsed) continue;
    matched[i] = policies->Matching(refs[i].reference, out.object.namespace_name, refs[i].source);
    if (matched[i].empty()) continue;
    std::string key = refs[i].reference.String();
    auto [it, inserted] = seen.emplace(key, distinct.size());
    if (inserted) distinct.push_back({refs[i].reference, Internal("not verified")});
    result[i] = it->second;
  }
  if (distinct.size() > kMaxVerifiedReferencesPerObject) {
    // A hostile object must not buy hundreds of verifications: none is
    // started, and every matched reference fails with the bound.
    Status bound = ResourceExhausted("the object has " + std::to_string(distinct.size()) +
                                     " distinct references that policies match; at most " +
                                     std::to_string(kMaxVerifiedReferencesPerObject) + " are verified per object");
    for (auto& d : distinct) d.result = bound;
  } else {
    VerifyAll(distinct, policies, verifier, deadline);
  }

  std::string denials;
  out.references.reserve(refs.size());
  for (size_t i = 0; i < refs.size(); ++i) {
    ReferenceDecision rd;
    rd.ref = std::move(refs[i]);
    rd.policies.reserve(matched[i].size());
    if (!rd.ref.parsed) {
      rd.undecided = Undecided::kInvalidReference;
      rd.decision = UndecidedDecision(rd.undecided, options.unmatched);
      rd.reason = "invalid reference: " + rd.ref.parse_error;
      rd.code = ReasonCode::kInvalidReference;
    } else if (matched[i].empty()) {
      rd.undecided = Undecided::kUnmatched;
      rd.decision = UndecidedDecision(rd.undecided, options.unmatched);
      if (rd.decision == Decision::kDeny) rd.reason = "no policy matches this reference and --unmatched is deny";
    } else {
      const Result& v = distinct[result[i]].result;
      if (v.ok() && !(*v)->fetch_failure.ok()) {
        // The tag resolved; what it points to could not be fetched.
        rd.digest = (*v)->digest;
        rd.undecided = Undecided::kFetchFailed;
        for (const Policy* p : matched[i]) {
          rd.policies.push_back(FailedPolicy(*p, (*v)->fetch_failure));
        }
      } else if (v.ok()) {
        rd.digest = (*v)->digest;
        for (const Policy* p : matched[i]) {
          auto it = (*v)->results.find(p->name);
          rd.policies.push_back(it != (*v)->results.end() ? it->second
                                                           : FailedPolicy(*p, ReasonCode::kInternal,
                                                                          "internal: policy was not evaluated"));
        }
      } else {
        rd.undecided = Undecided::kFetchFailed;
        for (const Policy* p : matched[i]) rd.policies.push_back(FailedPolicy(*p, v.status()));
      }
      // The digest rule is about the object as written, not the artifact:
      // applied here, after the (shared, cached) verification.
      if (options.digest_requirement != DigestRequirement::kNotChecked) {
        for (size_t k = 0; k < rd.policies.size(); ++k) {
          bool required =
              options.digest_requirement == DigestRequirement::kEveryPolicy || matched[i][k]->require_digest;
          rd.policies[k] =
              ApplyDigestRequirement(std::move(rd.policies[k]), required, rd.ref.reference, rd.ref.raw, rd.digest);
        }
      }
      rd.decision = CombineResults(rd.policies, options.unmatched);
      rd.code = DecidingCode(rd.policies, rd.decision);
    }

    const std::string where = rd.ref.field_path + " " + Quote(rd.ref.raw);
    if (rd.decision == Decision::kDeny && !rd.reason.empty()) {
      denials += (denials.empty() ? "" : "; ") + where + " denied: " + rd.reason;
    }
    for (const auto& pr : rd.policies) {
      if (pr.passed) continue;
      if (rd.decision == Decision::kDeny && pr.mode == Mode::kEnforce) {
        denials += (denials.empty() ? "" : "; ") + where + " denied by policy " + pr.name + ": " + FirstReason(pr);
      } else if (pr.mode == Mode::kWarn) {
        out.warnings.push_back(
            Truncate("provgate: " + rd.ref.field_path + " " + rd.ref.raw + ": policy " + pr.name + ": " + FirstReason(pr),
                     kMaxWarningLength));
      }
    }
    if (rd.decision == Decision::kDeny) out.allowed = false;
    out.references.push_back(std::move(rd));
  }
  if (out.undecided == Undecided::kKindNotUnderstood && options.strict) {
    // Nothing was looked for, so nothing can be said for it.
    std::string kind = out.object.api_version.empty() ? out.object.kind : out.object.api_version + " " + out.object.kind;
    denials += (denials.empty() ? "" : "; ") + std::string("kind not understood (") +
               (kind.empty() ? "no kind" : kind) + "): model references were not looked for, and --strict denies it";
    out.allowed = false;
  }
  if (!out.allowed) {
    std::string obj = out.object.kind + " " + (out.object.namespace_name.empty() ? "" : out.object.namespace_name + "/") +
                      out.object.name;
    out.message = "provgate: " + obj + ": " + denials;
  }
  return out;
}

OrderedJson ObjectDecisionToJson(const ObjectDecision& d) {
  OrderedJson j;
  j["kind"] = d.object.kind;
  j["namespace"] = d.object.namespace_name;
  j["name"] = d.object.name;
  j["allowed"] = d.allowed;
  if (d.undecided != Undecided::kNo) j["undecided"] = UndecidedName(d.undecided);
  j["warnings"] = d.warnings;
  j["references"] = OrderedJson::array();
  for (const auto& r : d.references) {
    // The order of docs/cli.md's example, plus the field path.
    OrderedJson ref;
    ref["reference"] = r.ref.parsed ? r.ref.reference.String() : r.ref.raw;
    ref["source"] = SourceName(r.ref.source);
    ref["field"] = r.ref.field_path;
    // Absent only when it could not be resolved: a reference that names its
    // digest needs no resolving, whether or not anything was fetched.
    if (!r.digest.empty()) {
      ref["digest"] = r.digest;
    } else if (r.ref.parsed && !r.ref.reference.digest.empty()) {
      ref["digest"] = r.ref.reference.digest;
    }
    ref["decision"] = DecisionName(r.decision);
    ref["reasonCode"] = ReasonCodeName(r.code);
    if (r.undecided != Undecided::kNo) ref["undecided"] = UndecidedName(r.undecided);
    if (!r.reason.empty()) ref["reasons"] = OrderedJson::array({r.reason});
    ref["policies"] = OrderedJson::array();
    for (const auto& p : r.policies) {
      OrderedJson pj;
      pj["name"] = p.name;
      pj["mode"] = ModeName(p.mode);
      pj["passed"] = p.passed;
      if (!p.passed) pj["reasonCode"] = ReasonCodeName(p.code);
      pj["reasons"] = p.reasons;
      ref["policies"].push_back(std::move(pj));
    }
    j["references"].push_back(std::move(ref));
  }
  return j;
}

std::set<std::string> DefaultPinKinds() { return {"Pod"}; }

std::string PinnedReference(const ObjectDecision& d, const ReferenceDecision& r,
                            const std::set<std::string>& pin_kinds) {
  if (!pin_kinds.count(d.object.kind)) return "";
  // Only a reference every matching policy passed was verified. A warn- or
  // audit-mode failure is admitted, but its digest is not a verified one:
  // pinning it would make the object claim a provenance it does not have.
  if (r.decision != Decision::kAllow || r.digest.empty() || !r.ref.parsed) return "";
  if (!r.ref.reference.digest.empty()) return "";  // already pinned, and verified at that digest
  // KServe's storage-initializer args are matched by value by KServe's own
  // webhook: rewriting one would make it append the unpinned pair again.
  if (!r.ref.pinnable) return "";
  return r.ref.raw + "@" + r.digest;
}

}  // namespace provgate
