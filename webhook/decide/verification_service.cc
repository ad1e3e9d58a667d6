#include "webhook/decide/verification_service.h"

#include <algorithm>

#include "policy/glob.h"  // ReferenceMatcher
#include "verifier/registry/fetch_artifact.h"

namespace provgate {
namespace {

using Result = StatusOr<std::shared_ptr<const Verification>>;

std::vector<TrustedKey> AllKeys(const PolicySet& set) {
  std::vector<TrustedKey> keys;
  for (const auto& p : set.policies()) {
    for (auto& k : p.Keys()) keys.push_back(std::move(k));
  }
  return keys;
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
      slots_(std::clamp<std::ptrdiff_t>(options.max_concurrent, 1, std::counting_semaphore<>::max())) {}

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
  std::string digest = KnownDigest(ref);
  if (digest.empty()) return nullptr;
  auto hit = cache_.Lookup(VerificationCache::Key(ref, digest, policies));
  if (hit && observer_) observer_->OnCacheHit();
  return hit;
}

Result VerificationService::Verify(const Reference& ref, const std::shared_ptr<const PolicySet>& policies,
                                   Deadline deadline) {
  if (auto hit = Cached(ref, *policies)) return hit;
  std::string digest = KnownDigest(ref);
  Reference target = digest.empty() ? ref : ref.WithDigest(digest);
  auto joined = flights_.JoinOrLead(FlightKey(target, *policies),
                                    Internal("unexpected error while verifying " + ref.String()));
  if (auto* future = std::get_if<std::shared_future<Result>>(&joined)) {
    // Another request is verifying the same artifact: share its result.
    if (future->wait_until(deadline) != std::future_status::ready) {
      return DeadlineExceeded("timed out waiting for the verification of " + ref.String());
    }
    if (observer_) observer_->OnCacheHit();
    return future->get();
  }
  auto& flight = std::get<SingleFlight<Result>::Flight>(joined);
  // The flight must land whatever happens: an exception escaping would leave
  // joiners waiting until their deadlines. Its text is not kept: it may quote
  // registry content.
  Result result = Internal("unexpected error while verifying " + ref.String());
  try {
    result = Lead(target, policies, deadline, flight);
  } catch (...) {
  }
  flight.Finish(result);
  return result;
}

Result VerificationService::Lead(const Reference& ref, const std::shared_ptr<const PolicySet>& policies,
                                 Deadline deadline, SingleFlight<Result>::Flight& flight) {
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  // Every registry request of a verification, the manifest's included, runs
  // holding one of the slots: however many references the admissions name,
  // at most max_concurrent verifications talk to registries at once.
  if (!slots_.try_acquire_until(deadline)) {
    if (observer_) observer_->OnVerification("error", elapsed());
    return DeadlineExceeded("timed out waiting for one of " + std::to_string(options_.max_concurrent) +
                            " verification slots (other artifacts are being verified)");
  }
  struct Slot {
    std::counting_semaphore<>* s;
    void Release() {
      if (s) s->release();
      s = nullptr;
    }
    ~Slot() { Release(); }
  } slot{&slots_};

  // By digest when known; else by tag, which tells the digest in the same request.
  auto manifest = client_.GetManifest(ref, ref.TagOrDigest(), deadline);
  if (!manifest.ok()) {
    if (observer_) observer_->OnVerification("error", elapsed());
    return manifest.status();
  }
  const std::string digest = manifest->digest;
  if (ref.digest.empty()) {
    RememberDigest(ref, digest);
    // The tag named a digest that is cached, or being verified, already.
    Reference pinned = ref.WithDigest(digest);
    if (auto hit = cache_.Lookup(VerificationCache::Key(ref, digest, *policies))) {
      if (observer_) observer_->OnCacheHit();
      return hit;
    }
    if (auto other = flight.Claim(FlightKey(pinned, *policies))) {
      slot.Release();  // waiting for another verification talks to no registry
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
    return material.status();
  }
  auto facts = std::make_shared<const VerifiedArtifact>(VerifyArtifact(*material, AllKeys(*policies)));
  auto v = std::make_shared<Verification>();
  v->reference = ref.WithDigest(digest);
  v->digest = digest;
  v->facts = facts;
  // Negative results live shorter: a failure of a policy that selects this
  // reference may be cured by a signature or attestation attached later.
  bool failed = false;
  for (const auto& p : policies->policies()) {
    if (p.match && p.match->MatchesReference(ref) && !EvaluatePolicy(p, *facts).passed) failed = true;
  }
  cache_.Insert(VerificationCache::Key(ref, digest, *policies), v,
                failed ? std::min(options_.cache_ttl, options_.failure_ttl) : options_.cache_ttl);
  if (observer_) observer_->OnVerification(facts->SignedBy().empty() ? "failed" : "verified", elapsed());
  return std::shared_ptr<const Verification>(std::move(v));
}

}  // namespace provgate
