// RegistryClient protocol logic against a scripted fake transport: bearer
// tokens (the Docker/distribution token authentication spec) and their cache, basic auth from RegistryConfig,
// the OAuth2 refresh-token grant, redirects, digest checks and the mapping of
// HTTP errors to Status. The same paths against a real docker-registry are in
// tests/integration/token_auth_test.cc and registry_roundtrip_test.cc.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <deque>
#include <mutex>
#include <optional>

#include "base/encoding.h"
#include "verifier/digest.h"
#include "verifier/registry/registry_client.h"

using namespace provgate;

namespace {

constexpr char kHost[] = "registry.example";
constexpr char kBase[] = "https://registry.example/v2/";
constexpr char kRealm[] = "https://auth.example/token";
constexpr char kChallenge[] =
    R"(Bearer realm="https://auth.example/token",service="registry.example",scope="repository:models/mnist:pull")";

HttpResponse Response(int status, std::string body = "", std::multimap<std::string, std::string> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

HttpResponse Unauthorized(const std::string& challenge = kChallenge) {
  return Response(401, R"({"errors":[{"code":"UNAUTHORIZED"}]})", {{"www-authenticate", challenge}});
}

HttpResponse TokenResponse(const std::string& token) {
  return Response(200, R"({"token":")" + token + R"(","expires_in":300})", {{"content-type", "application/json"}});
}

HttpResponse Redirect(int status, const std::string& location) { return Response(status, "", {{"location", location}}); }

// An OCI manifest whose bytes the tests hash; `note` makes distinct manifests.
std::string ManifestBytes(const std::string& note = "a") {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
         R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
         Sha256Digest("{}") + R"(","size":2},"layers":[],"annotations":{"note":")" + note + R"("}})";
}

HttpResponse ManifestResponse(const std::string& bytes, std::multimap<std::string, std::string> headers = {}) {
  headers.emplace("content-type", "application/vnd.oci.image.manifest.v1+json");
  return Response(200, bytes, std::move(headers));
}

std::string WithoutQuery(const std::string& url) { return url.substr(0, url.find('?')); }

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      if (auto byte = HexDecode(s.substr(i + 1, 2))) {
        out += *byte;
        i += 2;
        continue;
      }
    }
    out += s[i] == '+' ? ' ' : s[i];
  }
  return out;
}

// name -> value of an application/x-www-form-urlencoded string (a URL's
// query or a POST body); a repeated name keeps all values joined by '|'.
std::map<std::string, std::string> FormValues(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    auto amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    auto eq = pair.find('=');
    std::string name = PercentDecode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1));
    out[name] = out.count(name) ? out[name] + "|" + value : value;
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
  }
  return out;
}

std::map<std::string, std::string> QueryOf(const std::string& url) {
  auto q = url.find('?');
  return q == std::string::npos ? std::map<std::string, std::string>{} : FormValues(std::string_view(url).substr(q + 1));
}

// The value of request header `name` (compared case-insensitively), if sent.
std::optional<std::string> FindHeader(const HttpRequest& r, std::string_view name) {
  auto same = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  };
  for (const auto& [k, v] : r.headers) {
    if (std::equal(k.begin(), k.end(), name.begin(), name.end(), same)) return v;
  }
  return std::nullopt;
}
bool HasHeader(const HttpRequest& r, std::string_view name) { return FindHeader(r, name).has_value(); }
std::string HeaderOf(const HttpRequest& r, std::string_view name) { return FindHeader(r, name).value_or(""); }

// Answers requests from a script of (method, URL) -> response steps, in
// order, and records every request. A request that does not match the next
// step (or comes after the script ends) fails with Internal and is listed
// in unexpected(), so "no further request" is checked by the script itself.
class ScriptedTransport : public HttpTransport {
 public:
  // `url` is compared without its query string unless it has one.
  void Expect(std::string method, std::string url, HttpResponse response) {
    std::lock_guard<std::mutex> l(mu_);
    script_.push_back({std::move(method), std::move(url), std::move(response)});
  }

  StatusOr<HttpResponse> Send(const HttpRequest& req) override {
    std::lock_guard<std::mutex> l(mu_);
    requests_.push_back(req);
    std::string got = req.method + " " + req.url;
    if (script_.empty()) {
      unexpected_.push_back(got + " (script ended)");
      return Internal("unscripted request " + got);
    }
    Step step = std::move(script_.front());
    script_.pop_front();
    std::string url = step.url.find('?') == std::string::npos ? WithoutQuery(req.url) : req.url;
    if (step.method != req.method || step.url != url) {
      unexpected_.push_back(got + " (expected " + step.method + " " + step.url + ")");
      return Internal("unexpected request " + got);
    }
    // As the HttpTransport contract says: a body above the bound is an error.
    if (step.response.body.size() > req.max_response_bytes) {
      return ResourceExhausted("response to " + got + " exceeds the limit of " +
                               std::to_string(req.max_response_bytes) + " bytes");
    }
    return step.response;
  }

  std::vector<HttpRequest> requests() const {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }
  // Requests that did not match the script, one per line; empty when none.
  std::string unexpected() const {
    std::lock_guard<std::mutex> l(mu_);
    std::string out;
    for (const auto& u : unexpected_) out += u + "\n";
    return out;
  }
  size_t remaining() const {
    std::lock_guard<std::mutex> l(mu_);
    return script_.size();
  }
  void ClearRequests() {
    std::lock_guard<std::mutex> l(mu_);
    requests_.clear();
  }

 private:
  struct Step {
    std::string method;
    std::string url;
    HttpResponse response;
  };
  mutable std::mutex mu_;
  std::deque<Step> script_;
  std::vector<HttpRequest> requests_;
  std::vector<std::string> unexpected_;
};

