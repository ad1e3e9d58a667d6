// Bearer-token auth end to end (the Docker/distribution token authentication
// spec): a real docker-registry
// configured with `auth: token`, trusting the ES256 JWTs of a token issuer
// the test runs (token_server.h), driven through RegistryClient: push, sign,
// attest, fetch and verify; one token per scope, not per request; refusals.
#include <doctest/doctest.h>

#include <filesystem>
#include <mutex>
#include <optional>
#include <set>

#include "base/encoding.h"
#include "tests/integration/test_registry.h"
#include "tests/integration/token_server.h"
#include "verifier/registry/curl_transport.h"
#include "verifier/registry/fetch_artifact.h"
#include "verifier/registry/publish_artifact.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

Deadline Soon() { return std::chrono::steady_clock::now() + std::chrono::seconds(20); }

// A docker-registry whose token issuer is a TokenServer. TestRegistry has no
// token option: it keeps its docker-registry config in dir()/registry.yml and
// reads it on Start(), so the registry is restarted with the auth block added.
struct TokenRegistry {
  explicit TokenRegistry(TokenServerOptions options = {}) : tokens(keys.path(), std::move(options)) {
    std::string yml = registry.dir().File("registry.yml");
    REQUIRE_MESSAGE(std::filesystem::exists(yml), "TestRegistry no longer writes " << yml);
    registry.Stop();
    WriteFile(yml, ReadFile(yml) + tokens.RegistryAuthYaml());
    registry.Start();
  }
  Reference Ref(const std::string& repo_tag) const {
    auto r = ParseReference(registry.host() + "/" + repo_tag);
    REQUIRE(r.ok());
    return *r;
  }
  // A config naming the registry insecure (plain http), with `credentials` if given.
  std::shared_ptr<RegistryConfig> Config(std::optional<Credentials> credentials = std::nullopt) const {
    auto cfg = std::make_shared<RegistryConfig>();
    cfg->SetHost({registry.host(), true, "", ""});
    if (credentials) cfg->SetCredentials(registry.host(), *credentials);
    return cfg;
  }

  TempDir keys;
  TokenServer tokens;
  TestRegistry registry;
};

// Counts the HTTP exchanges the client reports, per host.
class CountingObserver : public RegistryObserver {
 public:
  void OnRegistryRequest(const std::string& host, int, double) override {
    std::lock_guard<std::mutex> l(mu_);
    ++counts_[host];
  }
  int count(const std::string& host) const {
    std::lock_guard<std::mutex> l(mu_);
    auto it = counts_.find(host);
    return it == counts_.end() ? 0 : it->second;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, int> counts_;
};

std::string PushSample(RegistryClient& c, const Reference& ref, const TempDir& dir, const std::string& content) {
  WriteFile(dir.File("model.onnx"), content);
  PushRequest req;
  req.paths = {dir.File("model.onnx")};
  req.metadata = Json{{"name", "mnist"}, {"customProperties", {{"accuracy", 0.97}}}};
  auto d = PushModel(c, ref, req, Soon());
  REQUIRE_MESSAGE(d.ok(), d.status().ToString());
  return *d;
}

}  // namespace

TEST_CASE("the registry under test really demands bearer tokens from our issuer") {
  TokenRegistry r;
  CurlTransport t;
  HttpRequest req;
  req.url = "http://" + r.registry.host() + "/v2/";
  req.deadline = Soon();
  auto resp = t.Send(req);
  REQUIRE_MESSAGE(resp.ok(), resp.status().ToString());
  CHECK(resp->status == 401);
  CHECK(resp->Header("www-authenticate").rfind("Bearer realm=\"" + r.tokens.realm() + "\"", 0) == 0);
  CHECK(resp->Header("www-authenticate").find("service=\"test-registry\"") != std::string::npos);

  // And it rejects a token our issuer did not sign.
  req.headers.emplace_back("Authorization", "Bearer eyJhbGciOiJFUzI1NiJ9.e30.AAAA");
  auto forged = t.Send(req);
  REQUIRE(forged.ok());
  CHECK(forged->status == 401);
}

