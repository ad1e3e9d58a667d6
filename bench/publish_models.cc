// bench_publish: pushes COUNT tiny distinct models (omlmd layout; the same
// model file, distinct metadata and annotations, hence distinct digests),
// signs each (cosign simple signing) and attests each (DSSE in-toto), the
// way `provgate push`, `sign` and `attest` do, in one process with THREADS
// parallel workers. Prints one reference (REPOSITORY:TAGPREFIX<i>) per line
// to --out, in index order.
//
//   bench_publish --registry-config CFG --repository HOST/REPO --count N
//     --file MODEL --key KEY.pem --predicate PRED.json --type URI
//     [--tag-prefix m] [--threads 4] [--distinct-config 1] --out refs.txt
//
// --distinct-config 0 pushes no metadata (all models share the empty config
// blob): three fewer blob uploads per model, for bulk runs.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "verifier/registry/curl_transport.h"
#include "verifier/registry/publish_artifact.h"
#include "verifier/registry/registry_client.h"

namespace {

using namespace provgate;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "bench_publish: %s: %s\n", what.c_str(), s.ToString().c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_file, repository, file, key_file, predicate_file, type, out_file, tag_prefix = "m";
  long count = 0, threads = 4, distinct_config = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i], v = argv[i + 1];
    if (f == "--registry-config") config_file = v;
    else if (f == "--repository") repository = v;
    else if (f == "--count") count = std::atol(v.c_str());
    else if (f == "--file") file = v;
    else if (f == "--key") key_file = v;
    else if (f == "--predicate") predicate_file = v;
    else if (f == "--type") type = v;
    else if (f == "--tag-prefix") tag_prefix = v;
    else if (f == "--threads") threads = std::atol(v.c_str());
    else if (f == "--distinct-config") distinct_config = std::atol(v.c_str());
    else if (f == "--out") out_file = v;
    else {
      std::fprintf(stderr, "bench_publish: unknown flag %s\n", f.c_str());
      return 2;
    }
  }
  if (config_file.empty() || repository.empty() || count <= 0 || file.empty() || key_file.empty() ||
      predicate_file.empty() || type.empty() || out_file.empty() || threads <= 0) {
    std::fprintf(stderr, "bench_publish: missing flags (see the header of bench/publish_models.cc)\n");
    return 2;
  }
  auto config = RegistryConfig::Load(config_file);
  if (!config.ok()) return Fail(config_file, config.status());
  auto key = PrivateKey::FromPem(ReadFile(key_file), "");
  if (!key.ok()) return Fail(key_file, key.status());
  auto predicate = ParseJson(ReadFile(predicate_file), predicate_file);
  if (!predicate.ok()) return Fail(predicate_file, predicate.status());

  CurlTransport transport;
  RegistryClient client(&transport, std::make_shared<RegistryConfig>(std::move(*config)));
  std::vector<std::string> refs(static_cast<size_t>(count));
  std::atomic<long> next{0};
  std::atomic<bool> failed{false};
  auto start = std::chrono::steady_clock::now();
  auto work = [&] {
    for (long i = next++; i < count && !failed; i = next++) {
      std::string text = repository + ":" + tag_prefix + std::to_string(i);
      auto ref = ParseReference(text);
      if (!ref.ok()) {
        failed = true;
        Fail(text, ref.status());
        return;
      }
      Deadline deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      PushRequest push;
      push.paths = {file};
      push.annotations = {{"dev.provgate.bench/index", std::to_string(i)}};
      // Distinct metadata, hence a distinct config blob: no two models share
      // a blob the verifier fetches, so a repeated request is a real repeat.
      if (distinct_config) push.metadata = Json{{"name", "bench-model-" + std::to_string(i)}, {"author", "provgate bench"},
                           {"customProperties", {{"index", i}}}};
      // docker-registry can refuse a manifest while another thread commits
      // the same blob (identical model files, --distinct-config 0): seen as
      // DIGEST_INVALID once in a 10,000-model run. Each step is retried, up
      // to three times, on its own.
      auto retried = [&](auto step) {
        Status st;
        for (int attempt = 1; attempt <= 3; ++attempt) {
          st = step();
          if (st.ok()) break;
          std::fprintf(stderr, "bench_publish: %s: attempt %d: %s\n", text.c_str(), attempt, st.ToString().c_str());
          std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
        }
        return st;
      };
      Status s = retried([&] { return PushModel(client, *ref, push, deadline).status(); });
      if (s.ok()) s = retried([&] { return SignArtifact(client, *ref, *key, {}, deadline).status(); });
      if (s.ok()) s = retried([&] { return AttestArtifact(client, *ref, *key, type, *predicate, deadline).status(); });
      if (!s.ok()) {
        failed = true;
        Fail(text, s);
        return;
      }
      refs[static_cast<size_t>(i)] = text;
    }
  };
  std::vector<std::thread> pool;
  for (long t = 0; t < threads; ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();
  if (failed) return 2;
  std::ofstream out(out_file, std::ios::trunc);
  for (const auto& r : refs) out << r << "\n";
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "bench_publish: %ld models pushed, signed and attested in %.1f s (%.0f/s)\n", count, secs,
               static_cast<double>(count) / secs);
  return out ? 0 : 2;
}
