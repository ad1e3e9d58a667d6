// `provgate check` end to end, continued: where references are found
// (workload kinds, stdin, --namespace, --unmatched), what happens when the
// registry cannot answer, input errors, `policy lint` and `verify --policies`.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>

#include "tests/integration/cli_check_env.h"

using namespace provgate;
using namespace provgate::testing;

TEST_CASE("check: references in a CronJob, a Deployment and an InferenceService, from a file and from stdin") {
  CheckEnv env;
  std::string d_cron = env.PushTrusted("cron-model");
  std::string d_deploy = env.PushTrusted("deploy-model");
  env.Push("isvc-model");  // unsigned: the InferenceService is denied
  std::string pol = env.WritePolicies("prod.yaml", {PolicySpec("production-models").Rules(BuiltByChainsRule())});

  std::string manifests =
      "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly, namespace: batch}\n"
      "spec:\n  schedule: '0 2 * * *'\n  jobTemplate:\n    spec:\n      template:\n"
      "        metadata:\n          annotations:\n            provgate.dev/model: oci://" + env.Ref("cron-model") + "\n"
      "        spec:\n          restartPolicy: Never\n          containers:\n"
      "            - {name: score, image: " + env.Ref("cron-model") + "}\n"
      "---\n"
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: serving}\n"
      "spec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n"
      "      initContainers:\n        - {name: init, image: busybox}\n"
      "      containers:\n        - {name: server, image: registry.example.com/runtime:v1}\n"
      "      volumes:\n        - name: model\n          image: {reference: " + env.Ref("deploy-model") + "}\n"
      "---\n"
      "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: mnist, namespace: serving}\n"
      "spec:\n  predictor:\n    model:\n      modelFormat: {name: onnx}\n"
      "      storageUri: oci://" + env.Ref("isvc-model") + "\n";
  std::string file = env.WriteManifest("workloads.yaml", manifests);

  auto check = [&](const CliResult& r) {
    CHECK(r.exit_code == 1);  // the InferenceService is denied
    CHECK(r.json["allowed"] == false);
    REQUIRE(r.json["objects"].size() == 3);

    const Json& cron = r.json["objects"][0];
    CHECK(cron["kind"] == "CronJob");
    CHECK(cron["allowed"] == true);
    REQUIRE(cron["references"].size() == 2);
    Json ann = RefAt(r.json, R"(spec.jobTemplate.spec.template.metadata.annotations["provgate.dev/model"])", 0);
    CHECK(ann["source"] == "storage-uri");
    CHECK(ann["reference"] == env.Ref("cron-model"));
    CHECK(ann["digest"] == d_cron);
    CHECK(ann["decision"] == "allow");
    Json cron_container = RefAt(r.json, "spec.jobTemplate.spec.template.spec.containers[0].image", 0);
    CHECK(cron_container["source"] == "container");
    CHECK(cron_container["decision"] == "allow");

    const Json& deploy = r.json["objects"][1];
    CHECK(deploy["kind"] == "Deployment");
    CHECK(deploy["allowed"] == true);
    REQUIRE(deploy["references"].size() == 3);
    CHECK(RefAt(r.json, "spec.template.spec.initContainers[0].image", 1)["reference"] ==
          "docker.io/library/busybox:latest");
    CHECK(RefAt(r.json, "spec.template.spec.containers[0].image", 1)["decision"] == "unmatched");
    Json vol = RefAt(r.json, "spec.template.spec.volumes[0].image.reference", 1);
    CHECK(vol["source"] == "image-volume");
    CHECK(vol["digest"] == d_deploy);
    CHECK(vol["decision"] == "allow");

    const Json& isvc = r.json["objects"][2];
    CHECK(isvc["kind"] == "InferenceService");
    CHECK(isvc["namespace"] == "serving");
    CHECK(isvc["allowed"] == false);
    REQUIRE(isvc["references"].size() == 1);
    Json uri = RefAt(r.json, "spec.predictor.model.storageUri", 2);
    CHECK(uri["source"] == "storage-uri");
    CHECK(uri["reference"] == env.Ref("isvc-model"));
    CHECK(uri["decision"] == "deny");
  };
  check(env.Run("check -f " + file + " --policies " + pol + " -o json"));
  check(env.Run("check -f - --policies " + pol + " -o json", true, file));

  // Text: one line per reference, naming the object and the field.
  auto text = env.Run("check -f - --policies " + pol, true, file);
  CHECK(text.exit_code == 1);
  CHECK_MESSAGE(Contains(text.out, "ALLOW     CronJob batch/nightly "
                                   "spec.jobTemplate.spec.template.metadata.annotations[\"provgate.dev/model\"] " +
                                       env.Ref("cron-model") + "@" + d_cron),
                text.out);
  CHECK(Contains(text.out, "ALLOW     Deployment serving/web spec.template.spec.volumes[0].image.reference " +
                               env.Ref("deploy-model") + "@" + d_deploy));
  CHECK(Contains(text.out, "DENY      InferenceService serving/mnist spec.predictor.model.storageUri " +
                               env.Ref("isvc-model") + "@sha256:"));
}

