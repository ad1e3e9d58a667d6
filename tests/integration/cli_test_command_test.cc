// `provgate test` end to end, offline over OCI layouts made with the binary:
// the committed examples/policy-tests suite passes; a generated suite with
// failing expectations exits 1 with the same decisions `check` makes, as a
// table and as JUnit XML (parsed here with Python's XML parser); malformed
// test files exit 2 naming file:line:column.
#include <doctest/doctest.h>

#include "tests/integration/cli_check_env.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

// JUnit XML -> {"tag", "attrs", "suites": [{"attrs", "cases": [{"attrs", "failures": [msg...], "errors": [...]}]}]}
// with Python's xml.etree (a parser that is not ours).
Json ParseJunit(const TempDir& dir, const std::string& xml) {
  WriteFile(dir.File("junit.xml"), xml);
  WriteFile(dir.File("junit.py"), R"(import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
def case(c):
    return {"attrs": c.attrib, "failures": [f.get("message") for f in c.findall("failure")],
            "errors": [e.get("message") for e in c.findall("error")], "children": len(list(c))}
print(json.dumps({"tag": root.tag, "attrs": root.attrib,
                  "suites": [{"tag": s.tag, "attrs": s.attrib, "cases": [case(c) for c in s]} for s in root]}))
)");
  auto r = RunCommand("python3 " + dir.File("junit.py") + " " + dir.File("junit.xml"));
  REQUIRE_MESSAGE(r.exit_code == 0, "not well-formed XML:\n" << xml);
  auto j = ParseJson(r.output, "junit summary");
  REQUIRE(j.ok());
  return *j;
}

// A suite under env.dir/suite over a layout with a signed and an unsigned model.
struct Suite {
  explicit Suite(CheckEnv& e) : env(e) {
    layout = env.dir.File("suite/layout");
    RunCommand("mkdir -p " + env.dir.File("suite/policies"));
    WriteFile(env.dir.File("md.json"), R"({"name":"m"})");
    for (const char* name : {"signed", "unsigned"}) {
      WriteFile(env.dir.File(std::string(name) + ".bin"), name);
      auto r = env.Run("push " + env.dir.File(std::string(name) + ".bin") + " " + env.Ref(name) + " --metadata " +
                       env.dir.File("md.json") + " --oci-layout " + layout, false);
      REQUIRE_MESSAGE(r.exit_code == 0, r.err);
      if (std::string(name) == "signed") digest = r.out.substr(0, r.out.find('\n'));
    }
    auto s = env.Run("sign " + env.Ref("signed") + " --key " + env.dir.File("release.key") + " --oci-layout " + layout,
                     false);
    REQUIRE_MESSAGE(s.exit_code == 0, s.err);
    RunCommand("cp " + env.dir.File("release.pub") + " " + env.dir.File("suite/policies/release.pub"));
    WriteFile(env.dir.File("suite/policies/prod.yaml"), env.PolicyYaml(PolicySpec("production-models")));
    std::string pods = CheckEnv::PodYaml("good", "serving", env.Ref("signed")) + "---\n" +
                       CheckEnv::PodYaml("bad", "serving", env.Ref("unsigned"));
    WriteFile(env.dir.File("suite/pods.yaml"), pods);
  }
  // Writes suite/<sub>/provgate-test.yaml with `expect` (YAML list items) and the common header.
  std::string Write(const std::string& sub, const std::string& expect, const std::string& header_extra = "") {
    RunCommand("mkdir -p " + env.dir.File("suite/" + sub));
    std::string file = env.dir.File("suite/" + sub + "/provgate-test.yaml");
    WriteFile(file, "policies: [../policies/prod.yaml]\nmanifests: [../pods.yaml]\nociLayout: ../layout\n" +
                        header_extra + "expect:\n" + expect);
    return file;
  }
  CheckEnv& env;
  std::string layout, digest;
};

}  // namespace

TEST_CASE("test: the committed example suite passes offline") {
  CheckEnv env;
  env.reg.Stop();
  auto r = env.Run("test " + std::string(PROVGATE_SOURCE_DIR) + "/examples/policy-tests", false);
  CHECK_MESSAGE(r.exit_code == 0, r.out << r.err);
  CHECK(Contains(r.out, "RESULT  FILE"));
  CHECK_FALSE(Contains(r.out, "FAIL "));
  CHECK_MESSAGE(Contains(r.out, " passed, 0 failed, "), r.out);
}

