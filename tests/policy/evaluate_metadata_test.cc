// Metadata rules: conditions over the config blob and manifest annotations,
// with omlmd's "+json" annotations decoded.
#include <doctest/doctest.h>

#include "policy/policy.h"
#include "test_policies.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

Policy MetadataPolicy(const std::string& conditions) {
  return MustParsePolicy(R"(
apiVersion: provgate.dev/v1alpha1
kind: ModelPolicy
metadata: {name: meta}
spec:
  match: {references: ["**"]}
  authorities: [{name: ci, key: {file: ci.pub}}]
  metadata:
    conditions:
)" + conditions);
}

VerifiedArtifact SignedArtifact() {
  VerifiedArtifact a = Artifact();
  a.signatures.push_back(Signature({Signer("meta", "ci")}));
  return a;
}

// An omlmd push: model metadata as the config blob, and the same facts as
// annotations, JSON-valued ones under "<key>+json".
VerifiedArtifact OmlmdArtifact(double accuracy) {
  VerifiedArtifact a = SignedArtifact();
  a.config = Json{{"name", "mnist"}, {"author", "acme"}, {"customProperties", {{"accuracy", accuracy}}}};
  a.annotations["name"] = "mnist";
  a.annotations["customProperties+json"] = Json{{"accuracy", accuracy}}.dump();
  a.annotations["org.opencontainers.image.source"] = "https://github.com/acme/models";
  return a;
}

}  // namespace

TEST_CASE("metadata conditions see config and annotations") {
  Policy p = MetadataPolicy(R"(
      all:
        - path: config.customProperties.accuracy
          greaterOrEqual: 0.95
        - path: annotations.customProperties.accuracy
          greaterOrEqual: 0.95
        - path: annotations["customProperties+json"]
          startsWith: "{"
        - path: annotations["org.opencontainers.image.source"]
          exists: true
        - path: annotations.name
          equals: mnist
)");
  PolicyResult pass = EvaluatePolicy(p, OmlmdArtifact(0.97));
  CHECK(pass.passed);
  CHECK(pass.reasons == std::vector<std::string>{"signatures: signed by ci", "metadata: conditions hold"});

  PolicyResult fail = EvaluatePolicy(p, OmlmdArtifact(0.91));
  CHECK_FALSE(fail.passed);
  CHECK(fail.reasons ==
        std::vector<std::string>{"metadata: config.customProperties.accuracy is 0.91, expected >= 0.95; "
                                 "annotations.customProperties.accuracy is 0.91, expected >= 0.95"});
}

TEST_CASE("metadata: missing config, non-JSON +json annotations, explicit annotations win") {
  Policy p = MetadataPolicy(R"(
      path: config.customProperties.accuracy
      greaterOrEqual: 0.95
)");
  PolicyResult no_config = EvaluatePolicy(p, SignedArtifact());  // config is null
  CHECK_FALSE(no_config.passed);
  CHECK(no_config.reasons ==
        std::vector<std::string>{"metadata: config.customProperties.accuracy is missing, expected >= 0.95"});

  Policy ann = MetadataPolicy(R"(
      path: annotations.customProperties
      exists: false
)");
  VerifiedArtifact a = SignedArtifact();
  a.annotations["customProperties+json"] = "{not json";
  CHECK(EvaluatePolicy(ann, a).passed);  // undecodable: only the raw key exists

  Policy plain = MetadataPolicy(R"(
      path: annotations.customProperties
      equals: explicit
)");
  a.annotations["customProperties+json"] = R"({"accuracy": 1})";
  a.annotations["customProperties"] = "explicit";
  CHECK(EvaluatePolicy(plain, a).passed);
}

TEST_CASE("metadata accuracy as a numeric string in a string annotation") {
  Policy p = MetadataPolicy(R"(
      path: annotations["acme.dev/accuracy"]
      greaterOrEqual: 0.95
)");
  VerifiedArtifact a = SignedArtifact();
  a.annotations["acme.dev/accuracy"] = "0.97";
  CHECK(EvaluatePolicy(p, a).passed);
  a.annotations["acme.dev/accuracy"] = "high";
  PolicyResult r = EvaluatePolicy(p, a);
  CHECK_FALSE(r.passed);
  CHECK(r.reasons == std::vector<std::string>{
                         "metadata: annotations[\"acme.dev/accuracy\"] is \"high\" (not a number), expected >= 0.95"});
}

