// Single flight: concurrent requests for the same work share one execution.
// The first request for a key leads (does the work); the others get the
// leader's future. A leader may claim a second key once it knows it (a tag
// resolved to its digest), so requests arriving by either join it.
// Thread-safe.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <future>
#include <optional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"

namespace provgate {

template <typename T>
class SingleFlight {
  struct Entry {
    std::shared_future<T> future;
    uint64_t id;        // which flight holds the key
    Deadline deadline;  // the leader's: past it the flight is joined no more
  };

 public:
  // The leader's handle. Finish() hands the result to every joiner; a Flight
  // destroyed unfinished (an exception) finishes with `abandoned`, so no key
  // is left pointing at a flight that never lands.
  class Flight {
   public:
    Flight(Flight&& other) noexcept
        : owner_(std::exchange(other.owner_, nullptr)),
          id_(other.id_),
          deadline_(other.deadline_),
          promise_(std::move(other.promise_)),
          future_(std::move(other.future_)),
          keys_(std::move(other.keys_)),
          abandoned_(std::move(other.abandoned_)) {}
    Flight& operator=(Flight&&) = delete;
    ~Flight() {
      if (owner_) Finish(abandoned_);
    }

    // Claims `key` for this flight too. When another live flight holds it,
    // claims nothing and returns that flight's future.
    std::optional<std::shared_future<T>> Claim(const std::string& key) {
      if (std::find(keys_.begin(), keys_.end(), key) != keys_.end()) return std::nullopt;
      MutexLock l(&owner_->mu_);
      auto [it, inserted] = owner_->flights_.try_emplace(key, Entry{future_, id_, deadline_});
      if (!inserted) {
        if (Live(it->second)) return it->second.future;
        it->second = Entry{future_, id_, deadline_};
      }
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
        // Keys a newer flight took over are left to it.
        MutexLock l(&owner_->mu_);
        for (const auto& k : keys_) {
          auto it = owner_->flights_.find(k);
          if (it != owner_->flights_.end() && it->second.id == id_) owner_->flights_.erase(it);
        }
      }
      owner_ = nullptr;
      promise_.set_value(std::move(value));
    }

   private:
    friend class SingleFlight;
    Flight(SingleFlight* owner, uint64_t id, Deadline deadline, std::string key, T abandoned)
        : owner_(owner), id_(id), deadline_(deadline), future_(promise_.get_future().share()),
          keys_{std::move(key)}, abandoned_(std::move(abandoned)) {}
    SingleFlight* owner_;
    uint64_t id_;
    Deadline deadline_;
    std::promise<T> promise_;
    std::shared_future<T> future_;
    std::vector<std::string> keys_;
    T abandoned_;
  };

  // Joins the live flight under `key` (its future) or leads a new one that
  // must land by `deadline`. A flight past its leader's deadline is joined
  // no more: it may be one that expired waiting for a worker, and a request
  // with time left deserves its own try.
  std::variant<std::shared_future<T>, Flight> JoinOrLead(const std::string& key, Deadline deadline, T abandoned) {
    MutexLock l(&mu_);
    auto it = flights_.find(key);
    if (it != flights_.end() && Live(it->second)) return it->second.future;
    Flight f(this, ++next_id_, deadline, key, std::move(abandoned));
    flights_.insert_or_assign(key, Entry{f.future_, f.id_, deadline});
    return std::variant<std::shared_future<T>, Flight>(std::in_place_index<1>, std::move(f));
  }

 private:
  static bool Live(const Entry& e) { return e.deadline > std::chrono::steady_clock::now(); }

  Mutex mu_;
  std::unordered_map<std::string, Entry> flights_ GUARDED_BY(mu_);
  uint64_t next_id_ GUARDED_BY(mu_) = 0;
};

}  // namespace provgate
