// EvaluatePolicy: decision rule 2 of docs/decision-rules.md over hand-built verified facts.
#include <doctest/doctest.h>

#include <optional>

#include "policy/policy.h"
#include "test_policies.h"
#include "tests/test_util.h"
#include "verifier/keys.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

const char kSlsa02[] = "https://slsa.dev/provenance/v0.2";
const char kSlsa1[] = "https://slsa.dev/provenance/v1";

// Policy "prod": authorities ci (key), release (key), gh (keyless);
// one signature needed; "built-by-chains" must be a SLSA v0.2 provenance
// signed by ci, built by Tekton Chains from github.com/acme.
const char kProd[] = R"(
apiVersion: provgate.dev/v1alpha1
kind: ModelPolicy
metadata: {name: prod}
spec:
  match: {references: ["registry.example.com/models/**"]}
  authorities:
    - {name: ci, key: {file: ci.pub}}
    - {name: release, key: {file: release.pub}}
    - name: gh
      keyless: {issuer: https://token.actions.githubusercontent.com, subjectRegExp: '^https://github\.com/acme/'}
  signatures: {require: 1}
  attestations:
    - name: built-by-chains
      predicateType: https://slsa.dev/provenance/v0.2
      authorities: [ci]
      conditions:
        all:
          - path: predicate.builder.id
            equals: https://tekton.dev/chains/v2
          - path: predicate.materials[*].uri
            contains: github.com/acme
)";

Json GoodProvenance() {
  return Json::parse(R"({"builder": {"id": "https://tekton.dev/chains/v2"},
                         "materials": [{"uri": "git+https://github.com/acme/models"}]})");
}

std::string Reasons(const PolicyResult& r) {
  std::string s;
  for (const auto& x : r.reasons) s += x + "\n";
  return s;
}

}  // namespace

TEST_CASE("a policy passes when its signature, attestation and metadata rules hold") {
  Policy p = MustParsePolicy(kProd);
  VerifiedArtifact a = Artifact();
  a.signatures.push_back(Signature({Signer("prod", "ci")}));
  a.attestations.push_back(Attestation(kSlsa02, GoodProvenance(), {Signer("prod", "ci")}));
  PolicyResult r = EvaluatePolicy(p, a);
  CHECK_MESSAGE(r.passed, Reasons(r));
  CHECK(r.name == "prod");
  CHECK(r.mode == Mode::kEnforce);
  // Notes explain the pass.
  REQUIRE(r.reasons.size() == 2);
  CHECK(r.reasons[0] == "signatures: signed by ci");
  CHECK(r.reasons[1] == "attestation built-by-chains: satisfied by " + a.attestations[0].layer_digest);
}

TEST_CASE("signatures: reasons name each missing authority and what the layers showed") {
  Policy p = MustParsePolicy(kProd);
  VerifiedArtifact a = Artifact();
  a.attestations.push_back(Attestation(kSlsa02, GoodProvenance(), {Signer("prod", "ci")}));

  PolicyResult none = EvaluatePolicy(p, a);
  CHECK_FALSE(none.passed);
  REQUIRE(none.reasons.size() == 1);
  CHECK(none.reasons[0] ==
        "signatures: 0 of required 1 authorities signed (ci: no valid signature; release: no valid signature; "
        "gh: keyless authority without a trustedRoot: no certificate is trusted; no signatures found)");

  a.signatures.push_back(Signature({}, "signature does not verify with any trusted key"));
  PolicyResult bad = EvaluatePolicy(p, a);
  CHECK_FALSE(bad.passed);
  CHECK(bad.reasons.at(0) ==
        "signatures: 0 of required 1 authorities signed (ci: no valid signature; release: no valid signature; "
        "gh: keyless authority without a trustedRoot: no certificate is trusted; 1 signature layer(s) present: signature does "
        "not verify with any trusted key)");
}

TEST_CASE("signatures: the example reason of the brief, for a one-authority policy") {
  Policy p = MustParsePolicy(R"(
apiVersion: provgate.dev/v1alpha1
kind: ModelPolicy
metadata: {name: models}
spec:
  match: {references: ["**"]}
  authorities: [{name: tekton-chains, key: {file: ci.pub}}]
)");
  VerifiedArtifact a = Artifact();
  a.signatures.push_back(Signature({}, "signature does not verify with any trusted key"));
  PolicyResult r = EvaluatePolicy(p, a);
  CHECK_FALSE(r.passed);
  CHECK(r.reasons ==
        std::vector<std::string>{"signatures: 0 of required 1 authorities signed (tekton-chains: no valid signature; 1 "
                                 "signature layer(s) present: signature does not verify with any trusted key)"});
}

