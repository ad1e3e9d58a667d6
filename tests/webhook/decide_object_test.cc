// DecideObject over an in-memory registry: the object's decision from its
// references' (docs/policy-language.md rules 3-5), fail-closed paths (registry down, an
// exception while verifying, an unparseable reference), and the warnings'
// bound.
#include "webhook/decide/decide_object.h"

#include <doctest/doctest.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>

#include "policy/policy_loader.h"
#include "tests/webhook/fake_registry.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

// One policy `name` in `mode` over reg.example.com/**, requiring key's
// signature, plus `extra` YAML under spec (indented by two spaces).
std::string PolicyYaml(const std::string& name, const std::string& mode, const PrivateKey& key,
                       const std::string& extra = "") {
  return "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata:\n  name: " + name + "\nspec:\n  mode: " + mode +
         "\n  match:\n    references: [\"reg.example.com/**\"]\n  authorities:\n    - name: k\n      key:\n"
         "        pem: |\n" + IndentPem(key.Public().ToPem(), 10) + "  signatures:\n    require: 1\n" + extra;
}

std::shared_ptr<const PolicySet> Policies(const std::string& yaml) {
  auto policies = ParsePolicyDocuments(yaml, "p.yaml", [](const std::string&) -> StatusOr<std::string> {
    return InvalidArgument("no files");
  });
  REQUIRE_MESSAGE(policies.ok(), policies.status().ToString());
  return std::make_shared<const PolicySet>(std::move(*policies));
}

Json PodWith(const std::string& image) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", "p"}, {"namespace", "serving"}}},
          {"spec", {{"containers", {{{"name", "c"}, {"image", image}}}}}}};
}

struct Fixture {
  MemoryRegistry reg;
  FakeClock clock;
  PrivateKey key = *PrivateKey::GenerateEcdsaP256();
  std::shared_ptr<RegistryConfig> config = std::make_shared<RegistryConfig>();
  RegistryClient client{&reg, config};
  VerificationService service;

  explicit Fixture(VerificationService::Options options = {}) : service(client, clock, options) {}

  ObjectDecision Decide(const Json& object, const std::shared_ptr<const PolicySet>& policies,
                        const DecisionOptions& options = {}) {
    auto d = DecideObject(object, "", policies, service, options,
                          std::chrono::steady_clock::now() + std::chrono::seconds(10));
    REQUIRE_MESSAGE(d.ok(), d.status().ToString());
    return *d;
  }
};

// True when `s` is well-formed UTF-8 (nlohmann's strict dump refuses anything else).
bool ValidUtf8(const std::string& s) {
  try {
    (void)Json(s).dump();
    return true;
  } catch (const Json::exception&) {
    return false;
  }
}

}  // namespace

TEST_CASE("DecideObject: enforce denies, warn allows with a warning, a pass allows") {
  Fixture f;
  AddModel(f.reg, "signed", "a", &f.key);
  AddModel(f.reg, "unsigned", "b", nullptr);
  auto enforce = Policies(PolicyYaml("prod", "enforce", f.key));
  auto warn = Policies(PolicyYaml("rollout", "warn", f.key));

  auto ok = f.Decide(PodWith("reg.example.com/m:signed"), enforce);
  CHECK(ok.allowed);
  REQUIRE(ok.references.size() == 1);
  CHECK(ok.references[0].decision == Decision::kAllow);
  CHECK_FALSE(ok.references[0].digest.empty());

  auto denied = f.Decide(PodWith("reg.example.com/m:unsigned"), enforce);
  CHECK_FALSE(denied.allowed);
  CHECK(denied.references[0].decision == Decision::kDeny);
  CHECK_MESSAGE(denied.message.find("Pod serving/p") != std::string::npos, denied.message);
  CHECK_MESSAGE(denied.message.find("policy prod") != std::string::npos, denied.message);

  auto warned = f.Decide(PodWith("reg.example.com/m:unsigned"), warn);
  CHECK(warned.allowed);
  CHECK(warned.references[0].decision == Decision::kWarn);
  REQUIRE(warned.warnings.size() == 1);
  CHECK(warned.message.empty());
}

