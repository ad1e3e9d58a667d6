// The identity constraint of a keyless authority, compiled: issuer and
// subject each compared exactly (case-sensitive, no folding of a trailing
// slash) or matched by an RE2 pattern against the whole value, as if written
// ^(?:...)$. Immutable; thread-safe.
#pragma once

#include <memory>

#include "base/status.h"
#include "policy/policy.h"
#include "verifier/keyless.h"

namespace provgate {

// Compiles `id`'s issuer/issuerRegExp and subject/subjectRegExp. Fails with
// InvalidArgument when a pattern does not compile or a constraint is missing.
StatusOr<std::shared_ptr<const IdentityMatcher>> CompileIdentityMatcher(const KeylessIdentity& id);

}  // namespace provgate
