// FetchArtifact's bounds against a hostile registry, over a fake transport
// that answers by URL (requests run in parallel by default, so no fixed
// script): what it may fetch, how much at once, and that a bound fails
// before the bytes are read. The same paths against a real registry:
// tests/integration.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "base/json_util.h"
#include "verifier/digest.h"
#include "verifier/registry/fetch_artifact.h"

using namespace provgate;

namespace {

constexpr char kBase[] = "https://registry.example/v2/models/mnist/";
constexpr char kBundleType[] = "application/vnd.dev.sigstore.bundle.v0.3+json";

// Answers GETs from a URL -> response map (404 for anything else), records
// every URL asked for, and tracks how many requests whose URL contains
// `watch` were in flight at once (each of them takes `delay`).
class RoutedTransport : public HttpTransport {
 public:
  void Route(const std::string& url, HttpResponse r) {
    std::lock_guard<std::mutex> l(mu_);
    routes_[url] = std::move(r);
  }
  void Watch(std::vector<std::string> fragments, std::chrono::milliseconds delay) {
    watch_ = std::move(fragments);
    delay_ = delay;
  }

  StatusOr<HttpResponse> Send(const HttpRequest& req) override {
    bool watched = std::any_of(watch_.begin(), watch_.end(),
                               [&](const std::string& f) { return req.url.find(f) != std::string::npos; });
    if (watched) {
      int now = ++in_flight_;
      int seen = max_in_flight_.load();
      while (now > seen && !max_in_flight_.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(delay_);
      --in_flight_;
    }
    std::lock_guard<std::mutex> l(mu_);
    urls_.push_back(req.method + " " + req.url);
    threads_.insert(std::this_thread::get_id());
    auto it = routes_.find(req.url);
    HttpResponse r;
    if (it == routes_.end()) {
      r.status = 404;
      return r;
    }
    if (it->second.body.size() > req.max_response_bytes) {
      return ResourceExhausted("response to " + req.url + " exceeds the limit");
    }
    return it->second;
  }

  std::vector<std::string> urls() const {
    std::lock_guard<std::mutex> l(mu_);
    return urls_;
  }
  int max_in_flight() const { return max_in_flight_.load(); }
  std::set<std::thread::id> threads() const {  // that sent a request
    std::lock_guard<std::mutex> l(mu_);
    return threads_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, HttpResponse> routes_;
  std::vector<std::string> urls_;
  std::set<std::thread::id> threads_;
  std::vector<std::string> watch_;
  std::chrono::milliseconds delay_{0};
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
};

HttpResponse Ok(std::string body, const std::string& content_type = "") {
  HttpResponse r;
  r.status = 200;
  r.body = std::move(body);
  if (!content_type.empty()) r.headers.emplace("content-type", content_type);
  return r;
}

Json Descriptor(const std::string& media_type, const std::string& digest, int64_t size) {
  return {{"mediaType", media_type}, {"digest", digest}, {"size", size}};
}

// The artifact: a manifest with an empty config, routed by digest with its config blob.
struct Artifact {
  std::string bytes;
  std::string digest;
};

Artifact RouteArtifact(RoutedTransport& t) {
  Json m = {{"schemaVersion", 2},
            {"mediaType", kOciManifest},
            {"config", Descriptor("application/vnd.oci.image.config.v1+json", Sha256Digest("{}"), 2)},
            {"layers", Json::array()}};
  Artifact a{m.dump(), ""};
  a.digest = Sha256Digest(a.bytes);
  t.Route(std::string(kBase) + "manifests/" + a.digest, Ok(a.bytes, kOciManifest));
  t.Route(std::string(kBase) + "blobs/" + Sha256Digest("{}"), Ok("{}"));
  return a;
}

// Routes `n` bundle referrers of `subject`, each a manifest whose one layer
// claims `layer_size` bytes; the layer blobs are routed when `blob` is given
// (then its size is the blob's). Returns the layer digests.
std::vector<std::string> RouteBundles(RoutedTransport& t, const std::string& subject, int n, int64_t layer_size,
                                      const std::string* blob = nullptr) {
  Json index = {{"schemaVersion", 2}, {"mediaType", kOciIndex}, {"manifests", Json::array()}};
  std::vector<std::string> layers;
  for (int i = 0; i < n; ++i) {
    // Distinct layers: the digest is what names them (the blob itself may be shared).
    std::string layer_digest = blob ? Sha256Digest(*blob) : Sha256Digest("layer " + std::to_string(i));
    Json layer = Descriptor(kBundleType, layer_digest, blob ? static_cast<int64_t>(blob->size()) : layer_size);
    Json m = {{"schemaVersion", 2},
              {"mediaType", kOciManifest},
              {"artifactType", kBundleType},
              {"config", Descriptor("application/vnd.oci.empty.v1+json", Sha256Digest("{}"), 2)},
              {"layers", Json::array({layer})},
              {"annotations", {{"n", std::to_string(i)}}},
              {"subject", Descriptor(kOciManifest, subject, 1)}};
    std::string bytes = m.dump();
    std::string digest = Sha256Digest(bytes);
    t.Route(std::string(kBase) + "manifests/" + digest, Ok(bytes, kOciManifest));
    Json d = Descriptor(kOciManifest, digest, static_cast<int64_t>(bytes.size()));
    d["artifactType"] = kBundleType;
    index["manifests"].push_back(d);
    layers.push_back(layer_digest);
  }
  if (blob) t.Route(std::string(kBase) + "blobs/" + Sha256Digest(*blob), Ok(*blob));
  t.Route(std::string(kBase) + "referrers/" + subject, Ok(index.dump(), kOciIndex));
  return layers;
}

Deadline Soon() { return std::chrono::steady_clock::now() + std::chrono::seconds(20); }

}  // namespace

TEST_CASE("sigstore bundle referrers: their layers' total size is bounded before any layer is read") {
  RoutedTransport t;
  Artifact a = RouteArtifact(t);
  RegistryClient client(&t, nullptr);
  const auto& limits = client.limits();
  // 64 bundles (the count bound) of 16 MiB each (the per-layer bound): 1 GiB
  // in memory at once if fetched; over the total bound for one kind of attachment.
  std::vector<std::string> layers = RouteBundles(t, a.digest, static_cast<int>(limits.max_attached_layers),
                                                 static_cast<int64_t>(limits.max_attachment_bytes));
  auto ref = ParseReference("registry.example/models/mnist@" + a.digest);
  REQUIRE(ref.ok());
  auto got = FetchArtifact(client, *ref, Soon());
  REQUIRE_FALSE(got.ok());
  CHECK(got.status().code() == StatusCode::kResourceExhausted);
  CHECK_MESSAGE(got.status().message().find("sigstore bundle layers total") != std::string::npos,
                got.status().message());
  CHECK_MESSAGE(got.status().message().find(std::to_string(limits.max_attachment_total_bytes)) != std::string::npos,
                got.status().message());
  for (const auto& url : t.urls()) {
    for (const auto& layer : layers) CHECK_MESSAGE(url.find("blobs/" + layer) == std::string::npos, url);
  }
}

TEST_CASE("sigstore bundle referrers are fetched a few at a time, not one thread per referrer") {
  RoutedTransport t;
  Artifact a = RouteArtifact(t);
  RegistryClient client(&t, nullptr);
  const std::string blob = "[]";  // not a bundle: each becomes a failed signature fact
  RouteBundles(t, a.digest, 40, 0, &blob);
  // Only the bundle manifests and the bundle blob are watched (config and .sig/.att run beside them).
  t.Watch({"manifests/sha256:", "blobs/" + Sha256Digest(blob)}, std::chrono::milliseconds(20));
  auto ref = ParseReference("registry.example/models/mnist@" + a.digest);
  REQUIRE(ref.ok());
  auto got = FetchArtifact(client, *ref, Soon());
  REQUIRE_MESSAGE(got.ok(), got.status().ToString());
  CHECK(got->bundle_layers.size() == 40);
  // The artifact manifest itself is fetched first, alone; then at most 8
  // bundle requests at once.
  CHECK_MESSAGE(t.max_in_flight() <= 8, "max in flight: " << t.max_in_flight());
}

TEST_CASE("parallel_fetches 1: every request in order on the calling thread; the default fetches side by side") {
  for (size_t parallel : {size_t{1}, RegistryLimits{}.parallel_fetches}) {
    CAPTURE(parallel);
    RoutedTransport t;
    Artifact a = RouteArtifact(t);
    RegistryLimits limits;
    limits.parallel_fetches = parallel;
    RegistryClient client(&t, nullptr, limits);
    const std::string blob = "[]";
    RouteBundles(t, a.digest, 12, 0, &blob);
    t.Watch({"manifests/sha256:", "blobs/" + Sha256Digest(blob)}, std::chrono::milliseconds(10));
    auto ref = ParseReference("registry.example/models/mnist@" + a.digest);
    REQUIRE(ref.ok());
    auto got = FetchArtifact(client, *ref, Soon());
    REQUIRE_MESSAGE(got.ok(), got.status().ToString());
    CHECK(got->bundle_layers.size() == 12);
    std::set<std::thread::id> threads = t.threads();
    if (parallel == 1) {
      CHECK(t.max_in_flight() == 1);
      CHECK(threads == std::set<std::thread::id>{std::this_thread::get_id()});
    } else {
      CHECK(t.max_in_flight() > 1);
      CHECK(threads.size() > 1);
    }
  }
}

TEST_CASE("attachment bytes are reserved in the client's memory budget before any is read, and released with the material") {
  RoutedTransport t;
  Artifact a = RouteArtifact(t);
  RegistryLimits limits;
  limits.attachment_bytes_in_flight = 3 << 20;
  limits.small_attachment_bytes = 1 << 10;
  RegistryClient client(&t, nullptr, limits);
  const std::string blob(2 << 20, 'x');  // each referrer's layer: 2 MiB
  auto ref = ParseReference("registry.example/models/mnist@" + a.digest);
  REQUIRE(ref.ok());

  SUBCASE("more than the whole budget is refused without reading a byte") {
    RouteBundles(t, a.digest, 2, 0, &blob);  // 4 MiB of bundles
    auto got = FetchArtifact(client, *ref, Soon());
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().code() == StatusCode::kResourceExhausted);
    CHECK_MESSAGE(got.status().message().find("exceed the memory budget of 3145728 bytes") != std::string::npos,
                  got.status().message());
    for (const auto& url : t.urls()) CHECK_MESSAGE(url.find("blobs/" + Sha256Digest(blob)) == std::string::npos, url);
  }
  SUBCASE("a second artifact waits while the first one's material is alive, and fails at its deadline") {
    RouteBundles(t, a.digest, 1, 0, &blob);  // 2 MiB
    auto first = FetchArtifact(client, *ref, Soon());
    REQUIRE_MESSAGE(first.ok(), first.status().message());
    CHECK(client.memory_budget().in_use() == blob.size());
    auto second = FetchArtifact(client, *ref, std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
    REQUIRE_FALSE(second.ok());
    CHECK(second.status().code() == StatusCode::kDeadlineExceeded);
    CHECK_MESSAGE(second.status().message().find("memory budget") != std::string::npos, second.status().message());
    // Released with the material: the next one gets the bytes.
    first = Status(StatusCode::kInternal, "dropped");
    CHECK(client.memory_budget().in_use() == 0);
    auto third = FetchArtifact(client, *ref, Soon());
    CHECK_MESSAGE(third.ok(), third.status().message());
  }
}
