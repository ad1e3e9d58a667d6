// The verification cache: what verification established about one artifact
// (its facts) per repository digest and policy set, each entry with its own
// expiry, the least recently used evicted past a capacity. Modelled on
// leveldb's util/cache.cc LRUCache (one mutex over a hash table and an LRU
// list), without its sharding or manual reference counts: values are
// shared_ptr, so an evicted entry lives on in the hands of its readers.
// Thread-safe.
#pragma once

#include <chrono>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/clock.h"
#include "base/mutex.h"
#include "policy/policy.h"
#include "verifier/reference.h"
#include "verifier/verified_artifact.h"

namespace provgate {

// What is known about one artifact digest under one policy set: every
// policy's result on its verified facts (EvaluatePolicySet), by policy name.
// The facts themselves are kept only on request (the CLI prints them): a
// cached entry holding its config and predicates as JSON trees cost ~6 KB,
// three times the results (bench/README.md).
struct Verification {
  Reference reference;  // the requested reference with its digest filled in
  std::string digest;
  std::map<std::string, PolicyResult> results;
  std::shared_ptr<const VerifiedArtifact> facts;  // null unless Options::keep_facts
  // Not ok when the digest resolved but the attachments could not be fetched
  // (a bound, the registry failing mid-way): `results` is then empty, the
  // digest is still reported, and the verification is never cached.
  Status fetch_failure;
};

class VerificationCache {
 public:
  // `clock` must outlive the cache.
  VerificationCache(const Clock* clock, size_t capacity) : clock_(clock), capacity_(capacity) {}

  // The key under which the verification of `ref` at `digest` is cached:
  // registry, repository, digest and the policy set's hash. Signatures and
  // attestations live per repository, so a copy of the same manifest in
  // another repository or registry never shares an entry; the policy set's
  // hash covers its trust material (keys by their bytes).
  static std::string Key(const Reference& ref, std::string_view digest, const PolicySet& policies);

  // The live entry under `key`, made the most recently used; null when
  // there is none or it expired (then it is dropped).
  std::shared_ptr<const Verification> Lookup(const std::string& key) EXCLUDES(mu_);
  // Stores `value` under `key` for `ttl`, replacing any entry, and evicts the
  // least recently used entries past the capacity.
  void Insert(const std::string& key, std::shared_ptr<const Verification> value, std::chrono::milliseconds ttl)
      EXCLUDES(mu_);
  size_t size() const EXCLUDES(mu_);

 private:
  struct Entry {
    std::shared_ptr<const Verification> value;
    Clock::TimePoint expires;
    std::list<std::string>::iterator lru;  // its place in lru_
  };

  const Clock* const clock_;
  const size_t capacity_;
  mutable Mutex mu_;
  std::unordered_map<std::string, Entry> entries_ GUARDED_BY(mu_);
  std::list<std::string> lru_ GUARDED_BY(mu_);  // keys, most recently used first
};

}  // namespace provgate
