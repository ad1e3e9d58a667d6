// `provgate keygen/push/sign/attest/verify` end to end through the binary,
// and every tampered variant refused with a reason that says what was wrong.
#include <doctest/doctest.h>

#include "base/json_util.h"
#include "tests/integration/test_registry.h"
#include "verifier/registry/curl_transport.h"
#include "verifier/registry/fetch_artifact.h"
#include "verifier/registry/registry_client.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

struct Cli {
  const TestRegistry& reg;
  CommandResult Run(const std::string& args, bool registry = true) const {
    std::string cmd = std::string(PROVGATE_BINARY) + " " + args;
    if (registry) cmd += " --registry-config " + reg.config_file();
    return RunCommand(cmd + " 2>&1");
  }
};

void Copy(const TestRegistry& reg, const std::string& repo, const std::string& from_tag, const std::string& to_tag) {
  CurlTransport t;
  auto cfg = RegistryConfig::Load(reg.config_file());
  RegistryClient c(&t, std::make_shared<RegistryConfig>(*cfg));
  auto ref = *ParseReference(reg.host() + "/" + repo);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto m = c.GetManifest(ref, from_tag, deadline);
  REQUIRE(m.ok());
  REQUIRE(c.PushManifest(ref, to_tag, m->content_type, m->bytes, deadline).ok());
}

}  // namespace

