#include "webhook/server/policy_store.h"

#include <malloc.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "policy/policy_loader.h"

namespace provgate {
namespace {

std::string StatPart(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return path + ":missing;";  // follows symlinks
  return path + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ";";
}

}  // namespace

PolicyStore::PolicyStore(std::vector<std::string> paths, JsonLog* log, Metrics* metrics)
    : paths_(std::move(paths)), log_(log), metrics_(metrics) {}

PolicyStore::~PolicyStore() {
  {
    std::lock_guard<std::mutex> l(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

// What the loader would read, and when each file last changed. A ConfigMap
// update swaps the ..data symlink, so every file's inode changes.
std::string PolicyStore::Fingerprint() const {
  std::string fp;
  for (const auto& p : paths_) {
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
      std::vector<std::string> names;
      for (const auto& e : std::filesystem::directory_iterator(p, ec)) {
        std::string name = e.path().filename().string();
        if (!name.empty() && name[0] != '.') names.push_back(e.path().string());
      }
      std::sort(names.begin(), names.end());
      for (const auto& n : names) fp += StatPart(n);
    } else {
      fp += StatPart(p);
    }
  }
  return fp;
}

bool PolicyStore::Reload() {
  std::string fp = Fingerprint();
  {
    std::lock_guard<std::mutex> l(mu_);
    if (last_fingerprint_ && fp == *last_fingerprint_) return false;
    last_fingerprint_ = fp;
  }
  auto loaded = LoadPolicySet(paths_);
  // The YAML trees of a large file (up to ~45 MB) are freed in small blocks
  // that glibc keeps in its arena; hand them back, or a server that read
  // one big file once keeps its peak for good. Reloads are rare.
  malloc_trim(0);
  if (!loaded.ok()) {
    {
      std::lock_guard<std::mutex> l(mu_);
      last_error_ = loaded.status().message();
    }
    if (metrics_) metrics_->CountPolicyReloadError();
    if (log_) log_->Error("policy reload failed; keeping the last good policy set", {{"error", loaded.status().message()}});
    return false;
  }
  size_t n = (*loaded)->policies().size();
  {
    std::lock_guard<std::mutex> l(mu_);
    {
      std::unique_lock<std::shared_mutex> w(current_mu_);
      current_ = *loaded;
    }
    last_error_.clear();
  }
  if (metrics_) metrics_->SetPoliciesLoaded(n);
  if (log_) log_->Info("policies loaded", {{"policies", n}, {"hash", (*loaded)->hash()}});
  return true;
}

void PolicyStore::Watch(std::chrono::milliseconds interval) {
  watcher_ = std::thread([this, interval] {
    std::unique_lock<std::mutex> l(stop_mu_);
    while (!stop_cv_.wait_for(l, interval, [this] { return stop_; })) {
      l.unlock();
      Reload();
      l.lock();
    }
  });
}

std::shared_ptr<const PolicySet> PolicyStore::Current() const {
  std::shared_lock<std::shared_mutex> r(current_mu_);
  return current_;
}

std::string PolicyStore::LastError() const {
  std::lock_guard<std::mutex> l(mu_);
  return last_error_;
}

}  // namespace provgate