TEST_CASE("DecideObject: what could not be verified fails closed under enforce") {
  Fixture f;
  AddModel(f.reg, "signed", "a", &f.key);
  auto enforce = Policies(PolicyYaml("prod", "enforce", f.key));

  f.reg.down = true;
  auto down = f.Decide(PodWith("reg.example.com/m:signed"), enforce);
  CHECK_FALSE(down.allowed);
  CHECK(down.references[0].digest.empty());
  REQUIRE(down.references[0].policies.size() == 1);
  CHECK(down.references[0].policies[0].reasons.at(0).rfind("registry-unavailable: ", 0) == 0);
  f.reg.down = false;

  auto missing = f.Decide(PodWith("reg.example.com/m:absent"), enforce);
  CHECK_FALSE(missing.allowed);
  CHECK(missing.references[0].policies[0].reasons.at(0).rfind("not-found: ", 0) == 0);

  f.reg.throws = true;
  ObjectDecision thrown;
  CHECK_NOTHROW(thrown = f.Decide(PodWith("reg.example.com/m:signed"), enforce));
  CHECK_FALSE(thrown.allowed);
  f.reg.throws = false;

  // An unparseable reference is denied even where no policy could match it.
  auto invalid = f.Decide(PodWith("reg.example.com/Upper Case:v1"), enforce);
  CHECK_FALSE(invalid.allowed);
  CHECK(invalid.references[0].decision == Decision::kDeny);
}

// Warnings go into the AdmissionReview (and `check -o json`): cut to the
// bound at a character boundary, never inside a multi-byte character (here
// in an annotation name, part of the field path).
TEST_CASE("DecideObject: warnings stay under 256 bytes and valid UTF-8") {
  Fixture f;
  AddModel(f.reg, "unsigned", "b", nullptr);
  auto warn = Policies(PolicyYaml("rollout", "warn", f.key));
  std::string accented;
  for (int i = 0; i < 150; ++i) accented += "\xC3\xA9";  // é
  // Prefixes of both parities, so that a byte cut would fall both between
  // and inside the two bytes of an é.
  for (const std::string prefix : {"x", "xx"}) {
    CAPTURE(prefix);
    DecisionOptions options;
    options.model_annotations = {prefix + accented + "/model"};
    Json pod = PodWith("busybox");
    pod["metadata"]["annotations"][options.model_annotations[0]] = "oci://reg.example.com/m:unsigned";
    auto d = DecideObject(pod, "", warn, f.service, options, std::chrono::steady_clock::now() + std::chrono::seconds(10));
    REQUIRE(d.ok());
    CHECK(d->allowed);
    REQUIRE(d->warnings.size() == 1);
    CHECK(d->warnings[0].size() < 256);
    CHECK(ValidUtf8(d->warnings[0]));
  }
}

namespace {

// The process's thread count (Linux), sampled every millisecond while alive:
// `peak` is the most seen.
class ThreadSampler {
 public:
  ThreadSampler() : thread_([this] {
      while (!stop_) {
        int n = Count();
        for (int p = peak_.load(); n > p && !peak_.compare_exchange_weak(p, n);) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }) {
    while (peak_.load() == 0) std::this_thread::yield();
  }
  ~ThreadSampler() {
    stop_ = true;
    thread_.join();
  }
  int peak() const { return peak_.load(); }
  static int Count() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
    }
    return -1;
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> peak_{0};
  std::thread thread_;
};

Json PodWithImages(size_t n) {
  Json containers = Json::array();
  for (size_t i = 0; i < n; ++i) {
    containers.push_back({{"name", "c" + std::to_string(i)}, {"image", "reg.example.com/m:t" + std::to_string(i)}});
  }
  return {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "p"}}}, {"spec", {{"containers", containers}}}};
}

}  // namespace

// Issue 9: an object with N distinct matched references started N-1 threads
// and N manifest fetches outside the bound of 16 verification slots.
TEST_CASE("DecideObject: an object over the per-object bound is denied without a thread or a request") {
  Fixture f;
  auto policies = Policies(PolicyYaml("signed", "enforce", f.key));
  ThreadSampler threads;
  const int before = ThreadSampler::Count();
  ObjectDecision d = f.Decide(PodWithImages(1000), policies);
  CHECK_FALSE(d.allowed);
  REQUIRE(d.references.size() == 1000);
  for (const auto& r : d.references) {
    CHECK(r.decision == Decision::kDeny);
    REQUIRE(r.policies.size() == 1);
    REQUIRE(r.policies[0].reasons.size() == 1);
    CHECK(r.policies[0].reasons[0] ==
          "bound-exceeded: the object has 1000 distinct references that policies match; at most 64 are verified per "
          "object");
  }
  CHECK(d.message.find("bound-exceeded") != std::string::npos);
  CHECK(f.reg.requests == 0);
  CHECK(threads.peak() == before);
}

