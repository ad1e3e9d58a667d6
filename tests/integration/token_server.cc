#include "tests/integration/token_server.h"

#include <httplib.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "tests/test_util.h"

namespace provgate::testing {
namespace {

using Json = nlohmann::json;

struct PkeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct X509Free { void operator()(X509* p) const { X509_free(p); } };
struct MdCtxFree { void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); } };
struct SigFree { void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); } };
struct FileClose { void operator()(FILE* f) const { std::fclose(f); } };

// JOSE base64url without padding (RFC 7515 §2).
std::string Base64Url(std::string_view bytes) {
  std::string s = Base64Encode(bytes);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (auto& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return s;
}

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

// application/x-www-form-urlencoded body -> name -> value (last one wins).
std::map<std::string, std::string> ParseForm(std::string_view body) {
  std::map<std::string, std::string> out;
  while (!body.empty()) {
    auto amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    auto eq = pair.find('=');
    out[PercentDecode(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1));
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
  }
  return out;
}

std::vector<std::string> SplitOn(std::string_view s, char sep) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto at = s.find(sep);
    if (at != 0) out.emplace_back(s.substr(0, at));
    if (at == std::string_view::npos) break;
    s = s.substr(at + 1);
  }
  return out;
}

// One `access` claim entry for a scope "type:name:actions" (the name may
// itself contain ':' for a registry port, so type is up to the first colon
// and actions after the last). Only repository pull/push are ever granted.
std::optional<Json> AccessFor(const std::string& scope) {
  auto first = scope.find(':');
  auto last = scope.rfind(':');
  if (first == std::string::npos || last == first) return std::nullopt;
  std::string type = scope.substr(0, first);
  std::string name = scope.substr(first + 1, last - first - 1);
  if (type != "repository" || name.empty()) return std::nullopt;
  Json actions = Json::array();
  for (const auto& a : SplitOn(std::string_view(scope).substr(last + 1), ',')) {
    if (a == "pull" || a == "push") actions.push_back(a);
  }
  return Json{{"type", type}, {"name", name}, {"actions", actions}};
}

std::string Rfc3339(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

struct TokenServer::Impl {
  TokenServerOptions options;
  std::string cert_file;
  std::string cert_der_base64;  // x5c: standard base64 of the DER certificate
  std::unique_ptr<EVP_PKEY, PkeyFree> key;
  httplib::Server server;
  std::thread thread;
  int port = 0;

  mutable std::mutex mu;
  std::map<std::string, int> issued;
  int refused = 0;
  uint64_t serial = 0;

  // ES256 over `input`: OpenSSL signs in DER; JOSE wants raw r||s, 32 bytes each (RFC 7518 §3.4).
  std::string SignEs256(std::string_view input) const {
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    size_t len = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                       input.size()) != 1) {
      return "";
    }
    std::string der(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
      return "";
    }
    der.resize(len);
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    std::unique_ptr<ECDSA_SIG, SigFree> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
    if (!sig) return "";
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(sig.get(), &r, &s);
    std::string raw(64, '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    if (BN_bn2binpad(r, out, 32) != 32 || BN_bn2binpad(s, out + 32, 32) != 32) return "";
    return raw;
  }

  std::string MakeJwt(const std::string& subject, const std::vector<std::string>& scopes) {
    uint64_t jti;
    {
      std::lock_guard<std::mutex> l(mu);
      jti = ++serial;
    }
    Json access = Json::array();
    for (const auto& s : scopes) {
      if (auto a = AccessFor(s)) access.push_back(*a);
    }
    auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    Json header = {{"alg", "ES256"}, {"typ", "JWT"}, {"x5c", Json::array({cert_der_base64})}};
    Json claims = {{"iss", options.issuer},
                   {"sub", subject},
                   {"aud", options.service},
                   {"exp", now + options.expires_in},
                   {"nbf", now},
                   {"iat", now},
                   {"jti", "provgate-test-" + std::to_string(jti)},
                   {"access", access}};
    std::string signing_input = Base64Url(header.dump()) + "." + Base64Url(claims.dump());
    std::string sig = SignEs256(signing_input);
    if (sig.empty()) return "";
    return signing_input + "." + Base64Url(sig);
  }

  void Refuse(httplib::Response& res, int status, const std::string& error) {
    {
      std::lock_guard<std::mutex> l(mu);
      ++refused;
    }
    res.status = status;
    if (status == 401) res.set_header("WWW-Authenticate", R"(Basic realm="provgate-test-tokens")");
    res.set_content(Json{{"errors", {{{"code", "UNAUTHORIZED"}, {"message", error}}}}}.dump(), "application/json");
  }

  // Issues a token for `scopes` and answers with it under `token_field`.
  void Issue(httplib::Response& res, const std::string& subject, const std::vector<std::string>& scopes,
             const char* token_field) {
    std::string jwt = MakeJwt(subject, scopes);
    if (jwt.empty()) {
      res.status = 500;
      return;
    }
    {
      std::lock_guard<std::mutex> l(mu);
      if (scopes.empty()) ++issued[""];
      for (const auto& s : scopes) ++issued[s];
    }
    auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    Json body = {{token_field, jwt}, {"expires_in", options.expires_in}, {"issued_at", Rfc3339(now)}};
    res.set_content(body.dump(), "application/json");
  }

  // GET /token?service=...&scope=...[&scope=...] with optional Basic credentials.
  void HandleGet(const httplib::Request& req, httplib::Response& res) {
    std::string subject = "anonymous";
    std::string auth = req.get_header_value("Authorization");
    if (!auth.empty()) {
      if (auth.size() < 6 || !std::equal(auth.begin(), auth.begin() + 6, "basic ", [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == b;
          })) {
        return Refuse(res, 401, "only Basic credentials are accepted");
      }
      auto decoded = Base64Decode(auth.substr(6));
      if (!decoded || *decoded != options.username + ":" + options.password) {
        return Refuse(res, 401, "wrong username or password");
      }
      subject = options.username;
    } else if (options.require_credentials) {
      return Refuse(res, 401, "credentials required");
    }
    if (req.get_param_value("service") != options.service) return Refuse(res, 400, "unknown service");
    std::vector<std::string> scopes;
    for (size_t i = 0; i < req.get_param_value_count("scope"); ++i) {
      for (auto& s : SplitOn(req.get_param_value("scope", i), ' ')) scopes.push_back(std::move(s));
    }
    Issue(res, subject, scopes, "token");
  }

  // POST /token, form-encoded (distribution docs/spec/auth/oauth.md).
  void HandlePost(const httplib::Request& req, httplib::Response& res) {
    auto form = ParseForm(req.body);
    if (form["service"] != options.service) return Refuse(res, 400, "unknown service");
    std::string subject;
    if (form["grant_type"] == "refresh_token" && !options.refresh_token.empty() &&
        form["refresh_token"] == options.refresh_token) {
      subject = options.username;
    } else if (form["grant_type"] == "password" && form["username"] == options.username &&
               form["password"] == options.password) {
      subject = options.username;
    } else {
      return Refuse(res, 401, "invalid grant");
    }
    Issue(res, subject, SplitOn(form["scope"], ' '), "access_token");
  }
};

