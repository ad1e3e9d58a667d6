// `provgate serve` (and `check`) against registries that misbehave: a
// MisbehavingRegistry in front of a real docker-registry lies about
// digests and sizes, hangs, trickles, resets, answers 5xx/429 and
// redirects, for the requests of one model at a time. Each case shows the
// defence holds (the reason users see, the time it takes) and that the
// server keeps answering other admissions and /healthz meanwhile.
#include <doctest/doctest.h>

#include <dirent.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "base/json_util.h"
#include "tests/integration/cli_check_env.h"
#include "tests/integration/misbehaving_registry.h"
#include "tests/integration/test_server.h"
#include "verifier/registry/publish_artifact.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

using SteadyTime = std::chrono::steady_clock;

double SecondsSince(SteadyTime::time_point start) {
  return std::chrono::duration<double>(SteadyTime::now() - start).count();
}

Deadline Soon() { return SteadyTime::now() + std::chrono::seconds(20); }

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

// A policy requiring one signature by `release` for references matching `glob`.
std::string SignedPolicy(const std::string& name, const std::string& glob, const std::string& pub_pem) {
  return "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata:\n  name: " + name +
         "\nspec:\n  mode: enforce\n  match:\n    references: [\"" + glob +
         "\"]\n  authorities:\n    - name: release\n      key:\n        pem: |\n" + Indent(pub_pem, 10) +
         "  signatures:\n    require: 1\n";
}

