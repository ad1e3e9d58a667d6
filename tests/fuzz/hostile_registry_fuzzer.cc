// FetchArtifact, then VerifyArtifact, against a registry whose every answer
// comes from the fuzz input: a fake HttpTransport reading a small script.
// Must never crash, hang or exceed memory; every byte it hands back must be
// what its digest says, and every bound of RegistryLimits must hold.
//
// The script (text, one directive per line; see tests/fuzz/README.md):
//   ref <reference>                 what is fetched (default registry.example.com/models/m:v1)
//   insecure                        the registry speaks plain HTTP (configured insecure)
//   parallel                        fetch as the server does, on threads (default: in order)
//   creds <user> <password>         basic / token credentials for the registry
//   limits <layers> <layer bytes> <total bytes> <entries> <config bytes>
//   object <name> [<content type>]  a body: the lines up to a line "." (each ends with \n)
//   respond <route> <status>        an answer: "Header: value" lines, optionally
//                                   "body <name>", up to a line "."
// Routes: tag, sig, att, referrers, referrers-tag, token, and digest=<name>
// (the manifest whose digest is <name>'s), blob=<name>, other=<name> (a URL
// outside /v2/, a redirect target, whose last segment is <name>'s digest).
// The n-th request of a route gets its n-th answer, then the default: objects
// by digest (manifests, blobs, redirect targets) 200, a token for token
// requests, else 404.
// Status is an HTTP code or unavailable | deadline | too-large (transport
// failures). "{name}" in a body or a header is the digest of an object
// defined before it ("{name.size}" its size, "{name.hex}" its hex); in the
// ref, of any object.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/fuzz/fuzz_target.h"
#include "verifier/digest.h"
#include "verifier/registry/fetch_artifact.h"
#include "verifier/verified_artifact.h"

using namespace provgate;
using provgate::fuzz::FuzzCheck;

namespace {

constexpr int64_t kNow = 1767225600;  // 2026-01-01
constexpr size_t kMaxObjects = 32;
constexpr size_t kMaxAnswers = 64;
constexpr int kMaxRequests = 200;

struct Object {
  std::string content_type;
  std::string body;
  std::string digest;
};

struct Answer {
  enum class Kind { kHttp, kUnavailable, kDeadline, kTooLarge } kind = Kind::kHttp;
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> body_object;
};

// In order on the fuzzer's thread unless the script says `parallel`: the
// answers of a route then follow the requests' order, so an input replays
// the same, and no input pays for a thread per request.
RegistryLimits SequentialLimits() {
  RegistryLimits l;
  l.parallel_fetches = 1;
  return l;
}

struct Script {
  std::string ref = "registry.example.com/models/m:v1";
  bool insecure = false;
  std::optional<Credentials> creds;
  RegistryLimits limits = SequentialLimits();
  std::map<std::string, Object> objects;
  std::map<std::string, std::vector<Answer>> answers;  // route key -> answers in order
};

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

size_t Number(std::string_view s, size_t max) {
  size_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') break;
    v = std::min(max, v * 10 + static_cast<size_t>(c - '0'));
  }
  return v;
}

// "{name}", "{name.size}", "{name.hex}" of objects defined so far; a name
// is 1 to 64 of [A-Za-z0-9_.-]. Anything else is kept as written (JSON's own
// braces among it).
std::string Substitute(std::string_view text, const std::map<std::string, Object>& objects) {
  auto name_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'; };
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text[i] != '{') {
      out += text[i++];
      continue;
    }
    size_t j = i + 1;
    while (j < text.size() && j - i <= 64 && name_char(text[j])) ++j;
    if (j == i + 1 || j >= text.size() || text[j] != '}') {
      out += text[i++];
      continue;
    }
    std::string key(text.substr(i + 1, j - i - 1));
    std::string field;
    if (auto dot = key.rfind('.'); dot != std::string::npos) {
      field = key.substr(dot + 1);
      key.resize(dot);
    }
    auto it = objects.find(key);
    if (it == objects.end() || (!field.empty() && field != "size" && field != "hex")) {
      out.append(text.substr(i, j - i + 1));
    } else if (field == "size") {
      out += std::to_string(it->second.body.size());
    } else if (field == "hex") {
      out += it->second.digest.substr(7);
    } else {
      out += it->second.digest;
    }
    i = j + 1;
  }
  return out;
}

