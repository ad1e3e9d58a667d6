// The admission server (SPEC §3): /validate, /mutate, /healthz, /readyz,
// /metrics over HTTPS (cpp-httplib + OpenSSL). The handlers are public so
// tests can drive them without sockets. Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "webhook/decide/decide_object.h"
#include "webhook/server/json_log.h"
#include "webhook/server/metrics.h"
#include "webhook/server/policy_store.h"
#include "webhook/server/tls_certificates.h"
#include "webhook/decide/verification_service.h"

namespace httplib {
class Server;
}

namespace provgate {

struct ServerOptions {
  std::string host = "0.0.0.0";
  int port = 8443;
  std::string tls_cert, tls_key;
  bool insecure_http = false;
  std::chrono::milliseconds verify_timeout{8000};
  std::set<std::string> exclude_namespaces;
  DecisionOptions decision;
  size_t threads = 128;  // one per open connection (cpp-httplib's model)
};

struct HttpAnswer {
  int status = 200;
  std::string body;
  const char* content_type = "application/json";  // a literal
};

class AdmissionServer {
 public:
  AdmissionServer(ServerOptions options, PolicyStore* policies, VerificationService* verifier, Metrics* metrics,
                  JsonLog* log);
  ~AdmissionServer();

  // Binds the listening socket. Fails with InvalidArgument when TLS files are
  // missing or broken (and --insecure-http was not given), Unavailable when
  // the address cannot be bound. Returns the bound port.
  StatusOr<int> Bind();
  // Serves until Stop(); returns when the server stops.
  void Serve();
  void Stop();

  HttpAnswer Validate(const std::string& body);
  HttpAnswer Mutate(const std::string& body);
  HttpAnswer Ready() const;

 private:
  HttpAnswer Admit(const std::string& body, bool mutate);

  ServerOptions options_;
  PolicyStore* policies_;
  VerificationService* verifier_;
  Metrics* metrics_;
  JsonLog* log_;
  std::unique_ptr<TlsCertificates> certs_;
  std::unique_ptr<httplib::Server> server_;
};

}  // namespace provgate
