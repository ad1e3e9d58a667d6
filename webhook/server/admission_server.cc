#include "webhook/server/admission_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>

#include "webhook/server/admission_review.h"

namespace provgate {

AdmissionServer::AdmissionServer(ServerOptions options, AdmissionHandler& handler, Metrics& metrics,
                                 const Clock& clock)
    : options_(std::move(options)), handler_(handler), metrics_(metrics), clock_(clock) {}

AdmissionServer::~AdmissionServer() { Stop(); }

StatusOr<int> AdmissionServer::Bind() {
  if (!options_.insecure_http) {
    if (options_.tls_cert.empty() || options_.tls_key.empty()) {
      return InvalidArgument("--tls-cert and --tls-key are required (or --insecure-http for local testing)");
    }
    certs_ = std::make_unique<TlsCertificates>(options_.tls_cert, options_.tls_key, clock_);
    RETURN_IF_ERROR(certs_->Load());
    TlsCertificates* certs = certs_.get();
    auto ssl = std::make_unique<httplib::SSLServer>([certs](SSL_CTX& ctx) { return certs->Configure(&ctx); });
    if (!ssl->is_valid()) return Internal("cannot create the TLS context");
    server_ = std::move(ssl);
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  auto& s = *server_;
  size_t threads = options_.threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_tcp_nodelay(true);  // Nagle + delayed ACK cost ~40 ms per response
  s.set_keep_alive_max_count(10000);
  // Each keep-alive connection holds a pool thread while it is open: idle
  // ones are closed after 5 s so they cannot starve new connections for long.
  s.set_keep_alive_timeout(5);
  s.set_read_timeout(10, 0);
  s.set_write_timeout(10, 0);
  s.set_payload_max_length(kMaxAdmissionBodyBytes);
  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.status == 413) {
      res.status = 400;  // malformed input answers are 400 with a JSON error (docs/server.md)
      res.set_content(ErrorJson("request body larger than 3 MiB"), "application/json");
    } else if (res.body.empty()) {
      res.set_content(ErrorJson("HTTP " + std::to_string(res.status)), "application/json");
    }
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content(ErrorJson("internal error"), "application/json");
  });
  auto answer = [](httplib::Response& res, const HttpAnswer& a) {
    res.status = a.status;
    res.set_content(a.body, a.content_type);
  };
  s.Post("/validate", [this, answer](const httplib::Request& req, httplib::Response& res) {
    answer(res, handler_.Admit(req.body, Webhook::kValidate));
  });
  s.Post("/mutate", [this, answer](const httplib::Request& req, httplib::Response& res) {
    answer(res, handler_.Admit(req.body, Webhook::kMutate));
  });
  s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  s.Get("/readyz", [this, answer](const httplib::Request&, httplib::Response& res) { answer(res, handler_.Ready()); });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.Render(), "text/plain; version=0.0.4");
  });
  // cpp-httplib 0.11 listens with a backlog of 5, compiled into Debian's
  // library: a burst of new connections (a rollout) overflows it and waits
  // for TCP retransmissions (1 s, 2 s, ...). Capture the listening socket and
  // listen() again with a real backlog once it is bound.
  auto listen_fd = std::make_shared<std::atomic<int>>(-1);
  s.set_socket_options([listen_fd](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_fd->store(sock);
  });
  int port = options_.port;
  if (port == 0) {
    port = s.bind_to_any_port(options_.host);
    if (port < 0) return Unavailable("cannot bind " + options_.host);
  } else if (!s.bind_to_port(options_.host, port)) {
    return Unavailable("cannot bind " + options_.host + ":" + std::to_string(port));
  }
  if (listen_fd->load() >= 0) ::listen(listen_fd->load(), SOMAXCONN);
  return port;
}

void AdmissionServer::Serve() {
  if (server_) server_->listen_after_bind();
}

void AdmissionServer::Stop() {
  if (server_ && server_->is_running()) server_->stop();
}

}  // namespace provgate