std::string RouteKey(std::string_view route, const Script& s) {
  auto eq = route.find('=');
  if (eq == std::string_view::npos) return std::string(route);
  std::string name(route.substr(eq + 1));
  auto it = s.objects.find(name);
  return std::string(route.substr(0, eq)) + "=" + (it == s.objects.end() ? name : it->second.digest);
}

Script ParseScript(std::string_view input) {
  Script s;
  std::vector<std::string_view> lines;
  for (size_t i = 0; i <= input.size();) {
    size_t nl = input.find('\n', i);
    if (nl == std::string_view::npos) nl = input.size();
    lines.push_back(input.substr(i, nl - i));
    i = nl + 1;
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    auto w = Words(lines[i]);
    if (w.empty()) continue;
    if (w[0] == "ref" && w.size() >= 2) {
      s.ref = std::string(w[1]);  // substituted once every object is known
    } else if (w[0] == "insecure") {
      s.insecure = true;
    } else if (w[0] == "parallel") {
      s.limits.parallel_fetches = RegistryLimits{}.parallel_fetches;
    } else if (w[0] == "creds" && w.size() >= 3) {
      s.creds = Credentials{std::string(w[1]), std::string(w[2]), ""};
    } else if (w[0] == "limits" && w.size() >= 6) {
      // Small bounds reach every limit path with small inputs (and keep memory small).
      s.limits.max_attached_layers = Number(w[1], 64);
      s.limits.max_attachment_bytes = Number(w[2], 1 << 20);
      s.limits.max_attachment_total_bytes = Number(w[3], 4 << 20);
      s.limits.max_manifest_entries = Number(w[4], 1024);
      s.limits.max_config_bytes = Number(w[5], 1 << 20);
    } else if (w[0] == "object" && w.size() >= 2) {
      Object o;
      if (w.size() >= 3) o.content_type = std::string(w[2]);
      std::string raw;
      for (++i; i < lines.size() && lines[i] != "."; ++i) raw.append(lines[i]).append(1, '\n');
      if (s.objects.size() >= kMaxObjects) continue;
      o.body = Substitute(raw, s.objects);
      o.digest = Sha256Digest(o.body);
      s.objects[std::string(w[1])] = std::move(o);
    } else if (w[0] == "respond" && w.size() >= 3) {
      Answer a;
      if (w[2] == "unavailable") {
        a.kind = Answer::Kind::kUnavailable;
      } else if (w[2] == "deadline") {
        a.kind = Answer::Kind::kDeadline;
      } else if (w[2] == "too-large") {
        a.kind = Answer::Kind::kTooLarge;
      } else {
        a.status = static_cast<int>(Number(w[2], 999));
      }
      for (++i; i < lines.size() && lines[i] != "."; ++i) {
        std::string_view l = lines[i];
        if (l.rfind("body ", 0) == 0) {
          a.body_object = std::string(l.substr(5));
        } else if (auto colon = l.find(':'); colon != std::string_view::npos) {
          std::string name(l.substr(0, colon));
          for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          std::string_view value = l.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
          a.headers.emplace_back(std::move(name), Substitute(value, s.objects));
        }
      }
      auto& list = s.answers[RouteKey(w[1], s)];
      if (list.size() < kMaxAnswers) list.push_back(std::move(a));
    }
  }
  s.ref = Substitute(s.ref, s.objects);
  return s;
}

class ScriptedRegistry : public HttpTransport {
 public:
  ScriptedRegistry(const Script& script, const Reference& ref) : script_(script), ref_(ref) {}

