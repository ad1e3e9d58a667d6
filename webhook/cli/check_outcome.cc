#include "webhook/cli/check_outcome.h"

#include <cstdio>

#include "webhook/cli/commands.h"

namespace provgate {

bool UndecidedFetchCode(ReasonCode code) {
  return code == ReasonCode::kRegistryUnavailable || code == ReasonCode::kDigestMismatch;
}

bool DeniedUndecided(const ReferenceDecision& r) {
  if (r.decision != Decision::kDeny || r.undecided != Undecided::kFetchFailed) return false;
  // The deny comes from an enforce policy that failed with the fetch reason
  // (every matching policy carries the same one).
  for (const auto& p : r.policies) {
    if (p.passed || p.mode != Mode::kEnforce) continue;
    if (UndecidedFetchCode(p.code)) return true;
  }
  return false;
}

int ExitUndecidedDenial() {
  std::fprintf(stderr, "provgate: registry-unavailable: denied (fail closed) without a decision: "
                       "a registry could not be asked\n");
  return kExitError;
}

int CheckExitCode(const std::vector<ObjectDecision>& decisions) {
  bool decided_denial = false, undecided_denial = false;
  for (const auto& d : decisions) {
    if (d.allowed) continue;
    bool any_reference_denied = false;
    for (const auto& r : d.references) {
      if (r.decision != Decision::kDeny) continue;
      any_reference_denied = true;
      (DeniedUndecided(r) ? undecided_denial : decided_denial) = true;
    }
    // An object denied without a denied reference is a decision about the object itself.
    if (!any_reference_denied) decided_denial = true;
  }
  if (decided_denial) return kExitDenied;
  return undecided_denial ? kExitError : kExitOk;
}

}  // namespace provgate
