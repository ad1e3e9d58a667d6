// The threads the admission server runs blocking work on (AdmissionHandler::
// Admit waits for registries up to --verify-timeout), so the I/O threads
// never block. A fixed number of threads and a FIFO queue. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "base/mutex.h"

namespace provgate {

class WorkerPool {
 public:
  // Starts `threads` (at least 1) threads.
  explicit WorkerPool(size_t threads);
  // Runs what is queued, then joins the threads.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; a worker runs it. Tasks must not throw.
  void Post(std::function<void()> task) EXCLUDES(mu_);

 private:
  void Work() EXCLUDES(mu_);

  Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stop_ = false;                        // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace provgate
