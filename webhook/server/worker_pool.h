// The threads the admission server runs blocking work on (AdmissionHandler::
// Admit waits for registries up to --verify-timeout), so the I/O threads
// never block. A fixed number of threads and a FIFO queue. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

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
  void Post(std::function<void()> task);

 private:
  void Work();

  // std::mutex and std::condition_variable rather than base/mutex.h's Mutex
  // with condition_variable_any, which adds a mutex of its own: every
  // admission review passes here.
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stop_ = false;                        // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace provgate
