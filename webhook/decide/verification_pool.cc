#include "webhook/decide/verification_pool.h"

#include <algorithm>
#include <chrono>

namespace provgate {

VerificationPool::VerificationPool(size_t threads, size_t per_host) : per_host_(std::max<size_t>(per_host, 1)) {
  threads = std::max<size_t>(threads, 1);
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
}

VerificationPool::~VerificationPool() {
  std::deque<Queued> left;
  {
    MutexLock l(&mu_);
    stop_ = true;
    left.swap(queue_);
  }
  cv_.notify_all();
  for (auto& q : left) q.job(true);
  for (auto& w : workers_) w.join();
}

void VerificationPool::Submit(std::string host, Deadline deadline, Job job) {
  {
    MutexLock l(&mu_);
    if (!stop_) {
      queue_.push_back({std::move(host), deadline, std::move(job)});
      job = nullptr;
    }
  }
  if (job) {
    job(true);  // shutting down
    return;
  }
  cv_.notify_all();
}

void VerificationPool::Work() {
  std::unique_lock<Mutex> l(mu_);
  while (true) {
    // The oldest job whose host has a free place; expired ones are answered
    // on the way. Wake up at the earliest deadline of what must wait.
    auto now = std::chrono::steady_clock::now();
    std::vector<Job> expired;
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (it->deadline <= now) {
        expired.push_back(std::move(it->job));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
    if (!expired.empty()) {
      l.unlock();
      for (auto& job : expired) job(true);
      l.lock();
      continue;
    }
    auto ready = std::find_if(queue_.begin(), queue_.end(), [&](const Queued& q) {
      auto r = running_.find(q.host);
      return r == running_.end() || r->second < per_host_;
    });
    if (ready != queue_.end()) {
      Queued q = std::move(*ready);
      queue_.erase(ready);
      ++running_[q.host];
      l.unlock();
      q.job(false);
      l.lock();
      if (--running_[q.host] == 0) running_.erase(q.host);
      cv_.notify_all();  // a place on that host is free
      continue;
    }
    if (stop_) return;
    if (queue_.empty()) {
      cv_.wait(l);
    } else {
      Deadline first = std::min_element(queue_.begin(), queue_.end(), [](const Queued& a, const Queued& b) {
                         return a.deadline < b.deadline;
                       })->deadline;
      cv_.wait_until(l, first);
    }
  }
}

}  // namespace provgate
