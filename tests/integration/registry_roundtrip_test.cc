// push -> sign -> attest -> fetch -> verify against a real docker-registry on
// loopback, through the library API; plus the registry-facing failure modes.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "tests/integration/test_registry.h"
#include "verifier/digest.h"
#include "verifier/registry/curl_transport.h"
#include "verifier/registry/fetch_artifact.h"
#include "verifier/registry/publish_artifact.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

Deadline Soon() { return std::chrono::steady_clock::now() + std::chrono::seconds(20); }

struct Client {
  explicit Client(const TestRegistry& reg, RegistryLimits limits = {}) {
    auto cfg = RegistryConfig::Load(reg.config_file());
    REQUIRE_MESSAGE(cfg.ok(), cfg.status().ToString());
    client = std::make_unique<RegistryClient>(&transport, std::make_shared<RegistryConfig>(*cfg), limits);
  }
  CurlTransport transport;
  std::unique_ptr<RegistryClient> client;
};

Reference Ref(const TestRegistry& reg, const std::string& repo_tag) {
  auto r = ParseReference(reg.host() + "/" + repo_tag);
  REQUIRE(r.ok());
  return *r;
}

std::string PushSample(RegistryClient& c, const Reference& ref, const TempDir& dir, const std::string& content) {
  WriteFile(dir.File("model.onnx"), content);
  PushRequest req;
  req.paths = {dir.File("model.onnx")};
  req.metadata = Json{{"name", "mnist"}, {"author", "ml-team"}, {"customProperties", {{"accuracy", 0.97}}}};
  auto d = PushModel(c, ref, req, Soon());
  REQUIRE_MESSAGE(d.ok(), d.status().ToString());
  return *d;
}

std::string BlobPath(const TestRegistry& reg, const std::string& digest) {
  std::string hex = digest.substr(7);
  return reg.storage() + "/docker/registry/v2/blobs/sha256/" + hex.substr(0, 2) + "/" + hex + "/data";
}

}  // namespace

TEST_CASE("push, sign, attest, then fetch and verify every fact") {
  TestRegistry reg;
  Client c(reg);
  TempDir dir;
  auto key = *PrivateKey::GenerateEcdsaP256();
  auto ref = Ref(reg, "models/mnist:v1");
  std::string digest = PushSample(*c.client, ref, dir, "weights-1");
  REQUIRE(SignArtifact(*c.client, ref, key, {}, Soon()).ok());
  REQUIRE(AttestArtifact(*c.client, ref, key, "https://slsa.dev/provenance/v1",
                         Json{{"runDetails", {{"builder", {{"id", "https://tekton.dev/chains/v2"}}}}}}, Soon())
              .ok());
  // Signing twice with the same key does not add a duplicate layer.
  REQUIRE(SignArtifact(*c.client, ref, key, {}, Soon()).ok());

  auto resolved = c.client->ResolveDigest(ref, Soon());
  REQUIRE(resolved.ok());
  CHECK(*resolved == digest);

  auto material = FetchArtifact(*c.client, ref, Soon());
  REQUIRE_MESSAGE(material.ok(), material.status().ToString());
  CHECK(material->digest == digest);
  CHECK(material->signature_layers.size() == 1);
  VerifiedArtifact v = VerifyArtifact(*material, {{"release", key.Public()}});
  CHECK(v.SignedBy() == std::set<Signer>{Signer("release")});
  REQUIRE(v.attestations.size() == 1);
  CHECK(v.attestations[0].verified());
  CHECK(v.attestations[0].predicate_type == "https://slsa.dev/provenance/v1");
  CHECK(v.attestations[0].predicate["runDetails"]["builder"]["id"] == "https://tekton.dev/chains/v2");
  CHECK(v.config["customProperties"]["accuracy"] == 0.97);
  CHECK(v.annotations.at("customProperties+json") == R"({"accuracy":0.97})");
  CHECK(v.annotations.at("name") == "mnist");
  REQUIRE(v.manifest.layers.size() == 2);
  CHECK(v.manifest.layers[0].media_type == "application/x-mlmodel");
  CHECK(v.manifest.layers[0].annotations.at("org.opencontainers.image.title") == "model.onnx");

  // The same artifact fetched by digest gives the same facts.
  auto by_digest = FetchArtifact(*c.client, ref.WithDigest(digest), Soon());
  REQUIRE(by_digest.ok());
  CHECK(by_digest->manifest_bytes == material->manifest_bytes);

  // An unsigned artifact has no signatures, and that is not an error.
  auto other = Ref(reg, "models/unsigned:v1");
  PushSample(*c.client, other, dir, "weights-2");
  auto unsigned_material = FetchArtifact(*c.client, other, Soon());
  REQUIRE(unsigned_material.ok());
  CHECK(unsigned_material->signature_layers.empty());
  CHECK(unsigned_material->attestation_layers.empty());
}

