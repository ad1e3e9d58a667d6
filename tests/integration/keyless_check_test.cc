// Keyless and model-signing verification against a real docker-registry,
// through `provgate check` and `provgate serve`: bundles made by
// sigstore-js against @sigstore/mock (tests/tools/make_keyless_fixtures.mjs)
// and attached by @sigstore/oci through the referrers tag fallback, and
// recorded model_signing output shipped as the model's own model.sig layer.
#include <doctest/doctest.h>

#include <filesystem>

#include "tests/integration/test_registry.h"
#include "tests/integration/test_server.h"
#include "verifier/registry/curl_transport.h"
#include "verifier/registry/publish_artifact.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

Deadline Soon() { return std::chrono::steady_clock::now() + std::chrono::seconds(20); }
std::string Tools() { return std::string(PROVGATE_SOURCE_DIR) + "/tests/tools"; }
std::string Q(const std::string& s) { return "'" + s + "'"; }

const char kIssuer[] = "https://token.actions.githubusercontent.com";
const char kSubject[] = "https://github.com/acme/models/.github/workflows/release.yml@refs/heads/main";

struct World {
  TestRegistry reg;
  TempDir dir;
  CurlTransport transport;
  std::unique_ptr<RegistryClient> client;

  World() {
    REQUIRE_MESSAGE(std::filesystem::exists(Tools() + "/node_modules/@sigstore/mock"),
                    "sigstore-js is not installed in tests/tools: run scripts/install-deps.sh");
    auto cfg = RegistryConfig::Load(reg.config_file());
    REQUIRE(cfg.ok());
    client = std::make_unique<RegistryClient>(&transport, std::make_shared<RegistryConfig>(*cfg));
  }
  std::string Push(const std::string& repo_tag, const std::vector<std::string>& paths) {
    PushRequest req;
    req.paths = paths;
    auto d = PushModel(*client, *ParseReference(reg.host() + "/" + repo_tag), req, Soon());
    REQUIRE_MESSAGE(d.ok(), d.status().message());
    return *d;
  }
  // Keyless bundles whose statements name `digest`, in dir/<name>.
  std::string MakeBundles(const std::string& name, const std::string& digest) {
    std::string out = dir.File(name);
    // Made afresh, up to 3 times, when @sigstore/verify refuses the mock
    // TSA's timestamp (TIMESTAMP_ERROR, the producer's own check; seen under load).
    CommandResult r;
    for (int attempt = 0; attempt < 3; ++attempt) {
      r = RunCommand("node " + Q(Tools() + "/make_keyless_fixtures.mjs") + " " + Q(out) + " " + digest.substr(7) +
                     " 2>&1");
      if (r.exit_code == 0 || r.output.find("TIMESTAMP_ERROR") == std::string::npos) break;
    }
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    return out;
  }
  void Attach(const std::string& repo, const std::string& digest, const std::string& bundle) {
    auto r = RunCommand("node " + Q(Tools() + "/attach_bundle.mjs") + " attach " + reg.host() + " " + repo + " " +
                        digest + " " + Q(bundle) + " 2>&1");
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  }
  CommandResult Check(const std::string& policy_yaml, const std::string& model_ref) {
    WriteFile(dir.File("policy.yaml"), policy_yaml);
    WriteFile(dir.File("pod.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: serving}\nspec:\n"
                                    "  containers: [{name: c, image: busybox}]\n  volumes:\n"
                                    "    - {name: m, image: {reference: \"" + model_ref + "\"}}\n");
    return RunCommand(std::string(PROVGATE_BINARY) + " check -f " + dir.File("pod.yaml") + " --policies " +
                      dir.File("policy.yaml") + " --registry-config " + reg.config_file() + " 2>&1");
  }
};

std::string KeylessPolicy(const std::string& host, const std::string& root, const std::string& subject,
                          const std::string& rules) {
  return "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata:\n  name: keyless\nspec:\n  match:\n"
         "    references: [\"" + host + "/models/**\"]\n  authorities:\n    - name: release\n      keyless:\n"
         "        issuer: " + std::string(kIssuer) + "\n        subject: " + subject + "\n        trustedRoot: " + root +
         "\n  signatures:\n    require: 0\n" + rules;
}

const char kProvenanceRule[] =
    "  attestations:\n    - name: provenance\n      predicateType: https://slsa.dev/provenance/v1\n"
    "      conditions:\n        path: predicate.runDetails.builder.id\n        equals: https://github.com/actions/runner\n";

}  // namespace

