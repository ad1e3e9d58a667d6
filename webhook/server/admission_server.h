// The admission server (docs/server.md): /validate, /mutate, /healthz,
// /readyz, /metrics over HTTPS, and optionally /metrics and /healthz over
// plain HTTP on a second port. Event-driven (Boost.Asio + Beast): a few I/O
// threads serve every connection, so idle or slow sockets cost memory, never
// a thread; the handler's blocking work runs on a worker pool. Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "webhook/server/admission_endpoint.h"
#include "webhook/server/metrics.h"

namespace provgate {

// The limits and deadlines are explained in docs/server.md#connections.
struct ServerOptions {
  std::string host = "0.0.0.0";
  int port = 8443;
  std::string tls_cert, tls_key;
  bool insecure_http = false;
  // Plain-HTTP listener on `host` serving GET /metrics and /healthz only:
  // -1 off, 0 any free port.
  int metrics_port = -1;

  size_t threads = 32;    // worker threads running AdmissionHandler::Admit (it blocks on registries)
  size_t io_threads = 2;  // threads running every socket

  // Open connections, both listeners together; lowered to what
  // RLIMIT_NOFILE leaves room for. A TLS connection holds ~77 KB (Asio's
  // TLS engine keeps four 17 KiB buffers): 2,048 of them fit the chart's
  // 256 MiB memory limit with the verification cache beside them.
  size_t max_connections = 2048;
  // Open connections from one peer address; its next ones are closed at once.
  size_t max_connections_per_peer = 1024;

  // From accept to the first byte of the first request (the TLS handshake
  // included): a silent socket or a stalled handshake is closed after it.
  std::chrono::milliseconds handshake_timeout{5000};
  // From the first byte of a request to its last (headers and body): a
  // request trickled in cannot hold its connection longer.
  std::chrono::milliseconds request_timeout{10000};
  // Between requests on a kept-alive connection: above the API server's own
  // idle timeout (90 s), so the client closes first.
  std::chrono::milliseconds idle_timeout{120000};
  std::chrono::milliseconds write_timeout{10000};
  // How long Stop() waits for requests in flight before closing them.
  std::chrono::milliseconds drain_timeout{10000};
  // How long the first Stop() keeps the server accepting and answering as
  // before, while the endpoints controller and every node's proxy stop
  // sending new connections to a terminating pod; then the graceful stop
  // begins (docs/server.md#stopping). 0: at once.
  std::chrono::milliseconds shutdown_delay{0};
};

// The HTTPS shell: TLS, the listening sockets, the connection limits, the
// routes. /validate and /mutate go to the endpoint's Admit() (in `provgate
// serve`, the AdmissionHandler), /readyz to its Ready(), /metrics to Metrics.
class AdmissionServer {
 public:
  // `endpoint`, `metrics` and `clock` (which times certificate reloads) must
  // outlive the server.
  AdmissionServer(ServerOptions options, AdmissionEndpoint& endpoint, Metrics& metrics, const Clock& clock);
  // Must not run while Serve() does (Stop() first, and let Serve() return).
  ~AdmissionServer();
  AdmissionServer(const AdmissionServer&) = delete;
  AdmissionServer& operator=(const AdmissionServer&) = delete;

  // Binds the listening sockets. Fails with InvalidArgument when TLS files
  // are missing or broken (and --insecure-http was not given), or the host
  // is not an address; Unavailable when an address cannot be bound. Returns
  // the bound port.
  StatusOr<int> Bind();
  // After Bind(): the bound metrics port, 0 when off.
  int metrics_port() const;
  // After Bind(): max_connections as lowered to RLIMIT_NOFILE.
  size_t max_connections() const;

  // Serves until Stop(), on the calling thread and io_threads - 1 more;
  // returns once the connections are drained. Call once, after Bind().
  void Serve();
  // Starts the graceful stop and returns at once; callable from any thread,
  // before or during Serve(). After shutdown_delay (during which everything
  // is served as before; a second Stop() ends the delay at once) new
  // connections are refused, idle ones are closed, requests in flight are
  // answered (with Connection: close) for up to drain_timeout, then
  // whatever is left is closed.
  void Stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace provgate