TEST_CASE("test: pass and fail rows, the decisions of check, exit 1, and JUnit XML") {
  CheckEnv env;
  Suite suite(env);
  const std::string pin = env.Ref("signed") + "@" + suite.digest;
  suite.Write("passing",
              "  - object: Pod serving/good\n"
              "    field: spec.volumes[0].image.reference\n"
              "    decision: allow\n"
              "    pin: \"" + pin + "\"\n"
              "  - {object: good, field: \"spec.containers[0].image\", decision: unmatched, pin: \"\"}\n"
              "  - {object: Pod serving/bad, decision: deny, reasonContains: \"0 of required 1\"}\n"
              "  - {object: Pod good, decision: allow}\n");
  suite.Write("failing",
              "  - {object: Pod serving/bad, field: \"spec.volumes[0].image.reference\", decision: allow}\n"
              "  - {object: Pod serving/good, decision: allow, reasonContains: \"no such words\"}\n"
              "  - {object: Pod serving/good, field: \"spec.volumes[0].image.reference\", decision: allow, "
              "pin: \"elsewhere@sha256:0\"}\n"
              "  - {object: Pod serving/bad, decision: deny}\n");

  auto r = env.Run("test " + env.dir.File("suite"), false);
  CHECK_MESSAGE(r.exit_code == 1, r.out << r.err);
  CHECK_MESSAGE(Contains(r.out, "5 passed, 3 failed, 8 expectations in 2 files"), r.out);
  CHECK(Contains(r.out, "FAIL    " + env.dir.File("suite/failing/provgate-test.yaml") + "  Pod serving/bad"));
  CHECK(Contains(r.out, "decision is deny, expected allow"));
  CHECK(Contains(r.out, "no reason contains \"no such words\""));
  CHECK(Contains(r.out, "pinned to \"" + pin + "\""));
  CHECK(Contains(r.out, "PASS    " + env.dir.File("suite/passing/provgate-test.yaml")));

  // The same decisions `check` makes on the same inputs.
  auto check = env.Run("check -f " + env.dir.File("suite/pods.yaml") + " --policies " +
                           env.dir.File("suite/policies/prod.yaml") + " --oci-layout " + suite.layout + " -o json",
                       false);
  CHECK(check.exit_code == 1);
  CHECK(RefAt(check.json, "spec.volumes[0].image.reference", 0)["decision"] == "allow");
  CHECK(RefAt(check.json, "spec.volumes[0].image.reference", 1)["decision"] == "deny");

  // Only the passing suite: exit 0.
  auto ok = env.Run("test " + env.dir.File("suite/passing"), false);
  CHECK_MESSAGE(ok.exit_code == 0, ok.out << ok.err);

  auto junit = env.Run("test -o junit " + env.dir.File("suite"), false);
  CHECK(junit.exit_code == 1);
  Json j = ParseJunit(env.dir, junit.out);
  CHECK(j["tag"] == "testsuites");
  CHECK(j["attrs"]["tests"] == "8");
  CHECK(j["attrs"]["failures"] == "3");
  CHECK(j["attrs"]["errors"] == "0");
  REQUIRE(j["suites"].size() == 2);
  size_t failures = 0;
  for (const auto& s : j["suites"]) {
    CHECK(s["tag"] == "testsuite");
    CHECK(Contains(s["attrs"]["name"].get<std::string>(), "provgate-test.yaml"));
    size_t suite_failures = 0;
    for (const auto& c : s["cases"]) {
      CHECK(c["attrs"]["classname"] == s["attrs"]["name"]);
      CHECK(c["attrs"]["name"].is_string());
      CHECK(c["errors"].empty());
      suite_failures += c["failures"].size();
      CHECK(c["children"] == c["failures"].size());
    }
    CHECK(s["attrs"]["tests"] == std::to_string(s["cases"].size()));
    CHECK(s["attrs"]["failures"] == std::to_string(suite_failures));
    failures += suite_failures;
  }
  CHECK(failures == 3);
  CHECK(j["suites"][0]["cases"][0]["failures"][0] == "expected allow, got deny");
}

