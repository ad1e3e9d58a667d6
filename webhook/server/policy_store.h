// The active policy set of the server, reloaded when its files change (a
// ConfigMap mount updates by symlink swap): a good reload swaps the
// pointer atomically; a broken one, or one that holds no policy, keeps the
// last good set and records the error. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "policy/policy.h"
#include "webhook/server/json_log.h"
#include "webhook/server/metrics.h"

namespace provgate {

class PolicyStore {
 public:
  PolicyStore(std::vector<std::string> paths, JsonLog* log, Metrics* metrics);
  ~PolicyStore();

  // Loads the files if they changed since the last attempt. Returns true
  // when a new set was swapped in.
  bool Reload();
  // Starts a thread calling Reload() every `interval`.
  void Watch(std::chrono::milliseconds interval);

  // The active set, or null when no policy set ever loaded.
  std::shared_ptr<const PolicySet> Current() const;
  // The last reload error ("" when the last attempt succeeded).
  std::string LastError() const;

 private:
  std::string Fingerprint() const;

  std::vector<std::string> paths_;
  JsonLog* log_;
  Metrics* metrics_;
  mutable std::mutex mu_;
  // Read on every admission under a shared lock: readers never wait for each
  // other (with mu_ they did, and std::atomic<std::shared_ptr> spins).
  mutable std::shared_mutex current_mu_;
  std::shared_ptr<const PolicySet> current_;  // guarded by current_mu_
  std::string last_error_;
  std::optional<std::string> last_fingerprint_;  // none before the first attempt
  std::thread watcher_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
};

}  // namespace provgate