TEST_CASE("check: --namespace, namespace-scoped policies and --unmatched") {
  CheckEnv env;
  env.Push("unsigned");
  std::string pol = env.WritePolicies(
      "scoped.yaml", {PolicySpec("serving-only").Namespaces({"serving-*"}).Sources({"image-volume"})});
  std::string no_ns = env.WriteManifest("no-ns.yaml", CheckEnv::PodYaml("p", "", env.Ref("unsigned")));
  std::string in_dev = env.WriteManifest("dev.yaml", CheckEnv::PodYaml("p", "dev", env.Ref("unsigned")));

  // An object without a namespace takes --namespace, and the scoped policy applies.
  auto prod = env.Run("check -f " + no_ns + " --policies " + pol + " --namespace serving-prod -o json");
  CHECK(prod.exit_code == 1);
  CHECK(prod.json["objects"][0]["namespace"] == "serving-prod");
  CHECK(ModelRef(prod.json)["decision"] == "deny");

  auto dev = env.Run("check -f " + no_ns + " --policies " + pol + " --namespace dev -o json");
  CHECK(dev.exit_code == 0);
  CHECK(dev.json["objects"][0]["namespace"] == "dev");
  CHECK(ModelRef(dev.json)["decision"] == "unmatched");
  CHECK_FALSE(ModelRef(dev.json).contains("digest"));  // not fetched

  // The object's own namespace wins over --namespace.
  auto own = env.Run("check -f " + in_dev + " --policies " + pol + " --namespace serving-prod -o json");
  CHECK(own.exit_code == 0);
  CHECK(own.json["objects"][0]["namespace"] == "dev");
  CHECK(ModelRef(own.json)["decision"] == "unmatched");

  // The container image is outside the policy's sources: unmatched, allowed by default...
  auto allow = env.Run("check -f " + in_dev + " --policies " + pol + " -o json");
  CHECK(allow.exit_code == 0);
  CHECK(RefAt(allow.json, "spec.containers[0].image")["decision"] == "unmatched");

  // ...and denied with --unmatched deny, with a reason.
  auto deny = env.Run("check -f " + in_dev + " --policies " + pol + " --unmatched deny -o json");
  CHECK(deny.exit_code == 1);
  CHECK(deny.json["allowed"] == false);
  Json runtime = RefAt(deny.json, "spec.containers[0].image");
  CHECK(runtime["decision"] == "deny");
  CHECK(Contains(Reasons(runtime), "no policy matches this reference and --unmatched is deny"));

  auto bad_flag = env.Run("check -f " + in_dev + " --policies " + pol + " --unmatched maybe");
  CHECK(bad_flag.exit_code == 2);
}

