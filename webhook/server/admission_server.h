// The admission server (docs/server.md): /validate, /mutate, /healthz,
// /readyz, /metrics over HTTPS (cpp-httplib + OpenSSL). Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "webhook/server/admission_handler.h"
#include "webhook/server/metrics.h"
#include "webhook/server/tls_certificates.h"

namespace httplib {
class Server;
}

namespace provgate {

struct ServerOptions {
  std::string host = "0.0.0.0";
  int port = 8443;
  std::string tls_cert, tls_key;
  bool insecure_http = false;
  size_t threads = 128;  // one per open connection (cpp-httplib's model)
};

// The HTTPS shell: TLS, the listening socket, the routes. /validate and
// /mutate go to the AdmissionHandler, /readyz to its Ready(), /metrics to
// Metrics.
class AdmissionServer {
 public:
  // `handler`, `metrics` and `clock` (which times certificate reloads) must
  // outlive the server.
  AdmissionServer(ServerOptions options, AdmissionHandler& handler, Metrics& metrics, const Clock& clock);
  ~AdmissionServer();

  // Binds the listening socket. Fails with InvalidArgument when TLS files are
  // missing or broken (and --insecure-http was not given), Unavailable when
  // the address cannot be bound. Returns the bound port.
  StatusOr<int> Bind();
  // Serves until Stop(); returns when the server stops.
  void Serve();
  void Stop();

 private:
  ServerOptions options_;
  AdmissionHandler& handler_;
  Metrics& metrics_;
  const Clock& clock_;
  std::unique_ptr<TlsCertificates> certs_;
  std::unique_ptr<httplib::Server> server_;
};

}  // namespace provgate