TEST_CASE("DecideObject: references up to the bound are verified on a few threads within the slots") {
  Fixture f;
  auto policies = Policies(PolicyYaml("signed", "enforce", f.key));
  for (size_t i = 0; i < kMaxVerifiedReferencesPerObject; ++i) {
    AddModel(f.reg, "t" + std::to_string(i), "model-" + std::to_string(i), &f.key);
  }
  f.reg.latency = std::chrono::milliseconds(5);
  ThreadSampler threads;
  const int before = ThreadSampler::Count();
  ObjectDecision d = f.Decide(PodWithImages(kMaxVerifiedReferencesPerObject), policies);
  CHECK_MESSAGE(d.allowed, d.message);
  for (const auto& r : d.references) CHECK(r.decision == Decision::kAllow);
  // All on one registry: at most max_per_host (half of the 16 workers)
  // verifications at once, whatever the number of references (the old
  // code: 63 threads, 113 in all). The pool's workers exist before; each
  // running verification adds a few threads fetching its signatures,
  // attestations and bundles side by side (threads that are ending still
  // count for a moment): a bound independent of the references.
  CHECK(f.reg.sig_peak <= 8);
  CHECK(threads.peak() - before <= 8 * 4);
}

// Every registry request, the manifest fetch included, waits for a slot.
TEST_CASE("VerificationService: manifest fetches run inside the verification slots") {
  VerificationService::Options options;
  options.max_concurrent = 2;
  options.max_per_host = 2;
  Fixture f(options);
  MemoryRegistry& reg = f.reg;
  const PrivateKey& key = f.key;
  VerificationService& service = f.service;
  auto policies = Policies(PolicyYaml("signed", "enforce", key));
  for (int i = 0; i < 8; ++i) AddModel(reg, "t" + std::to_string(i), "model-" + std::to_string(i), &key);
  reg.latency = std::chrono::milliseconds(20);
  std::vector<std::thread> callers;
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&, i] {
      auto ref = ParseReference("reg.example.com/m:t" + std::to_string(i));
      auto v = service.Verify(*ref, policies, std::chrono::steady_clock::now() + std::chrono::seconds(10));
      CHECK(v.ok());
    });
  }
  for (auto& c : callers) c.join();
  CHECK(reg.tag_manifest_peak == 2);
}

// Issue 11 defect 5: work after the fetch ignored the deadline, so an
// admission with --verify-timeout 2 took 4-6 s. The answer comes at the
// deadline whatever is still running, and the verification lands later.
TEST_CASE("DecideObject: the answer comes by the deadline, whatever is still running") {
  Fixture f;
  auto policies = Policies(PolicyYaml("signed", "enforce", f.key));
  AddModel(f.reg, "v1", "slow", &f.key);
  f.reg.latency = std::chrono::milliseconds(600);  // every request: the verification takes > 1.8 s
  auto start = std::chrono::steady_clock::now();
  auto d = DecideObject(PodWith("reg.example.com/m:v1"), "", policies, f.service, {},
                        start + std::chrono::milliseconds(200));
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(d.ok());
  CHECK_FALSE(d->allowed);
  REQUIRE(d->references[0].policies.size() == 1);
  CHECK_MESSAGE(d->references[0].policies[0].reasons.at(0).rfind("registry-unavailable: deadline: ", 0) == 0,
                d->references[0].policies[0].reasons.at(0));
  CHECK(took < std::chrono::milliseconds(600));  // before the registry's first answer
  // The verification went on and is cached for the next admission.
  for (int i = 0; i < 100 && f.service.cache_size() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(f.service.cache_size() == 1);
  f.reg.latency = std::chrono::milliseconds(0);
  ObjectDecision again = f.Decide(PodWith("reg.example.com/m:v1"), policies);
  CHECK(again.allowed);
}

// Issue 11 defect 6: 64 admissions against a registry that never answered
// held every verification slot, and admissions from a healthy registry
// failed waiting for one.
TEST_CASE("VerificationService: a hanging registry cannot take every worker from the others") {
  VerificationService::Options options;
  options.max_concurrent = 4;  // two per host
  Fixture f(options);
  MemoryRegistry& reg = f.reg;
  const PrivateKey& key = f.key;
  VerificationService& service = f.service;
  auto policies = Policies(
      "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata:\n  name: any\nspec:\n  match:\n"
      "    references: [\"**\"]\n  authorities:\n    - name: k\n      key:\n        pem: |\n" +
      IndentPem(key.Public().ToPem(), 10) + "  signatures:\n    require: 1\n");
  std::vector<std::string> digests;
  for (int i = 0; i < 8; ++i) digests.push_back(AddModel(reg, "t" + std::to_string(i), "m" + std::to_string(i), &key));
  reg.slow_host = "hang.example.com";
  reg.slow_host_latency = std::chrono::milliseconds(1500);
  auto far = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::vector<std::shared_future<VerificationService::Result>> hanging;
  for (const auto& d : digests) hanging.push_back(service.Start(*ParseReference("hang.example.com/m@" + d), policies, far));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the hanging ones hold their host's workers
  auto start = std::chrono::steady_clock::now();
  auto healthy = service.Verify(*ParseReference("reg.example.com/m@" + digests[0]), policies,
                                start + std::chrono::seconds(1));
  REQUIRE_MESSAGE(healthy.ok(), healthy.status().ToString());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1500));
  for (auto& h : hanging) h.wait();
}

