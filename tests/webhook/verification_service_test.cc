// VerificationService over an in-memory registry behind a fake transport and
// a fake clock: cache hits, TTLs (shorter for failures), tag resolution
// lifetime, single flight, LRU bound, errors never cached.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <thread>

#include "policy/policy_loader.h"
#include "tests/webhook/fake_registry.h"
#include "webhook/decide/decide_object.h"
#include "webhook/decide/verification_service.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

// Policy "p": reg.example.com/** signed by `key`; with `other`, also policy
// "q": other.example.com/** signed by that key.
std::shared_ptr<const PolicySet> Policies(const PrivateKey& key, const PrivateKey* other = nullptr) {
  auto policy = [](const std::string& name, const std::string& glob, const PrivateKey& k) {
    return "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata:\n  name: " + name +
           "\nspec:\n  match:\n    references: [\"" + glob +
           "\"]\n  authorities:\n    - name: k\n      key:\n        pem: |\n" + IndentPem(k.Public().ToPem(), 10) +
           "  signatures:\n    require: 1\n";
  };
  std::string yaml = policy("p", "reg.example.com/**", key);
  if (other) yaml += "---\n" + policy("q", "other.example.com/**", *other);
  auto policies = ParsePolicyDocuments(yaml, "p.yaml", [](const std::string&) -> StatusOr<std::string> {
    return InvalidArgument("no files");
  });
  REQUIRE_MESSAGE(policies.ok(), policies.status().ToString());
  return std::make_shared<const PolicySet>(std::move(*policies));
}

// Whether policy `name` passed in `v`.
bool PolicyPassed(const Verification& v, const std::string& name) {
  auto it = v.results.find(name);
  if (it == v.results.end()) FAIL("no policy " << name);
  return it->second.passed;
}

struct Fixture {
  MemoryRegistry reg;
  FakeClock clock;
  PrivateKey key = *PrivateKey::GenerateEcdsaP256();
  std::shared_ptr<const PolicySet> policies = Policies(key);
  std::shared_ptr<RegistryConfig> config = std::make_shared<RegistryConfig>();
  std::unique_ptr<RegistryClient> client;
  std::unique_ptr<VerificationService> service;
  explicit Fixture(VerificationService::Options o = {}) {
    client = std::make_unique<RegistryClient>(&reg, config);
    service = std::make_unique<VerificationService>(*client, clock, o);
  }
  bool Passed(const Verification& v, const std::string& name) const { return PolicyPassed(v, name); }
  StatusOr<std::shared_ptr<const Verification>> Verify(const std::string& ref) {
    return service->Verify(*ParseReference(ref), policies, std::chrono::steady_clock::now() + std::chrono::seconds(10));
  }
};

}  // namespace

TEST_CASE("a verification is cached by digest: the second admission costs no registry request") {
  Fixture f;
  std::string digest = AddModel(f.reg, "v1", "a", &f.key);
  auto v = f.Verify("reg.example.com/m:v1");
  REQUIRE_MESSAGE(v.ok(), v.status().ToString());
  CHECK((*v)->digest == digest);
  CHECK(f.Passed(**v, "p"));
  int after_first = f.reg.requests;
  CHECK(after_first > 0);
  auto again = f.Verify("reg.example.com/m:v1");
  REQUIRE(again.ok());
  CHECK(f.reg.requests == after_first);
  // By digest: the same cache entry.
  auto by_digest = f.Verify("reg.example.com/m@" + digest);
  REQUIRE(by_digest.ok());
  CHECK(f.reg.requests == after_first);
  CHECK(f.service->cache_size() == 1);
}

TEST_CASE("tag resolutions expire after seconds; the verification stays cached by digest") {
  Fixture f;
  std::string digest = AddModel(f.reg, "v1", "a", &f.key);
  REQUIRE(f.Verify("reg.example.com/m:v1").ok());
  int sig_fetches = f.reg.Count("/v2/m/manifests/sha256-" + digest.substr(7) + ".sig");
  CHECK(sig_fetches == 1);
  f.clock.Advance(std::chrono::seconds(6));
  REQUIRE(f.Verify("reg.example.com/m:v1").ok());
  CHECK(f.reg.Count("/v2/m/manifests/v1") == 2);  // the tag was resolved again
  CHECK(f.reg.Count("/v2/m/manifests/sha256-" + digest.substr(7) + ".sig") == 1);  // not verified again

  // The tag moves to an unsigned artifact: resolved anew, verified anew, failing.
  std::string moved = AddModel(f.reg, "v1", "b", nullptr);
  f.clock.Advance(std::chrono::seconds(6));
  auto v = f.Verify("reg.example.com/m:v1");
  REQUIRE(v.ok());
  CHECK((*v)->digest == moved);
  CHECK_FALSE(f.Passed(**v, "p"));
}

