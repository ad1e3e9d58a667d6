// Fixtures the harnesses share: the repository's test keys and trusted
// root, read once from the source tree (PROVGATE_SOURCE_DIR). Not thread-safe
// on first use; immutable afterwards.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/json_util.h"
#include "verifier/keys.h"
#include "verifier/trusted_root.h"
#include "webhook/decide/find_model_references.h"

namespace provgate::fuzz {

// The bytes of `relative` under the source tree; aborts when it cannot be read.
std::string ReadSourceFile(const std::string& relative);

// Public keys of tests/testdata/keys: ECDSA P-256 and P-384, RSA 2048, Ed25519.
const std::vector<PublicKey>& TestPublicKeys();

// tests/testdata/policies/roots/trusted_root.json, parsed.
std::shared_ptr<const TrustedRoot> TestTrustedRoot();

// Checks what FindModelReferences promises of `refs`, found in `object`:
// each json_pointer names, in `object`, the string `raw`; a parsed
// reference re-parses from its String(); an unparsed one says why; at most
// kMaxReferencesPerObject.
void CheckModelReferences(const Json& object, const std::vector<ModelReference>& refs);

}  // namespace provgate::fuzz
