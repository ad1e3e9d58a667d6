// Verifies artifacts for the decision step: resolves a reference to a
// digest, fetches its signatures, attestations and metadata, and verifies
// them against the policy set's trust material, and evaluates the set's
// policies on the facts (EvaluatePolicySet) -- once: the results are cached
// per repository digest and policy set (VerificationCache), and concurrent
// requests for one artifact share one verification (SingleFlight). The
// decision step picks its matching policies' results.
// Tag -> digest resolutions are remembered for a few seconds only.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>

#include "base/clock.h"
#include "base/mutex.h"
#include "policy/policy.h"
#include "verifier/registry/registry_client.h"
#include "webhook/decide/single_flight.h"
#include "webhook/decide/verification_pool.h"
#include "webhook/decide/verification_cache.h"

namespace provgate {

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
    // The negative-result TTL: facts that fail a policy selecting the
    // verified reference are kept at most this long, so a model signed or
    // attested after a denial is admitted soon after. (Policies for other
    // repositories, which see the same facts, do not shorten it.)
    std::chrono::milliseconds failure_ttl{std::chrono::seconds(30)};
    std::chrono::milliseconds resolve_ttl{std::chrono::seconds(5)};
    size_t max_entries = 100000;
    // Verifications talking to registries at once, from the manifest fetch
    // on: the workers of the pool they run on (each may hold up to the
    // attachment bounds in memory: a burst of distinct hostile artifacts
    // must not multiply that without limit). Others wait for a worker until
    // their deadline.
    int max_concurrent = 16;
    // Of those, at most this many on one registry host (0: half of
    // max_concurrent), so a registry that hangs cannot starve the others.
    int max_per_host = 0;
    bool keep_facts = false;  // keep the VerifiedArtifact in results (the CLI prints it)
  };

  // `client`, `clock` and `observer` must outlive the service; `observer` may be null.
  VerificationService(RegistryClient& client, const Clock& clock, Options options,
                      VerificationObserver* observer = nullptr);

  using Result = StatusOr<std::shared_ptr<const Verification>>;

  // The verification of `ref` under `policies`' trust material, answered by
  // `deadline` whatever is still running. Fails with the registry's Status
  // (NotFound, Unavailable, DeadlineExceeded, ResourceExhausted, DataLoss,
  // PermissionDenied) when the artifact could not be resolved and verified
  // in time, or Internal when the verification threw. When the digest
  // resolved but the attachments could not be fetched, succeeds with a
  // Verification whose fetch_failure says why (and whose digest is known).
  // Failures are not cached. A verification still running at the deadline goes on in the
  // pool and is cached when it lands. Never throws.
  Result Verify(const Reference& ref, const std::shared_ptr<const PolicySet>& policies, Deadline deadline);
  // Starts the verification of `ref` (or joins the one under way, or finds
  // it cached) and returns what it will be; the work runs on the pool. Wait
  // for it with WaitFor. Never throws.
  std::shared_future<Result> Start(const Reference& ref, const std::shared_ptr<const PolicySet>& policies,
                                   Deadline deadline);
  // `started`'s result, or DeadlineExceeded at `deadline`.
  static Result WaitFor(const std::shared_future<Result>& started, const Reference& ref, Deadline deadline);

  // The cached verification of `ref` when its digest is known (pinned, or a
  // fresh tag resolution) and cached; null otherwise. Never blocks on I/O.
  std::shared_ptr<const Verification> Cached(const Reference& ref, const PolicySet& policies);

  size_t cache_size() const { return cache_.size(); }
  // Verifications running on the pool now (not those queued for a worker).
  size_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

 private:
  // Cached(), with the digest `ref` is known at ("" = none) already found.
  std::shared_ptr<const Verification> CachedAt(const Reference& ref, const std::string& digest,
                                               const PolicySet& policies);
  Result Lead(const Reference& ref, const std::shared_ptr<const PolicySet>& policies, Deadline deadline,
              SingleFlight<Result>::Flight& flight);
  // The digest a tag was resolved to within resolve_ttl, or "".
  std::string KnownDigest(const Reference& ref) EXCLUDES(mu_);
  void RememberDigest(const Reference& ref, const std::string& digest) EXCLUDES(mu_);

  RegistryClient& client_;
  const Clock& clock_;
  const Options options_;
  VerificationObserver* const observer_;
  VerificationCache cache_;
  SingleFlight<Result> flights_;
  std::atomic<size_t> in_flight_{0};

  struct Resolution {
    std::string digest;
    Clock::TimePoint expires;
  };
  Mutex mu_;
  std::unordered_map<std::string, Resolution> resolutions_ GUARDED_BY(mu_);  // ref.String() of a tag -> digest
  size_t resolutions_high_water_ GUARDED_BY(mu_) = 1024;
  VerificationPool pool_;  // last: its destructor waits for jobs that use the members above
};

}  // namespace provgate
