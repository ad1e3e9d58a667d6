// `provgate serve` over real HTTPS with AdmissionReview JSON shaped like the
// API server's, against a real registry: allow, deny, warn, mutate, dryRun,
// DELETE, excluded namespaces, malformed input, registry failures, policy
// reloads and certificate rotation.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <thread>

#include "base/encoding.h"
#include "base/json_util.h"
#include "tests/integration/test_server.h"
#include "verifier/registry/publish_artifact.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

Deadline Soon() { return std::chrono::steady_clock::now() + std::chrono::seconds(20); }

// The server's log lines (JSON) with message `msg` that `keep` accepts;
// they are buffered for up to 100 ms, so this waits up to 5 s for one.
std::vector<Json> LogLines(const TestServer& s, const std::string& msg, const std::function<bool(const Json&)>& keep) {
  std::vector<Json> lines;
  for (int i = 0; i < 50 && lines.empty(); ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::string log = ReadFile(s.log_file());
    size_t start = 0;
    while (start < log.size()) {
      size_t nl = log.find('\n', start);
      std::string line = log.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      start = nl == std::string::npos ? log.size() : nl + 1;
      Json j = Json::parse(line, nullptr, false);
      if (j.is_object() && j.value("msg", "") == msg && keep(j)) lines.push_back(j);
    }
  }
  return lines;
}

// The decision log lines (msg "decision") for review `uid`.
std::vector<Json> DecisionLines(const TestServer& s, const std::string& uid) {
  return LogLines(s, "decision", [&](const Json& j) { return j.value("uid", "") == uid; });
}

std::string Indent(const std::string& pem, int n) {
  std::string out, pad(n, ' ');
  size_t start = 0;
  while (start < pem.size()) {
    size_t nl = pem.find('\n', start);
    out += pad + pem.substr(start, nl - start) + "\n";
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

std::string PolicyYaml(const std::string& name, const std::string& mode, const std::string& refs,
                       const std::string& pub_pem, const std::string& builder = "https://tekton.dev/chains/v2") {
  return "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata:\n  name: " + name + "\nspec:\n  mode: " + mode +
         "\n  match:\n    references: [\"" + refs + "\"]\n  authorities:\n    - name: release\n      key:\n        pem: |\n" +
         Indent(pub_pem, 10) + "  signatures:\n    require: 1\n  attestations:\n    - name: built-by-chains\n"
         "      predicateType: https://slsa.dev/provenance/v0.2\n      conditions:\n        all:\n"
         "          - path: predicate.builder.id\n            equals: " + builder + "\n";
}

Json Review(const std::string& uid, const std::string& ns, const Json& object, const std::string& op = "CREATE",
            bool dry_run = false) {
  std::string kind = object.is_object() ? object.value("kind", "Pod") : "Pod";
  return {{"apiVersion", "admission.k8s.io/v1"},
          {"kind", "AdmissionReview"},
          {"request",
           {{"uid", uid},
            {"kind", {{"group", ""}, {"version", "v1"}, {"kind", kind}}},
            {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
            {"requestKind", {{"group", ""}, {"version", "v1"}, {"kind", kind}}},
            {"name", "predictor"},
            {"namespace", ns},
            {"operation", op},
            {"userInfo", {{"username", "kubernetes-admin"}, {"groups", {"system:masters", "system:authenticated"}}}},
            {"object", object},
            {"oldObject", nullptr},
            {"dryRun", dry_run},
            {"options", {{"kind", "CreateOptions"}, {"apiVersion", "meta.k8s.io/v1"}}}}}};
}

Json PodWithVolume(const std::string& model) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", "predictor"}}},
          {"spec",
           {{"containers", {{{"name", "server"}, {"image", "ghcr.io/acme/server:1.0"}}}},
            {"volumes", {{{"name", "model"}, {"image", {{"reference", model}, {"pullPolicy", "IfNotPresent"}}}}}}}}};
}

Json ResponseOf(const HttpResponse& r) {
  REQUIRE_MESSAGE(r.status == 200, r.status << " " << r.body);
  auto j = ParseJson(r.body, "response");
  REQUIRE(j.ok());
  CHECK((*j)["apiVersion"] == "admission.k8s.io/v1");
  CHECK((*j)["kind"] == "AdmissionReview");
  return (*j)["response"];
}

// A registry with: models/good:v1 signed + attested by `release`;
// models/unsigned:v1; staging/unsigned:v1.
struct World {
  TestRegistry reg;
  TempDir dir;
  TestCa ca = TestCa::Create(dir.path());
  PrivateKey release = *PrivateKey::GenerateEcdsaP256();
  std::string good_digest;
  std::string policies_dir = dir.File("policies");
  CurlTransport transport;
  std::unique_ptr<RegistryClient> client;

  World() {
    auto cfg = RegistryConfig::Load(reg.config_file());
    REQUIRE(cfg.ok());
    client = std::make_unique<RegistryClient>(&transport, std::make_shared<RegistryConfig>(*cfg));
    good_digest = Push("models/good:v1", "good-weights");
    REQUIRE(SignArtifact(*client, Ref("models/good:v1"), release, {}, Soon()).ok());
    REQUIRE(AttestArtifact(*client, Ref("models/good:v1"), release, "https://slsa.dev/provenance/v0.2",
                           Json{{"builder", {{"id", "https://tekton.dev/chains/v2"}}}}, Soon())
                .ok());
    Push("models/unsigned:v1", "unsigned-weights");
    Push("staging/unsigned:v1", "staging-weights");
    std::filesystem::create_directories(policies_dir);
    WritePolicies("enforce");
  }
  Reference Ref(const std::string& repo_tag) { return *ParseReference(reg.host() + "/" + repo_tag); }
  std::string Push(const std::string& repo_tag, const std::string& content) {
    WriteFile(dir.File("m.bin"), content);
    PushRequest req;
    req.paths = {dir.File("m.bin")};
    req.metadata = Json{{"name", repo_tag}};
    auto d = PushModel(*client, Ref(repo_tag), req, Soon());
    REQUIRE(d.ok());
    return *d;
  }
  void WritePolicies(const std::string& models_mode) {
    std::string pub = release.Public().ToPem();
    WriteFile(policies_dir + "/models.yaml", PolicyYaml("production-models", models_mode, reg.host() + "/models/**", pub));
    WriteFile(policies_dir + "/staging.yaml", PolicyYaml("staging-models", "warn", reg.host() + "/staging/**", pub));
  }
  std::vector<std::string> Args(std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"--policies", policies_dir, "--registry-config", reg.config_file()};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
};

}  // namespace

