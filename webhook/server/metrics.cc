#include "webhook/server/metrics.h"

#include <cstdio>

#include "webhook/server/process_metrics.h"

namespace provgate {
namespace {

constexpr size_t kMaxRegistryHostLabels = 64;  // bound label cardinality

std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string Fmt(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

void Histogram::Observe(double seconds) {
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i]++;
  count_++;
  sum_micros_ += static_cast<uint64_t>(seconds * 1e6);
}

void Histogram::Render(const std::string& name, const std::string& labels, std::string* out) const {
  const std::string before_le = labels.empty() ? "{" : "{" + labels + ",";
  const std::string own = labels.empty() ? "" : "{" + labels + "}";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i];
    *out += name + "_bucket" + before_le + "le=\"" + Fmt(kBounds[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  cumulative += buckets_[kBounds.size()];
  *out += name + "_bucket" + before_le + "le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  *out += name + "_sum" + own + " " + Fmt(static_cast<double>(sum_micros_) / 1e6) + "\n";
  *out += name + "_count" + own + " " + std::to_string(count_.load()) + "\n";
}

void Metrics::Count(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  labelled_[key]++;
}

namespace {

// The index of `value` in `names`, or names.size().
template <size_t N>
size_t IndexOf(const std::array<const char*, N>& names, const std::string& value) {
  for (size_t i = 0; i < N; ++i) {
    if (value == names[i]) return i;
  }
  return N;
}

std::string AdmissionSeries(const std::string& webhook, const std::string& decision, const std::string& mode) {
  return "provgate_admission_requests_total{webhook=\"" + Escape(webhook) + "\",decision=\"" + Escape(decision) +
         "\",mode=\"" + Escape(mode) + "\"}";
}

}  // namespace

void Metrics::CountAdmission(const std::string& webhook, const std::string& decision, const std::string& mode) {
  size_t w = IndexOf(kWebhooks, webhook), d = IndexOf(kDecisions, decision), m = IndexOf(kModes, mode);
  if (w < kWebhooks.size() && d < kDecisions.size() && m < kModes.size()) {
    admissions_[AdmissionSlot(w, d, m)].fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Count(AdmissionSeries(webhook, decision, mode));
}

void Metrics::ObserveAdmission(const std::string& webhook, double seconds) {
  size_t w = IndexOf(kWebhooks, webhook);
  if (w < kWebhooks.size()) admission_duration_[w].Observe(seconds);
}

void Metrics::CountAdmissionError(const std::string& webhook) {
  size_t w = IndexOf(kWebhooks, webhook);
  if (w < kWebhooks.size()) admission_errors_[w].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::CountPolicyResults(const ObjectDecision& decision) {
  bool any = false;
  for (const auto& r : decision.references) any = any || !r.policies.empty();
  if (!any) return;
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& r : decision.references) {
    for (const auto& p : r.policies) {
      const std::string* name = &p.name;
      static const std::string kOther = "other";
      if (!policy_labels_.count(p.name)) {
        if (policy_labels_.size() >= kMaxPolicyLabels) {
          name = &kOther;
        } else {
          policy_labels_.insert(p.name);
        }
      }
      labelled_["provgate_policy_results_total{policy=\"" + Escape(*name) + "\",mode=\"" + ModeName(p.mode) +
                "\",result=\"" + (p.passed ? "pass" : "fail") + "\"}"]++;
    }
  }
}

void Metrics::OnRegistryRequest(const std::string& host, int code, double seconds) {
  registry_requests_++;
  registry_duration_.Observe(seconds);
  std::string h = host;
  {
    std::lock_guard<std::mutex> l(mu_);
    std::string probe = "provgate_registry_requests_total{host=\"" + Escape(h) + "\"";
    bool known = labelled_.lower_bound(probe) != labelled_.end() &&
                 labelled_.lower_bound(probe)->first.compare(0, probe.size(), probe) == 0;
    if (!known) {
      if (registry_hosts_ >= kMaxRegistryHostLabels) {
        h = "other";
      } else {
        ++registry_hosts_;
      }
    }
  }
  Count("provgate_registry_requests_total{host=\"" + Escape(h) + "\",code=\"" + std::to_string(code) + "\"}");
}

void Metrics::OnVerification(const std::string& result, double seconds) {
  verification_duration_.Observe(seconds);
  Count("provgate_verifications_total{result=\"" + Escape(result) + "\"}");
}

std::string Metrics::Render() const {
  std::string out;
  std::map<std::string, uint64_t> all;
  {
    std::lock_guard<std::mutex> l(mu_);
    all = labelled_;
  }
  for (size_t w = 0; w < kWebhooks.size(); ++w) {
    for (size_t d = 0; d < kDecisions.size(); ++d) {
      for (size_t m = 0; m < kModes.size(); ++m) {
        uint64_t n = admissions_[AdmissionSlot(w, d, m)].load(std::memory_order_relaxed);
        if (n > 0) all[AdmissionSeries(kWebhooks[w], kDecisions[d], kModes[m])] += n;
      }
    }
  }
  auto series = [&](const std::string& prefix, const char* type, const char* help) {
    out += "# HELP " + prefix + " " + help + "\n# TYPE " + prefix + " " + type + "\n";
    for (const auto& [k, v] : all) {
      if (k.compare(0, prefix.size() + 1, prefix + "{") == 0) out += k + " " + std::to_string(v) + "\n";
    }
  };
  out += "# HELP provgate_build_info The running provgate's version and commit (provgate --version).\n"
         "# TYPE provgate_build_info gauge\nprovgate_build_info{version=\"" + Escape(version_) + "\",commit=\"" +
         Escape(commit_) + "\"} 1\n";
  series("provgate_admission_requests_total", "counter", "Admission reviews answered, by webhook, decision and mode.");
  out += "# HELP provgate_admission_duration_seconds Time to answer an admission review, by webhook.\n"
         "# TYPE provgate_admission_duration_seconds histogram\n";
  for (size_t w = 0; w < kWebhooks.size(); ++w) {
    admission_duration_[w].Render("provgate_admission_duration_seconds", std::string("webhook=\"") + kWebhooks[w] + "\"",
                                  &out);
  }
  out += "# HELP provgate_admission_errors_total Admission requests answered with an HTTP error (malformed review, internal error), by webhook.\n"
         "# TYPE provgate_admission_errors_total counter\n";
  for (size_t w = 0; w < kWebhooks.size(); ++w) {
    out += std::string("provgate_admission_errors_total{webhook=\"") + kWebhooks[w] + "\"} " +
           std::to_string(admission_errors_[w].load(std::memory_order_relaxed)) + "\n";
  }
  series("provgate_policy_results_total", "counter",
         "Matching policies' results in /validate decisions, one per reference and policy, by policy, mode and result.");
  series("provgate_verifications_total", "counter", "Artifact verifications (cache misses), by result.");
  out += "# HELP provgate_verification_duration_seconds Time to fetch and verify one artifact.\n"
         "# TYPE provgate_verification_duration_seconds histogram\n";
  verification_duration_.Render("provgate_verification_duration_seconds", "", &out);
  const VerificationService* service = verifications_.load();
  out += "# HELP provgate_verifications_in_flight Artifact verifications running on the verification pool now.\n"
         "# TYPE provgate_verifications_in_flight gauge\nprovgate_verifications_in_flight " +
         std::to_string(service ? service->in_flight() : 0) + "\n";
  out += "# HELP provgate_cache_entries Verifications held in the cache (expired ones until they are dropped).\n"
         "# TYPE provgate_cache_entries gauge\nprovgate_cache_entries " +
         std::to_string(service ? service->cache_size() : 0) + "\n";
  out += "# HELP provgate_cache_hits_total Verifications answered from the cache or a shared in-flight one.\n"
         "# TYPE provgate_cache_hits_total counter\nprovgate_cache_hits_total " + std::to_string(cache_hits_.load()) + "\n";
  series("provgate_registry_requests_total", "counter", "HTTP requests to registries, by host and status code (0 = no response).");
  out += "# HELP provgate_registry_duration_seconds Time of one registry HTTP request.\n"
         "# TYPE provgate_registry_duration_seconds histogram\n";
  registry_duration_.Render("provgate_registry_duration_seconds", "", &out);
  out += "# HELP provgate_policies_loaded Policies in the active set.\n# TYPE provgate_policies_loaded gauge\n"
         "provgate_policies_loaded " + std::to_string(policies_loaded_.load()) + "\n";
  out += "# HELP provgate_policy_reload_errors_total Policy reloads that failed and kept the last good set.\n"
         "# TYPE provgate_policy_reload_errors_total counter\nprovgate_policy_reload_errors_total " +
         std::to_string(policy_reload_errors_.load()) + "\n";
  out += "# HELP provgate_policy_reload_failing 1 while the policy files fail to load (the last good set, if any, serves).\n"
         "# TYPE provgate_policy_reload_failing gauge\nprovgate_policy_reload_failing " +
         std::string(policy_reload_failing_.load() ? "1" : "0") + "\n";
  out += "# HELP provgate_http_connections Open connections to the admission server (both listeners).\n"
         "# TYPE provgate_http_connections gauge\nprovgate_http_connections " +
         std::to_string(open_connections_.load(std::memory_order_relaxed)) + "\n";
  out += "# HELP provgate_http_connections_closed_total Connections refused or closed by a limit or a deadline, by reason.\n"
         "# TYPE provgate_http_connections_closed_total counter\n";
  for (size_t i = 0; i < kConnectionCloseReasons.size(); ++i) {
    out += std::string("provgate_http_connections_closed_total{reason=\"") + kConnectionCloseReasons[i] + "\"} " +
           std::to_string(connections_closed_[i].load(std::memory_order_relaxed)) + "\n";
  }
  AppendProcessMetrics(&out);
  return out;
}

}  // namespace provgate