// The script was followed exactly: nothing unexpected, nothing left over.
#define CHECK_SCRIPT_DONE(t)                                                        \
  do {                                                                              \
    CHECK_MESSAGE((t).unexpected().empty(), (t).unexpected());                      \
    CHECK_MESSAGE((t).remaining() == 0, "script steps left: " << (t).remaining()); \
  } while (0)

Deadline Soon() { return std::chrono::steady_clock::now() + std::chrono::seconds(10); }

Reference Ref(const std::string& text) {
  auto r = ParseReference(text);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return *r;
}

const Reference kMnist = *ParseReference("registry.example/models/mnist:v1");

std::shared_ptr<RegistryConfig> Config() { return std::make_shared<RegistryConfig>(); }

// Scripts and runs the first pull of models/mnist:v1 through a Bearer
// challenge, leaving "Bearer tok-1" cached for the pull scope.
void FirstPull(ScriptedTransport& t, RegistryClient& client) {
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", Unauthorized());
  t.Expect("GET", kRealm, TokenResponse("tok-1"));
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", ManifestResponse(ManifestBytes()));
  auto m = client.GetManifest(kMnist, "v1", Soon());
  REQUIRE_MESSAGE(m.ok(), m.status().ToString());
  CHECK_SCRIPT_DONE(t);
  t.ClearRequests();
}

}  // namespace

TEST_CASE("a Bearer challenge is answered with a pull-scoped token, then the request is retried with it") {
  ScriptedTransport t;
  RegistryClient client(&t, Config());
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", Unauthorized());
  t.Expect("GET", kRealm, TokenResponse("tok-1"));
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", ManifestResponse(ManifestBytes()));

  auto m = client.GetManifest(kMnist, "v1", Soon());
  REQUIRE_MESSAGE(m.ok(), m.status().ToString());
  CHECK(m->digest == Sha256Digest(ManifestBytes()));
  CHECK_SCRIPT_DONE(t);

  auto reqs = t.requests();
  REQUIRE(reqs.size() == 3);
  CHECK_FALSE(HasHeader(reqs[0], "Authorization"));  // anonymous first
  // The token request names the service and the scope we need.
  auto q = QueryOf(reqs[1].url);
  CHECK(q["service"] == "registry.example");
  CHECK(q["scope"] == "repository:models/mnist:pull");
  CHECK(q.size() == 2);
  CHECK_FALSE(HasHeader(reqs[1], "Authorization"));  // no credentials configured: anonymous token
  CHECK(HeaderOf(reqs[2], "Authorization") == "Bearer tok-1");
}

TEST_CASE("a cached token is reused for the same scope without asking the token server again") {
  ScriptedTransport t;
  RegistryClient client(&t, Config());
  FirstPull(t, client);

  // Two more pulls in the same repository: one request each, no token request.
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v2", ManifestResponse(ManifestBytes("b")));
  t.Expect("GET", std::string(kBase) + "models/mnist/blobs/" + Sha256Digest("{}"), Response(200, "{}"));
  REQUIRE(client.GetManifest(kMnist, "v2", Soon()).ok());
  auto blob = client.GetBlob(kMnist, Sha256Digest("{}"), 100, Soon());
  REQUIRE_MESSAGE(blob.ok(), blob.status().ToString());
  CHECK_SCRIPT_DONE(t);
  auto reqs = t.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(HeaderOf(reqs[0], "Authorization") == "Bearer tok-1");
  CHECK(HeaderOf(reqs[1], "Authorization") == "Bearer tok-1");
}

TEST_CASE("a new scope on a host that asked for tokens gets its own token up front, without a 401 round trip") {
  ScriptedTransport t;
  RegistryClient client(&t, Config());
  FirstPull(t, client);

  SUBCASE("another repository") {
    Reference other = Ref("registry.example/models/other:v1");
    t.Expect("GET", kRealm, TokenResponse("tok-other"));
    t.Expect("GET", std::string(kBase) + "models/other/manifests/v1", ManifestResponse(ManifestBytes()));
    auto m = client.GetManifest(other, "v1", Soon());
    REQUIRE_MESSAGE(m.ok(), m.status().ToString());
    CHECK_SCRIPT_DONE(t);
    auto reqs = t.requests();
    REQUIRE(reqs.size() == 2);
    CHECK(QueryOf(reqs[0].url)["scope"] == "repository:models/other:pull");
    CHECK(QueryOf(reqs[0].url)["service"] == "registry.example");
    CHECK(HeaderOf(reqs[1], "Authorization") == "Bearer tok-other");  // never tok-1: tokens are scope-bound
  }

  SUBCASE("pushing to the same repository asks for pull,push") {
    std::string bytes = ManifestBytes("pushed");
    t.Expect("GET", kRealm, TokenResponse("tok-push"));
    t.Expect("PUT", std::string(kBase) + "models/mnist/manifests/v9",
             Response(201, "", {{"docker-content-digest", Sha256Digest(bytes)}}));
    auto d = client.PushManifest(kMnist, "v9", kOciManifest, bytes, Soon());
    REQUIRE_MESSAGE(d.ok(), d.status().ToString());
    CHECK(*d == Sha256Digest(bytes));
    auto reqs = t.requests();
    REQUIRE(reqs.size() == 2);
    CHECK(QueryOf(reqs[0].url)["scope"] == "repository:models/mnist:pull,push");
    CHECK(HeaderOf(reqs[1], "Authorization") == "Bearer tok-push");

    // The pull token is still the one used for pulls.
    t.ClearRequests();
    t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", ManifestResponse(ManifestBytes()));
    REQUIRE(client.GetManifest(kMnist, "v1", Soon()).ok());
    REQUIRE(t.requests().size() == 1);
    CHECK(HeaderOf(t.requests()[0], "Authorization") == "Bearer tok-1");
    CHECK_SCRIPT_DONE(t);
  }
}