TEST_CASE("cache TTL, and a shorter one for failed verifications") {
  VerificationService::Options o;
  o.cache_ttl = std::chrono::seconds(300);
  o.failure_ttl = std::chrono::seconds(30);
  Fixture f(o);
  std::string good = AddModel(f.reg, "good", "a", &f.key);
  std::string bad = AddModel(f.reg, "bad", "b", nullptr);
  REQUIRE(f.Verify("reg.example.com/m@" + good).ok());
  REQUIRE(f.Verify("reg.example.com/m@" + bad).ok());
  int n = f.reg.requests;
  f.clock.Advance(std::chrono::seconds(31));
  REQUIRE(f.Verify("reg.example.com/m@" + good).ok());
  CHECK(f.reg.requests == n);  // still cached
  REQUIRE(f.Verify("reg.example.com/m@" + bad).ok());
  CHECK(f.reg.requests > n);  // the failure expired: verified again
  n = f.reg.requests;
  f.clock.Advance(std::chrono::seconds(300));
  REQUIRE(f.Verify("reg.example.com/m@" + good).ok());
  CHECK(f.reg.requests > n);
}

TEST_CASE("a policy for other repositories failing does not shorten the cache TTL") {
  VerificationService::Options o;
  o.cache_ttl = std::chrono::seconds(300);
  o.failure_ttl = std::chrono::seconds(30);
  Fixture f(o);
  PrivateKey other = *PrivateKey::GenerateEcdsaP256();
  f.policies = Policies(f.key, &other);
  std::string good = AddModel(f.reg, "good", "a", &f.key);
  auto v = f.Verify("reg.example.com/m@" + good);
  REQUIRE(v.ok());
  CHECK(f.Passed(**v, "p"));
  CHECK_FALSE(f.Passed(**v, "q"));  // evaluated too, but q does not select reg.example.com
  int n = f.reg.requests;
  f.clock.Advance(std::chrono::seconds(31));
  REQUIRE(f.Verify("reg.example.com/m@" + good).ok());
  CHECK(f.reg.requests == n);  // still cached: the failing policy is not about this reference
  f.clock.Advance(std::chrono::seconds(270));
  REQUIRE(f.Verify("reg.example.com/m@" + good).ok());
  CHECK(f.reg.requests > n);  // the full TTL has passed
}

TEST_CASE("concurrent requests for the same artifact share one verification") {
  Fixture f;
  f.reg.latency = std::chrono::milliseconds(50);
  std::string digest = AddModel(f.reg, "v1", "a", &f.key);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      auto v = f.Verify("reg.example.com/m:v1");
      if (v.ok() && (*v)->digest == digest) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 16);
  CHECK(f.reg.Count("/v2/m/manifests/v1") == 1);
  CHECK(f.reg.Count("/v2/m/manifests/sha256-" + digest.substr(7) + ".sig") == 1);
}

