// reasonCode in `check -o json` and `verify -o json` (docs/decision-rules.md#reason-codes):
// a table of references that must fail, each with the one code that says
// why, beside the ones that pass; against a real registry.
#include <doctest/doctest.h>

#include "tests/integration/cli_check_env.h"

using namespace provgate;
using namespace provgate::testing;

TEST_CASE("check -o json: every reference decision carries the reasonCode of the rule that decided it") {
  CheckEnv env;
  const std::string chains = R"({"builder":{"id":")" + std::string(kChainsBuilder) + R"("}})";
  std::string pol = env.WritePolicies(
      "prod.yaml", {PolicySpec("production-models").Rules(BuiltByChainsRule()),
                    PolicySpec("down-registry").References("127.0.0.1:1/models/**")});
  env.PushTrusted("trusted");
  env.Push("unsigned");
  env.Push("other-signer");
  env.Sign("other-signer", "other");
  env.Push("no-attestation");
  env.Sign("no-attestation");
  env.Push("slsa-v1");
  env.Sign("slsa-v1");
  env.Attest("slsa-v1", chains, "https://slsa.dev/provenance/v1");
  env.Push("wrong-builder");
  env.Sign("wrong-builder");
  env.Attest("wrong-builder", R"({"builder":{"id":"x"}})");

  struct Row {
    std::string ref;
    std::string decision, code;
    std::string policy_code;  // of the first policy; "" when none matched
  };
  const Row must_fail[] = {
      {env.Ref("unsigned"), "deny", "no-signature", "no-signature"},
      {env.Ref("other-signer"), "deny", "untrusted-signer", "untrusted-signer"},
      {env.Ref("no-attestation"), "deny", "no-attestation", "no-attestation"},
      {env.Ref("slsa-v1"), "deny", "predicate-type-mismatch", "predicate-type-mismatch"},
      {env.Ref("wrong-builder"), "deny", "condition-failed", "condition-failed"},
      {env.Ref("trusted", "v404"), "deny", "not-found", "not-found"},
      {"127.0.0.1:1/models/down:v1", "deny", "registry-unavailable", "registry-unavailable"},
      {"Registry.Example.com/UPPER:case:bad", "deny", "invalid-reference", ""},
  };
  const Row must_pass[] = {
      {env.Ref("trusted"), "allow", "passed", ""},
      {"registry.example.com/elsewhere/model:v1", "unmatched", "unmatched", ""},
  };
  auto check = [&](const Row& row) {
    CAPTURE(row.ref);
    std::string m = env.WriteManifest("codes.yaml", CheckEnv::PodYaml("p", "serving", row.ref));
    auto r = env.Run("check -f " + m + " --policies " + pol + " -o json --timeout 10");
    REQUIRE_MESSAGE(r.json.is_object(), r.out << r.err);
    Json ref = ModelRef(r.json);
    CHECK(ref["decision"] == row.decision);
    CHECK_MESSAGE(ref["reasonCode"] == row.code, ref.dump());
    if (row.policy_code.empty()) {
      for (const auto& p : ref["policies"]) CHECK_FALSE(p.contains("reasonCode"));  // passed policies carry none
    } else {
      REQUIRE(ref["policies"].size() >= 1);
      CHECK(ref["policies"][0]["reasonCode"] == row.policy_code);
      // The readable reason is still there, beside the code.
      CHECK_FALSE(ref["policies"][0]["reasons"].empty());
    }
  };
  for (const auto& row : must_fail) check(row);
  for (const auto& row : must_pass) check(row);

  SUBCASE("warn mode: the warn policy's code, not passed") {
    std::string warn = env.WritePolicies("warn.yaml", {PolicySpec("advisory").Mode("warn")});
    auto r = env.CheckPod("unsigned", warn);
    CHECK(r.exit_code == 0);
    Json ref = ModelRef(r.json);
    CHECK(ref["decision"] == "warn");
    CHECK(ref["reasonCode"] == "no-signature");
  }
  SUBCASE("verify --policies -o json: the same codes") {
    auto denied = env.Run("verify " + env.Ref("wrong-builder") + " --policies " + pol + " -o json");
    CHECK(denied.exit_code == 1);
    CHECK(denied.json["decision"] == "deny");
    CHECK(denied.json["reasonCode"] == "condition-failed");
    CHECK(denied.json["policies"][0]["reasonCode"] == "condition-failed");
    auto allowed = env.Run("verify " + env.Ref("trusted") + " --policies " + pol + " -o json");
    CHECK(allowed.exit_code == 0);
    CHECK(allowed.json["reasonCode"] == "passed");
    auto unmatched = env.Run("verify registry.example.com/elsewhere/model:v1 --policies " + pol + " -o json");
    CHECK(unmatched.exit_code == 0);
    CHECK_MESSAGE(unmatched.json["reasonCode"] == "unmatched", unmatched.out);
    CHECK(unmatched.json["decision"] == "unmatched");
    // As for check: denied (fail closed), but the registry could not be
    // asked, so no decision was made: exit 2, not 1.
    auto down = env.Run("verify 127.0.0.1:1/models/down:v1 --policies " + pol + " -o json --timeout 10");
    CHECK_MESSAGE(down.exit_code == 2, down.out << down.err);
    CHECK(down.json["decision"] == "deny");
    CHECK(down.json["reasonCode"] == "registry-unavailable");
    CHECK(Contains(down.err, "without a decision"));
    auto text = env.Run("verify 127.0.0.1:1/models/down:v1 --policies " + pol + " --timeout 10");
    CHECK(text.exit_code == 2);
  }
  SUBCASE("verify --key -o json: no-signature, untrusted-signer, passed") {
    const std::string key = " --key " + env.dir.File("release.pub") + " -o json";
    CHECK(env.Run("verify " + env.Ref("unsigned") + key).json["reasonCode"] == "no-signature");
    CHECK(env.Run("verify " + env.Ref("other-signer") + key).json["reasonCode"] == "untrusted-signer");
    CHECK(env.Run("verify " + env.Ref("trusted") + key).json["reasonCode"] == "passed");
  }
}