TEST_CASE("a manifest whose stored bytes do not match its digest is refused") {
  TestRegistry reg;
  Client c(reg);
  TempDir dir;
  auto ref = Ref(reg, "models/mnist:v1");
  std::string digest = PushSample(*c.client, ref, dir, "weights");
  std::string path = BlobPath(reg, digest);
  std::string bytes = ReadFile(path);
  bytes.replace(bytes.find("mnist"), 5, "MNIST");
  WriteFile(path, bytes);

  auto by_digest = c.client->GetManifest(ref, digest, Soon());
  REQUIRE_FALSE(by_digest.ok());
  CHECK(by_digest.status().code() == StatusCode::kDataLoss);
  CHECK(by_digest.status().message().find("content has digest") != std::string::npos);
  auto fetched = FetchArtifact(*c.client, ref.WithDigest(digest), Soon());
  CHECK_FALSE(fetched.ok());
}

TEST_CASE("a config blob whose stored bytes were changed is refused") {
  TestRegistry reg;
  Client c(reg);
  TempDir dir;
  auto ref = Ref(reg, "models/mnist:v1");
  PushSample(*c.client, ref, dir, "weights");
  auto m = c.client->GetManifest(ref, "v1", Soon());
  REQUIRE(m.ok());
  std::string path = BlobPath(reg, m->manifest.config.digest);
  std::string cfg = ReadFile(path);
  cfg.replace(cfg.find("0.97"), 4, "0.99");
  WriteFile(path, cfg);
  auto fetched = FetchArtifact(*c.client, ref, Soon());
  REQUIRE_FALSE(fetched.ok());
  CHECK(fetched.status().code() == StatusCode::kDataLoss);
  CHECK(fetched.status().message().find("config blob") != std::string::npos);
}

TEST_CASE("more signature layers than the bound fails and names the bound") {
  TestRegistry reg;
  RegistryLimits limits;
  limits.max_attached_layers = 64;
  Client c(reg, limits);
  TempDir dir;
  auto ref = Ref(reg, "models/many:v1");
  std::string digest = PushSample(*c.client, ref, dir, "weights");
  auto key = *PrivateKey::GenerateEcdsaP256();
  for (int i = 0; i < 65; ++i) {
    REQUIRE(SignArtifact(*c.client, ref, key, {{"n", std::to_string(i)}}, Soon()).ok());
  }
  auto fetched = FetchArtifact(*c.client, ref, Soon());
  REQUIRE_FALSE(fetched.ok());
  CHECK(fetched.status().code() == StatusCode::kResourceExhausted);
  CHECK_MESSAGE(fetched.status().message().find("65 layers, more than the limit of 64") != std::string::npos,
                fetched.status().message());
  CHECK(fetched.status().message().find("max 64 signature layers") != std::string::npos);
}

TEST_CASE("an attachment layer above the size bound fails, never truncated") {
  TestRegistry reg;
  RegistryLimits limits;
  limits.max_attachment_bytes = 1024;
  Client c(reg, limits);
  TempDir dir;
  auto ref = Ref(reg, "models/big:v1");
  std::string digest = PushSample(*c.client, ref, dir, "weights");
  std::string big(2000, 'x');
  REQUIRE(AppendAttachmentLayer(*c.client, ref, AttachmentTag(digest, "att"), "application/vnd.dsse.envelope.v1+json",
                                big, {}, Soon())
              .ok());
  auto fetched = FetchArtifact(*c.client, ref, Soon());
  REQUIRE_FALSE(fetched.ok());
  CHECK(fetched.status().code() == StatusCode::kResourceExhausted);
  CHECK(fetched.status().message().find("exceeds the limit of 1024 bytes") != std::string::npos);

  // A manifest above its bound is refused on Content-Length before reading.
  RegistryLimits tiny;
  tiny.max_manifest_bytes = 100;
  Client small(reg, tiny);
  auto m = small.client->GetManifest(ref, "v1", Soon());
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().code() == StatusCode::kResourceExhausted);
  CHECK(m.status().message().find("manifest size limit of 100 bytes") != std::string::npos);
}

TEST_CASE("registry with basic auth: credentials from a docker config.json") {
  TestRegistry reg({.basic_auth = true});
  Client c(reg);
  TempDir dir;
  auto ref = Ref(reg, "private/model:v1");
  std::string digest = PushSample(*c.client, ref, dir, "weights");
  auto key = *PrivateKey::GenerateEcdsaP256();
  REQUIRE(SignArtifact(*c.client, ref, key, {}, Soon()).ok());
  auto fetched = FetchArtifact(*c.client, ref, Soon());
  REQUIRE_MESSAGE(fetched.ok(), fetched.status().ToString());
  CHECK(VerifyArtifact(*fetched, {{"k", key.Public()}}).SignedBy().size() == 1);

  // Without credentials the registry refuses, and we say so.
  CurlTransport t;
  auto anon_cfg = std::make_shared<RegistryConfig>();
  anon_cfg->SetHost({reg.host(), true, "", ""});
  RegistryClient anon(&t, anon_cfg);
  auto refused = anon.GetManifest(ref, "v1", Soon());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kPermissionDenied);
  CHECK(refused.status().message().find("requires credentials") != std::string::npos);

  // Wrong password: refused after one attempt.
  auto bad_cfg = std::make_shared<RegistryConfig>();
  bad_cfg->SetHost({reg.host(), true, "", ""});
  bad_cfg->SetCredentials(reg.host(), {"alice", "wrong", ""});
  RegistryClient bad(&t, bad_cfg);
  auto wrong = bad.GetManifest(ref, "v1", Soon());
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().code() == StatusCode::kPermissionDenied);
}