TEST_CASE("requests by tag and by digest arriving together still share one verification") {
  Fixture f;
  f.reg.latency = std::chrono::milliseconds(30);
  std::string digest = AddModel(f.reg, "v1", "a", &f.key);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  // One request by tag starts; the others arrive (by digest, or by tag after
  // the resolution is known) while its attachments are still being fetched.
  for (int i = 0; i < 24; ++i) {
    threads.emplace_back([&, i] {
      if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(45));
      auto v = f.Verify(i % 2 == 0 ? "reg.example.com/m:v1" : "reg.example.com/m@" + digest);
      if (v.ok() && (*v)->digest == digest) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 24);
  CHECK(f.reg.Count("/v2/m/manifests/sha256-" + digest.substr(7) + ".sig") == 1);
}

TEST_CASE("the cache is bounded: least recently used entries go first") {
  VerificationService::Options o;
  o.max_entries = 2;
  Fixture f(o);
  std::string a = AddModel(f.reg, "a", "a", &f.key), b = AddModel(f.reg, "b", "b", &f.key),
              c = AddModel(f.reg, "c", "c", &f.key);
  REQUIRE(f.Verify("reg.example.com/m@" + a).ok());
  REQUIRE(f.Verify("reg.example.com/m@" + b).ok());
  REQUIRE(f.Verify("reg.example.com/m@" + a).ok());  // a is now the most recent
  REQUIRE(f.Verify("reg.example.com/m@" + c).ok());  // evicts b
  CHECK(f.service->cache_size() == 2);
  int n = f.reg.requests;
  REQUIRE(f.Verify("reg.example.com/m@" + a).ok());
  CHECK(f.reg.requests == n);
  REQUIRE(f.Verify("reg.example.com/m@" + b).ok());
  CHECK(f.reg.requests > n);
}

TEST_CASE("the cache is bounded: an entry hit by a warm admission (Cached) is kept over one that was not") {
  // Admissions look the cache up with Cached(); their hits must count when
  // an entry is evicted.
  VerificationService::Options o;
  o.max_entries = 2;
  Fixture f(o);
  std::string a = AddModel(f.reg, "a", "a", &f.key), b = AddModel(f.reg, "b", "b", &f.key),
              c = AddModel(f.reg, "c", "c", &f.key), d = AddModel(f.reg, "d", "d", &f.key);
  auto ref = [](const std::string& digest) { return *ParseReference("reg.example.com/m@" + digest); };
  REQUIRE(f.Verify("reg.example.com/m@" + a).ok());
  REQUIRE(f.Verify("reg.example.com/m@" + b).ok());
  REQUIRE(f.service->Cached(ref(a), *f.policies) != nullptr);  // a: hit after b was stored
  REQUIRE(f.Verify("reg.example.com/m@" + c).ok());             // evicts b, not a
  CHECK(f.service->cache_size() == 2);
  CHECK(f.service->Cached(ref(b), *f.policies) == nullptr);
  CHECK(f.service->Cached(ref(a), *f.policies) != nullptr);
  CHECK(f.service->Cached(ref(c), *f.policies) != nullptr);
  // The one just verified is not the one to go; of the others, the least
  // recently used is.
  REQUIRE(f.Verify("reg.example.com/m@" + d).ok());
  CHECK(f.service->cache_size() == 2);
  CHECK(f.service->Cached(ref(d), *f.policies) != nullptr);
  int kept = (f.service->Cached(ref(a), *f.policies) != nullptr) + (f.service->Cached(ref(c), *f.policies) != nullptr);
  CHECK(kept == 1);
}

TEST_CASE("registry failures are reported and never cached") {
  Fixture f;
  std::string digest = AddModel(f.reg, "v1", "a", &f.key);
  f.reg.down = true;
  auto v = f.Verify("reg.example.com/m:v1");
  REQUIRE_FALSE(v.ok());
  CHECK(v.status().code() == StatusCode::kUnavailable);
  CHECK(f.service->cache_size() == 0);
  f.reg.down = false;
  auto ok = f.Verify("reg.example.com/m:v1");
  REQUIRE(ok.ok());
  CHECK((*ok)->digest == digest);
  auto missing = f.Verify("reg.example.com/m:absent");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kNotFound);
}

TEST_CASE("attachments over a bound: the digest the tag resolved to is reported with the failure, never cached") {
  Fixture f;
  std::string digest = AddModel(f.reg, "v1", "a", &f.key);
  // A .sig manifest with more layers than the fetcher takes.
  std::string layers;
  for (int i = 0; i < 65; ++i) {
    layers += (i ? "," : "") + Desc(kSimpleSigningMediaType, "payload-" + std::to_string(i));
  }
  std::string tag_sig = digest;
  tag_sig[6] = '-';
  f.reg.Put("/v2/m/manifests/" + tag_sig + ".sig", kOciManifest,
            R"({"schemaVersion":2,"mediaType":")" + std::string(kOciManifest) + R"(","config":)" +
                Desc("application/vnd.oci.image.config.v1+json", "{}") + R"(,"layers":[)" + layers + "]}");
  auto v = f.Verify("reg.example.com/m:v1");
  REQUIRE_MESSAGE(v.ok(), v.status().message());
  CHECK((*v)->digest == digest);
  CHECK((*v)->results.empty());
  CHECK((*v)->fetch_failure.code() == StatusCode::kResourceExhausted);
  CHECK(FetchFailureReason((*v)->fetch_failure).rfind("bound-exceeded: ", 0) == 0);
  CHECK(f.service->cache_size() == 0);
}

// An exception inside a verification must not leave its single-flight entry
// behind: every later request for the artifact would join a broken promise
// and fail until the process restarts. It is reported as a failure to
// verify (never as verified), and the next request verifies afresh.
TEST_CASE("an exception during a verification is a failure, not a stuck single flight") {
  MemoryRegistry reg;
  FakeClock clock;
  PrivateKey key = *PrivateKey::GenerateEcdsaP256();
  auto policies = Policies(key);
  auto config = std::make_shared<RegistryConfig>();
  RegistryClient client(&reg, config);
  VerificationService service(client, clock, {});
  std::string digest = AddModel(reg, "v1", "a", &key);
  auto deadline = [] { return std::chrono::steady_clock::now() + std::chrono::seconds(10); };

  reg.throws = true;
  StatusOr<std::shared_ptr<const Verification>> failed = Internal("not run");
  CHECK_NOTHROW(failed = service.Verify(*ParseReference("reg.example.com/m:v1"), policies, deadline()));
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.status().code() == StatusCode::kInternal);
  CHECK(service.cache_size() == 0);

  reg.throws = false;
  StatusOr<std::shared_ptr<const Verification>> v = Internal("not run");
  CHECK_NOTHROW(v = service.Verify(*ParseReference("reg.example.com/m:v1"), policies, deadline()));
  REQUIRE_MESSAGE(v.ok(), v.status().ToString());
  CHECK((*v)->digest == digest);
  CHECK(PolicyPassed(**v, "p"));
}

