// Test doubles for the decision pipeline's unit tests: a fake clock and an
// in-memory registry behind a fake transport, with helpers that push
// (and sign) models into it. Not thread-safe beyond MemoryRegistry's lock.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "base/clock.h"
#include "base/encoding.h"
#include "base/json_util.h"
#include "verifier/digest.h"
#include "verifier/keys.h"
#include "verifier/oci_manifest.h"
#include "verifier/registry/http_transport.h"
#include "verifier/simple_signing.h"

namespace provgate::testing {

// Read by the verification pool's threads while a test advances it.
class FakeClock : public Clock {
 public:
  TimePoint Now() const override { return now_.load(); }
  void Advance(std::chrono::milliseconds d) { now_.store(now_.load() + d); }

 private:
  std::atomic<TimePoint> now_{std::chrono::steady_clock::now()};
};

// Serves GET/HEAD of paths from a map; counts requests; optional latency;
// answers Unavailable while `down`, throws (as a library might) while `throws`.
class MemoryRegistry : public HttpTransport {
 public:
  StatusOr<HttpResponse> Send(const HttpRequest& req) override {
    if (throws) throw std::runtime_error("transport exploded");
    std::string path = req.url.substr(req.url.find("/v2/"));
    // Signature manifests are fetched once per verification, while its
    // attachments are: how many are in flight at once tells how many
    // verifications are.
    bool sig = path.size() > 4 && path.compare(path.size() - 4, 4, ".sig") == 0;
    if (sig) {
      int now = ++sig_in_flight;
      for (int peak = sig_peak.load(); now > peak && !sig_peak.compare_exchange_weak(peak, now);) {
      }
    }
    // A model's own manifest by tag ("/v2/m/manifests/t3") is its
    // verification's first request.
    bool tag_manifest = path.rfind("/v2/m/manifests/t", 0) == 0;
    if (tag_manifest) {
      int now = ++tag_manifest_in_flight;
      for (int p = tag_manifest_peak.load(); now > p && !tag_manifest_peak.compare_exchange_weak(p, now);) {
      }
    }
    if (latency.count() > 0) std::this_thread::sleep_for(latency);
    if (!slow_host.empty() && req.url.find("//" + slow_host + "/") != std::string::npos) {
      std::this_thread::sleep_for(slow_host_latency);
    }
    if (tag_manifest) --tag_manifest_in_flight;
    if (sig && sig_latency.count() > 0) std::this_thread::sleep_for(sig_latency);
    if (sig) --sig_in_flight;
    std::lock_guard<std::mutex> l(mu);
    ++requests;
    ++by_path[path];
    if (down) return Unavailable("connection refused");
    auto it = content.find(path);
    if (it == content.end()) return HttpResponse{404, {}, R"({"errors":[{"code":"MANIFEST_UNKNOWN"}]})"};
    HttpResponse r{200, {}, it->second.second};
    r.headers.emplace("content-type", it->second.first);
    return r;
  }
  void Put(const std::string& path, const std::string& type, const std::string& body) {
    std::lock_guard<std::mutex> l(mu);
    content[path] = {type, body};
  }
  int Count(const std::string& path) {
    std::lock_guard<std::mutex> l(mu);
    return by_path[path];
  }
  std::mutex mu;
  std::map<std::string, std::pair<std::string, std::string>> content;
  std::map<std::string, int> by_path;
  std::atomic<int> requests{0};
  std::atomic<bool> down{false};
  std::atomic<bool> throws{false};
  std::atomic<int> sig_in_flight{0}, sig_peak{0};
  std::atomic<int> tag_manifest_in_flight{0}, tag_manifest_peak{0};
  std::chrono::milliseconds latency{0};
  std::chrono::milliseconds sig_latency{0};  // added for .sig manifests only
  std::string slow_host;                      // requests to this host take slow_host_latency more
  std::chrono::milliseconds slow_host_latency{0};
};

inline std::string Desc(const std::string& type, const std::string& body,
                 const std::map<std::string, std::string>& annotations = {}) {
  Json d = {{"mediaType", type}, {"digest", Sha256Digest(body)}, {"size", body.size()}};
  if (!annotations.empty()) d["annotations"] = annotations;
  return d.dump();
}

// Pushes repo `m` with tag `tag` holding `content`; signs it with `key` when given. Returns the digest.
inline std::string AddModel(MemoryRegistry& reg, const std::string& tag, const std::string& content, const PrivateKey* key) {
  std::string config = R"({"name":")" + content + R"("})";
  std::string manifest = R"({"schemaVersion":2,"mediaType":")" + std::string(kOciManifest) + R"(","config":)" +
                         Desc("application/x-config", config) + R"(,"layers":[]})";
  std::string digest = Sha256Digest(manifest);
  reg.Put("/v2/m/manifests/" + tag, kOciManifest, manifest);
  reg.Put("/v2/m/manifests/" + digest, kOciManifest, manifest);
  reg.Put("/v2/m/blobs/" + Sha256Digest(config), "application/octet-stream", config);
  if (key) {
    std::string payload = MakeSimpleSigningPayload("reg.example.com/m", digest, {});
    std::string sig_manifest = R"({"schemaVersion":2,"mediaType":")" + std::string(kOciManifest) + R"(","config":)" +
                               Desc("application/vnd.oci.image.config.v1+json", "{}") + R"(,"layers":[)" +
                               Desc(kSimpleSigningMediaType, payload,
                                    {{"dev.cosignproject.cosign/signature", Base64Encode(*key->Sign(payload))}}) +
                               "]}";
    std::string tag_sig = digest;
    tag_sig[6] = '-';
    reg.Put("/v2/m/manifests/" + tag_sig + ".sig", kOciManifest, sig_manifest);
    reg.Put("/v2/m/blobs/" + Sha256Digest(payload), "application/octet-stream", payload);
  }
  return digest;
}

// `pem` indented by `spaces`, for a block scalar in policy YAML.
inline std::string IndentPem(const std::string& pem, size_t spaces) {
  std::string out;
  for (size_t pos = 0; pos < pem.size();) {
    size_t nl = pem.find('\n', pos);
    out += std::string(spaces, ' ') + pem.substr(pos, nl - pos) + "\n";
    pos = nl + 1;
  }
  return out;
}

}  // namespace provgate::testing
