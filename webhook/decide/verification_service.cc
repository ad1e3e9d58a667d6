#include "webhook/decide/verification_service.h"

#include <algorithm>

#include "policy/glob.h"  // ReferenceMatcher
#include "verifier/registry/fetch_artifact.h"

namespace provgate {
namespace {

std::vector<TrustedKey> AllKeys(const PolicySet& set) {
  std::vector<TrustedKey> keys;
  for (const auto& p : set.policies()) {
    for (auto& k : p.Keys()) keys.push_back(std::move(k));
  }
  return keys;
}

}  // namespace

VerificationService::VerificationService(RegistryClient* client, const Clock* clock, Options options,
                                         VerificationObserver* observer)
    : client_(client),
      clock_(clock),
      options_(options),
      observer_(observer),
      slots_(std::clamp<std::ptrdiff_t>(options.max_concurrent, 1, std::counting_semaphore<>::max())) {}

size_t VerificationService::cache_size() const {
  std::lock_guard<std::shared_mutex> l(mu_);
  return cache_.size();
}

// Requires mu_ (shared when `shared`).
std::shared_ptr<const Verification> VerificationService::Lookup(std::string_view key, bool shared) {
  auto it = cache_.find(key);
  if (it == cache_.end()) return nullptr;
  if (it->second.expires <= clock_->Now()) {
    if (!shared) {
      lru_.erase(it->second.lru);
      cache_.erase(it);
    }
    return nullptr;
  }
  if (shared) {
    it->second.used.store(true, std::memory_order_relaxed);  // lru_ cannot be reordered under a shared lock
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    it->second.used.store(false, std::memory_order_relaxed);  // moved: its position says it
  }
  return it->second.value;
}

// Requires mu_.
void VerificationService::Store(const std::string& key, std::shared_ptr<const Verification> v, bool failed) {
  auto it = cache_.find(key);
  if (it != cache_.end()) {
    lru_.erase(it->second.lru);
    cache_.erase(it);
  }
  auto ttl = failed ? std::min(options_.cache_ttl, options_.failure_ttl) : options_.cache_ttl;
  lru_.push_front(key);
  CacheEntry& e = cache_[key];
  e.value = std::move(v);
  e.expires = clock_->Now() + ttl;
  e.lru = lru_.begin();
  e.used.store(false, std::memory_order_relaxed);  // its place at the front says it
  // Evict from the back of lru_; an entry hit since it was last moved (by a
  // shared-lock hit that could not move it) goes to the front instead, once,
  // and so does the entry just stored when every other one was hit.
  while (cache_.size() > options_.max_entries) {
    auto victim = cache_.find(lru_.back());
    bool just_stored = victim->first == key && cache_.size() > 1;
    if (just_stored || victim->second.used.exchange(false, std::memory_order_relaxed)) {
      lru_.splice(lru_.begin(), lru_, victim->second.lru);
      continue;
    }
    cache_.erase(victim);
    lru_.pop_back();
  }
}

// Requires mu_ (shared when `shared`).
const std::string* VerificationService::FindDigest(const Reference& ref, std::string_view ref_string, bool shared) {
  if (!ref.digest.empty()) return &ref.digest;
  auto it = ref_string.empty() ? resolutions_.find(ref.String()) : resolutions_.find(ref_string);
  if (it == resolutions_.end()) return nullptr;
  if (it->second.expires <= clock_->Now()) {
    if (!shared) resolutions_.erase(it);
    return nullptr;
  }
  return &it->second.digest;
}

// Requires mu_.
std::string VerificationService::KnownDigest(const Reference& ref) {
  const std::string* d = FindDigest(ref, {});
  return d ? *d : std::string();
}

std::shared_ptr<const Verification> VerificationService::Cached(const Reference& ref, const PolicySet& policies,
                                                                std::string_view ref_string) {
  std::shared_ptr<const Verification> hit;
  // The key is built in a per-thread buffer: this runs once per reference of
  // every admission.
  thread_local std::string key;
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    if (const std::string* digest = FindDigest(ref, ref_string, /*shared=*/true)) {
      key.assign(*digest).append(1, ' ').append(policies.hash());
      hit = Lookup(key, /*shared=*/true);
    }
  }
  if (hit && observer_) observer_->OnCacheHit();
  return hit;
}