TEST_CASE("serve: allow, deny, warn, dryRun, DELETE and excluded namespaces") {
  World w;
  TestServer s(w.dir, w.ca, w.Args({"--exclude-namespaces", "kube-system,provgate"}));
  CHECK(s.Get("/readyz").status == 200);

  SUBCASE("a signed and attested model is allowed") {
    auto r = ResponseOf(s.Post("/validate", Review("uid-1", "serving", PodWithVolume(w.reg.host() + "/models/good:v1")).dump()));
    CHECK(r["uid"] == "uid-1");
    CHECK(r["allowed"] == true);
    CHECK_FALSE(r.contains("warnings"));
    // Recorded by the API server in the audit event as validate.provgate.dev/<key>.
    CHECK(r["auditAnnotations"] == Json{{"decision", "allow"},
                                        {"digest", w.reg.host() + "/models/good:v1@" + w.good_digest},
                                        {"policy", "production-models=passed"}});
    auto lines = DecisionLines(s, "uid-1");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0]["passed"] == true);
    CHECK(lines[0]["reasonCode"] == "passed");
    CHECK(lines[0]["digest"] == w.good_digest);
  }
  SUBCASE("an unsigned model is denied with a message naming object, field, reference, policy and reason") {
    auto r = ResponseOf(
        s.Post("/validate", Review("uid-2", "serving", PodWithVolume(w.reg.host() + "/models/unsigned:v1")).dump()));
    CHECK(r["uid"] == "uid-2");
    CHECK(r["allowed"] == false);
    CHECK(r["status"]["code"] == 403);
    std::string msg = r["status"]["message"];
    CHECK(msg.find('\n') == std::string::npos);
    CHECK(msg.find("Pod serving/predictor") != std::string::npos);
    CHECK(msg.find("spec.volumes[0].image.reference") != std::string::npos);
    CHECK(msg.find(w.reg.host() + "/models/unsigned:v1") != std::string::npos);
    CHECK(msg.find("production-models") != std::string::npos);
    CHECK_MESSAGE(msg.find("no signatures found") != std::string::npos, msg);
    CHECK(r["auditAnnotations"]["decision"] == "deny");
    CHECK(r["auditAnnotations"]["policy"] == "production-models=failed");
    CHECK(r["auditAnnotations"]["digest"].get<std::string>().rfind(w.reg.host() + "/models/unsigned:v1@sha256:", 0) == 0);
    // The decision log says the same, with the reason's code for log queries.
    auto lines = DecisionLines(s, "uid-2");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0]["policy"] == "production-models");
    CHECK(lines[0]["decision"] == "deny");
    CHECK(lines[0]["passed"] == false);
    CHECK(lines[0]["reasonCode"] == "no-signature");
    CHECK(lines[0]["field"] == "spec.volumes[0].image.reference");
  }
  SUBCASE("warn mode allows with warnings under 256 characters") {
    auto r = ResponseOf(
        s.Post("/validate", Review("uid-3", "serving", PodWithVolume(w.reg.host() + "/staging/unsigned:v1")).dump()));
    CHECK(r["allowed"] == true);
    REQUIRE(r["warnings"].is_array());
    REQUIRE(r["warnings"].size() >= 1);
    for (const auto& warning : r["warnings"]) {
      CHECK(warning.get<std::string>().size() < 256);
      CHECK(warning.get<std::string>().find("staging-models") != std::string::npos);
    }
  }
  SUBCASE("dryRun requests are decided the same way") {
    auto r = ResponseOf(s.Post(
        "/validate", Review("uid-4", "serving", PodWithVolume(w.reg.host() + "/models/unsigned:v1"), "CREATE", true).dump()));
    CHECK(r["allowed"] == false);
    auto ok = ResponseOf(s.Post(
        "/validate", Review("uid-5", "serving", PodWithVolume(w.reg.host() + "/models/good:v1"), "CREATE", true).dump()));
    CHECK(ok["allowed"] == true);
  }
  SUBCASE("DELETE and CONNECT are allowed untouched") {
    auto del = ResponseOf(s.Post("/validate", Review("uid-6", "serving", nullptr, "DELETE").dump()));
    CHECK(del["allowed"] == true);
    CHECK(del["uid"] == "uid-6");
    // Even with an object naming an unsigned model, DELETE is not evaluated.
    auto del2 = ResponseOf(
        s.Post("/validate", Review("uid-7", "serving", PodWithVolume(w.reg.host() + "/models/unsigned:v1"), "DELETE").dump()));
    CHECK(del2["allowed"] == true);
    auto conn = ResponseOf(
        s.Post("/validate", Review("uid-8", "serving", PodWithVolume(w.reg.host() + "/models/unsigned:v1"), "CONNECT").dump()));
    CHECK(conn["allowed"] == true);
  }
  SUBCASE("objects in excluded namespaces are allowed untouched") {
    auto r = ResponseOf(
        s.Post("/validate", Review("uid-9", "kube-system", PodWithVolume(w.reg.host() + "/models/unsigned:v1")).dump()));
    CHECK(r["allowed"] == true);
    auto m = ResponseOf(
        s.Post("/mutate", Review("uid-10", "provgate", PodWithVolume(w.reg.host() + "/models/good:v1")).dump()));
    CHECK_FALSE(m.contains("patch"));
  }
}