  StatusOr<HttpResponse> Send(const HttpRequest& req) override {
    std::string route = Route(req.url);
    const Answer* answer = nullptr;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (++requests_ > kMaxRequests) return Unavailable("the scripted registry answered enough requests");
      auto it = script_.answers.find(route);
      if (it != script_.answers.end()) {
        size_t n = served_[route]++;
        if (n < it->second.size()) answer = &it->second[n];
      }
    }
    HttpResponse resp;
    if (answer) {
      if (answer->kind == Answer::Kind::kUnavailable) return Unavailable("connection refused (scripted)");
      if (answer->kind == Answer::Kind::kDeadline) return DeadlineExceeded("timed out (scripted)");
      if (answer->kind == Answer::Kind::kTooLarge) return ResourceExhausted("response too large (scripted)");
      resp.status = answer->status;
      for (const auto& [name, value] : answer->headers) resp.headers.emplace(name, value);
      if (answer->body_object) {
        auto o = script_.objects.find(*answer->body_object);
        if (o != script_.objects.end()) {
          resp.body = o->second.body;
          if (!resp.headers.count("content-type") && !o->second.content_type.empty()) {
            resp.headers.emplace("content-type", o->second.content_type);
          }
        }
      }
    } else {
      resp = Default(route);
    }
    if (req.method == "HEAD") resp.body.clear();
    // What CurlTransport guarantees: a body above the bound is refused.
    if (resp.body.size() > req.max_response_bytes) return ResourceExhausted("response body exceeds the bound");
    return resp;
  }

  int requests() const { return requests_; }

 private:
  // The route key of a URL: see the file comment.
  std::string Route(const std::string& url) const {
    size_t scheme = url.find("://");
    size_t path_start = scheme == std::string::npos ? std::string::npos : url.find('/', scheme + 3);
    std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
    std::string query_free = path.substr(0, path.find('?'));
    if (query_free.rfind("/v2/", 0) != 0) {
      if (path.find("token") != std::string::npos || path.find("service=") != std::string::npos) return "token";
      // A redirect target (object storage, a CDN): served by its last segment.
      return "other=" + query_free.substr(query_free.rfind('/') + 1);
    }
    for (const char* kind : {"/manifests/", "/blobs/", "/referrers/"}) {
      size_t at = query_free.rfind(kind);
      if (at == std::string::npos) continue;
      std::string last = query_free.substr(at + std::string(kind).size());
      if (std::string(kind) == "/referrers/") return "referrers";
      bool digest = ValidateDigest(last).ok();
      if (std::string(kind) == "/blobs/") return "blob=" + last;
      if (digest) return "digest=" + last;
      if (last == ref_.tag) return "tag";
      if (last.size() > 4 && last.compare(last.size() - 4, 4, ".sig") == 0) return "sig";
      if (last.size() > 4 && last.compare(last.size() - 4, 4, ".att") == 0) return "att";
      if (last.rfind("sha256-", 0) == 0) return "referrers-tag";
      return "other=" + last;
    }
    return "other=";
  }

  HttpResponse Default(const std::string& route) const {
    HttpResponse r;
    if (route == "token") {
      r.status = 200;
      r.body = R"({"token":"fuzz-token","expires_in":300})";
      return r;
    }
    auto eq = route.find('=');
    if (eq != std::string::npos) {
      std::string digest = route.substr(eq + 1);
      for (const auto& [name, o] : script_.objects) {
        if (o.digest != digest) continue;
        r.status = 200;
        r.body = o.body;
        if (!o.content_type.empty()) r.headers.emplace("content-type", o.content_type);
        r.headers.emplace("docker-content-digest", o.digest);
        return r;
      }
    }
    r.status = 404;
    r.body = R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]})";
    return r;
  }

  const Script& script_;
  const Reference& ref_;
  std::mutex mu_;
  int requests_ = 0;
  std::map<std::string, size_t> served_;
};

class AnyIdentity : public IdentityMatcher {
 public:
  bool Matches(const std::string&, const std::string&) const override { return true; }
  std::string Describe() const override { return "any identity"; }
};

void CheckLayers(const std::vector<AttachedLayer>& layers, const RegistryLimits& limits, const char* kind,
                 bool bound_total) {
  FuzzCheck(layers.size() <= limits.max_attached_layers, std::string("more ") + kind + " layers than the bound");
  uint64_t total = 0;
  for (const auto& l : layers) {
    FuzzCheck(CheckDigest(l.blob, l.descriptor.digest, kind).ok(), std::string("a ") + kind +
                                                                       " blob does not match its digest");
    FuzzCheck(l.blob.size() <= limits.max_attachment_bytes, std::string("a ") + kind + " blob above the bound");
    total += l.blob.size();
  }
  if (bound_total) FuzzCheck(total <= limits.max_attachment_total_bytes, std::string(kind) + " layers above the total bound");
}

