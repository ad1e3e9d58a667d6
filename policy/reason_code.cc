// ReasonCodeName and DecidingCode (policy.h): the reason codes' spelling
// and which one a combined decision carries.
#include "policy/policy.h"

namespace provgate {

const char* ReasonCodeName(ReasonCode c) {
  switch (c) {
    case ReasonCode::kPassed: return "passed";
    case ReasonCode::kNoSignature: return "no-signature";
    case ReasonCode::kUntrustedSigner: return "untrusted-signer";
    case ReasonCode::kNoAttestation: return "no-attestation";
    case ReasonCode::kPredicateTypeMismatch: return "predicate-type-mismatch";
    case ReasonCode::kConditionFailed: return "condition-failed";
    case ReasonCode::kNoModelSignature: return "no-model-signature";
    case ReasonCode::kModelFilesNotCovered: return "model-files-not-covered";
    case ReasonCode::kDigestRequired: return "digest-required";
    case ReasonCode::kNotFound: return "not-found";
    case ReasonCode::kBoundExceeded: return "bound-exceeded";
    case ReasonCode::kRegistryUnavailable: return "registry-unavailable";
    case ReasonCode::kDigestMismatch: return "digest-mismatch";
    case ReasonCode::kInvalidReference: return "invalid-reference";
    case ReasonCode::kUnmatched: return "unmatched";
    case ReasonCode::kInternal: return "internal";
  }
  return "internal";
}

ReasonCode DecidingCode(const std::vector<PolicyResult>& results, Decision decision) {
  if (results.empty()) return ReasonCode::kUnmatched;
  // The mode whose failure CombineResults turned into `decision`.
  Mode deciding = Mode::kEnforce;
  switch (decision) {
    case Decision::kDeny: deciding = Mode::kEnforce; break;
    case Decision::kWarn: deciding = Mode::kWarn; break;
    case Decision::kAudit: deciding = Mode::kAudit; break;
    case Decision::kUnmatched: return ReasonCode::kUnmatched;
    case Decision::kAllow: return ReasonCode::kPassed;
  }
  for (const auto& r : results) {
    if (!r.passed && r.mode == deciding) return r.code;
  }
  // Not what CombineResults gives for `results`; the first failure then.
  for (const auto& r : results) {
    if (!r.passed) return r.code;
  }
  return ReasonCode::kPassed;
}

}  // namespace provgate