TEST_CASE("serve: /mutate pins every verified reference to the verified digest") {
  World w;
  // A Deployment is pinned only when --pin-kinds names it (see below for the default).
  TestServer s(w.dir, w.ca, w.Args({"--pin-kinds", "Pod,Deployment"}));
  std::string good = w.reg.host() + "/models/good:v1";
  Json deployment = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "predictor"}, {"namespace", "serving"}}},
      {"spec",
       {{"template",
         {{"metadata", {{"annotations", {{"provgate.dev/model", "oci://" + good}}}}},
          {"spec",
           {{"initContainers", {{{"name", "fetch"}, {"image", good}}}},
            {"containers", {{{"name", "server"}, {"image", "ghcr.io/acme/server:1.0"}}}},
            {"volumes", {{{"name", "model"}, {"image", {{"reference", good}}}}}}}}}}}}};
  auto r = ResponseOf(s.Post("/mutate", Review("uid-m", "serving", deployment).dump()));
  CHECK(r["allowed"] == true);
  REQUIRE(r.contains("patch"));
  CHECK(r["patchType"] == "JSONPatch");
  auto patch_text = Base64Decode(r["patch"].get<std::string>());
  REQUIRE(patch_text.has_value());
  auto patch = ParseJson(*patch_text, "patch");
  REQUIRE(patch.ok());
  CHECK(patch->size() == 3);  // init container, image volume, annotation; not the unmatched server image
  Json patched = deployment.patch(*patch);
  const Json& spec = patched["spec"]["template"]["spec"];
  CHECK(spec["initContainers"][0]["image"] == good + "@" + w.good_digest);
  CHECK(spec["volumes"][0]["image"]["reference"] == good + "@" + w.good_digest);
  CHECK(spec["containers"][0]["image"] == "ghcr.io/acme/server:1.0");
  CHECK(patched["spec"]["template"]["metadata"]["annotations"]["provgate.dev/model"] == "oci://" + good + "@" + w.good_digest);
  CHECK(r["auditAnnotations"]["decision"] == "allow");
  CHECK(r["auditAnnotations"]["digest"] == good + "@" + w.good_digest);  // three references, one artifact

  // The mutating webhook denies nothing, and pins nothing that failed.
  auto bad = ResponseOf(s.Post("/mutate", Review("uid-n", "serving", PodWithVolume(w.reg.host() + "/models/unsigned:v1")).dump()));
  CHECK(bad["allowed"] == true);
  CHECK_FALSE(bad.contains("patch"));
  // A reference already pinned by digest is left as is.
  auto pinned = ResponseOf(
      s.Post("/mutate", Review("uid-o", "serving", PodWithVolume(w.reg.host() + "/models/good@" + w.good_digest)).dump()));
  CHECK_FALSE(pinned.contains("patch"));
}

