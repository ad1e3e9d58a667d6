// `--oci-layout DIR` end to end: the same models pushed, signed and attested
// with the provgate binary into a real registry on loopback and into an OCI
// image layout; `check` and `verify` against the layout, with the registry
// stopped, decide exactly as against the registry. Tampered and malformed
// layouts fail the way docs/cli.md says.
#include <doctest/doctest.h>

#include <filesystem>
#include <regex>

#include "tests/integration/cli_check_env.h"
#include "verifier/reference.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

// Publishes models into the registry ("" suffix) or the layout.
void Publish(CheckEnv& env, const std::string& suffix) {
  auto run = [&](const std::string& args) {
    auto r = env.Run(args + suffix);
    REQUIRE_MESSAGE(r.exit_code == 0, args << suffix << ": " << r.err);
  };
  const std::string chains = R"({"builder":{"id":")" + std::string(kChainsBuilder) + R"("}})";
  WriteFile(env.dir.File("chains.json"), chains);
  WriteFile(env.dir.File("md.json"), R"({"name":"m","customProperties":{"accuracy":0.97}})");
  for (const char* name : {"trusted", "unsigned", "other-signer"}) {
    WriteFile(env.dir.File(std::string(name) + ".bin"), std::string("weights of ") + name);
    run("push " + env.dir.File(std::string(name) + ".bin") + " " + env.Ref(name) + " --metadata " +
        env.dir.File("md.json"));
  }
  run("sign " + env.Ref("trusted") + " --key " + env.dir.File("release.key"));
  run("attest " + env.Ref("trusted") + " --key " + env.dir.File("release.key") + " --predicate " +
      env.dir.File("chains.json") + " --type " + kSlsaV02);
  run("sign " + env.Ref("other-signer") + " --key " + env.dir.File("other.key"));
}

// `j` with attestation layer digests masked: ECDSA signing is randomised,
// so the same statement signed twice is two DSSE blobs; everything else
// (model digests, reasons, decisions) must be equal.
Json MaskAttestationDigests(Json j) {
  static const std::regex kSatisfiedBy("satisfied by sha256:[0-9a-f]{64}");
  if (j.is_string()) return std::regex_replace(j.get<std::string>(), kSatisfiedBy, "satisfied by sha256:...");
  if (j.is_array() || j.is_object()) {
    for (auto& v : j) v = MaskAttestationDigests(v);
  }
  return j;
}

// The decisions of a `check -o json` document, attestation digests masked.
Json Decisions(const Json& out) {
  Json d = Json::array();
  for (const auto& o : out["objects"]) {
    for (const auto& r : o["references"]) {
      Json row = {{"object", o["name"]}, {"field", r["field"]}, {"decision", r["decision"]},
                  {"digest", r.value("digest", "")}, {"policies", r["policies"]}};
      d.push_back(MaskAttestationDigests(row));
    }
  }
  return d;
}

std::string Layout(const CheckEnv& env) { return env.dir.File("layout"); }

}  // namespace

