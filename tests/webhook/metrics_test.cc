// Metrics: admission counters per (webhook, decision, mode), rendered in the
// Prometheus text format.
#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include "webhook/server/metrics.h"

using namespace provgate;

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