TEST_CASE("a token response with access_token instead of token is accepted") {
  ScriptedTransport t;
  RegistryClient client(&t, Config());
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", Unauthorized());
  t.Expect("GET", kRealm, Response(200, R"({"access_token":"oauth-tok","expires_in":120})"));
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", ManifestResponse(ManifestBytes()));
  auto m = client.GetManifest(kMnist, "v1", Soon());
  REQUIRE_MESSAGE(m.ok(), m.status().ToString());
  CHECK(HeaderOf(t.requests()[2], "Authorization") == "Bearer oauth-tok");
  CHECK_SCRIPT_DONE(t);
}

TEST_CASE("unusable token responses are PermissionDenied with a reason, and the registry is not retried") {
  struct Row {
    int status;
    std::string body;
    const char* reason;
  };
  const Row rows[] = {
      {200, "this is not json hunter2", "malformed JSON"},
      {200, R"(["token","hunter2"])", "malformed JSON"},
      {200, R"({"expires_in":300,"note":"hunter2"})", "sent no token"},
      {200, R"({"token":""})", "sent no token"},
      {200, R"({"token":42,"access_token":null})", "sent no token"},
      {200, R"({"token":"two words"})", "invalid characters"},
      {200, "{\"token\":\"line\\r\\nX-Injected: 1\"}", "invalid characters"},
      {401, R"({"details":"hunter2 is not alice's password"})", "answered HTTP 401"},
      {403, "hunter2", "answered HTTP 403"},
      {500, "<html>hunter2</html>", "answered HTTP 500"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.body);
    ScriptedTransport t;
    RegistryClient client(&t, Config());
    t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", Unauthorized());
    t.Expect("GET", kRealm, Response(row.status, row.body));
    auto m = client.GetManifest(kMnist, "v1", Soon());
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == StatusCode::kPermissionDenied);
    CHECK_MESSAGE(m.status().message().find(row.reason) != std::string::npos, m.status().message());
    CHECK(m.status().message().find("registry.example") != std::string::npos);
    CHECK(m.status().message().find("hunter2") == std::string::npos);  // never the raw body
    CHECK_SCRIPT_DONE(t);
  }
}

TEST_CASE("a token the registry still refuses ends in PermissionDenied after one retry") {
  ScriptedTransport t;
  RegistryClient client(&t, Config());
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", Unauthorized());
  t.Expect("GET", kRealm, TokenResponse("tok-weak"));
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1",
           Unauthorized(std::string(kChallenge) + R"(,error="insufficient_scope")"));
  auto m = client.GetManifest(kMnist, "v1", Soon());
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().code() == StatusCode::kPermissionDenied);
  CHECK_MESSAGE(m.status().message().find("UNAUTHORIZED") != std::string::npos, m.status().message());
  CHECK_SCRIPT_DONE(t);
}

TEST_CASE("registry credentials are sent to the token realm as Basic auth") {
  ScriptedTransport t;
  auto cfg = Config();
  cfg->SetCredentials(kHost, {"alice", "pa:ss", ""});
  RegistryClient client(&t, cfg);
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", Unauthorized());
  t.Expect("GET", kRealm, TokenResponse("tok-alice"));
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", ManifestResponse(ManifestBytes()));
  REQUIRE(client.GetManifest(kMnist, "v1", Soon()).ok());
  auto reqs = t.requests();
  REQUIRE(reqs.size() == 3);
  CHECK(HeaderOf(reqs[1], "Authorization") == "Basic " + Base64Encode("alice:pa:ss"));
  CHECK(HeaderOf(reqs[2], "Authorization") == "Bearer tok-alice");
  CHECK_SCRIPT_DONE(t);
}

TEST_CASE("an identity token is exchanged with an OAuth2 refresh_token POST to the realm") {
  ScriptedTransport t;
  auto cfg = Config();
  cfg->SetCredentials(kHost, {"", "", "refresh/xyz+1="});
  RegistryClient client(&t, cfg);
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", Unauthorized());
  t.Expect("POST", kRealm, Response(200, R"({"access_token":"tok-oauth","expires_in":60})"));
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", ManifestResponse(ManifestBytes()));
  auto m = client.GetManifest(kMnist, "v1", Soon());
  REQUIRE_MESSAGE(m.ok(), m.status().ToString());
  CHECK_SCRIPT_DONE(t);

  auto reqs = t.requests();
  REQUIRE(reqs.size() == 3);
  const HttpRequest& post = reqs[1];
  CHECK(post.url == kRealm);  // parameters in the body, not the URL
  CHECK(HeaderOf(post, "Content-Type") == "application/x-www-form-urlencoded");
  CHECK_FALSE(HasHeader(post, "Authorization"));
  auto form = FormValues(post.body);
  CHECK(form["grant_type"] == "refresh_token");
  CHECK(form["refresh_token"] == "refresh/xyz+1=");  // percent-encoded on the wire, intact after decoding
  CHECK(form["service"] == "registry.example");
  CHECK(form["scope"] == "repository:models/mnist:pull");
  CHECK_FALSE(form["client_id"].empty());
  CHECK(HeaderOf(reqs[2], "Authorization") == "Bearer tok-oauth");
}

TEST_CASE("a Basic challenge is answered with the configured credentials") {
  ScriptedTransport t;
  auto cfg = Config();
  cfg->SetCredentials(kHost, {"alice", "s3cret:with:colons", ""});
  RegistryClient client(&t, cfg);
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", Unauthorized(R"(Basic realm="Registry Realm")"));
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", ManifestResponse(ManifestBytes()));
  REQUIRE(client.GetManifest(kMnist, "v1", Soon()).ok());
  auto reqs = t.requests();
  REQUIRE(reqs.size() == 2);  // no token server involved
  CHECK_FALSE(HasHeader(reqs[0], "Authorization"));
  std::string auth = HeaderOf(reqs[1], "Authorization");
  REQUIRE(auth.rfind("Basic ", 0) == 0);
  CHECK(Base64Decode(auth.substr(6)) == "alice:s3cret:with:colons");
  CHECK_SCRIPT_DONE(t);

  // Another repository on the same host: credentials sent up front.
  t.ClearRequests();
  t.Expect("GET", std::string(kBase) + "models/other/manifests/v1", ManifestResponse(ManifestBytes()));
  REQUIRE(client.GetManifest(Ref("registry.example/models/other:v1"), "v1", Soon()).ok());
  REQUIRE(t.requests().size() == 1);
  CHECK(HeaderOf(t.requests()[0], "Authorization") == auth);
  CHECK_SCRIPT_DONE(t);
}

