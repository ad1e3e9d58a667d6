// A bearer-token issuer for docker-registry's `auth: token` (the
// Docker/distribution token authentication spec), run inside a test on
// 127.0.0.1: ES256 JWTs signed with a throwaway key whose self-signed
// certificate is the registry's rootcertbundle. Answers
// `GET /token?service=&scope=` (Basic credentials) and the OAuth2
// `POST /token` refresh_token / password grants, and counts what it issued
// per scope. Thread-safe; stops on destruction.
#pragma once

#include <map>
#include <memory>
#include <string>

namespace provgate::testing {

struct TokenServerOptions {
  std::string service = "test-registry";  // the registry's `service`, checked and put in `aud`
  std::string issuer = "test-issuer";     // `iss`
  std::string username = "alice";
  std::string password = "t0ken:pw";      // contains ':' on purpose
  bool require_credentials = true;        // false: anonymous requests get tokens too
  std::string refresh_token;              // accepted by the OAuth2 POST grant when not empty
  int expires_in = 300;                   // seconds
};

class TokenServer {
 public:
  // Makes the signing key and certificate under `dir` (openssl CLI) and
  // starts listening on a free port. Throws std::runtime_error on failure.
  explicit TokenServer(const std::string& dir, TokenServerOptions options = {});
  ~TokenServer();
  TokenServer(const TokenServer&) = delete;
  TokenServer& operator=(const TokenServer&) = delete;

  const TokenServerOptions& options() const;
  // "127.0.0.1:PORT"
  std::string host() const;
  // "http://127.0.0.1:PORT/token"
  std::string realm() const;
  // PEM certificate of the signing key, for the registry's rootcertbundle.
  const std::string& certificate_file() const;
  // The `auth:` block of a docker-registry config that trusts this issuer
  // (a complete top-level YAML key, ending in a newline).
  std::string RegistryAuthYaml() const;

  // Tokens issued, keyed by each scope string as requested (e.g.
  // "repository:models/mnist:pull,push"; "" for a request without scope).
  std::map<std::string, int> IssuedByScope() const;
  // Requests refused (bad or missing credentials, wrong service, bad grant).
  int refused() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace provgate::testing
