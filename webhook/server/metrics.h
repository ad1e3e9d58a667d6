// Prometheus metrics of the admission server (docs/server.md#metrics), rendered
// in the text exposition format by hand (why not prometheus-cpp: the same
// section). Thread-safe; counters are cheap enough for hot paths.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "verifier/registry/registry_client.h"
#include "webhook/decide/decide_object.h"
#include "webhook/decide/verification_service.h"

namespace provgate {

class Histogram {
 public:
  // Up to 30 s: --verify-timeout's ceiling, and the API server's.
  static constexpr std::array<double, 14> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                     0.25,  0.5,    1,     2.5,  5,     10,   30};
  void Observe(double seconds);
  // Appends the _bucket/_sum/_count lines of `name`, each series with
  // `labels` (`key="value",...`, already escaped; may be empty) beside le.
  void Render(const std::string& name, const std::string& labels, std::string* out) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};  // last = +Inf only
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

class Metrics : public RegistryObserver, public VerificationObserver {
 public:
  // `version` and `commit` label provgate_build_info (what --version says).
  explicit Metrics(std::string version = "", std::string commit = "")
      : version_(std::move(version)), commit_(std::move(commit)) {}

  // provgate_admission_requests_total{webhook,decision,mode}
  void CountAdmission(const std::string& webhook, const std::string& decision, const std::string& mode);
  // provgate_admission_duration_seconds{webhook}; a webhook other than
  // validate and mutate is not observed.
  void ObserveAdmission(const std::string& webhook, double seconds);
  // provgate_policy_results_total{policy,mode,result}: one per matching
  // policy of each reference `decision` holds, result pass or fail. Policy
  // names come from the loaded sets; past kMaxPolicyLabels distinct ones
  // the rest count as policy="other".
  void CountPolicyResults(const ObjectDecision& decision);
  static constexpr size_t kMaxPolicyLabels = 256;
  // provgate_admission_errors_total{webhook}: reviews answered with an HTTP
  // error (400 malformed, 500 internal) instead of an AdmissionReview.
  void CountAdmissionError(const std::string& webhook);
  // A reload swapped a set of `n` policies in: provgate_policies_loaded,
  // and provgate_policy_reload_failing back to 0.
  void SetPoliciesLoaded(size_t n) {
    policies_loaded_ = n;
    policy_reload_failing_ = false;
  }
  // A reload failed (the last good set, if any, stays): the counter, and
  // provgate_policy_reload_failing 1 until a reload succeeds.
  void CountPolicyReloadError() {
    ++policy_reload_errors_;
    policy_reload_failing_ = true;
  }

  // RegistryObserver
  void OnRegistryRequest(const std::string& host, int code, double seconds) override;
  // VerificationObserver
  void OnCacheHit() override { ++cache_hits_; }
  void OnVerification(const std::string& result, double seconds) override;

  // The admission server's connections (docs/server.md#connections):
  // provgate_http_connections and provgate_http_connections_closed_total{reason}.
  enum class ConnectionClose { kPeerLimit, kConnectionLimit, kHandshakeTimeout, kRequestTimeout, kWriteTimeout };
  void ConnectionOpened() { open_connections_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionEnded() { open_connections_.fetch_sub(1, std::memory_order_relaxed); }
  void CountConnectionClosed(ConnectionClose reason) {
    connections_closed_[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  }

  // The provgate_cache_entries and provgate_verifications_in_flight gauges
  // are read from `service` at each Render(). Set once while wiring, before
  // serving; `service` must outlive every later Render().
  void WatchVerifications(const VerificationService* service) { verifications_ = service; }

  uint64_t cache_hits() const { return cache_hits_; }
  uint64_t registry_requests() const { return registry_requests_; }

  std::string Render() const;

 private:
  void Count(const std::string& key);

  // provgate_admission_requests_total for the label values provgate itself
  // uses, counted without a lock (once per admission, from every thread);
  // any other combination goes to labelled_.
  static constexpr std::array<const char*, 2> kWebhooks = {"validate", "mutate"};
  static constexpr std::array<const char*, 4> kDecisions = {"allow", "deny", "warn", "audit"};
  static constexpr std::array<const char*, 4> kModes = {"enforce", "warn", "audit", "none"};
  static constexpr size_t AdmissionSlot(size_t webhook, size_t decision, size_t mode) {
    return (webhook * kDecisions.size() + decision) * kModes.size() + mode;
  }
  std::array<std::atomic<uint64_t>, kWebhooks.size() * kDecisions.size() * kModes.size()> admissions_{};

  const std::string version_, commit_;
  std::atomic<const VerificationService*> verifications_{nullptr};

  mutable std::mutex mu_;
  std::map<std::string, uint64_t> labelled_;  // full series name with labels -> value
  std::set<std::string> policy_labels_;       // under mu_: the policy label values in use
  std::array<Histogram, kWebhooks.size()> admission_duration_;
  std::array<std::atomic<uint64_t>, kWebhooks.size()> admission_errors_{};
  Histogram registry_duration_;
  Histogram verification_duration_;
  std::atomic<uint64_t> cache_hits_{0};
  std::atomic<uint64_t> registry_requests_{0};
  std::atomic<size_t> policies_loaded_{0};
  std::atomic<uint64_t> policy_reload_errors_{0};
  std::atomic<bool> policy_reload_failing_{false};
  std::atomic<int64_t> open_connections_{0};
  static constexpr std::array<const char*, 5> kConnectionCloseReasons = {
      "peer-limit", "connection-limit", "handshake-timeout", "request-timeout", "write-timeout"};
  std::array<std::atomic<uint64_t>, kConnectionCloseReasons.size()> connections_closed_{};
  size_t registry_hosts_ = 0;
};

}  // namespace provgate
