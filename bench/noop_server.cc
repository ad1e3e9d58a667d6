// bench_noop_server: the transport ceiling for the admission benchmarks.
// provgate's own HTTPS shell, AdmissionServer (Asio + Beast, TLS from the
// same certificate loader, the same I/O threads, worker pool, connection
// limits and timeouts: ServerOptions' defaults, as `provgate serve` has
// them), with an endpoint that answers POST /validate with a fixed allowed
// AdmissionReview without reading the body. What provgate costs above it is
// the admission handler: parse, exclude, find references, decide, render,
// log.
//
//   bench_noop_server --listen 127.0.0.1:PORT --tls-cert CERT --tls-key KEY
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "base/clock.h"
#include "webhook/server/admission_endpoint.h"
#include "webhook/server/admission_server.h"
#include "webhook/server/metrics.h"

namespace {

// What provgate answers for an allowed review, minus the uid echo.
constexpr char kAllowed[] =
    R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",)"
    R"("response":{"uid":"00000000-0000-0000-0000-000000000000","allowed":true}})";

class NoopEndpoint final : public provgate::AdmissionEndpoint {
 public:
  provgate::HttpAnswer Admit(std::string_view, provgate::Webhook) override { return {200, kAllowed}; }
  provgate::HttpAnswer Ready() const override { return {200, "ok\n", "text/plain"}; }
};

int Usage() {
  std::fprintf(stderr, "usage: bench_noop_server --listen ADDR:PORT --tls-cert CERT --tls-key KEY\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  provgate::ServerOptions options;
  std::string listen;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--listen")) listen = argv[i + 1];
    else if (!std::strcmp(argv[i], "--tls-cert")) options.tls_cert = argv[i + 1];
    else if (!std::strcmp(argv[i], "--tls-key")) options.tls_key = argv[i + 1];
    else return Usage();
  }
  auto colon = listen.rfind(':');
  if (listen.empty() || colon == std::string::npos || options.tls_cert.empty() || options.tls_key.empty()) {
    return Usage();
  }
  options.host = listen.substr(0, colon);
  options.port = std::atoi(listen.c_str() + colon + 1);

  // As `provgate serve`: the stop signals are taken by one thread.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  provgate::SteadyClock clock;
  provgate::Metrics metrics;
  NoopEndpoint endpoint;
  provgate::AdmissionServer server(options, endpoint, metrics, clock);
  auto port = server.Bind();
  if (!port.ok()) {
    std::fprintf(stderr, "bench_noop_server: %s\n", port.status().ToString().c_str());
    return 2;
  }
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    server.Stop();
  });
  std::fprintf(stderr, "bench_noop_server: listening on %s:%d with %zu workers, %zu I/O threads\n",
               options.host.c_str(), *port, options.threads, options.io_threads);
  server.Serve();
  waiter.join();
  return 0;
}