TEST_CASE("signatures: only verified signatures by this policy's authorities count") {
  Policy p = MustParsePolicy(kProd);
  p.attestations.clear();
  struct Row {
    const char* name;
    std::vector<SignatureFact> signatures;
    bool pass;
    const char* reason;
  };
  std::vector<Row> rows = {
      {"own authority", {Signature({Signer("prod", "ci")})}, true, ""},
      {"second authority", {Signature({Signer("prod", "release")})}, true, ""},
      {"another policy's authority with the same local name",
       {Signature({Signer("staging", "ci")})},
       false,
       "1 signature layer(s) present: signed by staging/ci (another policy's authority)"},
      {"signer known but the payload names another digest (problem set)",
       {Signature({Signer("prod", "ci")}, "payload is for digest sha256:bbb, not the artifact's")},
       false,
       "payload is for digest sha256:bbb"},
      {"one good among bad", {Signature({}, "bad"), Signature({Signer("prod", "release")})}, true, ""},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    VerifiedArtifact a = Artifact();
    a.signatures = row.signatures;
    PolicyResult r = EvaluatePolicy(p, a);
    CHECK(r.passed == row.pass);
    if (!row.pass) CHECK_MESSAGE(Reasons(r).find(row.reason) != std::string::npos, Reasons(r));
  }
}

TEST_CASE("signatures.require counts distinct authorities") {
  Policy p = MustParsePolicy(R"(
apiVersion: provgate.dev/v1alpha1
kind: ModelPolicy
metadata: {name: two}
spec:
  match: {references: ["**"]}
  authorities: [{name: ci, key: {file: ci.pub}}, {name: release, key: {file: release.pub}}]
  signatures: {require: 2}
)");
  VerifiedArtifact a = Artifact();
  a.signatures = {Signature({Signer("two", "ci")}), Signature({Signer("two", "ci")})};  // the same authority twice
  PolicyResult once = EvaluatePolicy(p, a);
  CHECK_FALSE(once.passed);
  CHECK(once.reasons.at(0).rfind("signatures: 1 of required 2 authorities signed (release: no valid signature; ", 0) ==
        0);

  a.signatures = {Signature({Signer("two", "ci"), Signer("two", "release")})};  // one layer both keys verify
  CHECK(EvaluatePolicy(p, a).passed);
  a.signatures = {Signature({Signer("two", "ci")}), Signature({Signer("two", "release")})};
  PolicyResult both = EvaluatePolicy(p, a);
  CHECK(both.passed);
  CHECK(both.reasons.at(0) == "signatures: signed by ci, release");
}

// The loader refuses two authorities with one key; a Policy built in code
// gets the same protection from the evaluation: one key is one authority,
// in whatever encoding each holds it.
TEST_CASE("signatures.require counts distinct keys when two authorities share one") {
  Policy p = MustParsePolicy(R"(
apiVersion: provgate.dev/v1alpha1
kind: ModelPolicy
metadata: {name: two}
spec:
  match: {references: ["**"]}
  authorities: [{name: ci, key: {file: ci.pub}}, {name: release, key: {file: release.pub}}]
  signatures: {require: 2}
)");
  auto key = [](const std::string& file) {
    auto k = PublicKey::FromPem(ReadFile(TestData("keys/" + file)));
    REQUIRE_MESSAGE(k.ok(), file << ": " << k.status().message());
    return *k;
  };
  struct Row {
    const char* name;
    std::optional<PublicKey> ci, release;  // replacing the parsed keys when set
    bool passed;
  };
  const Row rows[] = {
      // One key: one signature is one signer, however the policy wrote it.
      {"release holds ci's key", std::nullopt, p.authorities[0].key, false},
      {"EC point uncompressed and compressed", key("ec-p256.pub"), key("ec-p256.compressed.pub"), false},
      {"RSA as rsaEncryption and as RSASSA-PSS", key("rsa-2048.pub"), key("rsa-2048.pss.pub"), false},
      // Two keys both verifying the layer are two signers.
      {"two P-256 keys", std::nullopt, std::nullopt, true},
      {"an RSA and an EC key", key("rsa-2048.pss.pub"), key("ec-p256.compressed.pub"), true},
  };
  for (const auto& row : rows) {
    const std::string name = row.name;
    CAPTURE(name);
    Policy q = p;
    if (row.ci) q.authorities[0].key = row.ci;
    if (row.release) q.authorities[1].key = row.release;
    VerifiedArtifact a = Artifact();
    a.signatures = {Signature({Signer("two", "ci"), Signer("two", "release")})};  // one signature both names verify
    PolicyResult r = EvaluatePolicy(q, a);
    CHECK(r.passed == row.passed);
    if (row.passed) {
      CHECK(Reasons(r) == "signatures: signed by ci, release\n");
    } else {
      CHECK_MESSAGE(Reasons(r).find("signatures: 1 of required 2 authorities signed") != std::string::npos, Reasons(r));
      CHECK_MESSAGE(Reasons(r).find("release: the same key as ci (counted once)") != std::string::npos, Reasons(r));
    }
  }
}