// The GitOps default: a Deployment in Git is decided (and denied when it
// fails) but never rewritten; the Pods it creates are pinned.
TEST_CASE("serve: --pin-kinds defaults to Pod; --require-digest denies tags on /validate, /mutate pins them") {
  World w;
  std::string good = w.reg.host() + "/models/good:v1";
  Json deployment = {{"apiVersion", "apps/v1"},
                     {"kind", "Deployment"},
                     {"metadata", {{"name", "predictor"}, {"namespace", "serving"}}},
                     {"spec", {{"template", {{"spec", {{"containers", {{{"name", "server"}, {"image", good}}}}}}}}}}};
  {
    TestServer s(w.dir, w.ca, w.Args());
    auto dep = ResponseOf(s.Post("/mutate", Review("uid-d", "serving", deployment).dump()));
    CHECK(dep["allowed"] == true);
    CHECK_FALSE(dep.contains("patch"));
    CHECK(dep["auditAnnotations"]["decision"] == "allow");  // verified, just not rewritten
    auto pod = ResponseOf(s.Post("/mutate", Review("uid-p", "serving", PodWithVolume(good)).dump()));
    REQUIRE(pod.contains("patch"));
    CHECK(Base64Decode(pod["patch"].get<std::string>())->find(good + "@" + w.good_digest) != std::string::npos);
    // No digest requirement by default: the tag is allowed.
    CHECK(ResponseOf(s.Post("/validate", Review("uid-v", "serving", PodWithVolume(good)).dump()))["allowed"] == true);
  }
  TestServer s(w.dir, w.ca, w.Args({"--require-digest"}));
  auto tag = ResponseOf(s.Post("/validate", Review("uid-t", "serving", PodWithVolume(good)).dump()));
  CHECK(tag["allowed"] == false);
  std::string msg = tag["status"]["message"];
  CHECK_MESSAGE(msg.find("denied by policy production-models: digest-required: the reference names a tag, not a digest; "
                         "write \"" + good + "@" + w.good_digest + "\"") != std::string::npos,
                msg);
  CHECK(tag["auditAnnotations"]["decision"] == "deny");
  auto digest = ResponseOf(
      s.Post("/validate", Review("uid-g", "serving", PodWithVolume(good + "@" + w.good_digest)).dump()));
  CHECK(digest["allowed"] == true);
  // /mutate pins the tag, so that /validate (after every mutation) sees the digest.
  auto pin = ResponseOf(s.Post("/mutate", Review("uid-m", "serving", PodWithVolume(good)).dump()));
  REQUIRE(pin.contains("patch"));
  Json patched = PodWithVolume(good).patch(*ParseJson(*Base64Decode(pin["patch"].get<std::string>()), "patch"));
  auto after = ResponseOf(s.Post("/validate", Review("uid-a", "serving", patched).dump()));
  CHECK(after["allowed"] == true);
}

