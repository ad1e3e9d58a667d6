// Metrics: admission counters per (webhook, decision, mode), durations per
// webhook, policy results with bounded names, build info, the process_*
// metrics from procfs; every documented name with its type, rendered in
// the Prometheus text format.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <set>
#include <thread>
#include <vector>

#include "tests/test_util.h"
#include "webhook/server/metrics.h"
#include "webhook/server/process_metrics.h"

using namespace provgate;
using provgate::testing::WriteFile;

TEST_CASE("admission counters count per label set, from many threads") {
  Metrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) m.CountAdmission("validate", i % 4 == 0 ? "deny" : "allow", i % 4 == 0 ? "enforce" : "none");
    });
  }
  for (auto& t : threads) t.join();
  m.CountAdmission("mutate", "allow", "none");
  m.CountAdmission("validate", "we\"ird", "none");  // label values are escaped
  std::string text = m.Render();
  CHECK(text.find("provgate_admission_requests_total{webhook=\"validate\",decision=\"allow\",mode=\"none\"} 3000\n") !=
        std::string::npos);
  CHECK(text.find("provgate_admission_requests_total{webhook=\"validate\",decision=\"deny\",mode=\"enforce\"} 1000\n") !=
        std::string::npos);
  CHECK(text.find("provgate_admission_requests_total{webhook=\"mutate\",decision=\"allow\",mode=\"none\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("decision=\"we\\\"ird\"") != std::string::npos);
  CHECK(text.find("# TYPE provgate_admission_requests_total counter\n") != std::string::npos);
}

namespace {

PolicyResult R(std::string name, Mode mode, bool passed) {
  PolicyResult r;
  r.name = std::move(name);
  r.mode = mode;
  r.passed = passed;
  return r;
}

ObjectDecision DecisionWith(std::vector<std::vector<PolicyResult>> per_reference) {
  ObjectDecision d;
  for (auto& policies : per_reference) {
    ReferenceDecision r;
    r.policies = std::move(policies);
    d.references.push_back(std::move(r));
  }
  return d;
}

bool Has(const std::string& text, const std::string& line) { return text.find(line) != std::string::npos; }

}  // namespace

TEST_CASE("every documented metric is exported with its type (docs/server.md#metrics)") {
  Metrics m("1.2.3", "abc1234");
  std::string text = m.Render();
  struct Row {
    const char* name;
    const char* type;
  };
  for (Row row : std::initializer_list<Row>{{"provgate_build_info", "gauge"},
                                            {"provgate_admission_requests_total", "counter"},
                                            {"provgate_admission_duration_seconds", "histogram"},
                                            {"provgate_admission_errors_total", "counter"},
                                            {"provgate_policy_results_total", "counter"},
                                            {"provgate_verifications_total", "counter"},
                                            {"provgate_verification_duration_seconds", "histogram"},
                                            {"provgate_verifications_in_flight", "gauge"},
                                            {"provgate_cache_entries", "gauge"},
                                            {"provgate_cache_hits_total", "counter"},
                                            {"provgate_registry_requests_total", "counter"},
                                            {"provgate_registry_duration_seconds", "histogram"},
                                            {"provgate_policies_loaded", "gauge"},
                                            {"provgate_policy_reload_errors_total", "counter"},
                                            {"provgate_policy_reload_failing", "gauge"},
                                            {"provgate_http_connections", "gauge"},
                                            {"provgate_http_connections_closed_total", "counter"},
                                            {"process_cpu_seconds_total", "counter"},
                                            {"process_resident_memory_bytes", "gauge"},
                                            {"process_virtual_memory_bytes", "gauge"},
                                            {"process_open_fds", "gauge"},
                                            {"process_max_fds", "gauge"},
                                            {"process_threads", "gauge"},
                                            {"process_start_time_seconds", "gauge"}}) {
    CHECK_MESSAGE(Has(text, std::string("# TYPE ") + row.name + " " + row.type + "\n"), row.name);
    CHECK_MESSAGE(Has(text, std::string("# HELP ") + row.name + " "), row.name);
  }
  CHECK(Has(text, "provgate_build_info{version=\"1.2.3\",commit=\"abc1234\"} 1\n"));
  // Without a watched verification service the gauges read 0.
  CHECK(Has(text, "\nprovgate_cache_entries 0\n"));
  CHECK(Has(text, "\nprovgate_verifications_in_flight 0\n"));
  // The reload gauge follows the last reload.
  CHECK(Has(text, "\nprovgate_policy_reload_failing 0\n"));
  m.CountPolicyReloadError();
  CHECK(Has(m.Render(), "\nprovgate_policy_reload_failing 1\n"));
  m.SetPoliciesLoaded(3);
  CHECK(Has(m.Render(), "\nprovgate_policy_reload_failing 0\n"));
  CHECK(Has(m.Render(), "\nprovgate_policies_loaded 3\n"));
  // Every sample line is `name{labels} value` or `name value`, and every
  // name was announced by a TYPE line (histograms by their base name).
  std::set<std::string> typed;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    REQUIRE(nl != std::string::npos);  // ends with a newline
    std::string line = text.substr(start, nl - start);
    start = nl + 1;
    if (line.rfind("# TYPE ", 0) == 0) {
      typed.insert(line.substr(7, line.find(' ', 7) - 7));
      continue;
    }
    if (line.rfind("# HELP ", 0) == 0) continue;
    std::string name = line.substr(0, line.find_first_of("{ "));
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string s = suffix;
      if (!typed.count(name) && name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
        name.resize(name.size() - s.size());
      }
    }
    CHECK_MESSAGE(typed.count(name), line);
    CHECK_MESSAGE(line.find(' ') != std::string::npos, line);
  }
}