TEST_CASE("challenges that cannot be answered are PermissionDenied with a reason") {
  struct Row {
    std::string challenge;
    const char* reason;
  };
  const Row rows[] = {
      {R"(Basic realm="Registry Realm")", "requires credentials and none are configured"},
      {R"(Negotiate)", "unsupported auth scheme"},
      {R"(=realm="x")", "unparsable WWW-Authenticate"},
      {R"(Bearer service="registry.example")", "without a realm"},
      {R"(Bearer realm="http://auth.example/token",service="registry.example")", "not an https URL"},
      {R"(Bearer realm="auth.example/token")", "not an https URL"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.challenge);
    ScriptedTransport t;
    RegistryClient client(&t, Config());
    t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", Unauthorized(row.challenge));
    auto m = client.GetManifest(kMnist, "v1", Soon());
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == StatusCode::kPermissionDenied);
    CHECK_MESSAGE(m.status().message().find(row.reason) != std::string::npos, m.status().message());
    CHECK_SCRIPT_DONE(t);  // in particular: no request to a plain-http realm
  }
}

TEST_CASE("a plain-http realm is accepted for a registry configured as insecure") {
  ScriptedTransport t;
  auto cfg = Config();
  cfg->SetHost({"127.0.0.1:5000", true, "", ""});
  RegistryClient client(&t, cfg);
  Reference local = Ref("127.0.0.1:5000/models/mnist:v1");
  t.Expect("GET", "http://127.0.0.1:5000/v2/models/mnist/manifests/v1",
           Unauthorized(R"(Bearer realm="http://127.0.0.1:5001/token",service="local")"));
  t.Expect("GET", "http://127.0.0.1:5001/token", TokenResponse("tok-local"));
  t.Expect("GET", "http://127.0.0.1:5000/v2/models/mnist/manifests/v1", ManifestResponse(ManifestBytes()));
  auto m = client.GetManifest(local, "v1", Soon());
  REQUIRE_MESSAGE(m.ok(), m.status().ToString());
  CHECK(QueryOf(t.requests()[1].url)["service"] == "local");
  CHECK_SCRIPT_DONE(t);
}

// Plain HTTP is the admin's choice for one registry (or loopback): it does not
// extend to whatever host a challenge names. Credentials would cross the
// network in clear text to a host nobody configured.
TEST_CASE("a plain-http realm must be on the insecure registry's own host or another insecure host") {
  struct Row {
    std::string registry;  // configured insecure, with credentials
    std::string realm;
    bool accepted;
  };
  const Row rows[] = {
      {"127.0.0.1:5000", "http://127.0.0.1:5001/token", true},                 // loopback: insecure by default
      {"127.0.0.1:5000", "http://localhost:5001/token", true},
      {"registry.internal:5000", "http://registry.internal:5000/token", true},  // the registry itself
      {"registry.internal:5000", "http://registry.internal:5001/token", true},  // same host, another port
      {"registry.internal:5000", "http://tokens.internal/token", true},         // configured insecure below
      {"127.0.0.1:5000", "http://auth.example/token", false},
      {"registry.internal:5000", "http://auth.example/token", false},
      {"registry.internal:5000", "http://registry.internal.evil.example/token", false},
      {"[::1]:5000", "http://auth.example:5000/token", false},
  };
  for (const auto& row : rows) {
    CAPTURE(row.registry);
    CAPTURE(row.realm);
    ScriptedTransport t;
    auto cfg = Config();
    cfg->SetHost({row.registry, true, "", ""});
    cfg->SetHost({"tokens.internal", true, "", ""});
    cfg->SetCredentials(row.registry, {"user", "secret", ""});
    RegistryClient client(&t, cfg);
    Reference ref = Ref(row.registry + "/models/mnist:v1");
    const std::string url = "http://" + row.registry + "/v2/models/mnist/manifests/v1";
    t.Expect("GET", url, Unauthorized(R"(Bearer realm=")" + row.realm + R"(",service="local")"));
    if (row.accepted) {
      t.Expect("GET", WithoutQuery(row.realm), TokenResponse("tok-local"));
      t.Expect("GET", url, ManifestResponse(ManifestBytes()));
    }
    auto m = client.GetManifest(ref, "v1", Soon());
    CHECK_SCRIPT_DONE(t);  // in particular: nothing sent to a refused realm
    if (row.accepted) {
      CHECK_MESSAGE(m.ok(), m.status().ToString());
    } else {
      REQUIRE_FALSE(m.ok());
      CHECK(m.status().code() == StatusCode::kPermissionDenied);
      CHECK_MESSAGE(m.status().message().find("plain-http token realm") != std::string::npos, m.status().message());
    }
  }
}

TEST_CASE("a realm that already has a query string gets the parameters appended") {
  ScriptedTransport t;
  RegistryClient client(&t, Config());
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1",
           Unauthorized(R"(Bearer realm="https://auth.example/token?account=x",service="registry.example")"));
  t.Expect("GET", kRealm, TokenResponse("tok-1"));
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", ManifestResponse(ManifestBytes()));
  REQUIRE(client.GetManifest(kMnist, "v1", Soon()).ok());
  auto q = QueryOf(t.requests()[1].url);
  CHECK(q["account"] == "x");
  CHECK(q["service"] == "registry.example");
  CHECK(q["scope"] == "repository:models/mnist:pull");
  CHECK_SCRIPT_DONE(t);
}

TEST_CASE("redirects: followed only to https (or the same origin), credentials only to the same origin") {
  const std::string blob = "layer bytes";
  const std::string digest = Sha256Digest(blob);
  const std::string blob_url = std::string(kBase) + "models/mnist/blobs/" + digest;
  struct Row {
    std::string location;
    std::string followed_url;  // empty: refused
    bool keeps_authorization;
    const char* reason;  // when refused
  };
  const Row rows[] = {
      {"https://cdn.example/objects/1?X-Amz-Signature=abc", "https://cdn.example/objects/1?X-Amz-Signature=abc", false, ""},
      {"//cdn.example/objects/1", "https://cdn.example/objects/1", false, ""},
      {"https://registry.example:8443/objects/1", "https://registry.example:8443/objects/1", false, ""},
      {"/v2/models/mnist/blobs/moved", "https://registry.example/v2/models/mnist/blobs/moved", true, ""},
      {"https://registry.example/elsewhere", "https://registry.example/elsewhere", true, ""},
      {"http://cdn.example/objects/1", "", false, "non-https"},
      {"http://registry.example/v2/models/mnist/blobs/x", "", false, "non-https"},
      {"ftp://cdn.example/objects/1", "", false, "redirect from registry.example"},
      {"https://user:pw@cdn.example/objects/1", "", false, "malformed redirect"},
      {"objects/1", "", false, "unsupported relative redirect"},
  };
  for (int status : {301, 302, 303, 307, 308}) {
    for (const auto& row : rows) {
      CAPTURE(status);
      CAPTURE(row.location);
      ScriptedTransport t;
      RegistryClient client(&t, Config());
      t.Expect("GET", blob_url, Unauthorized());
      t.Expect("GET", kRealm, TokenResponse("tok-1"));
      t.Expect("GET", blob_url, Redirect(status, row.location));
      if (!row.followed_url.empty()) t.Expect("GET", row.followed_url, Response(200, blob));
      auto got = client.GetBlob(kMnist, digest, 1024, Soon());
      CHECK_SCRIPT_DONE(t);
      auto reqs = t.requests();
      if (row.followed_url.empty()) {
        REQUIRE_FALSE(got.ok());
        CHECK(got.status().code() == StatusCode::kUnavailable);
        CHECK_MESSAGE(got.status().message().find(row.reason) != std::string::npos, got.status().message());
        CHECK(reqs.size() == 3);  // nothing sent to the refused location
        continue;
      }
      REQUIRE_MESSAGE(got.ok(), got.status().ToString());
      CHECK(*got == blob);
      REQUIRE(reqs.size() == 4);
      CHECK(HeaderOf(reqs[2], "Authorization") == "Bearer tok-1");
      if (row.keeps_authorization) {
        CHECK(HeaderOf(reqs[3], "Authorization") == "Bearer tok-1");
      } else {
        CHECK_FALSE(HasHeader(reqs[3], "Authorization"));
      }
    }
  }
}

TEST_CASE("a cross-origin hop strips credentials for the rest of the chain, even back on the registry") {
  const std::string blob = "layer bytes";
  const std::string digest = Sha256Digest(blob);
  const std::string blob_url = std::string(kBase) + "models/mnist/blobs/" + digest;
  ScriptedTransport t;
  RegistryClient client(&t, Config());
  t.Expect("GET", blob_url, Unauthorized());
  t.Expect("GET", kRealm, TokenResponse("tok-1"));
  t.Expect("GET", blob_url, Redirect(307, "https://cdn.example/a"));
  t.Expect("GET", "https://cdn.example/a", Redirect(302, "https://registry.example/b"));
  t.Expect("GET", "https://registry.example/b", Response(200, blob));
  REQUIRE(client.GetBlob(kMnist, digest, 1024, Soon()).ok());
  auto reqs = t.requests();
  REQUIRE(reqs.size() == 5);
  CHECK_FALSE(HasHeader(reqs[3], "Authorization"));
  CHECK_FALSE(HasHeader(reqs[4], "Authorization"));
  CHECK_SCRIPT_DONE(t);
}

TEST_CASE("at most five redirects are followed") {
  const std::string blob = "layer bytes";
  const std::string digest = Sha256Digest(blob);
  const std::string blob_url = std::string(kBase) + "models/mnist/blobs/" + digest;
  for (int redirects : {1, 5, 6, 20}) {
    CAPTURE(redirects);
    ScriptedTransport t;
    RegistryClient client(&t, Config());
    t.Expect("GET", blob_url, Redirect(307, "https://cdn.example/hop/1"));
    int followed = std::min(redirects, 5);
    for (int i = 1; i < redirects && i <= 5; ++i) {
      t.Expect("GET", "https://cdn.example/hop/" + std::to_string(i),
               Redirect(307, "https://cdn.example/hop/" + std::to_string(i + 1)));
    }
    if (redirects <= 5) t.Expect("GET", "https://cdn.example/hop/" + std::to_string(redirects), Response(200, blob));
    auto got = client.GetBlob(kMnist, digest, 1024, Soon());
    CHECK_SCRIPT_DONE(t);
    CHECK(t.requests().size() == static_cast<size_t>(followed + 1));
    if (redirects <= 5) {
      CHECK_MESSAGE(got.ok(), got.status().ToString());
    } else {
      REQUIRE_FALSE(got.ok());
      CHECK(got.status().code() == StatusCode::kUnavailable);
      CHECK_MESSAGE(got.status().message().find("more than 5 redirects") != std::string::npos,
                    got.status().message());
    }
  }
}

TEST_CASE("a 303 redirect turns the request into a GET") {
  ScriptedTransport t;
  RegistryClient client(&t, Config());
  std::string bytes = ManifestBytes();
  t.Expect("PUT", std::string(kBase) + "models/mnist/manifests/v1", Redirect(303, "/v2/models/mnist/manifests/v1"));
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", Response(201));
  CHECK(client.PushManifest(kMnist, "v1", kOciManifest, bytes, Soon()).ok());
  CHECK_SCRIPT_DONE(t);
}

TEST_CASE("manifest bytes must match the digest they were fetched by") {
  const std::string good = ManifestBytes("good");
  const std::string evil = ManifestBytes("evil");
  const std::string good_digest = Sha256Digest(good);

  SUBCASE("by digest: other bytes are DataLoss") {
    ScriptedTransport t;
    RegistryClient client(&t, Config());
    t.Expect("GET", std::string(kBase) + "models/mnist/manifests/" + good_digest,
             ManifestResponse(evil, {{"docker-content-digest", good_digest}}));
    auto m = client.GetManifest(kMnist, good_digest, Soon());
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == StatusCode::kDataLoss);
    CHECK(m.status().message().find(Sha256Digest(evil)) != std::string::npos);
    CHECK_SCRIPT_DONE(t);
  }
  SUBCASE("by digest: the right bytes pass") {
    ScriptedTransport t;
    RegistryClient client(&t, Config());
    t.Expect("GET", std::string(kBase) + "models/mnist/manifests/" + good_digest, ManifestResponse(good));
    auto m = client.GetManifest(kMnist, good_digest, Soon());
    REQUIRE_MESSAGE(m.ok(), m.status().ToString());
    CHECK(m->digest == good_digest);
    CHECK(m->bytes == good);
  }
  SUBCASE("by tag: a Docker-Content-Digest that disagrees with the bytes is DataLoss") {
    ScriptedTransport t;
    RegistryClient client(&t, Config());
    t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1",
             ManifestResponse(evil, {{"docker-content-digest", good_digest}}));
    auto m = client.GetManifest(kMnist, "v1", Soon());
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == StatusCode::kDataLoss);
    CHECK(m.status().message().find("registry says \"" + good_digest + "\"") != std::string::npos);
  }
  SUBCASE("by tag: the digest is computed from the bytes, header or not") {
    for (bool with_header : {true, false}) {
      ScriptedTransport t;
      RegistryClient client(&t, Config());
      std::multimap<std::string, std::string> h;
      if (with_header) h.emplace("docker-content-digest", good_digest);
      t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", ManifestResponse(good, h));
      auto m = client.GetManifest(kMnist, "v1", Soon());
      REQUIRE_MESSAGE(m.ok(), m.status().ToString());
      CHECK(m->digest == good_digest);
    }
  }
  SUBCASE("blobs too") {
    ScriptedTransport t;
    RegistryClient client(&t, Config());
    std::string d = Sha256Digest("expected");
    t.Expect("GET", std::string(kBase) + "models/mnist/blobs/" + d, Response(200, "tampered"));
    auto b = client.GetBlob(kMnist, d, 100, Soon());
    REQUIRE_FALSE(b.ok());
    CHECK(b.status().code() == StatusCode::kDataLoss);
  }
}