TokenServer::TokenServer(const std::string& dir, TokenServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->cert_file = dir + "/token-signer.pem";
  std::string key_file = dir + "/token-signer.key";
  auto gen = RunCommand("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2"
                        " -subj /CN=provgate-test-token-issuer -keyout " + key_file + " -out " +
                        impl_->cert_file + " 2>&1");
  if (gen.exit_code != 0) throw std::runtime_error("openssl could not make the token signing key:\n" + gen.output);

  std::unique_ptr<FILE, FileClose> kf(std::fopen(key_file.c_str(), "r"));
  if (kf) impl_->key.reset(PEM_read_PrivateKey(kf.get(), nullptr, nullptr, nullptr));
  std::unique_ptr<FILE, FileClose> cf(std::fopen(impl_->cert_file.c_str(), "r"));
  std::unique_ptr<X509, X509Free> cert(cf ? PEM_read_X509(cf.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!impl_->key || !cert) throw std::runtime_error("cannot read the token signing key or certificate");
  int der_len = i2d_X509(cert.get(), nullptr);
  std::string der(static_cast<size_t>(der_len > 0 ? der_len : 0), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  if (der_len <= 0 || i2d_X509(cert.get(), &p) != der_len) throw std::runtime_error("cannot encode the certificate");
  impl_->cert_der_base64 = Base64Encode(der);

  Impl* impl = impl_.get();
  impl->server.set_tcp_nodelay(true);
  impl->server.Get("/token", [impl](const httplib::Request& q, httplib::Response& r) { impl->HandleGet(q, r); });
  impl->server.Post("/token", [impl](const httplib::Request& q, httplib::Response& r) { impl->HandlePost(q, r); });
  impl->port = impl->server.bind_to_any_port("127.0.0.1");
  if (impl->port <= 0) throw std::runtime_error("token server cannot bind to 127.0.0.1");
  impl->thread = std::thread([impl] { impl->server.listen_after_bind(); });
  for (int i = 0; i < 200 && !impl->server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!impl->server.is_running()) {
    impl->server.stop();
    impl->thread.join();
    throw std::runtime_error("token server did not start");
  }
}

TokenServer::~TokenServer() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

const TokenServerOptions& TokenServer::options() const { return impl_->options; }
std::string TokenServer::host() const { return "127.0.0.1:" + std::to_string(impl_->port); }
std::string TokenServer::realm() const { return "http://" + host() + "/token"; }
const std::string& TokenServer::certificate_file() const { return impl_->cert_file; }

std::string TokenServer::RegistryAuthYaml() const {
  return "auth:\n"
         "  token:\n"
         "    realm: " + realm() + "\n" +
         "    service: " + impl_->options.service + "\n" +
         "    issuer: " + impl_->options.issuer + "\n" +
         "    rootcertbundle: " + impl_->cert_file + "\n";
}

std::map<std::string, int> TokenServer::IssuedByScope() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->issued;
}

int TokenServer::refused() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->refused;
}

}  // namespace provgate::testing