TEST_CASE("admission duration is labelled by webhook, with buckets up to 30 s") {
  Metrics m;
  m.ObserveAdmission("validate", 0.002);
  m.ObserveAdmission("validate", 12);
  m.ObserveAdmission("mutate", 40);
  m.ObserveAdmission("bogus", 1);  // not a webhook: not observed, no new label value
  std::string text = m.Render();
  CHECK(Has(text, "provgate_admission_duration_seconds_bucket{webhook=\"validate\",le=\"0.0025\"} 1\n"));
  CHECK(Has(text, "provgate_admission_duration_seconds_bucket{webhook=\"validate\",le=\"10\"} 1\n"));
  CHECK(Has(text, "provgate_admission_duration_seconds_bucket{webhook=\"validate\",le=\"30\"} 2\n"));
  CHECK(Has(text, "provgate_admission_duration_seconds_bucket{webhook=\"validate\",le=\"+Inf\"} 2\n"));
  CHECK(Has(text, "provgate_admission_duration_seconds_count{webhook=\"validate\"} 2\n"));
  CHECK(Has(text, "provgate_admission_duration_seconds_bucket{webhook=\"mutate\",le=\"30\"} 0\n"));
  CHECK(Has(text, "provgate_admission_duration_seconds_bucket{webhook=\"mutate\",le=\"+Inf\"} 1\n"));
  CHECK(Has(text, "provgate_admission_duration_seconds_sum{webhook=\"mutate\"} 40\n"));
  CHECK_FALSE(Has(text, "bogus"));
  CHECK(Has(text, "provgate_verification_duration_seconds_bucket{le=\"30\"} 0\n"));
  m.CountAdmissionError("mutate");
  m.CountAdmissionError("bogus");
  text = m.Render();
  CHECK(Has(text, "provgate_admission_errors_total{webhook=\"mutate\"} 1\n"));
  CHECK(Has(text, "provgate_admission_errors_total{webhook=\"validate\"} 0\n"));
  CHECK_FALSE(Has(text, "bogus"));
}