TEST_CASE("HTTP errors map to Status codes with the registry's error code, never its body") {
  struct Row {
    int status;
    std::string body;
    StatusCode code;
    std::string must_contain;
  };
  const Row rows[] = {
      {404, R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown; hunter2","detail":{"Tag":"hunter2"}}]})",
       StatusCode::kNotFound, "MANIFEST_UNKNOWN"},
      {404, R"({"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]})",
       StatusCode::kNotFound, "NAME_UNKNOWN"},
      {404, "<html><body>hunter2</body></html>", StatusCode::kNotFound, "HTTP 404"},
      {404, R"({"errors":[{"code":"BAD CODE hunter2"}]})", StatusCode::kNotFound, "HTTP 404"},
      {403, R"({"errors":[{"code":"DENIED","message":"hunter2"}]})", StatusCode::kPermissionDenied, "DENIED"},
      {401, R"({"errors":[{"code":"UNAUTHORIZED","message":"hunter2"}]})", StatusCode::kPermissionDenied,
       "UNAUTHORIZED"},
      {429, R"({"errors":[{"code":"TOOMANYREQUESTS","message":"hunter2"}]})", StatusCode::kUnavailable,
       "TOOMANYREQUESTS"},
      {500, "hunter2", StatusCode::kUnavailable, "HTTP 500"},
      {502, "", StatusCode::kUnavailable, "HTTP 502"},
      {503, R"({"errors":[{"code":"UNAVAILABLE","message":"hunter2"}]})", StatusCode::kUnavailable, "HTTP 503"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.status);
    CAPTURE(row.body);
    ScriptedTransport t;
    RegistryClient client(&t, Config());
    t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", Response(row.status, row.body));
    auto m = client.GetManifest(kMnist, "v1", Soon());
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == row.code);
    CHECK_MESSAGE(m.status().message().find(row.must_contain) != std::string::npos, m.status().message());
    CHECK(m.status().message().find("hunter2") == std::string::npos);
    CHECK_SCRIPT_DONE(t);  // no retry of a 401 without a challenge, no retry of 5xx
  }
}

