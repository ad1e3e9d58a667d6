// `provgate check` end to end against a real registry on loopback: the
// decision rules of docs/decision-rules.md as a serving team sees them, in
// text and in the `-o json` document of docs/cli.md.
#include <doctest/doctest.h>

#include "tests/integration/cli_check_env.h"
#include "verifier/reference.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

// Asserts the shape of a `check -o json` document (docs/cli.md), recursively.
void CheckJsonShape(const Json& out) {
  REQUIRE(out.is_object());
  CHECK(out["allowed"].is_boolean());
  REQUIRE(out["objects"].is_array());
  for (const auto& o : out["objects"]) {
    for (const char* k : {"kind", "namespace", "name"}) CHECK_MESSAGE(o[k].is_string(), k);
    CHECK(o["allowed"].is_boolean());
    REQUIRE(o["warnings"].is_array());
    for (const auto& w : o["warnings"]) CHECK(w.is_string());
    REQUIRE(o["references"].is_array());
    for (const auto& r : o["references"]) {
      CHECK(r["reference"].is_string());
      CHECK(r["source"].is_string());
      const std::string source = r["source"].get<std::string>();
      CHECK((source == "container" || source == "image-volume" || source == "storage-uri"));
      const std::string decision = r["decision"].get<std::string>();
      CHECK((decision == "allow" || decision == "deny" || decision == "warn" || decision == "audit" ||
             decision == "unmatched"));
      if (r.contains("digest")) CHECK(ValidateDigest(r["digest"].get<std::string>()).ok());
      REQUIRE(r["policies"].is_array());
      for (const auto& p : r["policies"]) {
        CHECK(p["name"].is_string());
        CHECK(p["mode"].is_string());
        CHECK(p["passed"].is_boolean());
        REQUIRE(p["reasons"].is_array());
        for (const auto& reason : p["reasons"]) CHECK(reason.is_string());
      }
    }
  }
}

}  // namespace

TEST_CASE("check: a signed, attested model is allowed; JSON and text say so") {
  CheckEnv env;
  std::string digest = env.PushTrusted("mnist");
  std::string pol = env.WritePolicies("prod.yaml", {PolicySpec("production-models").Rules(BuiltByChainsRule())});

  auto r = env.CheckPod("mnist", pol);
  REQUIRE_MESSAGE(r.exit_code == 0, r.out << r.err);
  CheckJsonShape(r.json);
  CHECK(r.json["allowed"] == true);
  REQUIRE(r.json["objects"].size() == 1);
  const Json& obj = r.json["objects"][0];
  CHECK(obj["kind"] == "Pod");
  CHECK(obj["namespace"] == "serving");
  CHECK(obj["name"] == "predictor");
  CHECK(obj["allowed"] == true);
  CHECK(obj["warnings"].empty());

  // The serving runtime: matched by no policy, never fetched.
  Json runtime = RefAt(r.json, "spec.containers[0].image");
  CHECK(runtime["decision"] == "unmatched");
  CHECK(runtime["source"] == "container");
  CHECK_FALSE(runtime.contains("digest"));
  CHECK(runtime["policies"].empty());

  Json model = ModelRef(r.json);
  CHECK(model["reference"] == env.Ref("mnist"));
  CHECK(model["source"] == "image-volume");
  CHECK(model["digest"] == digest);
  CHECK(model["decision"] == "allow");
  REQUIRE(model["policies"].size() == 1);
  CHECK(model["policies"][0]["name"] == "production-models");
  CHECK(model["policies"][0]["mode"] == "enforce");
  CHECK(model["policies"][0]["passed"] == true);

  auto text = env.Run("check -f " + env.dir.File("pod-mnist.yaml") + " --policies " + pol);
  CHECK(text.exit_code == 0);
  CHECK_MESSAGE(Contains(text.out, "ALLOW     Pod serving/predictor spec.volumes[0].image.reference " + env.Ref("mnist") +
                                       "@" + digest + ": production-models (enforce): passed"),
                text.out);
  CHECK(Contains(text.out, "UNMATCHED Pod serving/predictor spec.containers[0].image registry.example.com/runtime:v1"));
}