StatusOr<std::shared_ptr<const Verification>> VerificationService::Verify(
    const Reference& ref, const std::shared_ptr<const PolicySet>& policies, Deadline deadline) {
  std::shared_future<Result> waiting, self;
  std::promise<Result> leader;
  std::string flight_key;
  {
    std::lock_guard<std::shared_mutex> l(mu_);
    std::string digest = KnownDigest(ref);
    if (!digest.empty()) {
      if (auto hit = Lookup(digest + " " + policies->hash())) {
        if (observer_) observer_->OnCacheHit();
        return hit;
      }
      flight_key = digest + " " + policies->hash();
    } else {
      flight_key = "tag " + ref.String() + " " + policies->hash();
    }
    auto it = in_flight_.find(flight_key);
    if (it != in_flight_.end()) {
      waiting = it->second;
    } else {
      self = leader.get_future().share();
      in_flight_[flight_key] = self;
    }
  }
  if (waiting.valid()) {
    // Another request is verifying the same artifact: share its result.
    if (waiting.wait_until(deadline) != std::future_status::ready) {
      return DeadlineExceeded("timed out waiting for the verification of " + ref.String());
    }
    if (observer_) observer_->OnCacheHit();
    return waiting.get();
  }
  std::string digest_flight_key;
  // The promise must be kept whatever happens: an exception escaping here
  // would leave a broken promise in in_flight_, and every later request for
  // this artifact would join it and fail until the process restarts. The
  // exception's text is not kept: it may quote registry content (SPEC §8).
  Result result = Internal("verification did not complete");
  try {
    result = DoVerify(ref, policies, deadline, self, flight_key, &digest_flight_key);
  } catch (...) {
    result = Internal("unexpected error while verifying " + ref.String());
  }
  leader.set_value(result);
  std::lock_guard<std::shared_mutex> l(mu_);
  in_flight_.erase(flight_key);
  if (!digest_flight_key.empty()) in_flight_.erase(digest_flight_key);
  return result;
}

VerificationService::Result VerificationService::DoVerify(const Reference& ref,
                                                          const std::shared_ptr<const PolicySet>& policies,
                                                          Deadline deadline, const std::shared_future<Result>& self,
                                                          const std::string& flight_key,
                                                          std::string* digest_flight_key) {
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
  std::string known;
  {
    std::lock_guard<std::shared_mutex> l(mu_);
    known = KnownDigest(ref);
  }
  Reference target = known.empty() ? ref : ref.WithDigest(known);
  // By digest when known; else by tag, which tells the digest in the same request.
  auto manifest = client_->GetManifest(target, target.TagOrDigest(), deadline);
  if (!manifest.ok()) {
    if (observer_) observer_->OnVerification("error", elapsed());
    return manifest.status();
  }
  const std::string digest = manifest->digest;
  const std::string key = digest + " " + policies->hash();
  std::shared_future<Result> other;
  {
    std::lock_guard<std::shared_mutex> l(mu_);
    if (ref.digest.empty()) {
      auto now = clock_->Now();
      resolutions_[ref.String()] = {digest, now + options_.resolve_ttl};
      // Bounded: expired resolutions are swept once the map doubles.
      if (resolutions_.size() > 2 * resolutions_high_water_) {
        std::erase_if(resolutions_, [now](const auto& e) { return e.second.expires <= now; });
        resolutions_high_water_ = std::max<size_t>(resolutions_.size(), 1024);
      }
    }
    if (auto hit = Lookup(key)) {  // the tag points at a digest verified already
      if (observer_) observer_->OnCacheHit();
      return hit;
    }
    auto it = in_flight_.find(key);
    if (it == in_flight_.end()) {
      in_flight_[key] = self;
      *digest_flight_key = key;
    } else if (key != flight_key) {
      other = it->second;  // someone else is verifying this digest already
    }
  }
  if (other.valid()) {
    slot.Release();  // waiting for another verification talks to no registry
    if (other.wait_until(deadline) != std::future_status::ready) {
      return DeadlineExceeded("timed out waiting for the verification of " + ref.String());
    }
    if (observer_) observer_->OnCacheHit();
    return other.get();
  }
  auto material = FetchAttachedMaterial(*client_, ref, std::move(*manifest), deadline);
  if (!material.ok()) {
    if (observer_) observer_->OnVerification("error", elapsed());
    return material.status();
  }
  VerifiedArtifact artifact = VerifyArtifact(*material, AllKeys(*policies));
  auto v = std::make_shared<Verification>();
  v->reference = ref.WithDigest(digest);
  v->digest = digest;
  bool failed = false;  // by a policy that selects this reference
  for (const auto& p : policies->policies()) {
    PolicyResult r = EvaluatePolicy(p, artifact);
    if (!r.passed && p.match && p.match->MatchesReference(ref)) failed = true;
    v->results[p.name] = std::move(r);
  }
  bool trusted = !artifact.SignedBy().empty();
  if (options_.keep_artifact) v->artifact = std::make_shared<const VerifiedArtifact>(std::move(artifact));
  std::shared_ptr<const Verification> result = v;
  {
    std::lock_guard<std::shared_mutex> l(mu_);
    Store(key, result, failed);
  }
  if (observer_) observer_->OnVerification(trusted ? "verified" : "failed", elapsed());
  return result;
}

}  // namespace provgate
