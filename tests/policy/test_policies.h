// Test helpers: policies from inline YAML (key.file served from
// tests/testdata/policies/keys) and hand-built verified facts.
#pragma once

#include <string>
#include <vector>

#include "policy/policy.h"
#include "verifier/verified_artifact.h"

namespace provgate::testing {

// The policies in `yaml`; fails the test when it does not parse.
// `key: {file: ci.pub}` and `release.pub` name two different P-256 keys.
std::vector<Policy> MustParsePolicies(const std::string& yaml);
Policy MustParsePolicy(const std::string& yaml);

// An artifact at a fixed digest with no facts yet.
VerifiedArtifact Artifact();
SignatureFact Signature(std::vector<Signer> signers, std::string problem = "");
AttestationFact Attestation(std::string predicate_type, Json predicate, std::vector<Signer> signers,
                            std::string problem = "");

}  // namespace provgate::testing