TEST_CASE("signatures.require 0 needs no signature") {
  Policy p = MustParsePolicy(R"(
apiVersion: provgate.dev/v1alpha1
kind: ModelPolicy
metadata: {name: zero}
spec:
  match: {references: ["**"]}
  authorities: [{name: ci, key: {file: ci.pub}}]
  signatures: {require: 0}
)");
  PolicyResult r = EvaluatePolicy(p, Artifact());
  CHECK(r.passed);
  CHECK(r.reasons.empty());
}

TEST_CASE("attestation rules: predicate type, authority binding, verification, conditions") {
  Policy p = MustParsePolicy(kProd);
  const std::string prefix = "attestation built-by-chains: ";
  Json wrong_builder = GoodProvenance();
  wrong_builder["builder"]["id"] = "x";
  struct Row {
    const char* name;
    std::vector<AttestationFact> attestations;
    bool pass;
    std::string reason;  // the whole attestation reason when failing
  };
  std::vector<Row> rows = {
      {"satisfied", {Attestation(kSlsa02, GoodProvenance(), {Signer("prod", "ci")})}, true, ""},
      {"none at all", {}, false, prefix + "no attestations found (expected predicateType \"" + kSlsa02 + "\")"},
      {"predicate type mismatch",
       {Attestation(kSlsa1, GoodProvenance(), {Signer("prod", "ci")})},
       false,
       prefix + "no attestation with predicateType \"" + kSlsa02 + "\" (found \"" + kSlsa1 + "\")"},
      {"signed by another authority of the policy",
       {Attestation(kSlsa02, GoodProvenance(), {Signer("prod", "release")})},
       false,
       prefix + "predicateType \"" + kSlsa02 + "\" attestation signed by release, not by an allowed authority (ci)"},
      {"signed by another policy's key",
       {Attestation(kSlsa02, GoodProvenance(), {Signer("other", "ci")})},
       false,
       prefix + "predicateType \"" + kSlsa02 +
           "\" attestation signed by other/ci (another policy's authority), not by an allowed authority (ci)"},
      {"unverified (problem set) is ignored even with our signer",
       {Attestation(kSlsa02, GoodProvenance(), {Signer("prod", "ci")}, "statement has no subject with digest sha256:aaa")},
       false,
       prefix + "1 attestation(s) with predicateType \"" + kSlsa02 +
           "\" present but none verified: statement has no subject with digest sha256:aaa"},
      {"unreadable layer",
       {Attestation("", Json::object(), {}, "DSSE payloadType \"x\" is not application/vnd.in-toto+json")},
       false,
       prefix + "no attestation with predicateType \"" + kSlsa02 +
           "\" (found 1 unreadable layer(s): DSSE payloadType \"x\" is not application/vnd.in-toto+json)"},
      {"conditions fail",
       {Attestation(kSlsa02, wrong_builder, {Signer("prod", "ci")})},
       false,
       prefix + "predicate.builder.id is \"x\", expected \"https://tekton.dev/chains/v2\""},
      {"one good among several",
       {Attestation(kSlsa1, GoodProvenance(), {Signer("prod", "ci")}), Attestation(kSlsa02, wrong_builder, {Signer("prod", "ci")}),
        Attestation(kSlsa02, GoodProvenance(), {Signer("prod", "ci")})},
       true,
       ""},
      {"missing predicate fields",
       {Attestation(kSlsa02, Json::object(), {Signer("prod", "ci")})},
       false,
       prefix + "predicate.builder.id is missing, expected \"https://tekton.dev/chains/v2\"; "
                "predicate.materials[*].uri is missing, expected to contain \"github.com/acme\""},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    VerifiedArtifact a = Artifact();
    a.signatures.push_back(Signature({Signer("prod", "ci")}));
    a.attestations = row.attestations;
    PolicyResult r = EvaluatePolicy(p, a);
    CHECK(r.passed == row.pass);
    if (!row.pass) CHECK(r.reasons == std::vector<std::string>{row.reason});
  }
}