TEST_CASE("attachments over a bound: the reference keeps the digest its tag resolved to, and fails bound-exceeded") {
  Fixture f;
  std::string digest = AddModel(f.reg, "v1", "a", &f.key);
  std::string layers;
  for (int i = 0; i < 65; ++i) layers += (i ? "," : "") + Desc(kSimpleSigningMediaType, "p" + std::to_string(i));
  std::string tag_sig = digest;
  tag_sig[6] = '-';
  f.reg.Put("/v2/m/manifests/" + tag_sig + ".sig", kOciManifest,
            R"({"schemaVersion":2,"mediaType":")" + std::string(kOciManifest) + R"(","config":)" +
                Desc("application/vnd.oci.image.config.v1+json", "{}") + R"(,"layers":[)" + layers + "]}");
  auto d = f.Decide(PodWith("reg.example.com/m:v1"), Policies(PolicyYaml("prod", "enforce", f.key)));
  CHECK_FALSE(d.allowed);
  REQUIRE(d.references.size() == 1);
  CHECK(d.references[0].digest == digest);
  CHECK(d.references[0].undecided == Undecided::kFetchFailed);
  REQUIRE(d.references[0].policies.size() == 1);
  CHECK_MESSAGE(d.references[0].policies[0].reasons.at(0).rfind("bound-exceeded: ", 0) == 0,
                d.references[0].policies[0].reasons.at(0));
  Json j = ObjectDecisionToJson(d);
  CHECK(j["references"][0]["digest"] == digest);
  CHECK(j["references"][0]["reasonCode"] == "bound-exceeded");
  CHECK(j["references"][0]["policies"][0]["reasonCode"] == "bound-exceeded");
}

// `digest` is absent only when it could not be resolved; a reference that
// names its digest was printed without one when nothing was verified.
TEST_CASE("ObjectDecisionToJson: a reference that names its digest has it, also when not found or unmatched") {
  Fixture f;
  const std::string zeros = "sha256:" + std::string(64, '0');
  auto policies = Policies(PolicyYaml("prod", "enforce", f.key));
  for (const std::string& ref : {"reg.example.com/m@" + zeros, "other.example.com/x@" + zeros}) {
    CAPTURE(ref);
    auto d = f.Decide(PodWith(ref), policies);
    REQUIRE(d.references.size() == 1);
    Json j = ObjectDecisionToJson(d);
    CHECK(j["references"][0]["digest"] == zeros);
  }
  auto tag = ObjectDecisionToJson(f.Decide(PodWith("reg.example.com/m:missing"), policies));
  CHECK_FALSE(tag["references"][0].contains("digest"));  // a tag that did not resolve
}