TEST_CASE("push, sign, attest, fetch and verify through token auth, one token per scope") {
  TokenRegistry r;
  TempDir dir;
  // Credentials the way the webhook gets them: a registry config naming a docker config.json.
  WriteFile(dir.File("config.json"), R"({"auths":{")" + r.registry.host() + R"(":{"auth":")" +
                                         Base64Encode("alice:t0ken:pw") + R"("}}})");
  WriteFile(dir.File("registries.yaml"), "registries:\n  - host: \"" + r.registry.host() +
                                             "\"\n    insecure: true\n    dockerConfig: " + dir.File("config.json") +
                                             "\n");
  auto cfg = RegistryConfig::Load(dir.File("registries.yaml"));
  REQUIRE_MESSAGE(cfg.ok(), cfg.status().ToString());
  CurlTransport transport;
  CountingObserver observer;
  RegistryClient client(&transport, std::make_shared<RegistryConfig>(*cfg), {}, &observer);

  auto key = *PrivateKey::GenerateEcdsaP256();
  auto ref = r.Ref("models/mnist:v1");
  std::string digest = PushSample(client, ref, dir, "weights-1");
  REQUIRE(SignArtifact(client, ref, key, {}, Soon()).ok());
  REQUIRE(AttestArtifact(client, ref, key, "https://slsa.dev/provenance/v1",
                         Json{{"buildDefinition", {{"buildType", "https://example.com/train"}}}}, Soon())
              .ok());

  auto material = FetchArtifact(client, ref, Soon());
  REQUIRE_MESSAGE(material.ok(), material.status().ToString());
  CHECK(material->digest == digest);
  VerifiedArtifact v = VerifyArtifact(*material, {{"release", key.Public()}});
  CHECK(v.SignedBy() == std::set<Signer>{Signer("release")});
  REQUIRE(v.attestations.size() == 1);
  CHECK(v.attestations[0].verified());
  CHECK(v.attestations[0].predicate_type == "https://slsa.dev/provenance/v1");
  CHECK(v.config["customProperties"]["accuracy"] == 0.97);

  // Dozens of registry requests, two token requests: one per scope.
  std::map<std::string, int> want = {{"repository:models/mnist:pull", 1}, {"repository:models/mnist:pull,push", 1}};
  CHECK(r.tokens.IssuedByScope() == want);
  CHECK(r.tokens.refused() == 0);
  CHECK(observer.count(r.tokens.host()) == 2);
  CHECK_MESSAGE(observer.count(r.registry.host()) > 15, observer.count(r.registry.host()));

  // Another repository is another scope: one more token, and the registry's
  // "not found" comes through the auth layer as NotFound.
  auto absent = client.GetManifest(r.Ref("models/absent:v1"), "v1", Soon());
  REQUIRE_FALSE(absent.ok());
  CHECK(absent.status().code() == StatusCode::kNotFound);
  CHECK(r.tokens.IssuedByScope()["repository:models/absent:pull"] == 1);
  CHECK(r.tokens.IssuedByScope().size() == 3);

  // A second fetch reuses every cached token.
  REQUIRE(FetchArtifact(client, ref.WithDigest(digest), Soon()).ok());
  CHECK(observer.count(r.tokens.host()) == 3);
}

TEST_CASE("without valid credentials the token server refuses and the client reports PermissionDenied") {
  TokenRegistry r;
  TempDir dir;
  CurlTransport transport;
  {
    RegistryClient alice(&transport, r.Config(Credentials{"alice", "t0ken:pw", ""}));
    PushSample(alice, r.Ref("private/model:v1"), dir, "weights");
  }
  auto issued_before = r.tokens.IssuedByScope();

  struct Row {
    const char* name;
    std::optional<Credentials> credentials;
  };
  const Row rows[] = {
      {"no credentials", std::nullopt},
      {"wrong password", Credentials{"alice", "t0ken", ""}},
      {"unknown user", Credentials{"mallory", "t0ken:pw", ""}},
      {"identity token the issuer does not know", Credentials{"", "", "not-a-refresh-token"}},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    int refused_before = r.tokens.refused();
    RegistryClient client(&transport, r.Config(row.credentials));
    auto pulled = client.GetManifest(r.Ref("private/model:v1"), "v1", Soon());
    REQUIRE_FALSE(pulled.ok());
    CHECK(pulled.status().code() == StatusCode::kPermissionDenied);
    CHECK_MESSAGE(pulled.status().message().find("token server for " + r.registry.host() + " answered HTTP 401") !=
                      std::string::npos,
                  pulled.status().message());
    CHECK(r.tokens.refused() > refused_before);

    auto pushed = client.PushManifest(r.Ref("private/model:v2"), "v2", kOciManifest, "{}", Soon());
    REQUIRE_FALSE(pushed.ok());
    CHECK(pushed.status().code() == StatusCode::kPermissionDenied);
  }
  CHECK(r.tokens.IssuedByScope() == issued_before);  // nothing issued to any of them
}

TEST_CASE("an identity token is exchanged through the OAuth2 refresh_token grant for a token the registry accepts") {
  TokenServerOptions options;
  options.refresh_token = "refresh-4f1d";
  TokenRegistry r(options);
  TempDir dir;
  CurlTransport transport;
  auto ref = r.Ref("models/oauth:v1");
  std::string digest;
  {
    RegistryClient alice(&transport, r.Config(Credentials{"alice", "t0ken:pw", ""}));
    digest = PushSample(alice, ref, dir, "weights");
  }
  RegistryClient client(&transport, r.Config(Credentials{"", "", "refresh-4f1d"}));
  auto m = client.GetManifest(ref, "v1", Soon());
  REQUIRE_MESSAGE(m.ok(), m.status().ToString());
  CHECK(m->digest == digest);
  REQUIRE(FetchArtifact(client, ref, Soon()).ok());
  CHECK(r.tokens.IssuedByScope()["repository:models/oauth:pull"] == 1);
}

TEST_CASE("an issuer that serves anonymous pulls: tokens without credentials work too") {
  TokenServerOptions options;
  options.require_credentials = false;
  TokenRegistry r(options);
  TempDir dir;
  CurlTransport transport;
  auto ref = r.Ref("public/model:v1");
  RegistryClient alice(&transport, r.Config(Credentials{"alice", "t0ken:pw", ""}));
  std::string digest = PushSample(alice, ref, dir, "weights");

  RegistryClient anonymous(&transport, r.Config());
  auto material = FetchArtifact(anonymous, ref, Soon());
  REQUIRE_MESSAGE(material.ok(), material.status().ToString());
  CHECK(material->digest == digest);
  // Wrong credentials are still refused, not downgraded to anonymous.
  RegistryClient wrong(&transport, r.Config(Credentials{"alice", "nope", ""}));
  auto refused = wrong.GetManifest(ref, "v1", Soon());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kPermissionDenied);
}
