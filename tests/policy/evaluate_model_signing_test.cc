// EvaluatePolicy's modelSigning rule and attestation-only policies, over
// hand-built verified facts (which model signatures verified, for whom, and
// what they sign); the statement parsing and coverage rules themselves are
// tested in tests/verifier/model_signing_test.cc.
#include <doctest/doctest.h>

#include "policy/policy.h"
#include "test_policies.h"
#include "verifier/digest.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

// Policy "hub": the model's files must be signed by `oms` (ci may sign
// the digest, but is not allowed for modelSigning); README.md and docs/
// need not be signed.
const char kHub[] = R"(
apiVersion: provgate.dev/v1alpha1
kind: ModelPolicy
metadata: {name: hub}
spec:
  match: {references: ["**"]}
  authorities:
    - {name: oms, key: {file: release.pub}}
    - {name: ci, key: {file: ci.pub}}
  signatures: {require: 0}
  modelSigning:
    authorities: [oms]
    ignorePaths: [README.md, docs]
)";

Descriptor Layer(const std::string& title, const std::string& content) {
  Descriptor d;
  d.media_type = "application/octet-stream";
  d.digest = Sha256Digest(content);
  d.size = static_cast<int64_t>(content.size());
  if (!title.empty()) d.annotations["org.opencontainers.image.title"] = title;
  return d;
}

ModelResource Resource(const std::string& name, const std::string& content) {
  return {name, "sha256", Sha256Digest(content).substr(7)};
}

// An artifact whose layers are weights.bin, config.json, README.md and
// model.sig, and a verified model signature (as a model.sig layer) by
// `signer` over `resources`.
VerifiedArtifact Model(std::vector<Signer> signers, std::vector<ModelResource> resources) {
  VerifiedArtifact a = Artifact();
  a.manifest.layers = {Layer("weights.bin", "W"), Layer("config.json", "C"), Layer("README.md", "R"),
                       Layer("model.sig", "S")};
  ModelSignatureFact f;
  f.layer_digest = Sha256Digest("S");
  f.origin = kOriginModelSigLayer;
  f.signers = std::move(signers);
  auto st = std::make_shared<ModelSignatureStatement>();
  st->predicate_type = kModelSigningPredicateV1;
  st->method = "files";
  st->hash_type = "sha256";
  st->resources = std::move(resources);
  f.statement = std::move(st);
  a.model_signatures.push_back(std::move(f));
  return a;
}

std::string Reasons(const PolicyResult& r) {
  std::string s;
  for (const auto& x : r.reasons) s += x + "\n";
  return s;
}

}  // namespace

TEST_CASE("modelSigning passes when an allowed authority's signature covers every layer") {
  Policy p = MustParsePolicy(kHub);
  PolicyResult r = EvaluatePolicy(p, Model({Signer("hub", "oms")}, {Resource("config.json", "C"), Resource("weights.bin", "W")}));
  CHECK_MESSAGE(r.passed, Reasons(r));
  CHECK(r.reasons == std::vector<std::string>{"modelSigning: 2 files covered by model.sig-layer " +
                                              Sha256Digest("S")});
}

TEST_CASE("modelSigning must say no") {
  Policy p = MustParsePolicy(kHub);
  const std::vector<ModelResource> good = {Resource("config.json", "C"), Resource("weights.bin", "W")};
  struct Row {
    const char* name;
    VerifiedArtifact artifact;
    std::string reason;
    ReasonCode code = ReasonCode::kModelFilesNotCovered;
  };
  VerifiedArtifact none = Artifact();
  none.manifest.layers = {Layer("weights.bin", "W")};
  VerifiedArtifact unverified = Model({}, good);
  unverified.model_signatures[0].problem = "signature does not verify with any trusted key";
  VerifiedArtifact from_other_policy = Model({Signer("other", "oms")}, good);
  Row rows[] = {
      {"no model signature", none,
       "modelSigning: no model signature found (no layer titled model.sig, no model-signing bundle referrer)",
       ReasonCode::kNoModelSignature},
      {"signed by an authority the rule does not allow", Model({Signer("hub", "ci")}, good),
       "modelSigning: model signature signed by ci, not by an allowed authority (oms)", ReasonCode::kUntrustedSigner},
      {"signed by another policy's authority", from_other_policy,
       "modelSigning: model signature signed by other/oms (another policy's authority), not by an allowed "
       "authority (oms)", ReasonCode::kUntrustedSigner},
      {"signature did not verify", unverified,
       "modelSigning: 1 model signature(s) present but none verified: signature does not verify with any trusted "
       "key", ReasonCode::kUntrustedSigner},
      {"a resource digest changed", Model({Signer("hub", "oms")}, {Resource("config.json", "C"), Resource("weights.bin", "X")}),
       "modelSigning: the signed files do not match the layers: weights.bin: signed digest"},
      {"the signature omits a layer", Model({Signer("hub", "oms")}, {Resource("config.json", "C")}),
       "modelSigning: the signed files do not match the layers: weights.bin: layer is not signed"},
      {"a signed file is not a layer",
       Model({Signer("hub", "oms")}, {Resource("config.json", "C"), Resource("tokenizer.json", "T"), Resource("weights.bin", "W")}),
       "modelSigning: the signed files do not match the layers: tokenizer.json: signed but not a layer"},
  };
  for (auto& row : rows) {
    CAPTURE(row.name);
    PolicyResult r = EvaluatePolicy(p, row.artifact);
    CHECK_FALSE(r.passed);
    REQUIRE(r.reasons.size() == 1);
    CHECK_MESSAGE(r.reasons[0].rfind(row.reason, 0) == 0, r.reasons[0]);
    CHECK(r.code == row.code);  // the reasonCode, made with the reason
  }
}

TEST_CASE("a model signature does not count towards signatures.require, nor vouch for metadata") {
  Policy p = MustParsePolicy(R"(
apiVersion: provgate.dev/v1alpha1
kind: ModelPolicy
metadata: {name: hub}
spec:
  match: {references: ["**"]}
  authorities:
    - {name: oms, key: {file: release.pub}}
  signatures: {require: 1}
  modelSigning: {}
)");
  PolicyResult r = EvaluatePolicy(p, Model({Signer("hub", "oms")}, {Resource("config.json", "C"), Resource("weights.bin", "W"),
                                                       Resource("README.md", "R")}));
  CHECK_FALSE(r.passed);
  REQUIRE(r.reasons.size() == 1);
  CHECK(r.reasons[0].rfind("signatures: 0 of required 1 authorities signed", 0) == 0);
}

TEST_CASE("an attestation-only policy passes on a verified attestation alone, and fails without one") {
  Policy p = MustParsePolicy(R"(
apiVersion: provgate.dev/v1alpha1
kind: ModelPolicy
metadata: {name: attested}
spec:
  match: {references: ["**"]}
  authorities:
    - {name: ci, key: {file: ci.pub}}
  signatures: {require: 0}
  attestations:
    - {name: provenance, predicateType: https://slsa.dev/provenance/v1}
)");
  VerifiedArtifact a = Artifact();
  a.attestations.push_back(Attestation("https://slsa.dev/provenance/v1", Json::object(), {Signer("attested", "ci")}));
  PolicyResult r = EvaluatePolicy(p, a);
  CHECK_MESSAGE(r.passed, Reasons(r));
  a.attestations = {Attestation("https://slsa.dev/provenance/v1", Json::object(), {}, "no trusted keys")};
  r = EvaluatePolicy(p, a);
  CHECK_FALSE(r.passed);
  CHECK(r.reasons.at(0).rfind("attestation provenance: 1 attestation(s) with predicateType", 0) == 0);
}