// predicateType as a list: an attestation of any listed type may satisfy the
// rule, and the conditions see which type it was; one of an unlisted type
// never does.
TEST_CASE("attestation rules with several predicate types accept any of them and no other") {
  Policy p = MustParsePolicy(R"(
apiVersion: provgate.dev/v1alpha1
kind: ModelPolicy
metadata: {name: prod}
spec:
  match: {references: ["registry.example.com/models/**"]}
  authorities:
    - {name: ci, key: {file: ci.pub}}
  signatures: {require: 0}
  attestations:
    - name: built
      predicateType: [https://slsa.dev/provenance/v0.2, https://slsa.dev/provenance/v1]
      conditions:
        any:
          - all:
              - {path: predicateType, equals: https://slsa.dev/provenance/v0.2}
              - {path: predicate.builder.id, equals: https://tekton.dev/chains/v2}
          - all:
              - {path: predicateType, equals: https://slsa.dev/provenance/v1}
              - {path: predicate.runDetails.builder.id, equals: https://tekton.dev/chains/v2}
)");
  REQUIRE(p.attestations.size() == 1);
  CHECK(p.attestations[0].predicate_types == std::vector<std::string>{kSlsa02, kSlsa1});
  const std::string prefix = "attestation built: ";
  const std::string types = std::string("predicateType \"") + kSlsa02 + "\" or \"" + kSlsa1 + "\"";
  Json v1_good = Json::parse(R"({"runDetails": {"builder": {"id": "https://tekton.dev/chains/v2"}}})");
  const char kOther[] = "https://in-toto.io/attestation/vulns/v0.1";
  struct Row {
    const char* name;
    std::vector<AttestationFact> attestations;
    ReasonCode code;     // kPassed when it passes
    std::string reason;  // the whole reason, when it is checked
  };
  std::vector<Row> rows = {
      {"v0.2 provenance", {Attestation(kSlsa02, GoodProvenance(), {Signer("prod", "ci")})}, ReasonCode::kPassed, ""},
      {"v1 provenance", {Attestation(kSlsa1, v1_good, {Signer("prod", "ci")})}, ReasonCode::kPassed, ""},
      // The v0.2 shape under the v1 type: the conditions keep the types apart.
      {"v1 type with the v0.2 predicate",
       {Attestation(kSlsa1, GoodProvenance(), {Signer("prod", "ci")})},
       ReasonCode::kConditionFailed,
       ""},
      {"another type, even with a matching predicate",
       {Attestation(kOther, v1_good, {Signer("prod", "ci")})},
       ReasonCode::kPredicateTypeMismatch,
       prefix + "no attestation with " + types + " (found \"" + kOther + "\")"},
      {"none at all", {}, ReasonCode::kNoAttestation, prefix + "no attestations found (expected " + types + ")"},
      {"a listed type signed by nobody of the policy",
       {Attestation(kSlsa1, v1_good, {Signer("other", "ci")})},
       ReasonCode::kUntrustedSigner,
       prefix + types + " attestation signed by other/ci (another policy's authority), not by an allowed authority (ci)"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    VerifiedArtifact a = Artifact();
    a.attestations = row.attestations;
    PolicyResult r = EvaluatePolicy(p, a);
    CHECK(r.passed == (row.code == ReasonCode::kPassed));
    CHECK(r.code == row.code);
    if (!row.reason.empty()) CHECK(r.reasons == std::vector<std::string>{row.reason});
  }
}

// Decision rule 2: ONE attestation must have the allowed signer, the
// predicateType, the subject (a verified fact) and true conditions; facts of
// different attestations never add up.
TEST_CASE("attestation rules are never satisfied by combining facts of several attestations") {
  Policy p = MustParsePolicy(kProd);
  Json wrong_builder = GoodProvenance();
  wrong_builder["builder"]["id"] = "x";
  struct Row {
    const char* name;
    std::vector<AttestationFact> attestations;
  };
  std::vector<Row> rows = {
      {"right signer with failing conditions + passing conditions by another authority of the policy",
       {Attestation(kSlsa02, wrong_builder, {Signer("prod", "ci")}), Attestation(kSlsa02, GoodProvenance(), {Signer("prod", "release")})}},
      {"right signer with failing conditions + passing conditions by another policy's ci",
       {Attestation(kSlsa02, wrong_builder, {Signer("prod", "ci")}), Attestation(kSlsa02, GoodProvenance(), {Signer("other", "ci")})}},
      {"right signer, other predicate type + right type, unverified",
       {Attestation(kSlsa1, GoodProvenance(), {Signer("prod", "ci")}),
        Attestation(kSlsa02, GoodProvenance(), {Signer("prod", "ci")}, "statement has no subject with digest sha256:aaa")}},
      {"passing conditions without a signer + right signer, no predicate",
       {Attestation(kSlsa02, GoodProvenance(), {}, "signature does not verify with any trusted key"),
        Attestation(kSlsa02, Json::object(), {Signer("prod", "ci")})}},
      {"builder from one, materials from another, both signed by ci",
       {Attestation(kSlsa02, Json::parse(R"({"builder": {"id": "https://tekton.dev/chains/v2"}})"), {Signer("prod", "ci")}),
        Attestation(kSlsa02, Json::parse(R"({"materials": [{"uri": "git+https://github.com/acme/m"}]})"),
                    {Signer("prod", "ci")})}},
  };
  for (const auto& row : rows) {
    std::string name = row.name;
    CAPTURE(name);
    VerifiedArtifact a = Artifact();
    a.signatures.push_back(Signature({Signer("prod", "ci")}));
    a.attestations = row.attestations;
    PolicyResult r = EvaluatePolicy(p, a);
    CHECK_FALSE(r.passed);
  }
}

TEST_CASE("attestation reasons report the closest candidate") {
  Policy p = MustParsePolicy(kProd);
  Json both_wrong = Json::parse(R"({"builder": {"id": "x"}, "materials": [{"uri": "git+https://gitlab.com/y"}]})");
  Json one_wrong = GoodProvenance();
  one_wrong["materials"][0]["uri"] = "git+https://gitlab.com/y";
  VerifiedArtifact a = Artifact();
  a.signatures.push_back(Signature({Signer("prod", "ci")}));
  a.attestations = {Attestation(kSlsa02, both_wrong, {Signer("prod", "ci")}), Attestation(kSlsa02, one_wrong, {Signer("prod", "ci")})};
  PolicyResult r = EvaluatePolicy(p, a);
  CHECK_FALSE(r.passed);
  CHECK(r.reasons == std::vector<std::string>{
                         "attestation built-by-chains: predicate.materials[*].uri is [\"git+https://gitlab.com/y\"] "
                         "(no element satisfies it), expected to contain \"github.com/acme\" (closest of 2 verified "
                         "attestations)"});
}

TEST_CASE("attestation rules without authorities accept any of the policy's; conditions may be omitted") {
  Policy p = MustParsePolicy(R"(
apiVersion: provgate.dev/v1alpha1
kind: ModelPolicy
metadata: {name: any-signer}
spec:
  match: {references: ["**"]}
  authorities: [{name: ci, key: {file: ci.pub}}, {name: release, key: {file: release.pub}}]
  attestations:
    - name: has-provenance
      predicateType: https://slsa.dev/provenance/v1
    - name: type-in-path
      predicateType: https://slsa.dev/provenance/v1
      conditions: {path: predicateType, equals: https://slsa.dev/provenance/v1}
)");
  VerifiedArtifact a = Artifact();
  a.signatures.push_back(Signature({Signer("any-signer", "ci")}));
  a.attestations.push_back(Attestation(kSlsa1, Json::object(), {Signer("any-signer", "release")}));
  PolicyResult r = EvaluatePolicy(p, a);
  CHECK_MESSAGE(r.passed, Reasons(r));

  a.attestations = {Attestation(kSlsa1, Json::object(), {Signer("someone-else", "release")})};
  r = EvaluatePolicy(p, a);
  CHECK_FALSE(r.passed);
  CHECK(r.reasons.at(0).find("not by an allowed authority (ci, release)") != std::string::npos);
}

TEST_CASE("an attestation rule bound to a keyless authority without a trusted root says it trusts no certificate") {
  Policy p = MustParsePolicy(R"(
apiVersion: provgate.dev/v1alpha1
kind: ModelPolicy
metadata: {name: gh}
spec:
  match: {references: ["**"]}
  authorities:
    - {name: ci, key: {file: ci.pub}}
    - {name: workflow, keyless: {issuer: https://token.actions.githubusercontent.com, subject: repo:acme/models}}
  attestations:
    - {name: provenance, predicateType: https://slsa.dev/provenance/v1, authorities: [workflow]}
)");
  VerifiedArtifact a = Artifact();
  a.signatures.push_back(Signature({Signer("gh", "ci")}));
  PolicyResult r = EvaluatePolicy(p, a);
  CHECK_FALSE(r.passed);
  CHECK(r.reasons == std::vector<std::string>{"attestation provenance: no attestations found (expected predicateType "
                                              "\"https://slsa.dev/provenance/v1\"); workflow: keyless authority "
                                              "without a trustedRoot: no certificate is trusted"});
}

// spec.requireDigest (and --require-digest): decided on the reference as
// written, after the verification, so a pass at a tag still says no.
TEST_CASE("ApplyDigestRequirement: a tag-only reference fails, a digest reference keeps its result") {
  Policy p = MustParsePolicy(kProd);
  VerifiedArtifact a = Artifact();
  a.signatures.push_back(Signature({Signer("prod", "ci")}));
  a.attestations.push_back(Attestation(kSlsa02, GoodProvenance(), {Signer("prod", "ci")}));
  const PolicyResult passed = EvaluatePolicy(p, a);
  REQUIRE(passed.passed);
  PolicyResult failed = passed;
  failed.passed = false;
  failed.reasons = {"signatures: 0 of required 1 authorities signed"};

  const std::string tag_text = "registry.example.com/models/m:v1";
  const Reference tag = *ParseReference(tag_text);
  const Reference pinned = *ParseReference(tag_text + "@" + a.digest);

  struct Row {
    const char* name;
    const PolicyResult& in;
    bool required;
    const Reference& ref;
    bool passed;
    std::vector<std::string> reasons;
  };
  const std::string pin = "digest-required: the reference names a tag, not a digest; write \"" + tag_text + "@" +
                          a.digest + "\"";
  const std::vector<Row> must_say_no = {
      {"a verified tag is not enough", passed, true, tag, false, {pin}},
      {"a failure keeps its reasons after the digest one", failed, true, tag, false, {pin, failed.reasons[0]}},
  };
  const std::vector<Row> unchanged = {
      {"a digest reference passes as verified", passed, true, pinned, true, passed.reasons},
      {"a digest reference that failed stays failed, for its own reasons", failed, true, pinned, false, failed.reasons},
      {"not required: a tag passes", passed, false, tag, true, passed.reasons},
  };
  for (const auto* rows : {&must_say_no, &unchanged}) {
    for (const auto& row : *rows) {
      CAPTURE(row.name);
      PolicyResult r = ApplyDigestRequirement(row.in, row.required, row.ref, tag_text, a.digest);
      CHECK(r.passed == row.passed);
      CHECK(r.reasons == row.reasons);
      CHECK(r.name == "prod");
      CHECK(r.mode == Mode::kEnforce);
    }
  }
  // A tag that did not resolve: no pin to suggest.
  PolicyResult unresolved = ApplyDigestRequirement(failed, true, tag, tag_text, "");
  CHECK(unresolved.reasons.at(0) == "digest-required: the reference names a tag, not a digest");
}