TEST_CASE("oci-layout: check and verify offline decide as against the registry") {
  CheckEnv env;
  Publish(env, "");
  Publish(env, " --oci-layout " + Layout(env));

  // The layout: the spec's files, and full references as ref.name.
  CHECK(ReadFile(Layout(env) + "/oci-layout") == R"({"imageLayoutVersion":"1.0.0"})");
  auto index = ParseJson(ReadFile(Layout(env) + "/index.json"), "index.json");
  REQUIRE(index.ok());
  std::vector<std::string> names;
  for (const auto& m : (*index)["manifests"]) {
    CHECK(std::filesystem::exists(Layout(env) + "/blobs/sha256/" + m["digest"].get<std::string>().substr(7)));
    names.push_back(m["annotations"]["org.opencontainers.image.ref.name"]);
  }
  CHECK(std::find(names.begin(), names.end(), env.Ref("trusted")) != names.end());
  CHECK(std::count_if(names.begin(), names.end(), [](const std::string& n) { return Contains(n, ".sig"); }) == 2);

  std::string pol = env.WritePolicies(
      "prod.yaml", {PolicySpec("production-models").Rules(BuiltByChainsRule()),
                    PolicySpec("accuracy").Mode("warn").Rules(
                        "  metadata:\n    conditions:\n      path: config.customProperties.accuracy\n"
                        "      greaterOrEqual: 0.99\n")});
  std::string pods;
  for (const char* name : {"trusted", "unsigned", "other-signer"}) {
    pods += CheckEnv::PodYaml(name, "serving", env.Ref(name)) + "---\n";
  }
  pods += CheckEnv::PodYaml("missing", "serving", env.Ref("trusted", "v404"));
  std::string m = env.WriteManifest("pods.yaml", pods);

  auto online = env.Run("check -f " + m + " --policies " + pol + " -o json");
  auto online_verify = env.Run("verify " + env.Ref("trusted") + " --key " + env.dir.File("release.pub") + " -o json");
  auto online_unsigned = env.Run("verify " + env.Ref("unsigned") + " --key " + env.dir.File("release.pub"));
  auto online_policies = env.Run("verify " + env.Ref("trusted") + " --policies " + pol + " --namespace serving -o json");
  env.reg.Stop();  // from here on, only the layout can answer

  const std::string offline_flag = " --oci-layout " + Layout(env);
  auto offline = env.Run("check -f " + m + " --policies " + pol + " -o json" + offline_flag);
  CHECK(online.exit_code == 1);
  CHECK_MESSAGE(offline.exit_code == online.exit_code, offline.out << offline.err);
  REQUIRE(offline.json.is_object());
  CHECK(offline.json["allowed"] == online.json["allowed"]);
  CHECK_MESSAGE(Decisions(offline.json) == Decisions(online.json),
                Decisions(offline.json).dump(1) << "\nvs\n" << Decisions(online.json).dump(1));
  CHECK(RefAt(offline.json, "spec.volumes[0].image.reference", 0)["decision"] == "warn");
  CHECK(RefAt(offline.json, "spec.volumes[0].image.reference", 1)["decision"] == "deny");
  CHECK(Reasons(RefAt(offline.json, "spec.volumes[0].image.reference", 3)).rfind("not-found: ", 0) == 0);

  auto offline_verify =
      env.Run("verify " + env.Ref("trusted") + " --key " + env.dir.File("release.pub") + " -o json" + offline_flag);
  CHECK(online_verify.exit_code == 0);
  CHECK_MESSAGE(offline_verify.exit_code == 0, offline_verify.err);
  CHECK(offline_verify.json["digest"] == online_verify.json["digest"]);
  CHECK(offline_verify.json["signedBy"] == online_verify.json["signedBy"]);
  CHECK(offline_verify.json["attestations"].size() == online_verify.json["attestations"].size());

  auto offline_unsigned = env.Run("verify " + env.Ref("unsigned") + " --key " + env.dir.File("release.pub") + offline_flag);
  CHECK(online_unsigned.exit_code == 1);
  CHECK(offline_unsigned.exit_code == 1);

  auto offline_policies =
      env.Run("verify " + env.Ref("trusted") + " --policies " + pol + " --namespace serving -o json" + offline_flag);
  CHECK(offline_policies.exit_code == online_policies.exit_code);
  CHECK(offline_policies.json["decision"] == online_policies.json["decision"]);
  CHECK(MaskAttestationDigests(offline_policies.json["policies"]) ==
        MaskAttestationDigests(online_policies.json["policies"]));

  // Without the layout the stopped registry cannot answer: exit 2.
  CHECK(env.Run("check -f " + m + " --policies " + pol + " -o json --timeout 5").exit_code == 2);
}