TEST_CASE("check admits a model whose SLSA provenance a keyless workflow attached, and denies a stranger's") {
  World w;
  WriteFile(w.dir.File("m.bin"), "keyless-weights");
  std::string digest = w.Push("models/keyless:v1", {w.dir.File("m.bin")});
  std::string fx = w.MakeBundles("fx", digest);
  w.Attach("models/keyless", digest, fx + "/provenance.bundle.json");
  const std::string ref = w.reg.host() + "/models/keyless:v1";

  auto ok = w.Check(KeylessPolicy(w.reg.host(), fx + "/trusted_root.json", kSubject, kProvenanceRule), ref);
  CHECK_MESSAGE(ok.exit_code == 0, ok.output);
  CHECK(ok.output.find("ALLOW") != std::string::npos);

  auto other = w.Check(
      KeylessPolicy(w.reg.host(), fx + "/trusted_root.json", "https://github.com/acme/other/x.yml@refs/heads/main",
                    kProvenanceRule),
      ref);
  CHECK_MESSAGE(other.exit_code == 1, other.output);
  CHECK_MESSAGE(other.output.find("matches no keyless authority") != std::string::npos, other.output);
  CHECK(other.output.find(kSubject) != std::string::npos);  // the identity found is named

  // provgate verify, cosign's way: the identity, the log entry and its time.
  w.Attach("models/keyless", digest, fx + "/sign.bundle.json");
  auto verify = RunCommand(std::string(PROVGATE_BINARY) + " verify " + ref + " --registry-config " +
                           w.reg.config_file() + " --trusted-root " + fx + "/trusted_root.json" +
                           " --certificate-oidc-issuer " + kIssuer + " --certificate-identity " + kSubject + " 2>&1");
  CHECK_MESSAGE(verify.exit_code == 0, verify.output);
  CHECK_MESSAGE(verify.output.find(std::string("keyless: issuer ") + kIssuer + ", subject " + kSubject +
                                   ", log https://rekor.sigstore-mock.test index ") != std::string::npos,
                verify.output);
  CHECK(verify.output.find("integrated at ") != std::string::npos);
  auto stranger = RunCommand(std::string(PROVGATE_BINARY) + " verify " + ref + " --registry-config " +
                             w.reg.config_file() + " --trusted-root " + fx + "/trusted_root.json" +
                             " --certificate-oidc-issuer " + kIssuer +
                             " --certificate-identity-regexp 'https://github\\.com/acme/models/' 2>&1");
  CHECK_MESSAGE(stranger.exit_code == 1, stranger.output);  // whole-value match: the SAN is longer
  CHECK(stranger.output.find("matches no keyless authority") != std::string::npos);
  auto no_identity = RunCommand(std::string(PROVGATE_BINARY) + " verify " + ref + " --trusted-root " + fx +
                                "/trusted_root.json 2>&1");
  CHECK_MESSAGE(no_identity.exit_code == 2, no_identity.output);

  // Bundles for another digest, attached to this model, vouch for nothing.
  WriteFile(w.dir.File("n.bin"), "other-weights");
  std::string digest2 = w.Push("models/misbound:v1", {w.dir.File("n.bin")});
  w.Attach("models/misbound", digest2, fx + "/provenance.bundle.json");
  auto misbound = w.Check(KeylessPolicy(w.reg.host(), fx + "/trusted_root.json", kSubject, kProvenanceRule),
                          w.reg.host() + "/models/misbound:v1");
  CHECK_MESSAGE(misbound.exit_code == 1, misbound.output);
  CHECK_MESSAGE(misbound.output.find("no subject with digest " + digest2) != std::string::npos, misbound.output);
}

