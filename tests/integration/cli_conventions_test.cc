// kubectl's and cosign's command-line conventions, through the binary:
// check -f with directories (-R) and comma lists, JSON errors under
// -o json, attest --type shorthands, `version` and `completion`.
#include <doctest/doctest.h>

#include <filesystem>
#include <set>

#include "tests/integration/cli_check_env.h"

using namespace provgate;
using namespace provgate::testing;

TEST_CASE("check -f: a directory, -R, comma lists; -o json errors are JSON") {
  CheckEnv env;
  env.PushTrusted("trusted");
  std::string pol = env.WritePolicies("prod.yaml", {PolicySpec("production-models").Rules(BuiltByChainsRule())});
  const std::string pod = CheckEnv::PodYaml("a", "serving", env.Ref("trusted"));
  std::filesystem::create_directories(env.dir.File("m/sub"));
  WriteFile(env.dir.File("m/1.yaml"), pod);
  WriteFile(env.dir.File("m/2.yml"), CheckEnv::PodYaml("b", "serving", env.Ref("trusted")));
  WriteFile(env.dir.File("m/3.json"), R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"c"},"spec":{}})");
  WriteFile(env.dir.File("m/notes.txt"), "not a manifest: {");
  WriteFile(env.dir.File("m/sub/4.yaml"), CheckEnv::PodYaml("d", "serving", env.Ref("trusted")));
  std::filesystem::create_directories(env.dir.File("empty"));

  struct Row {
    std::string f;
    std::vector<std::string> names;  // objects, in order
  };
  const Row rows[] = {
      {env.dir.File("m"), {"a", "b", "c"}},
      {env.dir.File("m") + " -R", {"a", "b", "c", "d"}},
      {env.dir.File("m/2.yml") + "," + env.dir.File("m/1.yaml"), {"b", "a"}},
      {env.dir.File("m/sub") + "," + env.dir.File("m/3.json") + " -f " + env.dir.File("m/1.yaml"), {"d", "c", "a"}},
  };
  for (const auto& row : rows) {
    CAPTURE(row.f);
    auto r = env.Run("check -f " + row.f + " --policies " + pol + " -o json");
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    REQUIRE(r.json.is_object());
    REQUIRE(r.json["objects"].size() == row.names.size());
    for (size_t i = 0; i < row.names.size(); ++i) CHECK(r.json["objects"][i]["name"] == row.names[i]);
  }

  struct Bad {
    std::string args;
    std::string error;
  };
  const Bad bad[] = {
      {"-f " + env.dir.File("empty") + " --policies " + pol, "no *.yaml, *.yml or *.json files in the directory"},
      {"-f " + env.dir.File("missing.yaml") + " --policies " + pol, "no such file or directory"},
      {"-f " + env.dir.File("m/notes.txt") + " --policies " + pol, "notes.txt"},
      {"-f " + env.dir.File("m") + " --policies " + env.dir.File("empty"), "no policies found"},
  };
  for (const auto& b : bad) {
    CAPTURE(b.args);
    auto json = env.Run("check " + b.args + " -o json");
    CHECK(json.exit_code == 2);
    REQUIRE_MESSAGE(json.json.is_object(), json.out);
    CHECK_MESSAGE(Contains(json.json["error"].get<std::string>(), b.error), json.out);
    CHECK(Contains(json.err, b.error));
    auto text = env.Run("check " + b.args);
    CHECK(text.exit_code == 2);
    CHECK(text.out.empty());
  }
  // Not there: verification failed, a decided answer (exit 1, as check).
  auto verify = env.Run("verify " + env.Ref("trusted", "v404") + " --key " + env.dir.File("release.pub") + " -o json");
  CHECK(verify.exit_code == 1);
  CHECK_MESSAGE(verify.json["reasonCode"] == "not-found", verify.out);
  CHECK(Contains(verify.json["error"].get<std::string>(), "not found"));
}

TEST_CASE("attest --type takes cosign's shorthands as the URIs cosign writes, and refuses anything else") {
  CheckEnv env;
  env.Push("m");
  env.Sign("m");
  WriteFile(env.dir.File("pred.json"), R"({"builder":{"id":"x"}})");
  const std::string attest =
      "attest " + env.Ref("m") + " --key " + env.dir.File("release.key") + " --predicate " + env.dir.File("pred.json");
  struct Row {
    std::string type, uri;
  };
  const Row shorthands[] = {
      {"slsaprovenance", "https://slsa.dev/provenance/v0.2"},
      {"slsaprovenance02", "https://slsa.dev/provenance/v0.2"},
      {"slsaprovenance1", "https://slsa.dev/provenance/v1"},
      {"spdx", "https://spdx.dev/Document"},
      {"spdxjson", "https://spdx.dev/Document"},
      {"cyclonedx", "https://cyclonedx.org/bom"},
      {"link", "https://in-toto.io/Link/v1"},
      {"vuln", "https://cosign.sigstore.dev/attestation/vuln/v1"},
      {"openvex", "https://openvex.dev/ns"},
      {"https://example.com/predicate/v1", "https://example.com/predicate/v1"},
      {"urn:example:predicate", "urn:example:predicate"},
  };
  for (const auto& row : shorthands) {
    CAPTURE(row.type);
    auto r = env.Run(attest + " --type " + row.type);
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    CHECK(Contains(r.out, "(" + row.uri + ")"));
  }
  auto v = env.Run("verify " + env.Ref("m") + " --key " + env.dir.File("release.pub") + " -o json");
  std::set<std::string> types;
  for (const auto& a : v.json["attestations"]) types.insert(a["predicateType"].get<std::string>());
  for (const auto& row : shorthands) CHECK_MESSAGE(types.count(row.uri) == 1, row.uri);

  for (const char* refused : {"custom", "slsa", "SLSAProvenance", "provenance/v1", "/relative", "1http://x", "'a b:c'"}) {
    CAPTURE(refused);
    auto r = env.Run(attest + " --type " + refused);
    CHECK(r.exit_code == 2);
    CHECK_MESSAGE(Contains(r.err, "neither an absolute URI nor one of cosign's shorthands"), r.err);
  }
}

