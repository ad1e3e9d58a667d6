// bench_noop_server: the transport ceiling for the admission benchmarks. The
// same cpp-httplib + OpenSSL setup as `provgate serve` (TlsCertificates for
// the TLS context, ServerOptions' thread pool size, TCP_NODELAY, the same
// keep-alive, timeouts and listen backlog as AdmissionServer::Bind, mirrored
// here: keep them in step) answering POST /validate with a fixed
// AdmissionReview, without looking at the body.
//
//   bench_noop_server --listen 127.0.0.1:PORT --tls-cert CERT --tls-key KEY
#include <httplib.h>
#include <signal.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "webhook/server/admission_review.h"
#include "webhook/server/admission_server.h"
#include "webhook/server/tls_certificates.h"

namespace {

// What provgate answers for an allowed review, minus the uid echo.
constexpr char kAllowed[] =
    R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",)"
    R"("response":{"uid":"00000000-0000-0000-0000-000000000000","allowed":true}})";

int Usage() {
  std::fprintf(stderr, "usage: bench_noop_server --listen ADDR:PORT --tls-cert CERT --tls-key KEY\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen, cert, key;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--listen")) listen = argv[i + 1];
    else if (!std::strcmp(argv[i], "--tls-cert")) cert = argv[i + 1];
    else if (!std::strcmp(argv[i], "--tls-key")) key = argv[i + 1];
    else return Usage();
  }
  auto colon = listen.rfind(':');
  if (listen.empty() || colon == std::string::npos || cert.empty() || key.empty()) return Usage();
  std::string host = listen.substr(0, colon);
  int port = std::atoi(listen.c_str() + colon + 1);

  provgate::SteadyClock clock;
  provgate::TlsCertificates certs(cert, key, clock);
  if (auto s = certs.Load(); !s.ok()) {
    std::fprintf(stderr, "bench_noop_server: %s\n", s.ToString().c_str());
    return 2;
  }
  httplib::SSLServer server([&certs](SSL_CTX& ctx) { return certs.Configure(&ctx); });
  if (!server.is_valid()) return 2;

  // Mirrors AdmissionServer::Bind (webhook/admission_server.cc).
  size_t threads = provgate::ServerOptions{}.threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(10000);
  server.set_keep_alive_timeout(5);
  // The listen backlog raised past cpp-httplib's compiled-in 5, as provgate does.
  int listen_socket = -1;
  server.set_socket_options([&listen_socket](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_socket = sock;
  });
  server.set_read_timeout(10, 0);
  server.set_write_timeout(10, 0);
  server.set_payload_max_length(provgate::kMaxAdmissionBodyBytes);
  server.Post("/validate", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kAllowed, "application/json");
  });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  if (!server.bind_to_port(host, port)) {
    std::fprintf(stderr, "bench_noop_server: cannot bind %s\n", listen.c_str());
    return 2;
  }
  if (listen_socket >= 0) ::listen(listen_socket, SOMAXCONN);
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    server.stop();
  });
  std::fprintf(stderr, "bench_noop_server: listening on %s with %zu threads\n", listen.c_str(), threads);
  server.listen_after_bind();
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  return 0;
}