TEST_CASE("provgate CLI: verify a pushed, signed, attested model and refuse tampered variants") {
  TestRegistry reg;
  TempDir dir;
  Cli cli{reg};
  REQUIRE(cli.Run("keygen " + dir.File("release"), false).exit_code == 0);
  REQUIRE(cli.Run("keygen " + dir.File("other"), false).exit_code == 0);
  WriteFile(dir.File("model.bin"), "weights");
  WriteFile(dir.File("md.json"), R"({"name":"mnist","customProperties":{"accuracy":0.97}})");
  WriteFile(dir.File("pred.json"), R"({"builder":{"id":"https://tekton.dev/chains/v2"}})");
  std::string a = reg.host() + "/models/mnist:a", b = reg.host() + "/models/mnist:b";

  auto push = cli.Run("push " + dir.File("model.bin") + " " + a + " --metadata " + dir.File("md.json"));
  REQUIRE_MESSAGE(push.exit_code == 0, push.output);
  std::string digest_a = push.output.substr(0, push.output.find('\n'));
  CHECK(ValidateDigest(digest_a).ok());
  REQUIRE(cli.Run("sign " + a + " --key " + dir.File("release.key")).exit_code == 0);
  REQUIRE(cli.Run("attest " + a + " --key " + dir.File("release.key") + " --predicate " + dir.File("pred.json") +
                  " --type https://slsa.dev/provenance/v0.2").exit_code == 0);

  SUBCASE("verified with the right key") {
    auto v = cli.Run("verify " + a + " --key " + dir.File("release.pub"));
    CHECK_MESSAGE(v.exit_code == 0, v.output);
    CHECK(v.output.find("result:     verified") != std::string::npos);
    CHECK(v.output.find("[cosign-att-tag]  https://slsa.dev/provenance/v0.2  verified") != std::string::npos);
    CHECK(v.output.find("digest:     " + digest_a) != std::string::npos);
    auto j = cli.Run("verify oci://" + a + " --key " + dir.File("release.pub") + " -o json");
    REQUIRE(j.exit_code == 0);
    auto doc = ParseJson(j.output, "output");
    REQUIRE_MESSAGE(doc.ok(), j.output);
    CHECK((*doc)["digest"] == digest_a);
    CHECK((*doc)["verified"] == true);
    CHECK((*doc)["attestations"][0]["predicateType"] == "https://slsa.dev/provenance/v0.2");
  }
  SUBCASE("an untrusted key") {
    auto v = cli.Run("verify " + a + " --key " + dir.File("other.pub"));
    CHECK(v.exit_code == 1);
    CHECK(v.output.find("does not verify with any trusted key") != std::string::npos);
    CHECK(v.output.find("NOT verified") != std::string::npos);
  }
  SUBCASE("an unsigned artifact") {
    REQUIRE(cli.Run("push " + dir.File("md.json") + " " + b).exit_code == 0);
    auto v = cli.Run("verify " + b + " --key " + dir.File("release.pub"));
    CHECK(v.exit_code == 1);
    CHECK(v.output.find("signatures: 0") != std::string::npos);
  }
  SUBCASE("a signature and attestation copied from another artifact") {
    auto pb = cli.Run("push " + dir.File("md.json") + " " + b);
    REQUIRE(pb.exit_code == 0);
    std::string digest_b = pb.output.substr(0, pb.output.find('\n'));
    Copy(reg, "models/mnist", AttachmentTag(digest_a, "sig"), AttachmentTag(digest_b, "sig"));
    Copy(reg, "models/mnist", AttachmentTag(digest_a, "att"), AttachmentTag(digest_b, "att"));
    auto v = cli.Run("verify " + b + " --key " + dir.File("release.pub"));
    CHECK(v.exit_code == 1);
    CHECK_MESSAGE(v.output.find("payload is for digest " + digest_a + ", not the artifact's " + digest_b) !=
                      std::string::npos,
                  v.output);
    CHECK(v.output.find("statement has no subject with digest " + digest_b) != std::string::npos);
  }
  SUBCASE("stored manifest bytes changed") {
    std::string hex = digest_a.substr(7);
    std::string path = reg.storage() + "/docker/registry/v2/blobs/sha256/" + hex.substr(0, 2) + "/" + hex + "/data";
    std::string bytes = ReadFile(path);
    bytes.replace(bytes.find("mnist"), 5, "mnisT");
    WriteFile(path, bytes);
    auto v = cli.Run("verify " + reg.host() + "/models/mnist@" + digest_a + " --key " + dir.File("release.pub"));
    CHECK(v.exit_code == 2);
    CHECK(v.output.find("content has digest") != std::string::npos);
  }
  SUBCASE("input errors exit 2 with a reason") {
    auto bad_ref = cli.Run("verify 'Bad Ref' --key " + dir.File("release.pub"));
    CHECK(bad_ref.exit_code == 2);
    CHECK(bad_ref.output.find("invalid reference") != std::string::npos);
    auto no_key = cli.Run("verify " + a + " --key " + dir.File("absent.pub"));
    CHECK(no_key.exit_code == 2);
    CHECK(no_key.output.find("cannot read") != std::string::npos);
    auto not_key = cli.Run("verify " + a + " --key " + dir.File("md.json"));
    CHECK(not_key.exit_code == 2);
    CHECK(not_key.output.find("no PEM block") != std::string::npos);
    // Not an input error: nothing is there to verify, a decided failure.
    auto missing = cli.Run("verify " + reg.host() + "/models/absent:v1 --key " + dir.File("release.pub"));
    CHECK(missing.exit_code == 1);
    CHECK(missing.output.find("not-found") != std::string::npos);
    auto usage = cli.Run("verify", false);
    CHECK(usage.exit_code == 2);
    auto bad_flag = cli.Run("sign " + a + " --no-such-flag", false);
    CHECK(bad_flag.exit_code == 2);
  }
}

TEST_CASE("provgate sign reads cosign encrypted keys with the password from the environment") {
  // Encrypted key fixture from tektoncd/chains (see tests/testdata/independent).
  std::string key = TestData("independent/tekton-chains-cosign-key/cosign.key");
  std::string pub = TestData("independent/tekton-chains-cosign-key/cosign.pub");
  std::string password = TestData("independent/tekton-chains-cosign-key/cosign.password");
  TestRegistry reg;
  TempDir dir;
  Cli cli{reg};
  WriteFile(dir.File("m.bin"), "w");
  std::string ref = reg.host() + "/models/enc:v1";
  REQUIRE(cli.Run("push " + dir.File("m.bin") + " " + ref).exit_code == 0);
  auto wrong = RunCommand("COSIGN_PASSWORD=wrong " + std::string(PROVGATE_BINARY) + " sign " + ref + " --key " + key +
                          " --registry-config " + reg.config_file() + " 2>&1");
  CHECK(wrong.exit_code == 2);
  CHECK(wrong.output.find("wrong password") != std::string::npos);
  auto signed_ok = RunCommand("COSIGN_PASSWORD=\"$(cat " + password + ")\" " + std::string(PROVGATE_BINARY) +
                              " sign " + ref + " --key " + key + " --registry-config " + reg.config_file() + " 2>&1");
  REQUIRE_MESSAGE(signed_ok.exit_code == 0, signed_ok.output);
  auto v = cli.Run("verify " + ref + " --key " + pub);
  CHECK_MESSAGE(v.exit_code == 0, v.output);
}
