// Single flight: concurrent requests for the same work share one execution.
// The first request for a key leads (does the work); the others get the
// leader's future. A leader may claim a second key once it knows it (a tag
// resolved to its digest), so requests arriving by either join it.
// Thread-safe.
#pragma once

#include <algorithm>
#include <future>
#include <optional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "base/mutex.h"

namespace provgate {

template <typename T>
class SingleFlight {
 public:
  // The leader's handle. Finish() hands the result to every joiner; a Flight
  // destroyed unfinished (an exception) finishes with `abandoned`, so no key
  // is left pointing at a flight that never lands.
  class Flight {
   public:
    Flight(Flight&& other) noexcept
        : owner_(std::exchange(other.owner_, nullptr)),
          promise_(std::move(other.promise_)),
          future_(std::move(other.future_)),
          keys_(std::move(other.keys_)),
          abandoned_(std::move(other.abandoned_)) {}
    Flight& operator=(Flight&&) = delete;
    ~Flight() {
      if (owner_) Finish(abandoned_);
    }

    // Claims `key` for this flight too. When another flight holds it, claims
    // nothing and returns that flight's future.
    std::optional<std::shared_future<T>> Claim(const std::string& key) {
      if (std::find(keys_.begin(), keys_.end(), key) != keys_.end()) return std::nullopt;
      MutexLock l(&owner_->mu_);
      auto [it, inserted] = owner_->flights_.try_emplace(key, future_);
      if (!inserted) return it->second;
      keys_.push_back(key);
      return std::nullopt;
    }

    // What every request of this flight, the leader's included, waits for.
    std::shared_future<T> future() const { return future_; }

    void Finish(T value) {
      if (!owner_) return;
      {
        // Unregistered before the result is handed out: a request that
        // arrives once a joiner has seen the result starts a flight of its
        // own (the cache, or a new verification) instead of this old one.
        MutexLock l(&owner_->mu_);
        for (const auto& k : keys_) owner_->flights_.erase(k);
      }
      owner_ = nullptr;
      promise_.set_value(std::move(value));
    }

   private:
    friend class SingleFlight;
    Flight(SingleFlight* owner, std::string key, T abandoned)
        : owner_(owner), future_(promise_.get_future().share()), keys_{std::move(key)},
          abandoned_(std::move(abandoned)) {}
    SingleFlight* owner_;
    std::promise<T> promise_;
    std::shared_future<T> future_;
    std::vector<std::string> keys_;
    T abandoned_;
  };

  // Joins the flight under `key` (its future) or leads a new one.
  std::variant<std::shared_future<T>, Flight> JoinOrLead(const std::string& key, T abandoned) {
    MutexLock l(&mu_);
    if (auto it = flights_.find(key); it != flights_.end()) return it->second;
    Flight f(this, key, std::move(abandoned));
    flights_.emplace(key, f.future_);
    return std::variant<std::shared_future<T>, Flight>(std::in_place_index<1>, std::move(f));
  }

 private:
  Mutex mu_;
  std::unordered_map<std::string, std::shared_future<T>> flights_ GUARDED_BY(mu_);
};

}  // namespace provgate