TEST_CASE("at most max_concurrent verifications fetch attachments at once; the others wait for a slot") {
  VerificationService::Options o;
  o.max_concurrent = 2;
  Fixture f(o);
  f.reg.latency = std::chrono::milliseconds(20);
  std::vector<std::string> digests;
  for (int i = 0; i < 8; ++i) digests.push_back(AddModel(f.reg, "t" + std::to_string(i), "m" + std::to_string(i), &f.key));
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (const auto& d : digests) {
    threads.emplace_back([&, d] {
      auto v = f.Verify("reg.example.com/m@" + d);
      if (v.ok() && f.Passed(**v, "p")) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 8);                 // all verified, in turn
  CHECK(f.reg.sig_peak.load() >= 1);
  CHECK(f.reg.sig_peak.load() <= 2);  // never more than two at once
}

TEST_CASE("a verification that cannot get a slot before its deadline fails, and is not cached") {
  VerificationService::Options o;
  o.max_concurrent = 1;
  Fixture f(o);
  f.reg.sig_latency = std::chrono::milliseconds(300);  // the first holds its slot this long
  std::string slow = AddModel(f.reg, "slow", "a", &f.key);
  std::string other = AddModel(f.reg, "other", "b", &f.key);
  std::thread holder([&] { CHECK(f.Verify("reg.example.com/m@" + slow).ok()); });
  // Wait until the first verification holds the slot (it is fetching its .sig).
  while (f.reg.sig_in_flight.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto v = f.service->Verify(*ParseReference("reg.example.com/m@" + other), f.policies,
                             std::chrono::steady_clock::now() + std::chrono::milliseconds(100));
  holder.join();
  REQUIRE_FALSE(v.ok());
  CHECK(v.status().code() == StatusCode::kDeadlineExceeded);
  // Either the queued job expired or the wait ended first: the same deadline.
  CHECK_MESSAGE((v.status().message().find("verification slots") != std::string::npos ||
                 v.status().message().find("did not finish in time") != std::string::npos),
                v.status().message());
  f.reg.sig_latency = std::chrono::milliseconds(0);
  auto again = f.Verify("reg.example.com/m@" + other);  // not cached as a failure
  REQUIRE(again.ok());
  CHECK(f.Passed(**again, "p"));
}

// Issue 11 defect 3: signatures live per repository. An unsigned copy of a
// signed model's manifest in another repository, admitted first, made the
// signed original denied for the cache TTL, because the cache was keyed by
// the bare digest.
TEST_CASE("a copy of the same manifest in another repository never decides for the original") {
  Fixture f;
  std::string digest = AddModel(f.reg, "v1", "a", &f.key);
  // The same manifest and config, unsigned, pushed to repository "evil".
  for (const auto& [path, entry] : std::map<std::string, std::pair<std::string, std::string>>(f.reg.content)) {
    if (path.rfind("/v2/m/", 0) == 0 && path.find(".sig") == std::string::npos &&
        path.find("/blobs/") == std::string::npos) {
      f.reg.Put("/v2/evil/" + path.substr(6), entry.first, entry.second);
    }
  }
  for (const auto& [path, entry] : std::map<std::string, std::pair<std::string, std::string>>(f.reg.content)) {
    if (path.rfind("/v2/m/blobs/", 0) == 0) f.reg.Put("/v2/evil/" + path.substr(6), entry.first, entry.second);
  }
  auto copy = f.Verify("reg.example.com/evil@" + digest);
  REQUIRE_MESSAGE(copy.ok(), copy.status().ToString());
  CHECK((*copy)->digest == digest);
  CHECK_FALSE(f.Passed(**copy, "p"));  // unsigned there

  auto original = f.Verify("reg.example.com/m@" + digest);
  REQUIRE_MESSAGE(original.ok(), original.status().ToString());
  CHECK(f.Passed(**original, "p"));  // signed here, verified here
  CHECK(f.reg.Count("/v2/m/manifests/sha256-" + digest.substr(7) + ".sig") == 1);
  // And the other way round: the original's result is not the copy's.
  auto copy_again = f.Verify("reg.example.com/evil@" + digest);
  REQUIRE(copy_again.ok());
  CHECK_FALSE(f.Passed(**copy_again, "p"));
}