TEST_CASE("registry over TLS: verified against caFile, refused without it") {
  TestRegistry reg({.tls = true});
  Client c(reg);
  TempDir dir;
  auto ref = Ref(reg, "models/tls:v1");
  std::string digest = PushSample(*c.client, ref, dir, "weights");
  auto fetched = FetchArtifact(*c.client, ref, Soon());
  REQUIRE_MESSAGE(fetched.ok(), fetched.status().ToString());
  CHECK(fetched->digest == digest);

  // Configured for TLS (not insecure) but without the test CA: refused.
  CurlTransport t;
  auto no_ca_cfg = std::make_shared<RegistryConfig>();
  no_ca_cfg->SetHost({reg.host(), false, "", ""});
  RegistryClient no_ca(&t, no_ca_cfg);
  auto refused = no_ca.GetManifest(ref, "v1", Soon());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kUnavailable);
  CHECK(refused.status().message().find("failed") != std::string::npos);
  CHECK(refused.status().message().find("https://") != std::string::npos);
}

TEST_CASE("loopback registries default to plain HTTP, like Docker; others to TLS") {
  CHECK(IsLoopbackHost("127.0.0.1:5000"));
  CHECK(IsLoopbackHost("127.1.2.3"));
  CHECK(IsLoopbackHost("localhost:5000"));
  CHECK(IsLoopbackHost("[::1]:5000"));
  CHECK_FALSE(IsLoopbackHost("127.0.0.1.example.com"));
  CHECK_FALSE(IsLoopbackHost("128.0.0.1:5000"));
  CHECK_FALSE(IsLoopbackHost("registry.example.com"));
  CHECK_FALSE(IsLoopbackHost("localhost.example.com"));
  RegistryConfig empty;
  CHECK(empty.ForHost("127.0.0.1:5000").insecure);
  CHECK_FALSE(empty.ForHost("registry.example.com").insecure);

  TestRegistry reg;
  CurlTransport t;
  RegistryClient client(&t, std::make_shared<RegistryConfig>());  // no configuration at all
  TempDir dir;
  auto ref = Ref(reg, "models/plain:v1");
  std::string digest = PushSample(client, ref, dir, "weights");
  auto fetched = FetchArtifact(client, ref, Soon());
  REQUIRE_MESSAGE(fetched.ok(), fetched.status().ToString());
  CHECK(fetched->digest == digest);
}

TEST_CASE("missing tags, stopped registries and spent deadlines are reported precisely") {
  TestRegistry reg;
  Client c(reg);
  auto ref = Ref(reg, "models/absent:v1");
  auto missing = FetchArtifact(*c.client, ref, Soon());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message().find("MANIFEST_UNKNOWN") != std::string::npos);

  auto past = c.client->GetManifest(ref, "v1", std::chrono::steady_clock::now() - std::chrono::seconds(1));
  REQUIRE_FALSE(past.ok());
  CHECK(past.status().code() == StatusCode::kDeadlineExceeded);

  reg.Stop();
  auto down = FetchArtifact(*c.client, ref, Soon());
  REQUIRE_FALSE(down.ok());
  CHECK(down.status().code() == StatusCode::kUnavailable);
}

TEST_CASE("many threads fetching through one transport and client at once") {
  // Admission requests verify in parallel through one CurlTransport: this is
  // the concurrency the server has under load (run under ASan/UBSan in CI).
  TestRegistry reg;
  Client c(reg);
  TempDir dir;
  auto key = *PrivateKey::GenerateEcdsaP256();
  std::vector<std::string> digests;
  for (int i = 0; i < 4; ++i) {
    auto ref = Ref(reg, "models/par" + std::to_string(i) + ":v1");
    digests.push_back(PushSample(*c.client, ref, dir, "weights-" + std::to_string(i)));
    REQUIRE(SignArtifact(*c.client, ref, key, {}, Soon()).ok());
  }
  std::atomic<int> verified{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 24; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0; n < 6; ++n) {
        int i = (t + n) % 4;
        auto m = FetchArtifact(*c.client, Ref(reg, "models/par" + std::to_string(i) + ":v1"), Soon());
        if (m.ok() && m->digest == digests[i] && !VerifyArtifact(*m, {{"k", key.Public()}}).SignedBy().empty()) {
          ++verified;
        } else {
          ++failed;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failed == 0);
  CHECK(verified == 24 * 6);
}