TEST_CASE("check: trust failures deny, each with the reason that names what is missing") {
  CheckEnv env;
  std::string pol = env.WritePolicies("prod.yaml", {PolicySpec("production-models").Rules(BuiltByChainsRule())});
  const std::string chains = R"({"builder":{"id":")" + std::string(kChainsBuilder) + R"("}})";

  env.Push("unsigned");

  env.Push("untrusted");
  env.Sign("untrusted", "other");
  env.Attest("untrusted", chains, kSlsaV02, "other");

  env.Push("slsa-v1");
  env.Sign("slsa-v1");
  env.Attest("slsa-v1", chains, "https://slsa.dev/provenance/v1");

  env.Push("wrong-builder");
  env.Sign("wrong-builder");
  env.Attest("wrong-builder", R"({"builder":{"id":"x"}})");

  struct Row {
    const char* model;
    std::vector<std::string> reasons;
  };
  Row rows[] = {
      {"unsigned", {"signatures: 0 of required 1 authorities signed", "no signatures found",
                    "attestation built-by-chains: no attestations found"}},
      {"untrusted", {"signatures: 0 of required 1 authorities signed", "release: no valid signature"}},
      {"slsa-v1",
       {R"(attestation built-by-chains: no attestation with predicateType "https://slsa.dev/provenance/v0.2")",
        R"(found "https://slsa.dev/provenance/v1")"}},
      {"wrong-builder",
       {R"(attestation built-by-chains: predicate.builder.id is "x", expected "https://tekton.dev/chains/v2")"}},
  };
  for (const auto& row : rows) {
    const std::string model = row.model;
    CAPTURE(model);
    auto r = env.CheckPod(model, pol);
    CHECK(r.exit_code == 1);
    CheckJsonShape(r.json);
    CHECK(r.json["allowed"] == false);
    CHECK(r.json["objects"][0]["allowed"] == false);
    Json ref = ModelRef(r.json);
    CHECK(ref["decision"] == "deny");
    CHECK(ValidateDigest(ref["digest"].get<std::string>()).ok());  // resolved, then refused
    REQUIRE(ref["policies"].size() == 1);
    CHECK(ref["policies"][0]["passed"] == false);
    for (const auto& reason : row.reasons) CHECK_MESSAGE(Contains(Reasons(ref), reason), Reasons(ref));
  }

  // The text form: one DENY line per failing reference, with the reason.
  auto text = env.Run("check -f " + env.dir.File("pod-wrong-builder.yaml") + " --policies " + pol);
  CHECK(text.exit_code == 1);
  CHECK_MESSAGE(Contains(text.out, "DENY      Pod serving/predictor spec.volumes[0].image.reference " +
                                       env.Ref("wrong-builder") + "@sha256:"),
                text.out);
  CHECK(Contains(text.out, R"(production-models (enforce): attestation built-by-chains: predicate.builder.id is "x")"));
}

TEST_CASE("check: metadata below the threshold is denied, in config and +json annotation form") {
  CheckEnv env;
  env.Push("accurate", R"({"name":"a","customProperties":{"accuracy":0.97}})");
  env.Sign("accurate");
  env.Push("sloppy", R"({"name":"s","customProperties":{"accuracy":0.9}})");
  env.Sign("sloppy");
  env.Push("no-metrics", R"({"name":"n"})");
  env.Sign("no-metrics");

  for (const std::string form : {"config", "annotations"}) {
    CAPTURE(form);
    std::string path = form + ".customProperties.accuracy";
    std::string pol = env.WritePolicies(
        form + ".yaml", {PolicySpec("accuracy-gate")
                              .Rules("  metadata:\n    conditions:\n      path: " + path + "\n      greaterOrEqual: 0.95\n")});
    auto ok = env.CheckPod("accurate", pol);
    CHECK_MESSAGE(ok.exit_code == 0, ok.out << ok.err);
    CHECK(ModelRef(ok.json)["decision"] == "allow");

    auto low = env.CheckPod("sloppy", pol);
    CHECK(low.exit_code == 1);
    Json ref = ModelRef(low.json);
    CHECK(ref["decision"] == "deny");
    CHECK_MESSAGE(Contains(Reasons(ref), "metadata: " + path + " is 0.9, expected >= 0.95"), Reasons(ref));

    auto missing = env.CheckPod("no-metrics", pol);
    CHECK(missing.exit_code == 1);
    CHECK_MESSAGE(Contains(Reasons(ModelRef(missing.json)), "metadata: " + path + " is missing, expected >= 0.95"),
                  Reasons(ModelRef(missing.json)));
  }
}

TEST_CASE("check: modes, AND across policies, and require-N authorities") {
  CheckEnv env;
  env.Push("unsigned");
  env.PushTrusted("trusted");
  env.Push("one-signer");
  env.Sign("one-signer", "release");

  SUBCASE("warn: allowed, exit 0, with a warning naming the policy") {
    std::string pol = env.WritePolicies("warn.yaml", {PolicySpec("rollout").Mode("warn")});
    auto r = env.CheckPod("unsigned", pol);
    CHECK_MESSAGE(r.exit_code == 0, r.out << r.err);
    CHECK(r.json["allowed"] == true);
    Json ref = ModelRef(r.json);
    CHECK(ref["decision"] == "warn");
    CHECK(ref["policies"][0]["mode"] == "warn");
    CHECK(ref["policies"][0]["passed"] == false);
    const Json& warnings = r.json["objects"][0]["warnings"];
    REQUIRE(warnings.size() == 1);
    std::string w = warnings[0].get<std::string>();
    CHECK(Contains(w, "spec.volumes[0].image.reference"));
    CHECK(Contains(w, "policy rollout"));
    CHECK(Contains(w, "signatures: 0 of required 1"));
    CHECK(w.size() < 256);

    auto text = env.Run("check -f " + env.dir.File("pod-unsigned.yaml") + " --policies " + pol);
    CHECK(text.exit_code == 0);
    CHECK(Contains(text.out, "WARN      Pod serving/predictor spec.volumes[0].image.reference"));
    CHECK(Contains(text.out, "warning: provgate: spec.volumes[0].image.reference"));
  }
  SUBCASE("audit: allowed without a warning") {
    std::string pol = env.WritePolicies("audit.yaml", {PolicySpec("observe").Mode("audit")});
    auto r = env.CheckPod("unsigned", pol);
    CHECK(r.exit_code == 0);
    CHECK(ModelRef(r.json)["decision"] == "audit");
    CHECK(r.json["objects"][0]["warnings"].empty());
  }
  SUBCASE("require 2 authorities: one signer is not enough, two are") {
    std::string pol = env.WritePolicies(
        "two.yaml", {PolicySpec("two-person").Authorities({"release", "second"}).Require(2)});
    auto r = env.CheckPod("one-signer", pol);
    CHECK(r.exit_code == 1);
    Json ref = ModelRef(r.json);
    CHECK(ref["decision"] == "deny");
    CHECK_MESSAGE(Contains(Reasons(ref), "signatures: 1 of required 2 authorities signed (second: no valid signature"),
                  Reasons(ref));
    CHECK_FALSE(Contains(Reasons(ref), "release: no valid signature"));

    env.Sign("one-signer", "second");
    auto both = env.CheckPod("one-signer", pol);
    CHECK_MESSAGE(both.exit_code == 0, both.out << both.err);
    CHECK(ModelRef(both.json)["decision"] == "allow");
  }
  SUBCASE("two matching policies are ANDed: one failing denies") {
    // Both match; the signature policy passes, the provenance policy fails.
    std::string pol = env.WritePolicies(
        "and.yaml", {PolicySpec("signed"), PolicySpec("provenance").Rules(BuiltByChainsRule())});
    auto r = env.CheckPod("one-signer", pol);
    CHECK(r.exit_code == 1);
    Json ref = ModelRef(r.json);
    CHECK(ref["decision"] == "deny");
    REQUIRE(ref["policies"].size() == 2);
    CHECK(ref["policies"][0]["name"] == "signed");
    CHECK(ref["policies"][0]["passed"] == true);
    CHECK(ref["policies"][1]["name"] == "provenance");
    CHECK(ref["policies"][1]["passed"] == false);

    auto trusted = env.CheckPod("trusted", pol);
    CHECK(trusted.exit_code == 0);
    CHECK(ModelRef(trusted.json)["policies"][1]["passed"] == true);
  }
  SUBCASE("a warn policy and an enforce policy") {
    std::string pol = env.WritePolicies(
        "mixed.yaml", {PolicySpec("enforced-signature"), PolicySpec("soft-provenance").Mode("warn").Rules(BuiltByChainsRule())});
    // Enforce passes, warn fails: allowed with a warning.
    auto soft = env.CheckPod("one-signer", pol);
    CHECK_MESSAGE(soft.exit_code == 0, soft.out << soft.err);
    CHECK(ModelRef(soft.json)["decision"] == "warn");
    REQUIRE(soft.json["objects"][0]["warnings"].size() == 1);
    CHECK(Contains(soft.json["objects"][0]["warnings"][0].get<std::string>(), "policy soft-provenance"));
    // Both fail: denied, and the warn policy still warns.
    auto hard = env.CheckPod("unsigned", pol);
    CHECK(hard.exit_code == 1);
    CHECK(ModelRef(hard.json)["decision"] == "deny");
    REQUIRE(hard.json["objects"][0]["warnings"].size() == 1);
    CHECK(Contains(hard.json["objects"][0]["warnings"][0].get<std::string>(), "policy soft-provenance"));
  }
}

// Issue 9's fail-open: a policy written with another spelling of the
// registry host (upper case, a zero-padded port) governed nothing, so the
// unsigned model walked past it as unmatched under --unmatched allow. The
// host is spelt one way on both sides now: each spelling denies.
TEST_CASE("check: a policy governs its registry whatever spelling of the host it or the pod uses") {
  CheckEnv env;
  env.Push("unsigned");
  const std::string host = env.reg.host();  // 127.0.0.1:PORT
  const std::string port = host.substr(host.rfind(':') + 1);
  const std::string padded = "127.0.0.1:0" + port;
  struct Row {
    std::string glob;       // the policy's reference glob
    std::string reference;  // what the pod names
  };
  const Row rows[] = {
      {padded + "/models/**", env.Ref("unsigned")},
      {host + "/models/**", padded + "/models/unsigned:v1"},
      {"127.0.0.1:00" + port + "/models/**", padded + "/models/unsigned:v1"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.glob);
    CAPTURE(row.reference);
    std::string pol = env.WritePolicies("spelling.yaml", {PolicySpec("production-models").References(row.glob)});
    std::string m = env.WriteManifest("pod-spelling.yaml", CheckEnv::PodYaml("predictor", "serving", row.reference));
    auto r = env.Run("check -f " + m + " --policies " + pol + " -o json");
    CHECK_MESSAGE(r.exit_code == 1, r.out << r.err);
    Json ref = ModelRef(r.json);
    CHECK(ref["decision"] == "deny");
    CHECK(ref["digest"].is_string());  // resolved at the registry, whatever the spelling
    CHECK_MESSAGE(Contains(Reasons(ref), "signatures: 0 of required 1 authorities signed"), Reasons(ref));
  }
}

// Exit codes (docs/cli.md#exit-codes): 1 only for a decided denial; 2 when a
// denial is only fail-closed because a registry could not be asked (the JSON
// still says deny). A decided denial anywhere makes it 1: asking again
// cannot admit that object.
TEST_CASE("check: exit 1 for decided denials, 2 when a registry could not be asked") {
  CheckEnv env;
  env.PushTrusted("trusted");
  env.Push("unsigned");
  const std::string down = "127.0.0.1:1/models/down:v1";  // nothing listens on port 1
  std::string pol = env.WritePolicies(
      "prod.yaml", {PolicySpec("production-models"), PolicySpec("down-registry").References("127.0.0.1:1/models/**")});
  struct Row {
    const char* name;
    std::vector<std::string> refs;  // one Pod each, in one manifest file
    int exit_code;
    bool allowed;
  };
  const Row rows[] = {
      {"trusted", {env.Ref("trusted")}, 0, true},
      {"unsigned: denied by the policy", {env.Ref("unsigned")}, 1, false},
      {"missing tag: not-found is a decision", {env.Ref("trusted", "v404")}, 1, false},
      {"registry down: no decision", {down}, 2, false},
      {"registry down beside a trusted model", {env.Ref("trusted"), down}, 2, false},
      {"registry down beside a decided denial", {down, env.Ref("unsigned")}, 1, false},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    std::string text;
    for (size_t i = 0; i < row.refs.size(); ++i) {
      text += (i ? "---\n" : "") + CheckEnv::PodYaml("p" + std::to_string(i), "serving", row.refs[i]);
    }
    std::string m = env.WriteManifest("exit.yaml", text);
    auto r = env.Run("check -f " + m + " --policies " + pol + " -o json --timeout 10");
    CHECK_MESSAGE(r.exit_code == row.exit_code, r.out << r.err);
    CHECK(r.json["allowed"] == row.allowed);
    for (size_t i = 0; i < row.refs.size(); ++i) {
      if (row.refs[i] != down) continue;
      Json ref = RefAt(r.json, "spec.volumes[0].image.reference", i);
      CHECK(ref["decision"] == "deny");  // fail closed, whatever the exit code
      CHECK_MESSAGE(Reasons(ref).rfind("registry-unavailable: ", 0) == 0, Reasons(ref));
    }
    if (row.exit_code == 2) CHECK_MESSAGE(Contains(r.err, "registry-unavailable"), r.err);
    auto as_text = env.Run("check -f " + m + " --policies " + pol + " --timeout 10");
    CHECK(as_text.exit_code == row.exit_code);
  }
}

// spec.requireDigest and --require-digest: a validate-only install where
// what runs is the digest verified, because the manifest names it.
TEST_CASE("check: requireDigest and --require-digest deny a tag-only reference, not a digest one") {
  CheckEnv env;
  std::string digest = env.PushTrusted("mnist");
  std::string required = env.WritePolicies(
      "required.yaml", {PolicySpec("production-models").Rules(BuiltByChainsRule() + "  requireDigest: true\n")});
  std::string plain = env.WritePolicies("plain.yaml", {PolicySpec("production-models").Rules(BuiltByChainsRule())});
  std::string pinned_pod = env.WriteManifest(
      "pod-pinned.yaml", CheckEnv::PodYaml("predictor", "serving", env.Ref("mnist") + "@" + digest));

  struct Row {
    const char* name;
    std::string policies, extra;
  };
  const std::vector<Row> must_say_no = {{"the policy's requireDigest", required, ""},
                                        {"--require-digest", plain, "--require-digest"}};
  for (const auto& row : must_say_no) {
    CAPTURE(row.name);
    auto r = env.CheckPod("mnist", row.policies, row.extra);
    CHECK_MESSAGE(r.exit_code == 1, r.out << r.err);
    Json model = ModelRef(r.json);
    CHECK(model["decision"] == "deny");
    CHECK(model["digest"] == digest);  // the signatures verify; the object does not name the digest
    REQUIRE(model["policies"].size() == 1);
    CHECK(model["policies"][0]["passed"] == false);
    CHECK(model["policies"][0]["reasons"][0] == "digest-required: the reference names a tag, not a digest; write \"" +
                                                    env.Ref("mnist") + "@" + digest + "\"");
  }
  const std::vector<Row> must_say_yes = {{"the policy's requireDigest", required, ""},
                                         {"--require-digest", plain, "--require-digest"}};
  for (const auto& row : must_say_yes) {
    CAPTURE(row.name);
    auto r = env.Run("check -f " + pinned_pod + " --policies " + row.policies + " -o json " + row.extra);
    CHECK_MESSAGE(r.exit_code == 0, r.out << r.err);
    CHECK(ModelRef(r.json)["decision"] == "allow");
  }
  // Without either, the tag is allowed as before.
  CHECK(env.CheckPod("mnist", plain).exit_code == 0);
}
