#include "webhook/decide/verification_service.h"

#include <algorithm>
#include <chrono>

#include "policy/glob.h"  // ReferenceMatcher
#include "verifier/registry/fetch_artifact.h"

namespace provgate {
namespace {

using Result = StatusOr<std::shared_ptr<const Verification>>;

// Every policy's keys and keyless authorities; the wall clock only refuses
// transparency-log times in the future (certificates are checked at the
// signing time, never now).
Trust AllTrust(const PolicySet& set) {
  Trust trust;
  for (const auto& p : set.policies()) {
    for (auto& k : p.Keys()) trust.keys.push_back(std::move(k));
    for (auto& k : p.KeylessTrust()) trust.keyless.push_back(std::move(k));
  }
  trust.now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                  .count();
  return trust;
}

// One flight per artifact and policy set: by digest (the cache key, whether
// the tag is written or not) once the digest is known, else by tag.
std::string FlightKey(const Reference& ref, const PolicySet& policies) {
  if (!ref.digest.empty()) return VerificationCache::Key(ref, ref.digest, policies);
  return "tag " + ref.String() + " " + policies.hash();
}

}  // namespace

VerificationService::VerificationService(RegistryClient& client, const Clock& clock, Options options,
                                         VerificationObserver* observer)
    : client_(client),
      clock_(clock),
      options_(options),
      observer_(observer),
      cache_(&clock, options.max_entries),
      pool_(static_cast<size_t>(std::max(options.max_concurrent, 1)),
            static_cast<size_t>(options.max_per_host > 0 ? options.max_per_host
                                                         : std::max(options.max_concurrent / 2, 1))) {}

std::string VerificationService::KnownDigest(const Reference& ref) {
  if (!ref.digest.empty()) return ref.digest;
  MutexLock l(&mu_);
  auto it = resolutions_.find(ref.String());
  if (it == resolutions_.end()) return "";
  if (it->second.expires <= clock_.Now()) {
    resolutions_.erase(it);
    return "";
  }
  return it->second.digest;
}

void VerificationService::RememberDigest(const Reference& ref, const std::string& digest) {
  MutexLock l(&mu_);
  auto now = clock_.Now();
  resolutions_[ref.String()] = {digest, now + options_.resolve_ttl};
  // Bounded: expired resolutions are swept once the map doubles.
  if (resolutions_.size() > 2 * resolutions_high_water_) {
    std::erase_if(resolutions_, [now](const auto& e) { return e.second.expires <= now; });
    resolutions_high_water_ = std::max<size_t>(resolutions_.size(), 1024);
  }
}

std::shared_ptr<const Verification> VerificationService::Cached(const Reference& ref, const PolicySet& policies) {
  return CachedAt(ref, KnownDigest(ref), policies);
}

std::shared_ptr<const Verification> VerificationService::CachedAt(const Reference& ref, const std::string& digest,
                                                                  const PolicySet& policies) {
  if (digest.empty()) return nullptr;
  auto hit = cache_.Lookup(VerificationCache::Key(ref, digest, policies));
  if (hit && observer_) observer_->OnCacheHit();
  return hit;
}

Result VerificationService::Verify(const Reference& ref, const std::shared_ptr<const PolicySet>& policies,
                                   Deadline deadline) {
  return WaitFor(Start(ref, policies, deadline), ref, deadline);
}

Result VerificationService::WaitFor(const std::shared_future<Result>& started, const Reference& ref,
                                    Deadline deadline) {
  if (started.wait_until(deadline) != std::future_status::ready) {
    return DeadlineExceeded("the verification of " + ref.String() + " did not finish in time");
  }
  return started.get();
}

std::shared_future<Result> VerificationService::Start(const Reference& ref,
                                                      const std::shared_ptr<const PolicySet>& policies,
                                                      Deadline deadline) {
  std::string digest = KnownDigest(ref);
  if (auto hit = CachedAt(ref, digest, *policies)) {
    std::promise<Result> ready;
    ready.set_value(hit);
    return ready.get_future().share();
  }
  Reference target = digest.empty() ? ref : ref.WithDigest(digest);
  auto joined = flights_.JoinOrLead(FlightKey(target, *policies), deadline,
                                    Internal("unexpected error while verifying " + ref.String()));
  if (auto* future = std::get_if<std::shared_future<Result>>(&joined)) {
    // Another request is verifying the same artifact: share its result.
    if (observer_) observer_->OnCacheHit();
    return *future;
  }
  // The leader's work runs on the pool. The flight lands whatever happens:
  // an exception is a failure (its text is not kept: it may quote registry
  // content), and a job that expired in the queue says so.
  auto flight = std::make_shared<SingleFlight<Result>::Flight>(std::get<SingleFlight<Result>::Flight>(std::move(joined)));
  std::shared_future<Result> result = flight->future();
  pool_.Submit(target.registry, deadline, [this, target, policies, deadline, flight](bool expired) {
    if (expired) {
      if (observer_) observer_->OnVerification("error", 0);
      flight->Finish(DeadlineExceeded("timed out waiting for one of " + std::to_string(pool_.threads()) +
                                      " verification slots (" + std::to_string(pool_.per_host()) + " for " +
                                      target.registry + "; other artifacts are being verified)"));
      return;
    }
    Result r = Internal("unexpected error while verifying " + target.String());
    in_flight_.fetch_add(1, std::memory_order_relaxed);
    try {
      r = Lead(target, policies, deadline, *flight);
    } catch (...) {
    }
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    flight->Finish(std::move(r));
  });
  return result;
}

Result VerificationService::Lead(const Reference& ref, const std::shared_ptr<const PolicySet>& policies,
                                 Deadline deadline, SingleFlight<Result>::Flight& flight) {
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  // This runs on one of the pool's workers: every registry request of a
  // verification, the manifest's included, is made inside the bound.
  // By digest when known; else by tag, which tells the digest in the same request.
  auto manifest = client_.GetManifest(ref, ref.TagOrDigest(), deadline);
  if (!manifest.ok()) {
    if (observer_) observer_->OnVerification("error", elapsed());
    return manifest.status();
  }
  const std::string digest = manifest->digest;
  // The cache key, which is also the flight key of this digest (FlightKey).
  const std::string key = VerificationCache::Key(ref, digest, *policies);
  if (ref.digest.empty()) {
    RememberDigest(ref, digest);
    // The tag named a digest that is cached, or being verified, already.
    if (auto hit = cache_.Lookup(key)) {
      if (observer_) observer_->OnCacheHit();
      return hit;
    }
    if (auto other = flight.Claim(key)) {
      if (other->wait_until(deadline) != std::future_status::ready) {
        return DeadlineExceeded("timed out waiting for the verification of " + ref.String());
      }
      if (observer_) observer_->OnCacheHit();
      return other->get();
    }
  }
  auto material = FetchAttachedMaterial(client_, ref, std::move(*manifest), deadline);
  if (!material.ok()) {
    if (observer_) observer_->OnVerification("error", elapsed());
    auto failed = std::make_shared<Verification>();
    failed->reference = ref.WithDigest(digest);
    failed->digest = digest;
    failed->fetch_failure = material.status();
    return std::shared_ptr<const Verification>(std::move(failed));
  }
  auto facts = std::make_shared<const VerifiedArtifact>(VerifyArtifact(*material, AllTrust(*policies)));
  auto v = std::make_shared<Verification>();
  v->reference = ref.WithDigest(digest);
  v->digest = digest;
  std::vector<const Policy*> all;
  for (const auto& p : policies->policies()) all.push_back(&p);
  std::vector<PolicyResult> results = EvaluatePolicySet(all, *facts);
  // Negative results live shorter: a failure of a policy that selects this
  // reference may be cured by a signature or attestation attached later.
  bool failed = false;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i]->match && all[i]->match->MatchesReference(ref) && !results[i].passed) failed = true;
    v->results.emplace(all[i]->name, std::move(results[i]));
  }
  if (options_.keep_facts) v->facts = facts;
  cache_.Insert(key, v,
                failed ? std::min(options_.cache_ttl, options_.failure_ttl) : options_.cache_ttl);
  if (observer_) observer_->OnVerification(facts->SignedBy().empty() ? "failed" : "verified", elapsed());
  return std::shared_ptr<const Verification>(std::move(v));
}

}  // namespace provgate