TEST_CASE("check admits a model whose files an OMS referrer covers, and denies one whose weights changed") {
  World w;
  // The OMS bundle signs fx/model/{config.json,tokenizer.json,weights.bin}:
  // make it first (its subject digest is unused for OMS), then push the files.
  std::string fx = w.MakeBundles("fx", "sha256:" + std::string(64, '0'));
  std::vector<std::string> files;
  for (const char* f : {"config.json", "tokenizer.json", "weights.bin"}) files.push_back(fx + "/model/" + f);
  std::string digest = w.Push("models/oms:v1", files);
  w.Attach("models/oms", digest, fx + "/oms.bundle.json");
  // provgate push (like omlmd) adds its metadata as a titled layer, which no
  // model signature lists.
  const std::string rules = "  modelSigning:\n    authorities: [release]\n    ignorePaths: [model_metadata.omlmd.json]\n";
  auto ok = w.Check(KeylessPolicy(w.reg.host(), fx + "/trusted_root.json", kSubject, rules),
                    w.reg.host() + "/models/oms:v1");
  CHECK_MESSAGE(ok.exit_code == 0, ok.output);

  // The same files with other weights: the signature names the file that differs.
  std::filesystem::create_directories(w.dir.File("tampered"));
  std::vector<std::string> tampered;
  for (const char* f : {"config.json", "tokenizer.json"}) {
    std::filesystem::copy_file(fx + "/model/" + f, w.dir.File(std::string("tampered/") + f));
    tampered.push_back(w.dir.File(std::string("tampered/") + f));
  }
  WriteFile(w.dir.File("tampered/weights.bin"), "backdoored");
  tampered.push_back(w.dir.File("tampered/weights.bin"));
  std::string bad = w.Push("models/oms-tampered:v1", tampered);
  w.Attach("models/oms-tampered", bad, fx + "/oms.bundle.json");
  auto deny = w.Check(KeylessPolicy(w.reg.host(), fx + "/trusted_root.json", kSubject, rules),
                      w.reg.host() + "/models/oms-tampered:v1");
  CHECK_MESSAGE(deny.exit_code == 1, deny.output);
  CHECK_MESSAGE(deny.output.find("weights.bin: signed digest") != std::string::npos, deny.output);
}