// `provgate test` predicts what /mutate writes with the default --pin-kinds
// (Pod only) through the pin rule PinningPatch uses: a Deployment's verified
// model is decided allow but not pinned.
TEST_CASE("test: pins are predicted as /mutate makes them, a Deployment left as written") {
  CheckEnv env;
  Suite suite(env);
  WriteFile(env.dir.File("suite/deployment.yaml"),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: serving}\nspec:\n"
            "  template:\n    spec:\n      containers:\n        - {name: server, image: registry.example.com/runtime:v1}\n"
            "      volumes:\n        - name: model\n          image: {reference: " + env.Ref("signed") + "}\n");
  const std::string field = "spec.template.spec.volumes[0].image.reference";
  auto write = [&](const std::string& sub, const std::string& pin) {
    RunCommand("mkdir -p " + env.dir.File("suite/" + sub));
    WriteFile(env.dir.File("suite/" + sub + "/provgate-test.yaml"),
              "policies: [../policies/prod.yaml]\nmanifests: [../deployment.yaml]\nociLayout: ../layout\nexpect:\n"
              "  - {object: Deployment serving/web, field: \"" + field + "\", decision: allow, pin: \"" + pin + "\"}\n");
  };
  write("unpinned", "");
  write("pinned", env.Ref("signed") + "@" + suite.digest);
  auto unpinned = env.Run("test " + env.dir.File("suite/unpinned"), false);
  CHECK_MESSAGE(unpinned.exit_code == 0, unpinned.out << unpinned.err);
  auto pinned = env.Run("test " + env.dir.File("suite/pinned"), false);
  CHECK_MESSAGE(pinned.exit_code == 1, pinned.out << pinned.err);
  CHECK(Contains(pinned.out, "pinned to nothing"));
}

TEST_CASE("test: malformed test files and inputs exit 2 and say where") {
  CheckEnv env;
  Suite suite(env);
  const std::string item = "  - {object: Pod serving/good, decision: allow}\n";
  struct Row {
    const char* name;
    std::string expect, header;  // header: extra top-level lines
    std::string error;           // in stderr
  };
  const Row rows[] = {
      {"unknown top-level field", item, "polices: [x]\n", "provgate-test.yaml:4:1: unknown field \"polices\""},
      {"unknown expectation field", "  - {object: good, decision: allow, reason: x}\n", "", ":5:37: "},
      {"bad decision", "  - {object: good, decision: denied}\n", "", "is not one of allow, deny, warn, audit, unmatched"},
      {"missing decision", "  - {object: good}\n", "", "missing required field \"decision\""},
      {"pin without a field", "  - {object: good, decision: allow, pin: x}\n", "", "pin needs a field"},
      {"bad object selector", "  - {object: \"Pod a/b/c\", decision: allow}\n", "", "is not \"Kind namespace/name\""},
      {"expect empty", "  []\n", "", "must not be empty"},
      {"unmatched value", item, "unmatched: maybe\n", "unmatched: must be allow or deny"},
      {"no such object", "  - {object: Pod serving/nobody, decision: allow}\n", "", "is in none of the manifests"},
      {"no such field", "  - {object: good, field: spec.nothing, decision: allow}\n", "", "has no model reference at"},
      {"missing policy file", item, "", ""},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    std::string file = suite.Write("bad", row.expect, row.header);
    if (std::string(row.name) == "missing policy file") {
      WriteFile(file, "policies: [nowhere.yaml]\nmanifests: [../pods.yaml]\nociLayout: ../layout\nexpect:\n" + item);
    }
    auto r = env.Run("test " + env.dir.File("suite/bad"), false);
    CHECK_MESSAGE(r.exit_code == 2, r.out << r.err);
    CHECK_MESSAGE(Contains(r.err, row.error), r.err);
    if (std::string(row.name) == "missing policy file") CHECK(Contains(r.err, "nowhere.yaml"));
  }
  // A directory without test files, and two documents in one file.
  RunCommand("mkdir -p " + env.dir.File("empty"));
  auto none = env.Run("test " + env.dir.File("empty"), false);
  CHECK(none.exit_code == 2);
  CHECK(Contains(none.err, "no provgate-test.yaml"));
  std::string file = suite.Write("bad", item);
  WriteFile(file, ReadFile(file) + "---\n" + ReadFile(file));
  auto two = env.Run("test " + file, false);
  CHECK(two.exit_code == 2);
  CHECK(Contains(two.err, "exactly one YAML document"));
  // A malformed layout: exit 2, naming index.json, in the JUnit output as an error.
  suite.Write("bad", item);
  WriteFile(suite.layout + "/index.json", "{");
  auto broken = env.Run("test -o junit " + env.dir.File("suite/bad"), false);
  CHECK(broken.exit_code == 2);
  CHECK(Contains(broken.err, "index.json"));
  Json j = ParseJunit(env.dir, broken.out);
  CHECK(j["attrs"]["errors"] == "1");
  REQUIRE(j["suites"].size() == 1);
  CHECK(j["suites"][0]["cases"][0]["errors"].size() == 1);
}