TEST_CASE("ResolveDigest uses HEAD's Docker-Content-Digest, else falls back to GET and hashing") {
  const std::string bytes = ManifestBytes();
  SUBCASE("HEAD with the header") {
    ScriptedTransport t;
    RegistryClient client(&t, Config());
    std::string d = Sha256Digest("whatever the registry says");
    t.Expect("HEAD", std::string(kBase) + "models/mnist/manifests/v1", Response(200, "", {{"docker-content-digest", d}}));
    auto got = client.ResolveDigest(kMnist, Soon());
    REQUIRE(got.ok());
    CHECK(*got == d);
    CHECK_SCRIPT_DONE(t);
  }
  SUBCASE("HEAD without it") {
    ScriptedTransport t;
    RegistryClient client(&t, Config());
    t.Expect("HEAD", std::string(kBase) + "models/mnist/manifests/v1", Response(200));
    t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", ManifestResponse(bytes));
    auto got = client.ResolveDigest(kMnist, Soon());
    REQUIRE(got.ok());
    CHECK(*got == Sha256Digest(bytes));
    CHECK_SCRIPT_DONE(t);
  }
  SUBCASE("a reference with a digest needs no request") {
    ScriptedTransport t;
    RegistryClient client(&t, Config());
    auto got = client.ResolveDigest(kMnist.WithDigest(Sha256Digest(bytes)), Soon());
    REQUIRE(got.ok());
    CHECK(*got == Sha256Digest(bytes));
    CHECK(t.requests().empty());
  }
  SUBCASE("an unknown tag is NotFound") {
    ScriptedTransport t;
    RegistryClient client(&t, Config());
    t.Expect("HEAD", std::string(kBase) + "models/mnist/manifests/v1", Response(404));
    auto got = client.ResolveDigest(kMnist, Soon());
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().code() == StatusCode::kNotFound);
  }
}

