// Sigstore bundles attached to a model by sigstore-js (@sigstore/oci, the
// referrers tag fallback docker-registry needs) are found and verified, and
// decide `provgate check` like cosign's tag-based signatures do.
#include <doctest/doctest.h>

#include <filesystem>

#include "tests/integration/test_registry.h"
#include "verifier/registry/curl_transport.h"
#include "verifier/registry/fetch_artifact.h"
#include "verifier/registry/publish_artifact.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

Deadline Soon() { return std::chrono::steady_clock::now() + std::chrono::seconds(20); }

std::string Tools() { return std::string(PROVGATE_SOURCE_DIR) + "/tests/tools"; }

void RequireNodeTools() {
  REQUIRE_MESSAGE(std::filesystem::exists(Tools() + "/node_modules/@sigstore/oci"),
                  "sigstore-js is not installed in tests/tools: run scripts/install-deps.sh");
}

void Attach(const TestRegistry& reg, const std::string& repo, const std::string& digest, const std::string& out,
            const std::string& mode) {
  auto r = RunCommand("node " + Tools() + "/attach_bundle.mjs " + reg.host() + " " + repo + " " + digest + " " + out +
                      " " + mode + " 2>&1");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
}

}  // namespace

TEST_CASE("bundles attached by sigstore-js verify: a cosign-v3 style signature and an SLSA v1 attestation") {
  RequireNodeTools();
  TestRegistry reg;
  TempDir dir;
  CurlTransport t;
  RegistryClient client(&t, std::make_shared<RegistryConfig>(*RegistryConfig::Load(reg.config_file())));
  WriteFile(dir.File("m.bin"), "weights");
  auto ref = *ParseReference(reg.host() + "/models/bundled:v1");
  PushRequest req;
  req.paths = {dir.File("m.bin")};
  req.metadata = Json{{"name", "bundled"}};
  auto digest = PushModel(client, ref, req, Soon());
  REQUIRE(digest.ok());
  Attach(reg, "models/bundled", *digest, dir.File("js"), "sign");
  auto key = PublicKey::FromPem(ReadFile(dir.File("js/key.pub")));
  REQUIRE(key.ok());

  auto referrers = client.GetReferrers(ref, *digest, Soon(), 64);
  REQUIRE_MESSAGE(referrers.ok(), referrers.status().ToString());
  CHECK(referrers->size() == 2);

  auto material = FetchArtifact(client, ref, Soon());
  REQUIRE_MESSAGE(material.ok(), material.status().ToString());
  CHECK(material->signature_layers.empty());  // no cosign .sig tag
  CHECK(material->bundle_layers.size() == 2);
  auto v = VerifyArtifact(*material, {{"sigstore-js", *key}});
  REQUIRE(v.signatures.size() == 1);
  CHECK(v.signatures[0].origin == std::string(kOriginBundle));
  CHECK_MESSAGE(v.signatures[0].verified(), v.signatures[0].problem);
  REQUIRE(v.attestations.size() == 1);
  CHECK_MESSAGE(v.attestations[0].verified(), v.attestations[0].problem);
  CHECK(v.attestations[0].predicate_type == "https://slsa.dev/provenance/v1");
  CHECK(v.attestations[0].predicate["runDetails"]["builder"]["id"] == "https://tekton.dev/chains/v2");

  // With another trusted key nothing verifies.
  auto stranger = *PrivateKey::GenerateEcdsaP256();
  auto vs = VerifyArtifact(*material, {{"stranger", stranger.Public()}});
  CHECK(vs.SignedBy().empty());
  CHECK_FALSE(vs.attestations[0].verified());

  // `provgate check` decides on them like on cosign's tags.
  std::string pem = ReadFile(dir.File("js/key.pub"));
  std::string indented;
  for (size_t pos = 0; pos < pem.size();) {
    size_t nl = pem.find('\n', pos);
    indented += "          " + pem.substr(pos, nl - pos) + "\n";
    pos = nl + 1;
  }
  WriteFile(dir.File("policy.yaml"),
            "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata:\n  name: bundled\nspec:\n  match:\n"
            "    references: [\"" + reg.host() + "/models/**\"]\n  authorities:\n    - name: ci\n      key:\n        pem: |\n" +
                indented +
                "  signatures:\n    require: 1\n  attestations:\n    - name: slsa\n      predicateType: https://slsa.dev/provenance/v1\n"
                "      conditions:\n        all:\n          - path: predicate.runDetails.builder.id\n"
                "            equals: https://tekton.dev/chains/v2\n");
  WriteFile(dir.File("pod.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: serving}\nspec:\n"
                                  "  containers: [{name: c, image: busybox}]\n  volumes:\n"
                                  "    - {name: m, image: {reference: \"" + reg.host() + "/models/bundled:v1\"}}\n");
  auto check = RunCommand(std::string(PROVGATE_BINARY) + " check -f " + dir.File("pod.yaml") + " --policies " +
                          dir.File("policy.yaml") + " --registry-config " + reg.config_file() + " 2>&1");
  CHECK_MESSAGE(check.exit_code == 0, check.output);
  CHECK(check.output.find("ALLOW") != std::string::npos);
}

TEST_CASE("a bundle whose statement names another artifact does not sign this one") {
  RequireNodeTools();
  TestRegistry reg;
  TempDir dir;
  CurlTransport t;
  RegistryClient client(&t, std::make_shared<RegistryConfig>(*RegistryConfig::Load(reg.config_file())));
  WriteFile(dir.File("m.bin"), "weights-2");
  auto ref = *ParseReference(reg.host() + "/models/misbound:v1");
  PushRequest req;
  req.paths = {dir.File("m.bin")};
  auto digest = PushModel(client, ref, req, Soon());
  REQUIRE(digest.ok());
  Attach(reg, "models/misbound", *digest, dir.File("js"), "other-subject");
  auto key = *PublicKey::FromPem(ReadFile(dir.File("js/key.pub")));
  auto material = FetchArtifact(client, ref, Soon());
  REQUIRE(material.ok());
  REQUIRE(material->bundle_layers.size() == 1);
  auto v = VerifyArtifact(*material, {{"sigstore-js", key}});
  REQUIRE(v.signatures.size() == 1);
  CHECK_FALSE(v.signatures[0].verified());
  CHECK(v.signatures[0].problem.find("no subject with digest " + *digest) != std::string::npos);
  CHECK(v.SignedBy().empty());
}