TEST_CASE("serve: a moved tag is resolved again; the pinned digest is the one verified now") {
  World w;
  TestServer s(w.dir, w.ca, w.Args());
  std::string ref = w.reg.host() + "/models/moving:v1";
  std::string first = w.Push("models/moving:v1", "one");
  REQUIRE(SignArtifact(*w.client, w.Ref("models/moving:v1"), w.release, {}, Soon()).ok());
  REQUIRE(AttestArtifact(*w.client, w.Ref("models/moving:v1"), w.release, "https://slsa.dev/provenance/v0.2",
                         Json{{"builder", {{"id", "https://tekton.dev/chains/v2"}}}}, Soon()).ok());
  auto r1 = ResponseOf(s.Post("/mutate", Review("u1", "serving", PodWithVolume(ref)).dump()));
  REQUIRE(r1.contains("patch"));
  CHECK(Base64Decode(r1["patch"].get<std::string>())->find(first) != std::string::npos);
  // Move the tag to an unsigned artifact. Resolutions live a few seconds.
  std::string second = w.Push("models/moving:v1", "two");
  REQUIRE(second != first);
  std::this_thread::sleep_for(std::chrono::milliseconds(5500));
  auto v = ResponseOf(s.Post("/validate", Review("u2", "serving", PodWithVolume(ref)).dump()));
  CHECK(v["allowed"] == false);
  auto m = ResponseOf(s.Post("/mutate", Review("u3", "serving", PodWithVolume(ref)).dump()));
  CHECK_FALSE(m.contains("patch"));  // the new digest was not verified: nothing is pinned
}

TEST_CASE("serve: malformed and oversized reviews get HTTP 400 with a JSON error; the server keeps serving") {
  World w;
  TestServer s(w.dir, w.ca, w.Args());
  struct Row {
    std::string name, body, reason;
  };
  std::string deep = "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":" +
                     std::string(5000, '[') + std::string(5000, ']') + "}";
  Row rows[] = {
      {"not JSON", "this is not json", "malformed JSON"},
      {"empty", "", "malformed JSON"},
      {"JSON array", "[]", "not a JSON object"},
      {"wrong kind", R"({"apiVersion":"admission.k8s.io/v1","kind":"Pod","request":{"uid":"a","operation":"CREATE"}})", "kind is not AdmissionReview"},
      {"wrong apiVersion", R"({"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"a","operation":"CREATE"}})", "apiVersion"},
      {"no request", R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"})", "no request"},
      {"missing uid", R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"operation":"CREATE"}})", "uid is missing"},
      {"uid not a string", R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":5,"operation":"CREATE"}})", "uid is not a string"},
      {"object not an object", R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"a","operation":"CREATE","object":"x"}})", "object is not an object"},
      {"deep nesting", deep, "nested deeper"},
      {"oversized body", "{\"pad\":\"" + std::string(4 << 20, 'a') + "\"}", "larger than 3 MiB"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    auto resp = s.Post("/validate", r.body);
    CHECK(resp.status == 400);
    auto j = ParseJson(resp.body, "error");
    REQUIRE_MESSAGE(j.ok(), resp.body.substr(0, 200));
    CHECK_MESSAGE((*j)["error"].get<std::string>().find(r.reason) != std::string::npos, resp.body);
  }
  CHECK(s.Get("/healthz").status == 200);
  CHECK(s.Running());
  auto ok = ResponseOf(s.Post("/validate", Review("after", "serving", PodWithVolume(w.reg.host() + "/models/good:v1")).dump()));
  CHECK(ok["allowed"] == true);
}

