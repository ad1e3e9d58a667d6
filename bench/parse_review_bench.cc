// bench_parse_review: Google Benchmark of the CPU-bound steps of one warm
// admission that do not touch the network, on bench/pod-review.json.in (the
// 3.4 KB Pod review of the load tests). Shows what the JSON parse costs next
// to the rest, and what a SAX pass alone (the lexer, no DOM) would cost.
//
//   build-bench/bench/bench_parse_review [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "base/json_util.h"
#include "policy/policy_loader.h"
#include "tests/webhook/fake_registry.h"
#include "webhook/server/admission_review.h"
#include "webhook/server/admission_handler.h"
#include "webhook/decide/decide_object.h"
#include "webhook/decide/find_model_references.h"
#include "webhook/server/json_log.h"
#include "webhook/server/metrics.h"
#include "webhook/server/policy_store.h"

// Counts operator new calls, so BM_AdmitWarm can report allocations per
// review (malloc/free were ~10 % of a warm review's server CPU).
namespace {
std::atomic<long long> g_allocations{0};
}  // namespace
// (GCC cannot see that these replace the global pair and warns of a mismatch.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace {

using provgate::Json;

const std::string& Review() {
  static const std::string body = [] {
    std::ifstream in(PROVGATE_BENCH_REVIEW);
    std::ostringstream s;
    s << in.rdbuf();
    std::string b = s.str();
    for (auto [from, to] : {std::pair<std::string, std::string>{"@@REF@@", "registry.example.com/models/m:v1"},
                            {"@@UID@@", "0b8a4c1e-2f3d-4a5b-9c6d-7e8f9a0b1c2d"}}) {
      b.replace(b.find(from), from.size(), to);
    }
    return b;
  }();
  return body;
}

// What the server does: simdjson, one parser reused per thread.
void BM_ParseAdmissionReview(benchmark::State& state) {
  simdjson::dom::parser parser;
  for (auto _ : state) {
    auto r = provgate::ParseAdmissionReview(Review(), parser);
    if (!r.ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * Review().size()));
}
BENCHMARK(BM_ParseAdmissionReview);

void BM_NlohmannParse(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(Json::parse(Review()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * Review().size()));
}
BENCHMARK(BM_NlohmannParse);

// The lexer and grammar alone: what any nlohmann-based filter must pay.
struct NullSax : nlohmann::json_sax<Json> {
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }
};

void BM_NlohmannSaxOnly(benchmark::State& state) {
  for (auto _ : state) {
    NullSax sax;
    benchmark::DoNotOptimize(Json::sax_parse(Review(), &sax));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * Review().size()));
}
BENCHMARK(BM_NlohmannSaxOnly);

void BM_FindModelReferences(benchmark::State& state) {
  simdjson::dom::parser parser;
  auto req = provgate::ParseAdmissionReview(Review(), parser);
  const auto annotations = provgate::DefaultModelAnnotations();
  for (auto _ : state) benchmark::DoNotOptimize(provgate::FindModelReferencesSimdjson(*req->object, annotations));
}
BENCHMARK(BM_FindModelReferences);

// `check`'s path: nlohmann's DOM.
void BM_FindModelReferencesNlohmann(benchmark::State& state) {
  Json review = Json::parse(Review());
  const auto annotations = provgate::DefaultModelAnnotations();
  for (auto _ : state) {
    benchmark::DoNotOptimize(provgate::FindModelReferences(review["request"]["object"], annotations));
  }
}
BENCHMARK(BM_FindModelReferencesNlohmann);

void BM_AdmissionResponseJson(benchmark::State& state) {
  provgate::AdmissionResponse r;
  r.uid = "0b8a4c1e-2f3d-4a5b-9c6d-7e8f9a0b1c2d";
  for (auto _ : state) benchmark::DoNotOptimize(provgate::AdmissionResponseJson(r));
}
BENCHMARK(BM_AdmissionResponseJson);

// The whole of one warm /validate review as the server runs it, without the
// transport: parse, extraction, the cache hit, the decision, the log line
// (to /dev/null, buffered as `serve` does), the metrics and the response.
// The model is verified once, from an in-memory registry, before timing.
void BM_AdmitWarm(benchmark::State& state) {
  using namespace provgate;
  using namespace provgate::testing;
  MemoryRegistry reg;
  PrivateKey key = *PrivateKey::GenerateEcdsaP256();
  // The review names registry.example.com/models/m:v1; the fake serves repo "m".
  AddModel(reg, "v1", "bench", &key);
  for (auto& [path, v] : std::map<std::string, std::pair<std::string, std::string>>(reg.content)) {
    reg.Put("/v2/models" + path.substr(3), v.first, v.second);
  }
  char dir[] = "/tmp/provgate-bench-admit.XXXXXX";
  if (!mkdtemp(dir)) return state.SkipWithError("mkdtemp");
  std::string policy = std::string(dir) + "/p.yaml";
  std::ofstream(policy) << "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata:\n  name: bench\n"
                           "spec:\n  mode: enforce\n  match:\n    references: [\"registry.example.com/models/**\"]\n"
                           "  authorities:\n    - name: release\n      key:\n        pem: |\n"
                        << IndentPem(key.Public().ToPem(), 10) << "  signatures:\n    require: 1\n";
  FILE* devnull = std::fopen("/dev/null", "w");
  {
    JsonLog log(devnull, false, std::chrono::milliseconds(100));
    Metrics metrics;
    auto config = std::make_shared<RegistryConfig>();
    RegistryClient client(&reg, config, RegistryLimits{}, &metrics);
    SteadyClock clock;
    VerificationService::Options vo;
    vo.resolve_ttl = std::chrono::hours(1);  // the review names a tag: keep its resolution for the run
    VerificationService verifier(client, clock, vo, &metrics);
    PolicyStore policies({policy}, &log, &metrics);
    if (!policies.Reload()) state.SkipWithError("policy did not load");
    AdmissionHandler handler(HandlerOptions{}, policies, verifier, metrics, log);
    auto first = handler.Admit(Review(), Webhook::kValidate);
    if (first.status != 200 || first.body.find("\"allowed\":true") == std::string::npos) {
      state.SkipWithError(("warm-up review not allowed: " + first.body).c_str());
    }
    int before = reg.requests.load();
    long long allocations = g_allocations.load();
    for (auto _ : state) benchmark::DoNotOptimize(handler.Admit(Review(), Webhook::kValidate));
    if (reg.requests.load() != before) state.SkipWithError("the timed reviews reached the registry");
    state.counters["allocs_per_review"] =
        static_cast<double>(g_allocations.load() - allocations) / static_cast<double>(state.iterations());
  }
  std::fclose(devnull);
  std::remove(policy.c_str());
  rmdir(dir);
}
BENCHMARK(BM_AdmitWarm);

}  // namespace

BENCHMARK_MAIN();