TEST_CASE("an unsigned artifact fails on signatures even when its metadata holds") {
  Policy p = MetadataPolicy(R"(
      path: config.name
      equals: mnist
)");
  VerifiedArtifact a = OmlmdArtifact(0.99);
  a.signatures.clear();
  PolicyResult r = EvaluatePolicy(p, a);
  CHECK_FALSE(r.passed);
  REQUIRE(r.reasons.size() == 1);
  CHECK(r.reasons[0].rfind("signatures: 0 of required 1", 0) == 0);
}

// Both spellings come from the manifest the signature covers, so neither is
// an unsigned source; the plain annotation wins, deterministically, and the
// decoded "+json" value is then not reachable under the plain key.
TEST_CASE("metadata: a plain annotation wins over its decoded +json twin") {
  Policy p = MetadataPolicy(R"(
      path: annotations.customProperties.accuracy
      greaterOrEqual: 0.95
)");
  VerifiedArtifact a = SignedArtifact();
  a.annotations["customProperties+json"] = R"({"accuracy": 0.99})";
  CHECK(EvaluatePolicy(p, a).passed);
  a.annotations["customProperties"] = R"({"accuracy": 0.99})";  // a string, not decoded
  PolicyResult r = EvaluatePolicy(p, a);
  CHECK_FALSE(r.passed);
  CHECK(r.reasons == std::vector<std::string>{
                         "metadata: annotations.customProperties.accuracy is missing, expected >= 0.95"});
  // Metadata never stands without a signature over the manifest digest.
  a.signatures = {Signature({Signer("meta", "ci")}, "payload is for digest sha256:bbb, not the artifact's")};
  a.annotations.erase("customProperties");
  CHECK_FALSE(EvaluatePolicy(p, a).passed);
}

// Without a config blob (an index, a config that is not JSON or does not
// match its digest) there is no config to test: `config` is missing, not a
// JSON null that `exists: true` would accept. Likewise an attestation
// without a predicate has no `predicate`.
TEST_CASE("metadata: an unavailable config blob is missing, not null") {
  Policy p = MetadataPolicy(R"(
      path: config
      exists: true
)");
  VerifiedArtifact a = SignedArtifact();  // config is null: unavailable
  PolicyResult r = EvaluatePolicy(p, a);
  CHECK_FALSE(r.passed);
  CHECK(r.reasons == std::vector<std::string>{"metadata: config is missing, expected to exist"});
  a.config = Json::object();
  CHECK(EvaluatePolicy(p, a).passed);

  Policy att = MustParsePolicy(R"(
apiVersion: provgate.dev/v1alpha1
kind: ModelPolicy
metadata: {name: meta}
spec:
  match: {references: ["**"]}
  authorities: [{name: ci, key: {file: ci.pub}}]
  attestations:
    - name: has-predicate
      predicateType: https://example.com/eval/v1
      conditions: {path: predicate, exists: true}
)");
  VerifiedArtifact b = SignedArtifact();
  b.attestations.push_back(Attestation("https://example.com/eval/v1", nullptr, {Signer("meta", "ci")}));
  CHECK_FALSE(EvaluatePolicy(att, b).passed);
  b.attestations[0].predicate = Json::object();
  CHECK(EvaluatePolicy(att, b).passed);
}

TEST_CASE("metadata: +json annotations with duplicate keys or too many values are not decoded") {
  Policy exists = MetadataPolicy(R"(
      path: annotations.customProperties
      exists: true
)");
  struct Row {
    const char* name;
    std::string value;
    bool decoded;
  };
  std::string many = "[";
  for (int i = 0; i < 70000; ++i) many += i ? ",0" : "0";
  many += "]";
  std::string few = "[";
  for (int i = 0; i < 1000; ++i) few += i ? ",0" : "0";
  few += "]";
  const Row rows[] = {
      {"plain object", R"({"accuracy": 0.99})", true},
      {"duplicate key: which accuracy counts depends on the reader", R"({"accuracy": 0.1, "accuracy": 0.99})", false},
      {"nested duplicate key", R"({"m": {"a": 1, "a": 2}})", false},
      {"1,000 values", few, true},
      {"70,000 values: over the bound", many, false},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    VerifiedArtifact a = SignedArtifact();
    a.annotations["customProperties+json"] = r.value;
    CHECK(EvaluatePolicy(exists, a).passed == r.decoded);
  }
}