TEST_CASE("oci-layout: a tampered blob fails with a digest mismatch") {
  CheckEnv env;
  Publish(env, " --oci-layout " + Layout(env));
  std::string pol = env.WritePolicies("prod.yaml", {PolicySpec("production-models")});
  std::string m = env.WriteManifest("pod.yaml", CheckEnv::PodYaml("p", "serving", env.Ref("trusted")));
  const std::string run = "check -f " + m + " --policies " + pol + " -o json --oci-layout " + Layout(env);
  REQUIRE(env.Run(run).exit_code == 0);

  auto index = ParseJson(ReadFile(Layout(env) + "/index.json"), "index.json");
  REQUIRE(index.ok());
  std::string digest;
  for (const auto& e : (*index)["manifests"]) {
    if (e["annotations"]["org.opencontainers.image.ref.name"] == env.Ref("trusted")) digest = e["digest"];
  }
  REQUIRE(!digest.empty());
  const std::string blob = Layout(env) + "/blobs/sha256/" + digest.substr(7);
  std::string bytes = ReadFile(blob);
  bytes[bytes.find("x-mlmodel")] = 'X';  // same size, other content
  WriteFile(blob, bytes);

  auto r = env.Run(run);
  CHECK_MESSAGE(r.exit_code == 2, r.out << r.err);  // no decision: the content is not what was named
  Json ref = ModelRef(r.json);
  CHECK(ref["decision"] == "deny");
  CHECK_MESSAGE(Contains(Reasons(ref), "digest-mismatch"), Reasons(ref));
}

TEST_CASE("oci-layout: a malformed layout is an input error naming the file") {
  CheckEnv env;
  Publish(env, " --oci-layout " + Layout(env));
  std::string pol = env.WritePolicies("prod.yaml", {PolicySpec("production-models")});
  std::string m = env.WriteManifest("pod.yaml", CheckEnv::PodYaml("p", "serving", env.Ref("trusted")));
  const std::string good_index = ReadFile(Layout(env) + "/index.json");
  const std::string d = "sha256:" + std::string(64, 'a');
  struct Row {
    const char* name;
    std::string file;  // relative to the layout
    std::string text;
    std::string error;
  };
  const Row rows[] = {
      {"not JSON", "index.json", "{\"schemaVersion\": 2, ", "index.json"},
      {"manifests not an array", "index.json", R"({"schemaVersion":2,"manifests":{}})", "manifests must be an array"},
      {"schemaVersion", "index.json", R"({"schemaVersion":1,"manifests":[]})", "schemaVersion must be 2"},
      {"a bad digest", "index.json",
       R"({"schemaVersion":2,"manifests":[{"mediaType":"x","size":1,"digest":"sha256:zz"}]})", "manifests[0].digest"},
      {"a bare tag", "index.json",
       R"({"schemaVersion":2,"manifests":[{"mediaType":"x","size":1,"digest":")" + d +
           R"(","annotations":{"org.opencontainers.image.ref.name":"v1"}}]})",
       "is not a full reference host/repo:tag"},
      {"a name twice", "index.json",
       R"({"schemaVersion":2,"manifests":[{"mediaType":"x","size":1,"digest":")" + d +
           R"(","annotations":{"org.opencontainers.image.ref.name":"r.io/m:v1"}},{"mediaType":"x","size":1,"digest":")" +
           d + R"(","annotations":{"org.opencontainers.image.ref.name":"r.io/m:v1"}}]})",
       "named twice"},
      {"another layout version", "oci-layout", R"({"imageLayoutVersion":"2.0.0"})", "imageLayoutVersion"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    const std::string saved = ReadFile(Layout(env) + "/" + row.file);
    WriteFile(Layout(env) + "/" + row.file, row.text);
    for (const std::string& cmd :
         {"check -f " + m + " --policies " + pol, "verify " + env.Ref("trusted") + " --key " + env.dir.File("release.pub"),
          "sign " + env.Ref("trusted") + " --key " + env.dir.File("release.key")}) {
      CAPTURE(cmd);
      auto r = env.Run(cmd + " --oci-layout " + Layout(env));
      CHECK(r.exit_code == 2);
      CHECK_MESSAGE(Contains(r.err, row.error), r.err);
      CHECK_MESSAGE(Contains(r.err, row.file), r.err);
    }
    WriteFile(Layout(env) + "/" + row.file, saved);
  }
  CHECK(ReadFile(Layout(env) + "/index.json") == good_index);  // no failed command wrote it
  // A directory that is no layout: check and verify refuse it; only push creates one.
  auto absent = env.Run("check -f " + m + " --policies " + pol + " --oci-layout " + env.dir.File("nowhere"));
  CHECK(absent.exit_code == 2);
  CHECK(Contains(absent.err, "nowhere"));
  CHECK_FALSE(std::filesystem::exists(env.dir.File("nowhere")));
}
