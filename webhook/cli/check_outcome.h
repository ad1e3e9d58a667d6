// The exit code of `provgate check` and `verify` (docs/cli.md#exit-codes): a
// decided denial is 1; a denial only because a registry could not be asked
// (down, timeout, auth, a digest mismatch) is 2 — the JSON still says
// `deny` (fail closed), but no decision was made. Pure but for
// ExitUndecidedDenial's line on stderr; thread-safe.
#pragma once

#include <vector>

#include "webhook/decide/decide_object.h"

namespace provgate {

// True for the reason codes of a fetch that decided nothing: kRegistryUnavailable
// and kDigestMismatch (the "registry-unavailable: ..." reasons of
// DescribeFetchFailure). not-found and bound-exceeded are decided: asking
// again gives the same answer.
bool UndecidedFetchCode(ReasonCode code);

// True when `r` is denied only because fetching failed: an enforce policy
// failed with an UndecidedFetchCode. digest-required is a decided denial too.
bool DeniedUndecided(const ReferenceDecision& r);

// Says on stderr that a denial was made without a decision (fail closed);
// returns kExitError.
int ExitUndecidedDenial();

// The outcome of all objects: kExitOk when every object is allowed;
// kExitDenied when any reference is denied by a decision (policy rules, an
// invalid reference, not-found, a bound, --unmatched deny), even if others
// could not be decided (asking again cannot admit it); kExitError when the
// only denials are undecided ones.
int CheckExitCode(const std::vector<ObjectDecision>& decisions);

}  // namespace provgate