TEST_CASE("serve: registry stopped mid-run fails closed under enforce; the server stays healthy") {
  World w;
  TestServer s(w.dir, w.ca, w.Args());
  auto before = ResponseOf(s.Post("/validate", Review("a", "serving", PodWithVolume(w.reg.host() + "/models/good:v1")).dump()));
  CHECK(before["allowed"] == true);
  w.reg.Stop();
  // A model not verified before cannot be decided: denied with the reason.
  auto r = ResponseOf(s.Post("/validate", Review("b", "serving", PodWithVolume(w.reg.host() + "/models/other:v1")).dump()));
  CHECK(r["allowed"] == false);
  CHECK_MESSAGE(r["status"]["message"].get<std::string>().find("registry-unavailable") != std::string::npos,
                r["status"]["message"]);
  // Under warn mode the same failure is a warning.
  auto warn = ResponseOf(s.Post("/validate", Review("c", "serving", PodWithVolume(w.reg.host() + "/staging/new:v1")).dump()));
  CHECK(warn["allowed"] == true);
  REQUIRE(warn["warnings"].size() >= 1);
  CHECK(warn["warnings"][0].get<std::string>().find("registry-unavailable") != std::string::npos);
  CHECK(s.Get("/healthz").status == 200);
  CHECK(s.Get("/readyz").status == 200);
}

TEST_CASE("serve: a registry that never answers yields a reasoned denial within --verify-timeout") {
  World w;
  // A socket that listens but never accepts: connections hang.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(fd, 16) == 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string host = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  WriteFile(w.dir.File("slow.yaml"), "registries:\n  - host: \"" + host + "\"\n    insecure: true\n");
  WriteFile(w.policies_dir + "/slow.yaml", PolicyYaml("slow-models", "enforce", host + "/**", w.release.Public().ToPem()));
  TestServer s(w.dir, w.ca, {"--policies", w.policies_dir, "--registry-config", w.dir.File("slow.yaml"), "--verify-timeout", "1"});
  auto start = std::chrono::steady_clock::now();
  auto r = ResponseOf(s.Post("/validate", Review("slow", "serving", PodWithVolume(host + "/models/m:v1")).dump()));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(r["allowed"] == false);
  std::string msg = r["status"]["message"];
  CHECK_MESSAGE(msg.find("registry-unavailable") != std::string::npos, msg);
  CHECK(secs < 10);  // bounded by the deadline, not by the registry
  close(fd);
}

TEST_CASE("serve: a broken policy file keeps the last good set, then the fixed file is loaded") {
  World w;
  TestServer s(w.dir, w.ca, w.Args());
  std::string staging = w.reg.host() + "/staging/unsigned:v1";
  auto warned = ResponseOf(s.Post("/validate", Review("a", "serving", PodWithVolume(staging)).dump()));
  CHECK(warned["allowed"] == true);

  WriteFile(w.policies_dir + "/staging.yaml", "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata:\n  name: x\nspec:\n  mode: sometimes\n");
  REQUIRE(s.WaitFor("/readyz", [](const HttpResponse& r) { return r.body.find("lastReloadError") != std::string::npos; }, 10));
  auto ready = s.Get("/readyz");
  CHECK(ready.status == 200);  // the last good set still serves
  CHECK_MESSAGE(ready.body.find("staging.yaml:6:") != std::string::npos, ready.body);
  CHECK(s.Get("/metrics").body.find("provgate_policy_reload_errors_total 1") != std::string::npos);
  auto failed = LogLines(s, "policy reload failed; keeping the last good policy set", [](const Json& j) {
    return j.value("level", "") == "error" && j.value("error", "").find("staging.yaml:6:") != std::string::npos;
  });
  CHECK(failed.size() == 1);
  auto still = ResponseOf(s.Post("/validate", Review("b", "serving", PodWithVolume(staging)).dump()));
  CHECK(still["allowed"] == true);  // old set: warn

  // Fixed, and now enforcing: the new set swaps in.
  std::string pub = w.release.Public().ToPem();
  WriteFile(w.policies_dir + "/staging.yaml", PolicyYaml("staging-models", "enforce", w.reg.host() + "/staging/**", pub));
  REQUIRE(s.WaitFor("/readyz", [](const HttpResponse& r) { return r.body.find("lastReloadError") == std::string::npos; }, 10));
  auto denied = ResponseOf(s.Post("/validate", Review("c", "serving", PodWithVolume(staging)).dump()));
  CHECK(denied["allowed"] == false);
}

