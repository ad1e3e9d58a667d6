#include "webhook/decide/verification_cache.h"

namespace provgate {

std::string VerificationCache::Key(const Reference& ref, std::string_view digest, const PolicySet& policies) {
  // "registry/repository@digest policyhash": the registry is canonical and
  // neither part can hold a space.
  std::string key = ref.Name();
  key.append(1, '@').append(digest).append(1, ' ').append(policies.hash());
  return key;
}

std::shared_ptr<const Verification> VerificationCache::Lookup(const std::string& key) {
  MutexLock l(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  if (it->second.expires <= clock_->Now()) {
    lru_.erase(it->second.lru);
    entries_.erase(it);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.value;
}

void VerificationCache::Insert(const std::string& key, std::shared_ptr<const Verification> value,
                               std::chrono::milliseconds ttl) {
  MutexLock l(&mu_);
  auto [it, inserted] = entries_.try_emplace(key);
  if (inserted) {
    lru_.push_front(key);
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  it->second = {std::move(value), clock_->Now() + ttl, lru_.begin()};
  while (entries_.size() > capacity_) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
}

size_t VerificationCache::size() const {
  MutexLock l(&mu_);
  return entries_.size();
}

}  // namespace provgate
