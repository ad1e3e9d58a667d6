// The threads verifications run on: a fixed number of workers, at most
// `per_host` of them on one registry host at once, so one hanging registry
// cannot take every worker from the others. A job still queued when its
// deadline passes is not run: it is told it expired. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"

namespace provgate {

class VerificationPool {
 public:
  // `job(false)` runs the work; `job(true)` says it expired unrun.
  using Job = std::function<void(bool expired)>;

  VerificationPool(size_t threads, size_t per_host);
  // Stops taking jobs, tells the queued ones they expired, and waits for the
  // running ones (each bounded by its own deadline).
  ~VerificationPool();
  VerificationPool(const VerificationPool&) = delete;
  VerificationPool& operator=(const VerificationPool&) = delete;

  void Submit(std::string host, Deadline deadline, Job job) EXCLUDES(mu_);

  size_t threads() const { return workers_.size(); }
  size_t per_host() const { return per_host_; }

 private:
  struct Queued {
    std::string host;
    Deadline deadline;
    Job job;
  };
  void Work() EXCLUDES(mu_);

  const size_t per_host_;
  Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Queued> queue_ GUARDED_BY(mu_);
  std::map<std::string, size_t> running_ GUARDED_BY(mu_);  // host -> jobs running
  bool stop_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;  // last: started once the rest exists
};

}  // namespace provgate