// An empty directory used to read as "unchanged" before the first load, so
// /readyz said "policies not loaded" forever; a directory of keys alone
// loaded a set of no policy and answered ready.
TEST_CASE("serve: policy paths that hold no policy keep /readyz at 503, saying so, until a policy is written") {
  World w;
  std::filesystem::remove(w.policies_dir + "/models.yaml");
  std::filesystem::remove(w.policies_dir + "/staging.yaml");
  {
    TestServer s(w.dir, w.ca, w.Args());
    auto empty = s.Get("/readyz");
    CHECK(empty.status == 503);
    CHECK_MESSAGE(empty.body.find("no policies found in " + w.policies_dir) != std::string::npos, empty.body);
  }
  WriteFile(w.policies_dir + "/release.pub", w.release.Public().ToPem());
  TestServer s(w.dir, w.ca, w.Args());
  auto keys_only = s.Get("/readyz");
  CHECK(keys_only.status == 503);
  CHECK_MESSAGE(keys_only.body.find("no policies found in " + w.policies_dir) != std::string::npos, keys_only.body);
  w.WritePolicies("enforce");
  REQUIRE(s.WaitFor("/readyz", [](const HttpResponse& r) { return r.status == 200; }, 10));
  CHECK(s.Get("/readyz").body.find("\"policies\":2") != std::string::npos);
}

TEST_CASE("serve: /readyz is 503 until policies load; /metrics uses the names of docs/server.md") {
  World w;
  WriteFile(w.policies_dir + "/models.yaml", "kind: [broken");
  TestServer s(w.dir, w.ca, w.Args());
  auto ready = s.Get("/readyz");
  CHECK(ready.status == 503);
  CHECK(ready.body.find("models.yaml:1:") != std::string::npos);
  // Without a policy set nothing can be decided: /validate fails closed.
  auto r = ResponseOf(s.Post("/validate", Review("a", "serving", PodWithVolume(w.reg.host() + "/models/good:v1")).dump()));
  CHECK(r["allowed"] == false);
  w.WritePolicies("enforce");
  REQUIRE(s.WaitFor("/readyz", [](const HttpResponse& h) { return h.status == 200; }, 10));
  ResponseOf(s.Post("/validate", Review("b", "serving", PodWithVolume(w.reg.host() + "/models/good:v1")).dump()));
  std::string m = s.Get("/metrics").body;
  for (const char* name : {"provgate_admission_requests_total{", "provgate_admission_duration_seconds_bucket",
                           "provgate_verifications_total{result=\"verified\"} 1", "provgate_cache_hits_total",
                           "provgate_registry_requests_total{host=", "provgate_registry_duration_seconds_count",
                           "provgate_policies_loaded 2", "provgate_policy_reload_errors_total"}) {
    CHECK_MESSAGE(m.find(name) != std::string::npos, name);
  }
}