// Kinds provgate does not read (issue "every model path"): no references
// means nobody looked, not that none are there. Admitted and marked, unless
// strict (check --strict) denies them; understood kinds are unaffected.
TEST_CASE("DecideObject: a kind not understood is marked, and denied only when strict") {
  Fixture f;
  auto policies = Policies(PolicyYaml("prod", "enforce", f.key));
  Json workspace = Json::parse(R"({"apiVersion":"kaito.sh/v1alpha1","kind":"Workspace",
      "metadata":{"name":"w","namespace":"serving"},
      "inference":{"template":{"spec":{"containers":[{"name":"c","image":"reg.example.com/m:unsigned"}]}}}})");
  auto lax = f.Decide(workspace, policies);
  CHECK(lax.allowed);
  CHECK(lax.undecided == Undecided::kKindNotUnderstood);
  CHECK(lax.references.empty());
  CHECK(lax.message.empty());
  Json j = ObjectDecisionToJson(lax);
  CHECK(j["undecided"] == "kind-not-understood");
  CHECK(j["allowed"] == true);

  DecisionOptions strict;
  strict.strict = true;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto denied = DecideObject(workspace, "", policies, f.service, strict, deadline);
  REQUIRE(denied.ok());
  CHECK_FALSE(denied->allowed);
  CHECK(denied->undecided == Undecided::kKindNotUnderstood);
  CHECK_MESSAGE(denied->message ==
                    "provgate: Workspace serving/w: kind not understood (kaito.sh/v1alpha1 Workspace): model "
                    "references were not looked for, and --strict denies it",
                denied->message);
  CHECK(f.reg.requests == 0);

  AddModel(f.reg, "signed", "a", &f.key);
  auto pod = DecideObject(PodWith("reg.example.com/m:signed"), "", policies, f.service, strict, deadline);
  REQUIRE(pod.ok());
  CHECK(pod->allowed);
  CHECK(pod->undecided == Undecided::kNo);
  CHECK_FALSE(ObjectDecisionToJson(*pod).contains("undecided"));
  auto empty = DecideObject(Json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"e"},"spec":{}})"), "",
                            policies, f.service, strict, deadline);
  REQUIRE(empty.ok());
  CHECK(empty->allowed);  // understood, and truly without model references
  CHECK(std::string(UndecidedName(Undecided::kKindNotUnderstood)) == "kind-not-understood");
}

// The new sources reach policies: match.sources selects them, a verified
// reference keeps its digest, and storage-initializer args stay unpinnable.
TEST_CASE("DecideObject: env, csi-volume and init-args references are decided by the policies selecting them") {
  Fixture f;
  AddModel(f.reg, "signed", "a", &f.key);
  AddModel(f.reg, "unsigned", "b", nullptr);
  std::string yaml = PolicyYaml("kit", "enforce", f.key);
  const std::string refs_line = "    references: [\"reg.example.com/**\"]\n";
  REQUIRE(yaml.find(refs_line) != std::string::npos);
  yaml.replace(yaml.find(refs_line), refs_line.size(), refs_line + "    sources: [env, csi-volume, init-args]\n");
  auto policies = Policies(yaml);
  Json pod = Json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"serving"},
      "spec":{"initContainers":[
          {"name":"kitops-init","image":"reg.example.com/m:unsigned",
           "env":[{"name":"MODELKIT_REF","value":"reg.example.com/m:signed"}]},
          {"name":"storage-initializer","image":"reg.example.com/m:unsigned",
           "args":["oci://reg.example.com/m:signed","/mnt/models"]}],
        "containers":[{"name":"c","image":"reg.example.com/m:unsigned"}],
        "volumes":[{"name":"v","csi":{"driver":"model.csi.modelpack.org",
           "volumeAttributes":{"model.csi.modelpack.org/reference":"reg.example.com/m:unsigned"}}}]}})");
  auto d = f.Decide(pod, policies);
  REQUIRE(d.references.size() == 6);
  struct Want {
    Source source;
    Decision decision;
    bool pinnable;
  };
  const Want want[] = {
      {Source::kContainer, Decision::kUnmatched, true},  // images: not selected by this policy
      {Source::kEnv, Decision::kAllow, true},
      {Source::kContainer, Decision::kUnmatched, true},
      {Source::kInitArgs, Decision::kAllow, false},
      {Source::kContainer, Decision::kUnmatched, true},
      {Source::kCsiVolume, Decision::kDeny, true},  // unsigned
  };
  for (size_t i = 0; i < 6; ++i) {
    const auto& r = d.references[i];
    CAPTURE(r.ref.field_path);
    CHECK(r.ref.source == want[i].source);
    CHECK(r.decision == want[i].decision);
    CHECK(r.ref.pinnable == want[i].pinnable);
    if (want[i].decision == Decision::kAllow) CHECK_FALSE(r.digest.empty());
  }
  CHECK_FALSE(d.allowed);
  CHECK_MESSAGE(d.message.find(R"(spec.volumes[0].csi.volumeAttributes["model.csi.modelpack.org/reference"])") !=
                    std::string::npos,
                d.message);
  Json j = ObjectDecisionToJson(d);
  CHECK(j["references"][1]["source"] == "env");
  CHECK(j["references"][3]["source"] == "init-args");
  CHECK(j["references"][5]["source"] == "csi-volume");
}