void CheckMaterial(const ArtifactMaterial& m, const Reference& ref, const RegistryLimits& limits) {
  FuzzCheck(ValidateDigest(m.digest).ok(), "material without a valid digest");
  FuzzCheck(m.reference.digest == m.digest, "the material's reference is not pinned to its digest");
  FuzzCheck(CheckDigest(m.manifest_bytes, m.digest, "manifest").ok(), "the manifest bytes do not match the digest");
  if (!ref.digest.empty()) FuzzCheck(m.digest == ref.digest, "a pinned reference resolved to another digest");
  if (m.config_bytes) {
    FuzzCheck(m.manifest.kind == Manifest::Kind::kImage, "an index with a config blob");
    FuzzCheck(CheckDigest(*m.config_bytes, m.manifest.config.digest, "config").ok(), "config does not match its digest");
    FuzzCheck(m.config_bytes->size() <= limits.max_config_bytes, "config above the bound");
  }
  CheckLayers(m.signature_layers, limits, "signature", true);
  CheckLayers(m.attestation_layers, limits, "attestation", true);
  CheckLayers(m.bundle_layers, limits, "bundle", true);
  CheckLayers(m.model_signature_layers, limits, "model.sig", false);
  for (const auto& l : m.model_signature_layers) {
    auto t = l.descriptor.annotations.find(kTitleAnnotation);
    FuzzCheck(t != l.descriptor.annotations.end() && t->second == kModelSigFileName, "a model.sig layer of another title");
  }
}

}  // namespace

PROVGATE_FUZZ_TARGET(hostile_registry) {
  if (input.size() > 256 << 10) return;
  Script script = ParseScript(input);
  auto ref = ParseReference(script.ref);
  if (!ref.ok()) return;
  auto config = std::make_shared<RegistryConfig>();
  if (script.insecure) config->SetHost(RegistryHostConfig{ref->registry, true, "", ""});
  if (script.creds) config->SetCredentials(ref->registry, *script.creds);
  ScriptedRegistry transport(script, *ref);
  SteadyClock clock;
  RegistryClient client(&transport, config, script.limits, nullptr, &clock);

  auto material = FetchArtifact(client, *ref, std::chrono::steady_clock::now() + std::chrono::seconds(30));
  static const bool debug = std::getenv("PROVGATE_FUZZ_DEBUG") != nullptr;  // print what a script did
  if (debug && !material.ok()) std::fprintf(stderr, "FetchArtifact: %s\n", material.status().ToString().c_str());
  FuzzCheck(transport.requests() <= kMaxRequests + 64, "requests did not stop after the registry stopped answering");
  if (!material.ok()) {
    StatusCode c = material.status().code();
    FuzzCheck(c != StatusCode::kOk && c != StatusCode::kInternal, "FetchArtifact failed with " +
                                                                      material.status().ToString());
    FuzzCheck(IsUtf8(material.status().message()), "a failure message is not valid UTF-8");
    return;
  }
  CheckMaterial(*material, *ref, script.limits);

  static const Trust trust = [] {
    Trust t;
    for (size_t i = 0; i < provgate::fuzz::TestPublicKeys().size(); ++i) {
      t.keys.push_back({"fuzz/key" + std::to_string(i), provgate::fuzz::TestPublicKeys()[i]});
    }
    t.keyless.push_back({"fuzz/keyless", provgate::fuzz::TestTrustedRoot(), std::make_shared<AnyIdentity>()});
    t.now = kNow;
    return t;
  }();
  VerifiedArtifact a = VerifyArtifact(*material, trust);
  if (debug) std::fprintf(stderr, "%s\n", VerifiedArtifactToJson(a).dump(2, ' ', false, Json::error_handler_t::replace).c_str());
  FuzzCheck(a.digest == material->digest, "verified facts about another digest");
  for (const auto& s : a.signatures) FuzzCheck(!s.verified() || s.problem.empty(), "a verified signature with a problem");
  for (const auto& at : a.attestations) {
    if (!at.verified()) FuzzCheck(at.predicate.is_null() || at.predicate.empty(), "an unverified attestation kept its predicate");
  }
  // `provgate verify -o json` prints this with a strict dump.
  try {
    (void)VerifiedArtifactToJson(a).dump(2);
  } catch (const Json::exception& e) {
    FuzzCheck(false, std::string("VerifiedArtifactToJson cannot be printed: ") + e.what());
  }
}