TEST_CASE("serve: after one review the metrics port has policy results, build info, gauges and process metrics") {
  World w;
  int metrics_port = FreePort();
  TestServer s(w.dir, w.ca, w.Args({"--metrics-port", std::to_string(metrics_port)}));
  auto r = ResponseOf(s.Post("/validate", Review("a", "serving", PodWithVolume(w.reg.host() + "/models/good:v1")).dump()));
  CHECK(r["allowed"] == true);
  CurlTransport plain;
  HttpRequest get;
  get.url = "http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics";
  get.deadline = Soon();
  auto scraped = plain.Send(get);
  REQUIRE(scraped.ok());
  REQUIRE(scraped->status == 200);
  const std::string& m = scraped->body;
  std::string version = RunCommand(std::string(PROVGATE_BINARY) + " --version").output;
  for (std::string series : {std::string("provgate_policy_results_total{policy=\"production-models\",mode=\"enforce\",result=\"pass\"} 1\n"),
                             std::string("provgate_admission_duration_seconds_bucket{webhook=\"validate\",le=\"30\"} 1\n"),
                             std::string("provgate_admission_duration_seconds_count{webhook=\"mutate\"} 0\n"),
                             std::string("provgate_admission_errors_total{webhook=\"validate\"} 0\n"),
                             std::string("provgate_cache_entries 1\n"), std::string("provgate_verifications_in_flight 0\n"),
                             std::string("provgate_build_info{version=\""), std::string("process_resident_memory_bytes "),
                             std::string("process_open_fds "), std::string("process_threads "),
                             std::string("process_cpu_seconds_total "), std::string("process_start_time_seconds ")}) {
    CHECK_MESSAGE(m.find(series) != std::string::npos, series);
  }
  // The build_info labels are what --version prints ("provgate V (commit C, ...").
  size_t v = m.find("provgate_build_info{version=\"");
  REQUIRE(v != std::string::npos);
  std::string labels = m.substr(v, m.find('}', v) - v);
  std::string want_version = version.substr(9, version.find(' ', 9) - 9);
  size_t c = version.find("(commit ") + 8;
  std::string want_commit = version.substr(c, version.find(',', c) - c);
  CHECK_MESSAGE(labels == "provgate_build_info{version=\"" + want_version + "\",commit=\"" + want_commit + "\"", labels);
  // staging-models does not match models/: no series for it.
  CHECK(m.find("policy=\"staging-models\"") == std::string::npos);
}

TEST_CASE("serve: a certificate replaced on disk is served without a restart") {
  World w;
  TestServer s(w.dir, w.ca, w.Args());
  auto fingerprint_served = [&] {
    return RunCommand("openssl s_client -connect 127.0.0.1:" + std::to_string(s.port()) +
                      " -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256")
        .output;
  };
  auto fingerprint_file = [](const std::string& f) {
    return RunCommand("openssl x509 -noout -fingerprint -sha256 -in " + f).output;
  };
  CHECK(fingerprint_served() == fingerprint_file(w.ca.server_cert));
  std::string cert, key;
  w.ca.Issue(w.dir.path(), "rotated", &cert, &key);
  // cert-manager writes new files in place.
  WriteFile(w.ca.server_key, ReadFile(key));
  WriteFile(w.ca.server_cert, ReadFile(cert));
  std::string want = fingerprint_file(cert);
  bool rotated = false;
  for (int i = 0; i < 50 && !rotated; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    rotated = fingerprint_served() == want;
  }
  CHECK(rotated);
  // TLS below 1.2 is refused.
  auto old_tls = RunCommand("openssl s_client -tls1_1 -connect 127.0.0.1:" + std::to_string(s.port()) +
                            " </dev/null >/dev/null 2>&1; echo $?");
  CHECK(old_tls.output != "0\n");
  CHECK(s.Get("/healthz").status == 200);
}

TEST_CASE("serve: refuses to start without TLS files unless --insecure-http") {
  auto r = RunCommand(std::string(PROVGATE_BINARY) + " serve --listen 127.0.0.1:0 --policies /nonexistent 2>&1");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--tls-cert and --tls-key are required") != std::string::npos);
  TempDir d;
  WriteFile(d.File("c.pem"), "not a cert");
  WriteFile(d.File("k.pem"), "not a key");
  auto bad = RunCommand(std::string(PROVGATE_BINARY) + " serve --listen 127.0.0.1:0 --tls-cert " + d.File("c.pem") +
                        " --tls-key " + d.File("k.pem") + " --policies /nonexistent 2>&1");
  CHECK(bad.exit_code == 2);
  CHECK(bad.output.find("no PEM certificate") != std::string::npos);
}