// spec.requireDigest and --require-digest: a reference matched by such a
// policy must carry its digest in the object, however well its tag verifies.
TEST_CASE("DecideObject: requireDigest denies a tag-only reference and allows a digest one") {
  Fixture f;
  const std::string digest = AddModel(f.reg, "signed", "a", &f.key);
  auto required = Policies(PolicyYaml("prod", "enforce", f.key, "  requireDigest: true\n"));
  auto plain = Policies(PolicyYaml("prod", "enforce", f.key));
  auto warn_required = Policies(PolicyYaml("rollout", "warn", f.key, "  requireDigest: true\n"));
  DecisionOptions every;
  every.digest_requirement = DigestRequirement::kEveryPolicy;
  DecisionOptions mutate;
  mutate.digest_requirement = DigestRequirement::kNotChecked;
  const std::string tag = "reg.example.com/m:signed";
  const std::string pinned = tag + "@" + digest;

  struct Row {
    const char* name;
    std::string image;
    std::shared_ptr<const PolicySet> policies;
    DecisionOptions options;
    Decision want;
  };
  const std::vector<Row> must_say_no = {
      {"policy requireDigest, tag only", tag, required, {}, Decision::kDeny},
      {"--require-digest, tag only", tag, plain, every, Decision::kDeny},
      {"warn mode: the missing digest is a warning", tag, warn_required, {}, Decision::kWarn},
  };
  const std::vector<Row> must_say_yes = {
      {"policy requireDigest, digest given", pinned, required, {}, Decision::kAllow},
      {"--require-digest, digest given", pinned, plain, every, Decision::kAllow},
      {"no requirement, tag only", tag, plain, {}, Decision::kAllow},
      {"/mutate does not check it (it pins the tag)", tag, required, mutate, Decision::kAllow},
  };
  for (const auto* rows : {&must_say_no, &must_say_yes}) {
    for (const auto& row : *rows) {
      CAPTURE(row.name);
      auto d = f.Decide(PodWith(row.image), row.policies, row.options);
      REQUIRE(d.references.size() == 1);
      const ReferenceDecision& r = d.references[0];
      CHECK(r.decision == row.want);
      CHECK(r.digest == digest);  // verified and reported either way
      CHECK(d.allowed == (row.want != Decision::kDeny));
      REQUIRE(r.policies.size() == 1);
      bool digest_reason = !r.policies[0].reasons.empty() && r.policies[0].reasons[0].rfind("digest-required: ", 0) == 0;
      CHECK(digest_reason == (rows == &must_say_no));
    }
  }
  // The denial says what to write.
  auto denied = f.Decide(PodWith(tag), required);
  CHECK_MESSAGE(denied.message.find("denied by policy prod: digest-required: the reference names a tag, not a digest; "
                                    "write \"" + pinned + "\"") != std::string::npos,
                denied.message);
}

TEST_CASE("ObjectDecision::Overall: deny, then the strongest reference decision, else unmatched") {
  auto with = [](std::vector<Decision> decisions, bool allowed = true) {
    ObjectDecision d;
    d.allowed = allowed;
    for (Decision x : decisions) {
      ReferenceDecision r;
      r.decision = x;
      d.references.push_back(r);
    }
    return d;
  };
  CHECK(with({Decision::kAllow, Decision::kDeny}, false).Overall() == Decision::kDeny);
  CHECK(with({}, false).Overall() == Decision::kDeny);  // e.g. --strict on a kind not understood
  CHECK(with({Decision::kAllow, Decision::kWarn, Decision::kAudit}).Overall() == Decision::kWarn);
  CHECK(with({Decision::kAllow, Decision::kAudit}).Overall() == Decision::kAudit);
  CHECK(with({Decision::kUnmatched, Decision::kAllow}).Overall() == Decision::kAllow);
  CHECK(with({Decision::kUnmatched}).Overall() == Decision::kUnmatched);
  CHECK(with({}).Overall() == Decision::kUnmatched);
}