TEST_CASE("check: an unreachable registry fails closed under enforce, warns under warn") {
  CheckEnv env;
  env.PushTrusted("mnist");
  std::string enforce = env.WritePolicies("enforce.yaml", {PolicySpec("prod")});
  std::string warn = env.WritePolicies("warn.yaml", {PolicySpec("rollout").Mode("warn")});
  REQUIRE(env.CheckPod("mnist", enforce).exit_code == 0);

  env.reg.Stop();
  // Denied in the JSON (fail closed), but no decision was made: exit 2, not 1.
  auto denied = env.CheckPod("mnist", enforce);
  CHECK(denied.exit_code == 2);
  CHECK_MESSAGE(Contains(denied.err, "registry-unavailable"), denied.err);
  CHECK(denied.json["allowed"] == false);
  Json ref = ModelRef(denied.json);
  CHECK(ref["decision"] == "deny");
  CHECK_FALSE(ref.contains("digest"));
  std::string reasons = Reasons(ref);
  CHECK_MESSAGE(reasons.rfind("registry-unavailable: ", 0) == 0, reasons);
  CHECK_MESSAGE(reasons.find("registry-unavailable", 1) == std::string::npos, reasons);  // said once

  auto warned = env.CheckPod("mnist", warn);
  CHECK(warned.exit_code == 0);
  CHECK(ModelRef(warned.json)["decision"] == "warn");
  REQUIRE(warned.json["objects"][0]["warnings"].size() == 1);
  CHECK(Contains(warned.json["objects"][0]["warnings"][0].get<std::string>(), "registry-unavailable"));
}

TEST_CASE("check: a missing tag is denied as not-found") {
  CheckEnv env;
  env.PushTrusted("mnist");
  std::string pol = env.WritePolicies("prod.yaml", {PolicySpec("prod")});
  std::string m = env.WriteManifest("pod.yaml", CheckEnv::PodYaml("p", "serving", env.Ref("mnist", "v404")));
  auto r = env.Run("check -f " + m + " --policies " + pol + " -o json");
  CHECK(r.exit_code == 1);
  Json ref = ModelRef(r.json);
  CHECK(ref["decision"] == "deny");
  CHECK_FALSE(ref.contains("digest"));
  CHECK_MESSAGE(Reasons(ref).rfind("not-found: ", 0) == 0, Reasons(ref));
}

TEST_CASE("check and policy lint: input errors exit 2 and say where") {
  CheckEnv env;
  std::string good = env.WritePolicies("good.yaml", {PolicySpec("prod")});
  std::string broken = env.dir.File("broken.yaml");
  WriteFile(broken,
            "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata:\n  name: prod\nspec:\n"
            "  match:\n    references: [\"" + env.reg.host() + "/models/**\"]\n"
            "  authorities:\n    - name: release\n      key: {file: release.pub}\n"
            "  signatures:\n    requires: 1\n");
  std::string pod = env.WriteManifest("pod.yaml", CheckEnv::PodYaml("p", "serving", env.Ref("mnist")));

  auto bad_policy = env.Run("check -f " + pod + " --policies " + broken);
  CHECK(bad_policy.exit_code == 2);
  CHECK_MESSAGE(Contains(bad_policy.err, broken + ":12:5: "), bad_policy.err);
  CHECK(Contains(bad_policy.err, "unknown field \"requires\""));
  CHECK(bad_policy.out.empty());

  auto lint_bad = env.Run("policy lint " + broken, false);
  CHECK(lint_bad.exit_code == 2);
  CHECK_MESSAGE(Contains(lint_bad.err, broken + ":12:5: "), lint_bad.err);
  auto lint_good = env.Run("policy lint " + good, false);
  CHECK_MESSAGE(lint_good.exit_code == 0, lint_good.err);
  CHECK(Contains(lint_good.out, "1 policies OK"));
  CHECK(env.Run("policy lint " + env.dir.File("absent.yaml"), false).exit_code == 2);
  // An empty (or mistyped) policy directory is an error, not "0 policies OK"
  // and not every reference unmatched.
  const std::string empty_dir = env.dir.path() + "/no-policies";
  std::filesystem::create_directories(empty_dir);
  WriteFile(empty_dir + "/README.md", "not a policy\n");
  auto lint_empty = env.Run("policy lint " + empty_dir, false);
  CHECK(lint_empty.exit_code == 2);
  CHECK_MESSAGE(Contains(lint_empty.err, "no policies found in " + empty_dir), lint_empty.err);
  CHECK(lint_empty.out.empty());
  auto check_empty = env.Run("check -f " + pod + " --policies " + empty_dir);
  CHECK(check_empty.exit_code == 2);
  CHECK(Contains(check_empty.err, "no policies found"));

  std::string malformed = env.WriteManifest("malformed.yaml", "kind: Pod\nmetadata:\n  name: [p\nspec: {}\n");
  auto bad_manifest = env.Run("check -f " + malformed + " --policies " + good);
  CHECK(bad_manifest.exit_code == 2);
  CHECK_MESSAGE(Contains(bad_manifest.err, malformed + ":"), bad_manifest.err);
  auto from_stdin = env.Run("check -f - --policies " + good, true, malformed);
  CHECK(from_stdin.exit_code == 2);
  CHECK_MESSAGE(Contains(from_stdin.err, "<stdin>:"), from_stdin.err);

  std::string scalar = env.WriteManifest("scalar.yaml", "just text\n");
  auto not_object = env.Run("check -f " + scalar + " --policies " + good);
  CHECK(not_object.exit_code == 2);
  CHECK(Contains(not_object.err, "document is not an object"));

  CHECK(env.Run("check -f " + env.dir.File("absent.yaml") + " --policies " + good).exit_code == 2);
  CHECK(env.Run("check -f " + pod).exit_code == 2);  // --policies is required
  CHECK(env.Run("check -f " + pod + " --policies " + good + " -o yaml").exit_code == 2);
}