Json Review(const std::string& uid, const std::string& model) {
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "predictor"}}},
              {"spec",
               {{"containers", {{{"name", "server"}, {"image", "ghcr.io/acme/server:1.0"}}}},
                {"volumes", {{{"name", "model"}, {"image", {{"reference", model}}}}}}}}};
  return {{"apiVersion", "admission.k8s.io/v1"},
          {"kind", "AdmissionReview"},
          {"request",
           {{"uid", uid},
            {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
            {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
            {"name", "predictor"},
            {"namespace", "serving"},
            {"operation", "CREATE"},
            {"userInfo", {{"username", "kubernetes-admin"}}},
            {"object", pod},
            {"dryRun", false}}}};
}

struct Admission {
  bool answered = false;
  bool allowed = false;
  std::string message;  // status.message of a denial
  double seconds = 0;
};

Admission Admit(TestServer& s, const std::string& uid, const std::string& model) {
  auto start = SteadyTime::now();
  HttpResponse r = s.Post("/validate", Review(uid, model).dump());
  Admission a;
  a.seconds = SecondsSince(start);
  auto j = ParseJson(r.body, "response");
  if (r.status != 200 || !j.ok() || !(*j)["response"].is_object()) {
    a.message = "HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 200);
    return a;
  }
  const Json& resp = (*j)["response"];
  a.answered = true;
  a.allowed = resp.value("allowed", false);
  if (resp.contains("status") && resp["status"].contains("message")) a.message = resp["status"]["message"];
  return a;
}

// One line of printable ASCII: what a user reads in `kubectl` output.
bool Readable(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// The peak resident set (VmHWM, KiB) of the `provgate serve` listening on
// `port`, found by its command line; -1 when it cannot be read.
long PeakRssKib(int port) {
  std::string listen = "127.0.0.1:" + std::to_string(port);
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string pid = entry.path().filename();
    if (pid.empty() || !std::all_of(pid.begin(), pid.end(), ::isdigit)) continue;
    std::string cmdline;
    try {
      cmdline = ReadFile(entry.path() / "cmdline");
    } catch (...) {
      continue;
    }
    if (cmdline.find(std::string("serve\0--listen\0", 15) + listen + '\0') == std::string::npos) continue;
    std::string status = ReadFile(entry.path() / "status");
    auto at = status.find("VmHWM:");
    if (at == std::string::npos) return -1;
    return std::stol(status.substr(at + 6));
  }
  return -1;
}

// Waits up to `seconds` for `pred`.
template <typename Pred>
bool Eventually(Pred pred, double seconds) {
  auto until = SteadyTime::now() + std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  while (SteadyTime::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

// A real registry (`upstream`) holding signed models, and two misbehaving
// fronts to it: `front`, which the tests make misbehave, and `other`, a
// second host for cross-host redirects. Policies require a `release`
// signature for models through the front and for models straight from the
// upstream (the healthy registry).
struct World {
  TestRegistry upstream;
  TempDir dir;
  TestCa ca = TestCa::Create(dir.path());
  MisbehavingRegistry front{upstream.host()};
  MisbehavingRegistry other{upstream.host()};
  PrivateKey release = *PrivateKey::GenerateEcdsaP256();
  CurlTransport transport;
  std::unique_ptr<RegistryClient> client;  // to the upstream, for pushing and signing
  std::string policies_dir = dir.File("policies");
  std::string registry_config = dir.File("registries.yaml");

  World() {
    auto cfg = RegistryConfig::Load(upstream.config_file());
    REQUIRE(cfg.ok());
    client = std::make_unique<RegistryClient>(&transport, std::make_shared<RegistryConfig>(*cfg));
    std::string yaml = "registries:\n";
    for (const auto& h : {upstream.host(), front.host(), other.host()}) {
      yaml += "  - host: \"" + h + "\"\n    insecure: true\n";
    }
    WriteFile(registry_config, yaml);
    std::filesystem::create_directories(policies_dir);
    std::string pub = release.Public().ToPem();
    WriteFile(policies_dir + "/front.yaml", SignedPolicy("through-front", front.host() + "/models/**", pub));
    WriteFile(policies_dir + "/upstream.yaml", SignedPolicy("healthy-registry", upstream.host() + "/models/**", pub));
  }

  // Pushes models/<name>:v1 (weights unique to `name`) to the upstream and signs it; returns its digest.
  std::string PushSigned(const std::string& name) {
    Reference ref = *ParseReference(upstream.host() + "/models/" + name + ":v1");
    WriteFile(dir.File(name + ".bin"), "weights of " + name);
    PushRequest req;
    req.paths = {dir.File(name + ".bin")};
    req.metadata = Json{{"name", name}};
    auto digest = PushModel(*client, ref, req, Soon());
    REQUIRE_MESSAGE(digest.ok(), digest.status().ToString());
    auto signed_digest = SignArtifact(*client, ref, release, {}, Soon());
    REQUIRE_MESSAGE(signed_digest.ok(), signed_digest.status().ToString());
    return *digest;
  }
  std::string ViaFront(const std::string& name) const { return front.host() + "/models/" + name + ":v1"; }
  std::string Direct(const std::string& name) const { return upstream.host() + "/models/" + name + ":v1"; }

  std::vector<std::string> ServeArgs(const std::string& verify_timeout) const {
    return {"--policies", policies_dir, "--registry-config", registry_config, "--verify-timeout", verify_timeout};
  }

  // `provgate check -o json` of a Pod mounting `model`.
  CliResult Check(const std::string& model) {
    std::string manifest = dir.File("pod.yaml");
    WriteFile(manifest, CheckEnv::PodYaml("predictor", "serving", model));
    std::string cmd = std::string(PROVGATE_BINARY) + " check -f " + manifest + " --policies " + policies_dir +
                      " --registry-config " + registry_config + " --timeout 2 -o json 2> " + dir.File("stderr.txt");
    CommandResult r = RunCommand(cmd);
    CliResult out;
    out.exit_code = r.exit_code;
    out.out = r.output;
    out.err = ReadFile(dir.File("stderr.txt"));
    auto j = ParseJson(out.out, "check output", 64);
    if (j.ok()) out.json = std::move(*j);
    return out;
  }
};

// The path patterns of one model's requests.
std::string TagManifest(const std::string& name) { return "/models/" + name + "/manifests/v1$"; }
std::string SignatureManifest(const std::string& name) {
  return "/models/" + name + "/manifests/sha256-[0-9a-f]{64}\\.sig$";
}
std::string Blobs(const std::string& name) { return "/models/" + name + "/blobs/"; }

}  // namespace

TEST_CASE("misbehaving registry: content that does not match its digest is denied with digest-mismatch, "
          "and admitted once served intact") {
  World w;
  TestServer s(w.dir, w.ca, w.ServeArgs("2"));
  struct Row {
    std::string name, pattern;
  };
  const Row rows[] = {
      {"tampered-manifest", TagManifest("tampered-manifest")},
      {"tampered-signature-manifest", SignatureManifest("tampered-signature-manifest")},
      {"tampered-blobs", Blobs("tampered-blobs")},  // the config blob and the signature layer
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    w.PushSigned(row.name);
    w.front.Inject(row.pattern, Fault::CorruptBody());
    Admission denied = Admit(s, "tampered-" + row.name, w.ViaFront(row.name));
    REQUIRE_MESSAGE(denied.answered, denied.message);
    CHECK_FALSE(denied.allowed);
    CHECK_MESSAGE(denied.message.find("registry-unavailable: digest-mismatch:") != std::string::npos, denied.message);
    CHECK(w.front.stats().answered >= 1);  // the tampered bytes were served
    // Served intact, the same reference is admitted: the failure was not cached.
    w.front.Clear();
    Admission intact = Admit(s, "intact-" + row.name, w.ViaFront(row.name));
    CHECK_MESSAGE(intact.allowed, intact.message);
  }

  // `check` denies it too, and says no decision could be made (exit 2).
  w.PushSigned("tampered-check");
  w.front.Inject(TagManifest("tampered-check"), Fault::CorruptBody());
  CliResult c = w.Check(w.ViaFront("tampered-check"));
  CHECK_MESSAGE(c.exit_code == 2, c.err);
  REQUIRE_MESSAGE(c.json.is_object(), c.out);
  CHECK(ModelRef(c.json)["decision"] == "deny");
  CHECK_MESSAGE(Contains(Reasons(ModelRef(c.json)), "registry-unavailable: digest-mismatch:"), c.out);
  CHECK(s.Running());
}

TEST_CASE("misbehaving registry: a huge claimed Content-Length or an endless body is refused at the bound, "
          "in bounded time, without holding it") {
  World w;
  TestServer s(w.dir, w.ca, w.ServeArgs("2"));
  const uint64_t ten_gib = 10ull << 30;
  struct Row {
    std::string name, pattern;
    Fault fault;
  };
  const Row rows[] = {
      // 1 byte every 20 ms: reading up to any bound would take past the deadline.
      {"huge-manifest", TagManifest("huge-manifest"), Fault::HugeContentLength(ten_gib, 20)},
      {"huge-signature-manifest", SignatureManifest("huge-signature-manifest"), Fault::HugeContentLength(ten_gib, 20)},
      {"huge-blobs", Blobs("huge-blobs"), Fault::HugeContentLength(ten_gib, 20)},
      // No Content-Length at all: 64 KiB every millisecond, past the 4 MiB manifest bound.
      {"endless-manifest", TagManifest("endless-manifest"), Fault::EndlessBody(64 << 10, 1)},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    w.PushSigned(row.name);
    w.front.Inject(row.pattern, row.fault);
    Admission denied = Admit(s, "huge-" + row.name, w.ViaFront(row.name));
    REQUIRE_MESSAGE(denied.answered, denied.message);
    CHECK_FALSE(denied.allowed);
    CHECK_MESSAGE(denied.message.find("bound-exceeded:") != std::string::npos, denied.message);
    CHECK(denied.seconds < 1.5);  // refused at the bound, not held until the 2 s deadline
    // The peer stopped reading: the flood ends, having sent about the bound, not without end.
    REQUIRE(Eventually([&] { return w.front.stats().in_flight == 0; }, 3));
    FaultStats st = w.front.stats();
    CHECK(st.answered >= 1);
    CHECK(st.body_bytes_sent < (64u << 20));
    if (row.fault.kind == Fault::Kind::kEndlessBody) CHECK(st.body_bytes_sent >= (4u << 20));
    w.front.Clear();
    Admission after = Admit(s, "after-" + row.name, w.ViaFront(row.name));
    CHECK_MESSAGE(after.allowed, after.message);
  }
  // Nothing near the claimed 10 GiB was ever held: the process is alive and small.
  CHECK(s.Running());
  CHECK(s.Get("/healthz").status == 200);
  long peak_kib = PeakRssKib(s.port());
  CHECK(peak_kib > 0);
  CHECK_MESSAGE(peak_kib < 512 * 1024, peak_kib << " KiB");

  // `check`: a bound is a decided denial (exit 1), in bounded time.
  w.PushSigned("huge-check");
  w.front.Inject(TagManifest("huge-check"), Fault::HugeContentLength(ten_gib, 20));
  auto start = SteadyTime::now();
  CliResult c = w.Check(w.ViaFront("huge-check"));
  CHECK(SecondsSince(start) < 2);
  CHECK_MESSAGE(c.exit_code == 1, c.err);
  REQUIRE_MESSAGE(c.json.is_object(), c.out);
  CHECK_MESSAGE(Contains(Reasons(ModelRef(c.json)), "bound-exceeded:"), c.out);
}

TEST_CASE("misbehaving registry: an answer that hangs or trickles fails at --verify-timeout with "
          "registry-unavailable: deadline, while a healthy registry's admission and /healthz are answered at once") {
  World w;
  TestServer s(w.dir, w.ca, w.ServeArgs("2"));
  struct Row {
    std::string name, pattern;
    Fault fault;
  };
  const Row rows[] = {
      {"hang-manifest", TagManifest("hang-manifest"), Fault::HangAfterHeaders()},
      {"trickle-manifest", TagManifest("trickle-manifest"), Fault::Trickle(200)},  // ~500 bytes: 100 s
      {"delay-manifest", TagManifest("delay-manifest"), Fault::Delay(30000)},      // no headers at all
      {"hang-signature-manifest", SignatureManifest("hang-signature-manifest"), Fault::HangAfterHeaders()},
      {"trickle-blobs", Blobs("trickle-blobs"), Fault::Trickle(200)},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    w.PushSigned(row.name);
    w.PushSigned("healthy-" + row.name);  // its own model: the healthy admission needs the registry
    w.front.Inject(row.pattern, row.fault);
    auto stuck = std::async(std::launch::async, [&] { return Admit(s, "stuck-" + row.name, w.ViaFront(row.name)); });
    REQUIRE(Eventually([&] { return w.front.stats().in_flight >= 1; }, 2));

    // While the front holds that verification, the rest of the server answers.
    auto start = SteadyTime::now();
    CHECK(s.Get("/healthz").status == 200);
    CHECK(SecondsSince(start) < 0.5);
    Admission healthy = Admit(s, "healthy-" + row.name, w.Direct("healthy-" + row.name));
    CHECK_MESSAGE(healthy.allowed, healthy.message);
    CHECK(healthy.seconds < 1.0);
    CHECK(stuck.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);  // answered meanwhile

    Admission late = stuck.get();
    REQUIRE_MESSAGE(late.answered, late.message);
    CHECK_FALSE(late.allowed);
    CHECK_MESSAGE(late.message.find("registry-unavailable: deadline:") != std::string::npos, late.message);
    CHECK(late.seconds >= 1.5);       // it did wait for the registry...
    CHECK(late.seconds < 2.0 + 1.5);  // ...but no longer than --verify-timeout, plus slack
    w.front.Clear();
  }
  CHECK(s.Running());
}

TEST_CASE("misbehaving registry: resets, 5xx and 429 deny with a readable registry-unavailable reason that "
          "quotes no body; served normally, the same reference is admitted next") {
  World w;
  TestServer s(w.dir, w.ca, w.ServeArgs("2"));
  struct Row {
    std::string name, pattern;
    Fault fault;
    std::string reason;  // after "registry-unavailable: "
  };
  const Row rows[] = {
      {"reset-manifest", TagManifest("reset-manifest"), Fault::Reset(), "failed: "},
      {"reset-signature-manifest", SignatureManifest("reset-signature-manifest"), Fault::Reset(), "failed: "},
      {"error-manifest", TagManifest("error-manifest"), Fault::Status(500), "answered HTTP 500 UNKNOWN for manifest"},
      // The error body is longer than the blob asked for: still the 503 it is, not a bound.
      {"unavailable-blobs", Blobs("unavailable-blobs"), Fault::Status(503), "answered HTTP 503 UNKNOWN for blob"},
      // Past 64 KiB an error body is not read: the status is reported, the body never.
      {"unavailable-blobs-long-body", Blobs("unavailable-blobs-long-body"), Fault::Status(503, 0, 1 << 20),
       "answered HTTP 503 with a body over 65536 bytes"},
      {"throttled-manifest", TagManifest("throttled-manifest"), Fault::Status(429, 1),
       "answered HTTP 429 TOOMANYREQUESTS for manifest"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    w.PushSigned(row.name);
    w.front.Inject(row.pattern, row.fault);
    Admission denied = Admit(s, "failing-" + row.name, w.ViaFront(row.name));
    REQUIRE_MESSAGE(denied.answered, denied.message);
    CHECK_FALSE(denied.allowed);
    CHECK_MESSAGE(denied.message.find("registry-unavailable: ") != std::string::npos, denied.message);
    CHECK_MESSAGE(denied.message.find(row.reason) != std::string::npos, denied.message);
    CHECK_MESSAGE(Readable(denied.message), denied.message);
    CHECK(denied.message.find("injected by the misbehaving registry") == std::string::npos);  // never the body
    CHECK(denied.seconds < 1.5);  // an answer, even a bad one, is not waited out
    CHECK(w.front.stats().answered >= 1);
    // Fetch failures are never cached (docs/server.md, Caching): served
    // normally, the very same reference is admitted.
    w.front.Clear();
    Admission next = Admit(s, "next-" + row.name, w.ViaFront(row.name));
    CHECK_MESSAGE(next.allowed, next.message);
  }
  CHECK(s.Running());
  CHECK(s.Get("/healthz").status == 200);
}

TEST_CASE("misbehaving registry: a signature tag answering 404 reads as unsigned, a decided denial kept for the "
          "negative-result TTL for that registry only") {
  World w;
  TestServer s(w.dir, w.ca, w.ServeArgs("2"));
  w.PushSigned("hidden-signature");
  w.front.Inject(SignatureManifest("hidden-signature"), Fault::Status(404));
  Admission denied = Admit(s, "hidden", w.ViaFront("hidden-signature"));
  REQUIRE_MESSAGE(denied.answered, denied.message);
  CHECK_FALSE(denied.allowed);
  CHECK_MESSAGE(denied.message.find("no signatures found") != std::string::npos, denied.message);
  CHECK(denied.message.find("registry-unavailable") == std::string::npos);  // a result, not a failure
  // A failed policy result is cached up to 30 s (docs/server.md, Caching):
  // with the signature visible again, the same reference is still denied...
  w.front.Clear();
  Admission cached = Admit(s, "hidden-again", w.ViaFront("hidden-signature"));
  CHECK_FALSE(cached.allowed);
  CHECK(w.front.Requests(SignatureManifest("hidden-signature")) == 1);  // not asked again
  // ...while the same artifact from another registry is its own cache entry.
  Admission direct = Admit(s, "direct", w.Direct("hidden-signature"));
  CHECK_MESSAGE(direct.allowed, direct.message);
}

TEST_CASE("misbehaving registry: redirects are followed within the registry's own origin, at most five; "
          "a redirect to another plain-http host is refused without contacting it") {
  World w;
  TestServer s(w.dir, w.ca, w.ServeArgs("2"));
  struct Row {
    std::string name;
    bool blob;             // redirect the config blob, else the manifest by tag
    std::string location;  // "{path}": the request's own path
    bool allowed;
    std::string reason;    // of the denial, after "registry-unavailable: "
  };
  const std::string self = "http://" + w.front.host();
  const std::string elsewhere = "http://" + w.other.host();
  const std::string to_other = "refusing redirect from " + w.front.host() + " to a non-https URL";
  const Row rows[] = {
      {"same-origin", false, self + "{path}?hop=1", true, ""},
      {"relative", false, "{path}?hop=1", true, ""},
      {"same-origin-blob", true, self + "{path}?hop=1", true, ""},
      {"other-host", false, elsewhere + "{path}", false, to_other},
      {"other-host-blob", true, elsewhere + "{path}", false, to_other},
      {"loop", false, self + "{path}", false, "more than 5 redirects from " + w.front.host()},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    w.PushSigned(row.name);
    // The Location is per request path: one rule per path the model asks for.
    std::string path_prefix = "/v2/models/" + row.name;
    auto add_rule = [&](const std::string& exact_path) {
      std::string loc = row.location;
      loc.replace(loc.find("{path}"), 6, exact_path);
      w.front.Inject("^" + exact_path + "$", Fault::Redirect(loc));
    };
    if (row.blob) {
      auto m = w.client->GetManifest(*ParseReference(w.Direct(row.name)), "v1", Soon());
      REQUIRE(m.ok());
      add_rule(path_prefix + "/blobs/" + m->manifest.config.digest);
    } else {
      add_rule(path_prefix + "/manifests/v1");
    }
    int other_before = w.other.Requests(".");
    Admission a = Admit(s, "redirect-" + row.name, w.ViaFront(row.name));
    REQUIRE_MESSAGE(a.answered, a.message);
    CHECK_MESSAGE(a.allowed == row.allowed, a.message);
    if (!row.allowed) {
      CHECK_MESSAGE(a.message.find("registry-unavailable: ") != std::string::npos, a.message);
      CHECK_MESSAGE(a.message.find(row.reason) != std::string::npos, a.message);
    }
    CHECK(w.other.Requests(".") == other_before);  // never contacted
    if (row.allowed) CHECK(w.front.Requests("^" + path_prefix + "/.*[?]hop=1$") == 1);  // the redirect was followed, once
    if (row.name == "loop") CHECK(w.front.Requests("^" + path_prefix + "/manifests/v1$") == 6);  // first + 5
    w.front.Clear();
  }
  CHECK(s.Running());
}

TEST_CASE("misbehaving registry: admissions hanging on one registry hold at most 8 of the 16 verification "
          "workers; a healthy registry's admission is allowed meanwhile") {
  World w;
  TestServer s(w.dir, w.ca, w.ServeArgs("3"));
  w.PushSigned("healthy");
  // Every manifest of models/hang-*: the headers of upstream's 404, then nothing.
  w.front.Inject("/models/hang-[0-9]+/manifests/", Fault::HangAfterHeaders());
  constexpr int kHanging = 20;  // more than all 16 workers
  std::vector<std::future<Admission>> stuck;
  auto launched = SteadyTime::now();
  for (int i = 0; i < kHanging; ++i) {
    std::string model = w.ViaFront("hang-" + std::to_string(i));
    stuck.push_back(std::async(std::launch::async, [&s, model, i] { return Admit(s, "hang-" + std::to_string(i), model); }));
  }
  REQUIRE(Eventually([&] { return w.front.stats().in_flight >= 8; }, 2.5));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // room for a ninth, were there one
  CHECK(w.front.stats().in_flight == 8);

  Admission healthy = Admit(s, "healthy", w.Direct("healthy"));
  CHECK_MESSAGE(healthy.allowed, healthy.message);
  CHECK(healthy.seconds < 1.5);  // a free worker at once...
  CHECK(SecondsSince(launched) < 3.0);  // ...not one freed by the hanging ones' 3 s deadline
  CHECK(s.Get("/healthz").status == 200);
  // Measured before the deadline: past it, a freed worker's next connection
  // may arrive before the front has seen the last one close.
  CHECK(w.front.stats().max_in_flight == 8);

  for (auto& f : stuck) {
    Admission a = f.get();
    CHECK_MESSAGE(a.answered, a.message);
    CHECK_FALSE(a.allowed);
    CHECK_MESSAGE(a.message.find("registry-unavailable: deadline:") != std::string::npos, a.message);
    CHECK(a.seconds < 3.0 + 1.5);
  }
  CHECK(s.Running());
}