TEST_CASE("transport failures pass through unchanged") {
  struct FailingTransport : HttpTransport {
    StatusOr<HttpResponse> Send(const HttpRequest&) override { return Unavailable("connection refused"); }
  } t;
  RegistryClient client(&t, Config());
  auto m = client.GetManifest(kMnist, "v1", Soon());
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().code() == StatusCode::kUnavailable);
  CHECK(m.status().message() == "connection refused");
}

TEST_CASE("an oversized token response is a token failure, not a manifest over its size limit") {
  ScriptedTransport t;
  RegistryClient client(&t, Config());
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", Unauthorized());
  t.Expect("GET", kRealm, TokenResponse(std::string(70 << 10, 'a')));
  auto m = client.GetManifest(kMnist, "v1", Soon());
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().code() == StatusCode::kPermissionDenied);
  CHECK_MESSAGE(m.status().message().find("token server for registry.example") != std::string::npos,
                m.status().message());
  CHECK(m.status().message().find("manifest size limit") == std::string::npos);
  CHECK(t.requests().at(1).max_response_bytes == RegistryLimits{}.max_token_bytes);
  CHECK_SCRIPT_DONE(t);

  // The manifest bound itself is still reported as such.
  ScriptedTransport t2;
  RegistryLimits small;
  small.max_manifest_bytes = 100;
  RegistryClient bounded(&t2, Config(), small);
  t2.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1", ManifestResponse(ManifestBytes()));
  auto big = bounded.GetManifest(kMnist, "v1", Soon());
  REQUIRE_FALSE(big.ok());
  CHECK(big.status().code() == StatusCode::kResourceExhausted);
  CHECK(big.status().message().find("manifest size limit of 100 bytes") != std::string::npos);
}

TEST_CASE("blob uploads go to the registry's Location, never downgraded to plain http") {
  const std::string blob = "weights";
  const std::string digest = Sha256Digest(blob);
  const std::string uploads = std::string(kBase) + "models/mnist/blobs/uploads/";
  struct Row {
    std::string location;
    std::string put_url;  // empty: refused before sending the blob
  };
  const Row rows[] = {
      {"/v2/models/mnist/blobs/uploads/u1?_state=s", "https://registry.example/v2/models/mnist/blobs/uploads/u1"},
      {"https://registry.example/v2/models/mnist/blobs/uploads/u1",
       "https://registry.example/v2/models/mnist/blobs/uploads/u1"},
      // A TLS registry behind a proxy that thinks it serves http (a common
      // misconfiguration) must not make us send the blob and token in clear.
      {"http://registry.example/v2/models/mnist/blobs/uploads/u1", ""},
      {"http://uploads.example/u1", ""},
  };
  for (const auto& row : rows) {
    CAPTURE(row.location);
    ScriptedTransport t;
    RegistryClient client(&t, Config());
    t.Expect("HEAD", std::string(kBase) + "models/mnist/blobs/" + digest, Response(404));
    t.Expect("POST", uploads, Response(202, "", {{"location", row.location}}));
    if (!row.put_url.empty()) t.Expect("PUT", row.put_url, Response(201));
    Status s = client.PushBlob(kMnist, blob, Soon());
    CHECK_SCRIPT_DONE(t);
    if (row.put_url.empty()) {
      CHECK(s.code() == StatusCode::kUnavailable);
      CHECK_MESSAGE(s.message().find("upload Location") != std::string::npos, s.message());
      continue;
    }
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    const HttpRequest put = t.requests().back();
    CHECK(QueryOf(put.url)["digest"] == digest);
    CHECK(put.body == blob);
  }

  // An insecure (plain-http) registry uploads over http on its own host.
  ScriptedTransport t;
  auto cfg = Config();
  cfg->SetHost({"127.0.0.1:5000", true, "", ""});
  RegistryClient client(&t, cfg);
  t.Expect("HEAD", "http://127.0.0.1:5000/v2/models/mnist/blobs/" + digest, Response(404));
  t.Expect("POST", "http://127.0.0.1:5000/v2/models/mnist/blobs/uploads/",
           Response(202, "", {{"location", "http://127.0.0.1:5000/v2/models/mnist/blobs/uploads/u1"}}));
  t.Expect("PUT", "http://127.0.0.1:5000/v2/models/mnist/blobs/uploads/u1", Response(201));
  Status s = client.PushBlob(Ref("127.0.0.1:5000/models/mnist:v1"), blob, Soon());
  CHECK_MESSAGE(s.ok(), s.ToString());
  CHECK_SCRIPT_DONE(t);
}