TEST_CASE("version prints --version's line; completion bash|zsh completes subcommands and flags") {
  TempDir dir;
  auto run = [&](const std::string& args) { return RunCommand(std::string(PROVGATE_BINARY) + " " + args); };
  auto flag = run("--version");
  auto sub = run("version");
  CHECK(sub.exit_code == 0);
  CHECK(sub.output == flag.output);
  CHECK(sub.output.rfind("provgate ", 0) == 0);

  auto bash = run("completion bash");
  REQUIRE(bash.exit_code == 0);
  WriteFile(dir.File("c.bash"), bash.output);
  CHECK(RunCommand("bash -n " + dir.File("c.bash")).exit_code == 0);
  // Complete as bash would: COMP_WORDS / COMP_CWORD, then COMPREPLY.
  auto complete = [&](const std::string& words) {
    WriteFile(dir.File("run.bash"), "source " + dir.File("c.bash") + "\nCOMP_WORDS=(" + words +
                                        ")\nCOMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n_provgate_complete\n"
                                        "printf '%s\\n' \"${COMPREPLY[@]}\"\n");
    return RunCommand("bash " + dir.File("run.bash")).output;
  };
  struct Row {
    std::string words;
    std::vector<std::string> want, not_want;
  };
  const Row rows[] = {
      {"provgate ''", {"check", "verify", "policy", "completion", "version", "serve"}, {"lint", "--strict"}},
      {"provgate ch", {"check"}, {"verify"}},
      {"provgate check --re", {"--registry-config", "--recursive", "--require-digest"}, {"--key"}},
      {"provgate check -f x.yaml --st", {"--strict"}, {}},
      {"provgate policy ''", {"lint"}, {"check"}},
      {"provgate verify --cert", {"--certificate-identity", "--certificate-oidc-issuer"}, {"--strict"}},
      {"provgate attest --allow", {"--allow-insecure-registry"}, {}},
      {"provgate serve --t", {"--tls-cert", "--tls-key"}, {"--key"}},
  };
  for (const auto& row : rows) {
    CAPTURE(row.words);
    std::string got = complete(row.words);
    for (const auto& w : row.want) CHECK_MESSAGE(Contains(got, w + "\n"), got);
    for (const auto& w : row.not_want) CHECK_MESSAGE(!Contains(got, w + "\n"), got);
  }

  auto zsh = run("completion zsh");
  CHECK(zsh.exit_code == 0);
  CHECK(Contains(zsh.output, "bashcompinit"));
  CHECK(Contains(zsh.output, "complete -o default -F _provgate_complete provgate"));
  CHECK(run("completion fish 2>/dev/null").exit_code != 0);
}

// A repeatable flag used to take every word after it: `verify --key k.pub
// REF` read REF as a second key and failed "reference is required".
TEST_CASE("a repeatable flag takes one value each time, so it may come before the positional arguments") {
  CheckEnv env;
  env.PushTrusted("trusted");
  auto v = env.Run("verify --key " + env.dir.File("other.pub") + " --key " + env.dir.File("release.pub") + " " +
                   env.Ref("trusted") + " -o json");
  CHECK_MESSAGE(v.exit_code == 0, v.err);
  CHECK_MESSAGE(v.json["verified"] == true, v.out);

  WriteFile(env.dir.File("a.bin"), "weights of a");
  auto push = env.Run("push --annotation org.example/team=ml --annotation stage=dev " + env.dir.File("a.bin") + " " +
                      env.Ref("annotated"));
  CHECK_MESSAGE(push.exit_code == 0, push.err);
  auto sign = env.Run("sign -a k=v " + env.Ref("annotated") + " --key " + env.dir.File("release.key"));
  CHECK_MESSAGE(sign.exit_code == 0, sign.err);
  auto pushed = env.Run("verify " + env.Ref("annotated") + " --key " + env.dir.File("release.pub") + " -o json");
  CHECK_MESSAGE(pushed.exit_code == 0, pushed.err);
  CHECK_MESSAGE(pushed.json["annotations"]["org.example/team"] == "ml", pushed.out);
  CHECK(pushed.json["annotations"]["stage"] == "dev");

  // A list flag before REF takes REF too; the error says how to write it.
  std::string pol = env.WritePolicies("prod.yaml", {PolicySpec("production-models")});
  auto list_first = env.Run("verify --policies " + pol + " " + env.Ref("trusted"));
  CHECK(list_first.exit_code == 2);
  CHECK_MESSAGE(Contains(list_first.err, "write `provgate verify REF --policies PATH...`"), list_first.err);
  CHECK(Contains(list_first.err, env.Ref("trusted")));

  // Two values after one --key: the second is not a key, and not expected.
  auto two = env.Run("verify " + env.Ref("trusted") + " --key " + env.dir.File("other.pub") + " " +
                     env.dir.File("release.pub"));
  CHECK(two.exit_code == 2);
  CHECK_MESSAGE(Contains(two.err, "release.pub"), two.err);
}
