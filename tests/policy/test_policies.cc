#include "test_policies.h"

#include <doctest/doctest.h>

#include "policy/policy_loader.h"

namespace provgate::testing {

std::vector<Policy> MustParsePolicies(const std::string& yaml) {
  FileReader reader = [](const std::string& path) -> StatusOr<std::string> {
    const std::string keys = std::string(PROVGATE_TESTDATA) + "/policies/keys/";
    if (path == "ci.pub") return ReadFileBounded(keys + "ec-p256.pub", kMaxKeyFileBytes);
    if (path == "release.pub") return ReadFileBounded(keys + "ec-p256-second.pub", kMaxKeyFileBytes);
    return InvalidArgument("unknown test key " + path);
  };
  auto r = ParsePolicyDocuments(yaml, "test.yaml", reader);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  return std::move(*r);
}

Policy MustParsePolicy(const std::string& yaml) {
  auto ps = MustParsePolicies(yaml);
  REQUIRE(ps.size() == 1);
  return std::move(ps[0]);
}

VerifiedArtifact Artifact() {
  VerifiedArtifact a;
  a.reference = *ParseReference("registry.example.com/models/mnist:v1");
  a.digest = "sha256:" + std::string(64, 'a');
  a.reference.digest = a.digest;
  return a;
}

SignatureFact Signature(std::vector<Signer> signers, std::string problem) {
  SignatureFact s;
  s.layer_digest = "sha256:" + std::string(64, 'b');
  s.signers = std::move(signers);
  s.problem = std::move(problem);
  return s;
}

AttestationFact Attestation(std::string predicate_type, Json predicate, std::vector<Signer> signers,
                            std::string problem) {
  AttestationFact a;
  a.layer_digest = "sha256:" + std::string(64, 'c');
  a.statement_type = "https://in-toto.io/Statement/v0.1";
  a.predicate_type = std::move(predicate_type);
  a.predicate = std::move(predicate);
  a.signers = std::move(signers);
  a.problem = std::move(problem);
  return a;
}

}  // namespace provgate::testing
