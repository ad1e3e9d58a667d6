// Verifies artifacts for the decision pipeline: resolves a reference to a
// digest, fetches and verifies it once, evaluates every policy of the set
// on it, and caches the results keyed by (digest, policy-set hash) for the
// cache TTL. Concurrent requests for the same artifact share one
// verification (single flight). Tag -> digest resolutions are remembered
// for a few seconds only. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <semaphore>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/clock.h"
#include "policy/policy.h"
#include "verifier/registry/registry_client.h"
#include "verifier/verified_artifact.h"

namespace provgate {

// What is known about one artifact digest under one policy set.
struct Verification {
  Reference reference;  // the requested reference with its digest filled in
  std::string digest;
  std::map<std::string, PolicyResult> results;  // every policy of the set, by name
  // The full facts; kept only when VerificationService::Options::keep_artifact.
  std::shared_ptr<const VerifiedArtifact> artifact;
};

// Receives events for metrics and logs. Called from request threads.
class VerificationObserver {
 public:
  virtual ~VerificationObserver() = default;
  virtual void OnCacheHit() {}
  // `result` is "verified", "failed" (verified artifact, but nothing trusted
  // signed it) or "error" (could not fetch).
  virtual void OnVerification(const std::string& /*result*/, double /*seconds*/) {}
};

class VerificationService {
 public:
  struct Options {
    std::chrono::milliseconds cache_ttl{std::chrono::seconds(300)};
    // A verification that a policy selecting the verified reference failed is
    // kept at most this long, so a model signed or attested after a denial is
    // admitted soon after. (Policies for other repositories, which the
    // artifact is evaluated against too, do not shorten it.)
    std::chrono::milliseconds failure_ttl{std::chrono::seconds(30)};
    std::chrono::milliseconds resolve_ttl{std::chrono::seconds(5)};
    size_t max_entries = 100000;
    // Verifications talking to registries at once, from the manifest fetch
    // on (each may hold
    // up to the attachment bounds in memory: a burst of distinct hostile
    // artifacts must not multiply that without limit). Others wait for a
    // slot until their deadline.
    int max_concurrent = 16;
    bool keep_artifact = false;  // keep the full VerifiedArtifact in results (CLI)
  };

  // `client`, `clock` and `observer` must outlive the service; `observer` may be null.
  VerificationService(RegistryClient* client, const Clock* clock, Options options,
                      VerificationObserver* observer = nullptr);

  // The verification of `ref` under `policies`. Fails with the registry's
  // Status (NotFound, Unavailable, DeadlineExceeded, ResourceExhausted,
  // DataLoss, PermissionDenied) when the artifact could not be fetched and
  // verified before `deadline`, or Internal when the verification threw;
  // failures are not cached. Never throws.
  StatusOr<std::shared_ptr<const Verification>> Verify(const Reference& ref,
                                                       const std::shared_ptr<const PolicySet>& policies,
                                                       Deadline deadline);

  // The cached verification of `ref` when its digest is known (pinned, or a
  // fresh tag resolution) and cached; null otherwise. Never blocks on I/O.
  // `ref_string` is ref.String() when the caller has it (saves building it).
  std::shared_ptr<const Verification> Cached(const Reference& ref, const PolicySet& policies,
                                             std::string_view ref_string = {});

  size_t cache_size() const;

 private:
  using Result = StatusOr<std::shared_ptr<const Verification>>;
  struct CacheEntry {
    std::shared_ptr<const Verification> value;
    Clock::TimePoint expires;
    std::list<std::string>::iterator lru;
    // Set by hits under the shared lock (which cannot reorder lru_): an entry
    // found at the back of lru_ with it set gets a second chance (CLOCK).
    mutable std::atomic<bool> used{false};
  };
  struct Resolution {
    std::string digest;
    Clock::TimePoint expires;
  };

  // `self` is the caller's in-flight future: registered under the digest
  // key too once the tag is resolved, so requests that arrive by digest (or
  // after the resolution) join this verification instead of starting one.
  Result DoVerify(const Reference& ref, const std::shared_ptr<const PolicySet>& policies, Deadline deadline,
                  const std::shared_future<Result>& self, const std::string& flight_key,
                  std::string* digest_flight_key);
  // Requires mu_: exclusively, expired entries are erased and hits move to
  // the front of lru_; with `shared` (mu_ held shared) an expired entry is a
  // miss left for an exclusive holder to erase, and a hit is marked used.
  std::shared_ptr<const Verification> Lookup(std::string_view key, bool shared = false);
  void Store(const std::string& key, std::shared_ptr<const Verification> v, bool failed);
  std::string KnownDigest(const Reference& ref);
  // The digest `ref` is known at, or null; valid while mu_ is held. With
  // `shared` (mu_ held shared) an expired resolution is left for an
  // exclusive holder to erase.
  const std::string* FindDigest(const Reference& ref, std::string_view ref_string, bool shared = false);
  // Heterogeneous lookup: the warm path looks keys up without building strings.
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  RegistryClient* client_;
  const Clock* clock_;
  Options options_;
  VerificationObserver* observer_;

  // Exclusive for every change; shared for the cache hits of admissions, so
  // concurrent warm reviews do not wait for each other.
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, CacheEntry, StringHash, std::equal_to<>> cache_;  // "digest policyhash"
  std::list<std::string> lru_;                         // most recent first
  std::unordered_map<std::string, Resolution, StringHash, std::equal_to<>> resolutions_;  // normalised tag ref -> digest
  size_t resolutions_high_water_ = 1024;
  std::unordered_map<std::string, std::shared_future<Result>> in_flight_;
  std::counting_semaphore<> slots_;  // Options::max_concurrent
};

}  // namespace provgate
