// bench_hostile_memory: peak memory of verifying N concurrent hostile
// artifacts in-process (issue 11, defect 4): each artifact carries unsigned
// .sig and .att attachments at the per-artifact bounds (4 layers of 16 MiB
// per kind), served by an in-memory registry. Runs the same load with the
// memory budget on (the default, 64 MiB) or off, and prints the growth of
// the peak RSS (VmHWM) over the registry's own content.
//
//   bench_hostile_memory [--artifacts N] [--no-budget]
//
// One configuration per process (VmHWM only grows): bench/README.md runs it twice.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "policy/policy_loader.h"
#include "tests/webhook/fake_registry.h"
#include "verifier/dsse.h"
#include "webhook/decide/verification_service.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

long VmHwmKiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

constexpr size_t kLayer = 16 << 20;
constexpr int kLayersPerKind = 4;

std::string AttachmentManifest(const std::string& layers) {
  return R"({"schemaVersion":2,"mediaType":")" + std::string(kOciManifest) + R"(","config":)" +
         Desc("application/vnd.oci.image.config.v1+json", "{}") + R"(,"layers":[)" + layers + "]}";
}

}  // namespace

int main(int argc, char** argv) {
  int n = 16;
  bool budget = true;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--artifacts") && i + 1 < argc) n = std::atoi(argv[++i]);
    if (!std::strcmp(argv[i], "--no-budget")) budget = false;
  }
  MemoryRegistry reg;
  PrivateKey key = *PrivateKey::GenerateEcdsaP256();
  // Hostile attachment blobs, shared by every artifact (the registry holds
  // each once): JSON a parser must read through, signed by nobody.
  std::vector<std::string> sig_blobs, att_blobs;
  for (int i = 0; i < kLayersPerKind; ++i) {
    std::string filler(kLayer - 200, 'A' + i);
    sig_blobs.push_back(R"({"critical":{"identity":{"docker-reference":"x"},"image":{"docker-manifest-digest":"sha256:)" +
                        std::string(64, '0') + R"("},"type":"cosign container image signature"},"optional":{"f":")" +
                        filler.substr(0, kLayer - 400) + "\"}}");
    DsseEnvelope env{kInTotoPayloadType, filler.substr(0, kLayer / 4 * 3 - 400), {{"", "not a signature"}}};
    att_blobs.push_back(SerializeDsseEnvelope(env));
    reg.Put("/v2/m/blobs/" + Sha256Digest(sig_blobs.back()), "application/octet-stream", sig_blobs.back());
    reg.Put("/v2/m/blobs/" + Sha256Digest(att_blobs.back()), "application/octet-stream", att_blobs.back());
  }
  std::vector<std::string> tags;
  for (int a = 0; a < n; ++a) {
    std::string tag = "t" + std::to_string(a);
    std::string digest = AddModel(reg, tag, "hostile-" + std::to_string(a), nullptr);
    std::string sig_layers, att_layers;
    for (int i = 0; i < kLayersPerKind; ++i) {
      sig_layers += (i ? "," : "") + Desc(kSimpleSigningMediaType, sig_blobs[i],
                                          {{"dev.cosignproject.cosign/signature", "AAAA"}});
      att_layers += (i ? "," : "") + Desc(kDsseMediaType, att_blobs[i]);
    }
    std::string base = digest;
    base[6] = '-';
    reg.Put("/v2/m/manifests/" + base + ".sig", kOciManifest, AttachmentManifest(sig_layers));
    reg.Put("/v2/m/manifests/" + base + ".att", kOciManifest, AttachmentManifest(att_layers));
    tags.push_back(tag);
  }
  auto policies = ParsePolicyDocuments(
      "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata: {name: p}\nspec:\n"
      "  match: {references: [\"reg.example.com/**\"]}\n  authorities:\n    - name: k\n      key:\n        pem: |\n" +
          IndentPem(key.Public().ToPem(), 10),
      "p.yaml", [](const std::string&) -> StatusOr<std::string> { return InvalidArgument("no files"); });
  if (!policies.ok()) {
    std::fprintf(stderr, "%s\n", policies.status().ToString().c_str());
    return 2;
  }
  auto set = std::make_shared<const PolicySet>(std::move(*policies));
  RegistryLimits limits;
  if (!budget) limits.attachment_bytes_in_flight = 0;
  RegistryClient client(&reg, std::make_shared<RegistryConfig>(), limits);
  SteadyClock clock;
  VerificationService service(client, clock, {});
  const long before = VmHwmKiB();
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  std::vector<std::string> outcome(n);
  for (int a = 0; a < n; ++a) {
    threads.emplace_back([&, a] {
      auto v = service.Verify(*ParseReference("reg.example.com/m:" + tags[a]), set,
                              std::chrono::steady_clock::now() + std::chrono::seconds(8));
      outcome[a] = !v.ok() ? StatusCodeName(v.status().code())
                   : !(*v)->fetch_failure.ok() ? StatusCodeName((*v)->fetch_failure.code())
                                               : "verified (policy results)";
    });
  }
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const long after = VmHwmKiB();
  std::map<std::string, int> counts;
  for (const auto& o : outcome) ++counts[o];
  std::printf("artifacts %d, budget %s: peak RSS grew %.1f MiB over the registry's content (%.1f -> %.1f MiB) in %.1f s\n",
              n, budget ? "64 MiB" : "off", (after - before) / 1024.0, before / 1024.0, after / 1024.0, seconds);
  for (const auto& [o, c] : counts) std::printf("  %d: %s\n", c, o.c_str());
  return 0;
}