// Manifests in which a model hides from a reader that is not kubectl's: a
// typed list whose items carry no kind, a YAML merge, a JSON duplicate key,
// an image inlined in a KServe framework spec. kubectl would apply the
// unsigned model in each; check must deny it or refuse the input.
TEST_CASE("check: a model hidden in a typed list, a YAML merge, a duplicate key or a KServe framework spec") {
  CheckEnv env;
  env.Push("unsigned");
  std::string pol = env.WritePolicies("prod.yaml", {PolicySpec("prod")});
  const std::string model = env.Ref("unsigned");

  std::string list = env.WriteManifest(
      "pods.json", R"({"apiVersion":"v1","kind":"PodList","items":[{"metadata":{"name":"p","namespace":"serving"},)"
                   R"("spec":{"containers":[{"name":"c","image":")" + model + R"("}]}}]})");
  auto listed = env.Run("check -f " + list + " --policies " + pol + " -o json");
  CHECK(listed.exit_code == 1);
  REQUIRE(listed.json["objects"].size() == 1);
  CHECK(listed.json["objects"][0]["kind"] == "Pod");
  CHECK(RefAt(listed.json, "spec.containers[0].image")["decision"] == "deny");

  std::string isvc = env.WriteManifest(
      "isvc.yaml", "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: m, namespace: serving}\n"
                   "spec:\n  predictor:\n    model:\n      modelFormat: {name: onnx}\n      image: " + model + "\n");
  auto inlined = env.Run("check -f " + isvc + " --policies " + pol + " -o json");
  CHECK(inlined.exit_code == 1);
  CHECK(RefAt(inlined.json, "spec.predictor.model.image")["decision"] == "deny");

  std::string merged = env.WriteManifest(
      "merge.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                    "  - <<: {image: " + model + "}\n    name: c\n");
  auto merge = env.Run("check -f " + merged + " --policies " + pol);
  CHECK(merge.exit_code == 2);
  CHECK_MESSAGE(Contains(merge.err, merged + ":6:"), merge.err);

  std::string dup = env.WriteManifest(
      "dup.json", R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[)"
                  R"({"name":"c","image":")" + model + R"(","image":"busybox"}]}})");
  auto duplicate = env.Run("check -f " + dup + " --policies " + pol);
  CHECK(duplicate.exit_code == 2);
  CHECK_MESSAGE(Contains(duplicate.err, "key \"image\" appears twice in one object"), duplicate.err);
}

// Reasons quote the artifact's own metadata, cut to a length; a cut inside
// a multi-byte character must not make `check -o json` throw on invalid
// UTF-8 (it used to abort, exit 134, printing nothing).
TEST_CASE("check -o json: reasons quoting non-ASCII metadata still print as JSON") {
  CheckEnv env;
  std::string accented;
  for (int i = 0; i < 300; ++i) accented += "\xC3\xA9";  // é
  env.Push("accented", R"({"name":")" + accented + R"("})");
  env.Sign("accented");
  std::string pol = env.WritePolicies(
      "prod.yaml", {PolicySpec("prod").Rules("  metadata:\n    conditions:\n      all:\n"
                                             "        - path: config.name\n          equals: expected\n")});
  auto r = env.CheckPod("accented", pol);
  CHECK(r.exit_code == 1);
  REQUIRE_MESSAGE(r.json.is_object(), r.out << r.err);
  CHECK(ModelRef(r.json)["decision"] == "deny");
  auto v = env.Run("verify " + env.Ref("accented") + " --policies " + pol + " -o json");
  CHECK(v.exit_code == 1);
  CHECK_MESSAGE(v.json.is_object(), v.out << v.err);
}

TEST_CASE("verify REF --policies prints the facts and the decision") {
  CheckEnv env;
  std::string digest = env.PushTrusted("mnist");
  env.Push("unsigned");
  std::string pol = env.WritePolicies("prod.yaml", {PolicySpec("production-models").Rules(BuiltByChainsRule())});

  auto ok = env.Run("verify " + env.Ref("mnist") + " --policies " + pol);
  CHECK_MESSAGE(ok.exit_code == 0, ok.out << ok.err);
  CHECK(Contains(ok.out, "digest:     " + digest));
  CHECK(Contains(ok.out, "policy production-models (enforce): passed"));
  CHECK(Contains(ok.out, "decision:   allow"));

  auto denied = env.Run("verify oci://" + env.Ref("unsigned") + " --policies " + pol);
  CHECK(denied.exit_code == 1);
  CHECK(Contains(denied.out, "policy production-models (enforce): FAILED: signatures: 0 of required 1"));
  CHECK(Contains(denied.out, "decision:   deny"));

  auto j = env.Run("verify " + env.Ref("unsigned") + " --policies " + pol + " -o json");
  CHECK(j.exit_code == 1);
  CHECK(j.json["decision"] == "deny");
  REQUIRE(j.json["policies"].size() == 1);
  CHECK(j.json["policies"][0]["passed"] == false);

  auto unmatched = env.Run("verify registry.example.com/elsewhere:v1 --policies " + pol);
  CHECK(unmatched.exit_code == 0);
  CHECK(Contains(unmatched.out, "no policy matches this reference"));
}

TEST_CASE("check: wall time on a Deployment with 3 model references (cold, distinct models)") {
  CheckEnv env;
  std::string yaml =
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: three, namespace: serving}\n"
      "spec:\n  selector: {matchLabels: {app: three}}\n  template:\n    metadata: {labels: {app: three}}\n"
      "    spec:\n      containers:\n        - {name: server, image: registry.example.com/runtime:v1}\n      volumes:\n";
  for (const char* name : {"encoder", "decoder", "tokenizer"}) {
    env.PushTrusted(name);
    yaml += std::string("        - name: ") + name + "\n          image: {reference: " + env.Ref(name) + "}\n";
  }
  std::string m = env.WriteManifest("three.yaml", yaml);
  std::string pol = env.WritePolicies("prod.yaml", {PolicySpec("production-models").Rules(BuiltByChainsRule())});

  // Each `provgate check` is a new process: nothing is cached between runs.
  auto start = std::chrono::steady_clock::now();
  auto r = env.Run("check -f " + m + " --policies " + pol + " -o json");
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  REQUIRE_MESSAGE(r.exit_code == 0, r.out << r.err);
  int verified = 0;
  for (const auto& ref : r.json["objects"][0]["references"]) verified += ref["decision"] == "allow";
  CHECK(verified == 3);
  MESSAGE("provgate check, Deployment with 3 distinct signed+attested models, cold: " << ms << " ms");
}