TEST_CASE("policy results count per policy, mode and result; policy names are bounded") {
  Metrics m;
  m.CountPolicyResults(DecisionWith({{R("prod", Mode::kEnforce, true), R("staging", Mode::kWarn, false)},
                                     {R("prod", Mode::kEnforce, false)}}));
  m.CountPolicyResults(DecisionWith({{R("prod", Mode::kEnforce, true)}, {}}));
  m.CountPolicyResults(DecisionWith({{R("we\"ird", Mode::kAudit, false)}}));
  m.CountPolicyResults(DecisionWith({}));  // no reference: nothing
  std::string text = m.Render();
  struct Row {
    const char* series;
    int value;
  };
  for (Row row : std::initializer_list<Row>{
           {"provgate_policy_results_total{policy=\"prod\",mode=\"enforce\",result=\"pass\"}", 2},
           {"provgate_policy_results_total{policy=\"prod\",mode=\"enforce\",result=\"fail\"}", 1},
           {"provgate_policy_results_total{policy=\"staging\",mode=\"warn\",result=\"fail\"}", 1},
           {"provgate_policy_results_total{policy=\"we\\\"ird\",mode=\"audit\",result=\"fail\"}", 1}}) {
    CHECK_MESSAGE(Has(text, std::string(row.series) + " " + std::to_string(row.value) + "\n"), row.series);
  }
  CHECK_FALSE(Has(text, "policy=\"staging\",mode=\"warn\",result=\"pass\""));  // never seen: no series

  // More distinct names than the bound: the rest share policy="other".
  for (size_t i = 0; i < Metrics::kMaxPolicyLabels + 10; ++i) {
    m.CountPolicyResults(DecisionWith({{R("p" + std::to_string(i), Mode::kEnforce, true)}}));
  }
  text = m.Render();
  std::set<std::string> names;
  for (size_t at = text.find("provgate_policy_results_total{policy=\""); at != std::string::npos;
       at = text.find("provgate_policy_results_total{policy=\"", at + 1)) {
    size_t begin = at + std::string("provgate_policy_results_total{policy=\"").size();
    names.insert(text.substr(begin, text.find("\",mode", begin) - begin));
  }
  CHECK(names.size() == Metrics::kMaxPolicyLabels + 1);
  CHECK(names.count("other"));
  // 3 names were in use already: the last 13 of the loop count as other.
  CHECK(Has(text, "provgate_policy_results_total{policy=\"other\",mode=\"enforce\",result=\"pass\"} 13\n"));
}

TEST_CASE("process metrics are read from procfs") {
  SUBCASE("this process") {
    std::string text;
    AppendProcessMetrics(&text);
    auto value = [&](const std::string& name) {
      size_t at = text.find("\n" + name + " ");
      REQUIRE_MESSAGE(at != std::string::npos, name);
      return std::stod(text.substr(at + name.size() + 2));
    };
    CHECK(value("process_resident_memory_bytes") > 1 << 20);
    CHECK(value("process_virtual_memory_bytes") >= value("process_resident_memory_bytes"));
    CHECK(value("process_open_fds") >= 3);  // stdin, stdout, stderr
    CHECK(value("process_max_fds") >= value("process_open_fds"));
    CHECK(value("process_threads") >= 1);
    CHECK(value("process_start_time_seconds") > 1.5e9);
    CHECK(value("process_cpu_seconds_total") >= 0);
  }
  SUBCASE("a recorded procfs: a command with spaces and parentheses, values converted") {
    provgate::testing::TempDir dir;
    std::filesystem::create_directories(dir.File("self/fd"));
    for (const char* fd : {"0", "1", "2", "7"}) WriteFile(dir.File(std::string("self/fd/") + fd), "");
    // proc(5) fields 3..24 after the command: state ppid pgrp session tty_nr
    // tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
    // priority nice num_threads itrealvalue starttime vsize rss.
    WriteFile(dir.File("self/stat"),
              "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 9 0 1000 1048576 256 0\n");
    WriteFile(dir.File("self/status"), "Name:\ta\nThreads:\t7\n");
    WriteFile(dir.File("stat"), "cpu 1 2 3\nbtime 1700000000\n");
    std::string text;
    AppendProcessMetrics(&text, dir.File("self"), dir.File("stat"));
    double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    auto value = [&](const std::string& name) {
      size_t at = text.find("\n" + name + " ");
      REQUIRE_MESSAGE(at != std::string::npos, name);
      return std::stod(text.substr(at + name.size() + 2));
    };
    CHECK(value("process_cpu_seconds_total") == doctest::Approx(400 / ticks));
    CHECK(value("process_resident_memory_bytes") == 256 * page);
    CHECK(value("process_virtual_memory_bytes") == 1048576);
    CHECK(value("process_open_fds") == 4);
    CHECK(value("process_threads") == 7);  // from status, not stat's 9
    CHECK(value("process_start_time_seconds") == doctest::Approx(1700000000 + 1000 / ticks));
  }
  SUBCASE("unreadable files: those metrics are left out, never 0") {
    std::string text;
    AppendProcessMetrics(&text, "/nonexistent/self", "/nonexistent/stat");
    CHECK_FALSE(Has(text, "process_resident_memory_bytes"));
    CHECK_FALSE(Has(text, "process_open_fds"));
    CHECK_FALSE(Has(text, "process_start_time_seconds"));
  }
}