TEST_CASE("referrers: the API first; a registry without it is remembered and read from the fallback tag") {
  ScriptedTransport t;
  RegistryClient client(&t, Config());
  const std::string digest = Sha256Digest("artifact");
  const std::string tag = "sha256-" + digest.substr(7);
  const std::string index =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
      Sha256Digest("bundle") + R"(","size":6,"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}]})";
  HttpResponse index_response = Response(200, index, {{"content-type", "application/vnd.oci.image.index.v1+json"}});
  // First artifact: the API answers 404, the fallback tag holds the index.
  t.Expect("GET", std::string(kBase) + "models/mnist/referrers/" + digest, Response(404, "404 page not found"));
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/" + tag, index_response);
  auto first = client.GetReferrers(kMnist, digest, Soon(), 64);
  REQUIRE_MESSAGE(first.ok(), first.status().ToString());
  REQUIRE(first->size() == 1);
  CHECK(first->at(0).artifact_type == "application/vnd.dev.sigstore.bundle.v0.3+json");
  // Second: straight to the fallback tag; a missing tag is "no referrers".
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/" + tag, Response(404, R"({"errors":[{"code":"MANIFEST_UNKNOWN"}]})"));
  auto second = client.GetReferrers(kMnist, digest, Soon(), 64);
  REQUIRE(second.ok());
  CHECK(second->empty());
  CHECK_SCRIPT_DONE(t);

  // A registry with the API: its answer is used, and more entries than the bound fail.
  ScriptedTransport t2;
  RegistryClient with_api(&t2, Config());
  t2.Expect("GET", std::string(kBase) + "models/mnist/referrers/" + digest, index_response);
  auto listed = with_api.GetReferrers(kMnist, digest, Soon(), 64);
  REQUIRE(listed.ok());
  CHECK(listed->size() == 1);
  t2.Expect("GET", std::string(kBase) + "models/mnist/referrers/" + digest, index_response);
  auto bounded = with_api.GetReferrers(kMnist, digest, Soon(), 0);
  REQUIRE_FALSE(bounded.ok());
  CHECK(bounded.status().code() == StatusCode::kResourceExhausted);
  CHECK_SCRIPT_DONE(t2);
}

// URLs a registry hands us (redirect Location, referrers Link, token realm)
// are ASCII without spaces or controls, as RFC 3986 has them; anything else
// is refused before it is requested or quoted in a message (messages end up
// in JSON, which must stay valid UTF-8).
TEST_CASE("URLs from the registry with spaces, controls or non-ASCII bytes are refused, not requested") {
  const std::string blob = "layer bytes";
  const std::string digest = Sha256Digest(blob);
  const std::string blob_url = std::string(kBase) + "models/mnist/blobs/" + digest;
  for (std::string bad : {std::string("\xff"), std::string("a b"), std::string("\x01"), std::string("\xc3\xa9")}) {
    CAPTURE(bad);
    for (std::string location : {"https://cdn.example/" + bad, "/v2/models/" + bad}) {
      ScriptedTransport t;
      RegistryClient client(&t, Config());
      t.Expect("GET", blob_url, Redirect(307, location));
      auto got = client.GetBlob(kMnist, digest, 1024, Soon());
      CHECK_SCRIPT_DONE(t);
      REQUIRE_FALSE(got.ok());
      CHECK(got.status().code() == StatusCode::kUnavailable);
      CHECK_MESSAGE(got.status().message().find("malformed redirect") != std::string::npos, got.status().message());
    }

    ScriptedTransport realm;
    RegistryClient realm_client(&realm, Config());
    realm.Expect("GET", std::string(kBase) + "models/mnist/manifests/v1",
                 Unauthorized("Bearer realm=\"https://auth.example/" + bad + "\",service=\"s\""));
    auto m = realm_client.GetManifest(kMnist, "v1", Soon());
    CHECK_SCRIPT_DONE(realm);
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == StatusCode::kPermissionDenied);

    ScriptedTransport pages;
    RegistryClient pages_client(&pages, Config());
    const std::string subject = Sha256Digest("artifact");
    pages.Expect("GET", std::string(kBase) + "models/mnist/referrers/" + subject,
                 Response(200, R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})",
                          {{"content-type", kOciIndex}, {"link", "</v2/models/mnist/referrers/x" + bad + ">; rel=\"next\""}}));
    auto refs = pages_client.GetReferrers(kMnist, subject, Soon(), 64);
    CHECK_SCRIPT_DONE(pages);
    REQUIRE_FALSE(refs.ok());
    CHECK(refs.status().code() == StatusCode::kUnavailable);
  }
}

namespace {
class TestClock : public Clock {
 public:
  TimePoint Now() const override { return now_; }
  void Advance(std::chrono::seconds d) { now_ += d; }

 private:
  TimePoint now_ = std::chrono::steady_clock::now();
};
}  // namespace

// The token cache runs on the client's Clock: a token is used until two
// seconds before its expires_in, then asked for again.
TEST_CASE("a cached token expires by the client's clock") {
  ScriptedTransport t;
  TestClock clock;
  RegistryClient client(&t, Config(), RegistryLimits{}, nullptr, &clock);
  FirstPull(t, client);  // token tok-1, expires_in 300

  clock.Advance(std::chrono::seconds(297));
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v2", ManifestResponse(ManifestBytes("b")));
  REQUIRE(client.GetManifest(kMnist, "v2", Soon()).ok());
  CHECK_SCRIPT_DONE(t);
  CHECK(HeaderOf(t.requests().back(), "Authorization") == "Bearer tok-1");  // still fresh

  clock.Advance(std::chrono::seconds(2));  // 299 s: past expires_in - 2
  t.Expect("GET", kRealm, TokenResponse("tok-2"));
  t.Expect("GET", std::string(kBase) + "models/mnist/manifests/v3", ManifestResponse(ManifestBytes("c")));
  auto m = client.GetManifest(kMnist, "v3", Soon());
  REQUIRE_MESSAGE(m.ok(), m.status().ToString());
  CHECK_SCRIPT_DONE(t);
  CHECK(HeaderOf(t.requests().back(), "Authorization") == "Bearer tok-2");
}