TEST_CASE("recorded model_signing output as the model's own model.sig layer: key-signed and public-good keyless") {
  const std::string oms = OmsFixtureDir();
  if (oms.empty()) {
    MESSAGE("skipped: the recorded model_signing fixtures are not beside this checkout");
    return;
  }
  World w;
  auto files = [&](const std::string& dir) {
    std::vector<std::string> out;
    for (const char* f : {"signme-1", "signme-2", "ignore-me", "model.sig"}) out.push_back(oms + "/" + dir + "/" + f);
    return out;
  };
  std::string key_digest = w.Push("models/oms-key:v1", files("v1.1.0-elliptic-key"));
  std::string keyless_digest = w.Push("models/oms-keyless:v1", files("v1.1.0-sigstore"));
  // The key file starts with a text dump; the policy gets its PEM block.
  std::string pem = ReadFile(oms + "/keys/signing-key-pub.pem");
  pem = pem.substr(pem.find("-----BEGIN PUBLIC KEY-----"));
  WriteFile(w.dir.File("oms.pub"), pem);
  const std::string key_policy =
      "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata:\n  name: oms-key\nspec:\n  match:\n"
      "    references: [\"" + w.reg.host() + "/models/**\"]\n  authorities:\n    - name: hub\n      key:\n"
      "        file: " + w.dir.File("oms.pub") + "\n  signatures:\n    require: 0\n"
      "  modelSigning: {ignorePaths: [model_metadata.omlmd.json]}\n";
  auto key_ok = w.Check(key_policy, w.reg.host() + "/models/oms-key:v1");
  CHECK_MESSAGE(key_ok.exit_code == 0, key_ok.output);

  const std::string keyless_policy =
      "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata:\n  name: oms-keyless\nspec:\n  match:\n"
      "    references: [\"" + w.reg.host() + "/models/**\"]\n  authorities:\n    - name: ibm\n      keyless:\n"
      "        issuer: https://sigstore.verify.ibm.com/oauth2\n        subject: stefanb@us.ibm.com\n"
      "        trustedRoot: " + oms + "/public_good_trusted_root.json\n  signatures:\n    require: 0\n"
      "  modelSigning: {ignorePaths: [model_metadata.omlmd.json]}\n";
  auto keyless_ok = w.Check(keyless_policy, w.reg.host() + "/models/oms-keyless:v1");
  CHECK_MESSAGE(keyless_ok.exit_code == 0, keyless_ok.output);

  // The key-signed files under the keyless signature: signme-1 differs.
  std::vector<std::string> mixed = files("v1.1.0-elliptic-key");
  mixed[3] = oms + "/v1.1.0-sigstore/model.sig";
  w.Push("models/oms-mixed:v1", mixed);
  auto mixed_deny = w.Check(keyless_policy, w.reg.host() + "/models/oms-mixed:v1");
  CHECK_MESSAGE(mixed_deny.exit_code == 1, mixed_deny.output);
  CHECK_MESSAGE(mixed_deny.output.find("signme-1: signed digest") != std::string::npos, mixed_deny.output);
  (void)key_digest;
  (void)keyless_digest;
}

TEST_CASE("serve admits the keyless-attested model and denies the unsigned one over real HTTPS") {
  World w;
  WriteFile(w.dir.File("m.bin"), "served-weights");
  std::string digest = w.Push("models/served:v1", {w.dir.File("m.bin")});
  WriteFile(w.dir.File("u.bin"), "unsigned-weights");
  w.Push("models/unsigned:v1", {w.dir.File("u.bin")});
  std::string fx = w.MakeBundles("fx", digest);
  w.Attach("models/served", digest, fx + "/provenance.bundle.json");
  std::filesystem::create_directories(w.dir.File("policies"));
  WriteFile(w.dir.File("policies/keyless.yaml"),
            KeylessPolicy(w.reg.host(), fx + "/trusted_root.json", kSubject, kProvenanceRule));
  TestCa ca = TestCa::Create(w.dir.path());
  TestServer s(w.dir, ca, {"--policies", w.dir.File("policies"), "--registry-config", w.reg.config_file()});
  auto review = [&](const std::string& uid, const std::string& model) {
    Json pod = {{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata", {{"name", "p"}}},
                {"spec",
                 {{"containers", {{{"name", "c"}, {"image", "busybox"}}}},
                  {"volumes", {{{"name", "m"}, {"image", {{"reference", model}}}}}}}}};
    Json r = {{"apiVersion", "admission.k8s.io/v1"},
              {"kind", "AdmissionReview"},
              {"request",
               {{"uid", uid},
                {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
                {"namespace", "serving"},
                {"operation", "CREATE"},
                {"object", pod}}}};
    HttpResponse resp = s.Post("/validate", r.dump());
    REQUIRE_MESSAGE(resp.status == 200, resp.body);
    return Json::parse(resp.body)["response"];
  };
  Json allowed = review("u1", w.reg.host() + "/models/served:v1");
  CHECK_MESSAGE(allowed["allowed"] == true, allowed.dump());
  Json denied = review("u2", w.reg.host() + "/models/unsigned:v1");
  CHECK(denied["allowed"] == false);
  CHECK_MESSAGE(denied["status"]["message"].get<std::string>().find("no attestations found") != std::string::npos,
                denied.dump());
}
