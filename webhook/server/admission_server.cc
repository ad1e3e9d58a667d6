#include "webhook/server/admission_server.h"

#include <sys/resource.h>
#include <sys/socket.h>

#include <thread>
#include <vector>

#include "webhook/server/admission_review.h"
#include "webhook/server/http_session.h"
#include "webhook/server/tls_certificates.h"

namespace provgate {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

// File descriptors kept back from the connection cap: policy files,
// registry connections (16 verifications at once, and curl's cache), logs.
constexpr size_t kReservedFiles = 256;
// How often the stop checks whether the last connection is gone.
constexpr auto kDrainPoll = std::chrono::milliseconds(20);
// How long the accept loop pauses when the process is out of descriptors
// (accept would fail again at once; the connection waits in the backlog).
constexpr auto kAcceptBackoff = std::chrono::milliseconds(50);

// The path of a request target, without its query.
std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

HttpAnswer NotFound() { return HttpAnswer{404, ErrorJson("not found")}; }

Routed MethodNotAllowed(const char* allow) {
  Routed r;
  r.answer = HttpAnswer{405, ErrorJson("method not allowed")};
  r.allow = allow;
  return r;
}

bool IsGet(http::verb method) { return method == http::verb::get || method == http::verb::head; }

// The peer as the per-peer budget counts it: the address, with IPv4-mapped
// IPv6 addresses as IPv4, so a dual-stack listener counts a peer once.
std::string PeerKey(const tcp::endpoint& peer) {
  net::ip::address a = peer.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6());
  return a.to_string();
}

}  // namespace

struct AdmissionServer::Impl {
  Impl(ServerOptions o, AdmissionEndpoint& h, Metrics& m, const Clock& c)
      : options(std::move(o)), handler(h), metrics(m), clock(c), control(net::make_strand(io)) {}

  // The two route tables. Cheap endpoints are answered on the I/O thread;
  // only the admission reviews go to a worker.
  Routed AdmissionRoute(http::verb method, std::string_view target) const;
  Routed MetricsRoute(http::verb method, std::string_view target) const;
  Routed Healthz() const;
  Routed MetricsText() const;

  StatusOr<tcp::endpoint> Endpoint(int port) const;
  Status Listen(tcp::acceptor& acceptor, int port);
  net::awaitable<void> Accept(tcp::acceptor& acceptor, const SessionContext& context);
  void RequestStop();
  void BeginStop();
  net::awaitable<void> Drain();

  const ServerOptions options;
  AdmissionEndpoint& handler;
  Metrics& metrics;
  const Clock& clock;

  // Declared before the io_context, so that they outlive the sessions it
  // may still hold when it is destroyed after a forced stop.
  std::unique_ptr<TlsCertificates> certs;
  std::unique_ptr<net::ssl::context> tls;
  std::unique_ptr<ConnectionTable> table;
  Router admission_router, metrics_router;
  SessionContext admission_context, metrics_context;
  std::unique_ptr<WorkerPool> workers;  // joined at the end of Serve(): its jobs post to the io_context

  net::io_context io;
  net::strand<net::io_context::executor_type> control;  // the acceptors, the stop
  tcp::acceptor admission_acceptor{control};
  tcp::acceptor metrics_acceptor{control};
  net::steady_timer shutdown_delay{control};
  int metrics_port = 0;
  bool delaying = false;  // on `control`: the first Stop() came, shutdown_delay runs
  bool stopping = false;  // on `control`
};

Routed AdmissionServer::Impl::Healthz() const {
  Routed r;
  r.answer = HttpAnswer{200, "ok\n", "text/plain"};
  return r;
}

Routed AdmissionServer::Impl::MetricsText() const {
  Routed r;
  r.answer = HttpAnswer{200, metrics.Render(), "text/plain; version=0.0.4"};
  return r;
}

Routed AdmissionServer::Impl::AdmissionRoute(http::verb method, std::string_view target) const {
  std::string_view path = PathOf(target);
  if (path == "/validate" || path == "/mutate") {
    if (method != http::verb::post) return MethodNotAllowed("POST");
    Webhook webhook = path == "/validate" ? Webhook::kValidate : Webhook::kMutate;
    Routed r;
    r.work = [this, webhook](const std::string& body) {
      HttpAnswer answer;
      try {
        answer = handler.Admit(body, webhook);
      } catch (...) {
        metrics.CountAdmissionError(WebhookName(webhook));  // the session answers 500
        throw;
      }
      if (answer.status != 200) metrics.CountAdmissionError(WebhookName(webhook));
      return answer;
    };
    return r;
  }
  if (path == "/healthz" || path == "/readyz" || path == "/metrics") {
    if (!IsGet(method)) return MethodNotAllowed("GET, HEAD");
    if (path == "/healthz") return Healthz();
    if (path == "/metrics") return MetricsText();
    Routed r;
    r.answer = handler.Ready();
    return r;
  }
  Routed r;
  r.answer = NotFound();
  return r;
}

Routed AdmissionServer::Impl::MetricsRoute(http::verb method, std::string_view target) const {
  std::string_view path = PathOf(target);
  if (path == "/healthz" || path == "/metrics") {
    if (!IsGet(method)) return MethodNotAllowed("GET, HEAD");
    return path == "/healthz" ? Healthz() : MetricsText();
  }
  Routed r;
  r.answer = NotFound();
  return r;
}

StatusOr<tcp::endpoint> AdmissionServer::Impl::Endpoint(int port) const {
  beast::error_code ec;
  net::ip::address address = net::ip::make_address(options.host, ec);
  if (!ec) return tcp::endpoint(address, static_cast<unsigned short>(port));
  net::io_context resolving;  // a host name (localhost): resolved once, before serving
  tcp::resolver resolver(resolving);
  auto found = resolver.resolve(options.host, std::to_string(port), ec);
  if (ec || found.empty()) return InvalidArgument("cannot resolve listen address " + options.host);
  return found.begin()->endpoint();
}

Status AdmissionServer::Impl::Listen(tcp::acceptor& acceptor, int port) {
  ASSIGN_OR_RETURN(tcp::endpoint endpoint, Endpoint(port));
  std::string where = options.host + ":" + std::to_string(port);
  beast::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  // A real backlog: a rollout opens hundreds of connections at once.
  if (!ec) acceptor.listen(SOMAXCONN, ec);
  if (ec) return Unavailable("cannot bind " + where + ": " + ec.message());
  return Status::Ok();
}

net::awaitable<void> AdmissionServer::Impl::Accept(tcp::acceptor& acceptor, const SessionContext& context) {
  net::steady_timer backoff(control);
  for (;;) {
    beast::error_code ec;
    // Each connection gets a strand of its own: two I/O threads, and a
    // session's handlers never run at once.
    tcp::socket socket = co_await acceptor.async_accept(net::make_strand(io), net::redirect_error(net::use_awaitable, ec));
    if (stopping || ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      if (ec == net::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system ||
          ec == net::error::no_buffer_space || ec == net::error::no_memory) {
        backoff.expires_after(kAcceptBackoff);
        co_await backoff.async_wait(net::redirect_error(net::use_awaitable, ec));
      }
      continue;  // ECONNABORTED and the like: that connection is gone, not the listener
    }
    tcp::endpoint peer = socket.remote_endpoint(ec);
    if (ec) continue;  // already reset by the peer
    socket.set_option(tcp::no_delay(true), ec);  // Nagle + delayed ACK cost ~40 ms per answer
    auto session = std::make_shared<Session>(std::move(socket), context);
    ConnectionTable::Ticket ticket;
    switch (table->Add(PeerKey(peer), session, &ticket)) {
      case ConnectionTable::Verdict::kAdmitted:
        Session::Start(std::move(session), std::move(ticket));
        break;
      case ConnectionTable::Verdict::kPeerLimit:
        metrics.CountConnectionClosed(Metrics::ConnectionClose::kPeerLimit);
        break;  // the session and its socket go now: closed at once
      case ConnectionTable::Verdict::kConnectionLimit:
        metrics.CountConnectionClosed(Metrics::ConnectionClose::kConnectionLimit);
        break;
    }
  }
}

void AdmissionServer::Impl::RequestStop() {
  if (stopping) return;
  if (delaying || options.shutdown_delay.count() <= 0 || !table) {
    shutdown_delay.cancel();  // a second Stop() during the delay: now
    BeginStop();
    return;
  }
  // Terminating pods leave the Service's endpoints only after the kubelet
  // saw the deletion; until every proxy has caught up, new connections
  // still arrive here. They are answered as before for the delay.
  delaying = true;
  shutdown_delay.expires_after(options.shutdown_delay);
  shutdown_delay.async_wait([this](beast::error_code) { BeginStop(); });
}

void AdmissionServer::Impl::BeginStop() {
  if (stopping) return;
  stopping = true;
  if (!table) return;  // never bound
  beast::error_code ignored;
  admission_acceptor.close(ignored);  // new connections are refused from here on
  metrics_acceptor.close(ignored);
  for (auto& connection : table->All()) connection->Drain();
  net::co_spawn(control, Drain(), net::detached);
}

net::awaitable<void> AdmissionServer::Impl::Drain() {
  auto until = std::chrono::steady_clock::now() + options.drain_timeout;
  net::steady_timer tick(control);
  while (table->size() > 0) {
    if (std::chrono::steady_clock::now() >= until) {
      // What is left did not finish in time: closed, and the I/O threads
      // leave run() now rather than wait for a handler to return.
      for (auto& connection : table->All()) connection->Close();
      io.stop();
      co_return;
    }
    tick.expires_after(kDrainPoll);
    beast::error_code ec;
    co_await tick.async_wait(net::redirect_error(net::use_awaitable, ec));
  }
}

AdmissionServer::AdmissionServer(ServerOptions options, AdmissionEndpoint& handler, Metrics& metrics,
                                 const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), handler, metrics, clock)) {}

AdmissionServer::~AdmissionServer() = default;

StatusOr<int> AdmissionServer::Bind() {
  Impl& s = *impl_;
  const ServerOptions& o = s.options;
  if (!o.insecure_http) {
    if (o.tls_cert.empty() || o.tls_key.empty()) {
      return InvalidArgument("--tls-cert and --tls-key are required (or --insecure-http for local testing)");
    }
    s.certs = std::make_unique<TlsCertificates>(o.tls_cert, o.tls_key, s.clock);
    RETURN_IF_ERROR(s.certs->Load());
    s.tls = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
    // TLS 1.2+, the ciphers, and the certificate callback that serves
    // rotated files: the same SSL_CTX setup as before Asio.
    if (!s.certs->Configure(s.tls->native_handle())) return Internal("cannot configure the TLS context");
  }

  size_t max_connections = o.max_connections;
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
    size_t room = files.rlim_cur > kReservedFiles * 2 ? files.rlim_cur - kReservedFiles : files.rlim_cur / 2;
    max_connections = std::min(max_connections, room);
  }
  s.table = std::make_unique<ConnectionTable>(max_connections, o.max_connections_per_peer);

  s.admission_router = [&s](http::verb m, std::string_view t) { return s.AdmissionRoute(m, t); };
  s.metrics_router = [&s](http::verb m, std::string_view t) { return s.MetricsRoute(m, t); };
  s.admission_context = SessionContext{&s.options, s.tls.get(), &s.admission_router, s.table.get(), nullptr, &s.metrics};
  s.metrics_context = SessionContext{&s.options, nullptr, &s.metrics_router, s.table.get(), nullptr, &s.metrics};

  RETURN_IF_ERROR(s.Listen(s.admission_acceptor, o.port));
  if (o.metrics_port >= 0) {
    RETURN_IF_ERROR(s.Listen(s.metrics_acceptor, o.metrics_port));
    s.metrics_port = s.metrics_acceptor.local_endpoint().port();
  }
  return static_cast<int>(s.admission_acceptor.local_endpoint().port());
}

int AdmissionServer::metrics_port() const { return impl_->metrics_port; }

size_t AdmissionServer::max_connections() const { return impl_->table ? impl_->table->max_connections() : 0; }

void AdmissionServer::Serve() {
  Impl& s = *impl_;
  if (!s.table) return;  // not bound
  s.workers = std::make_unique<WorkerPool>(s.options.threads);
  s.admission_context.workers = s.workers.get();
  s.metrics_context.workers = s.workers.get();
  net::co_spawn(s.control, s.Accept(s.admission_acceptor, s.admission_context), net::detached);
  if (s.metrics_acceptor.is_open()) {
    net::co_spawn(s.control, s.Accept(s.metrics_acceptor, s.metrics_context), net::detached);
  }
  std::vector<std::thread> threads;
  for (size_t i = 1; i < s.options.io_threads; ++i) threads.emplace_back([&s] { s.io.run(); });
  s.io.run();
  for (auto& t : threads) t.join();
  // Every request was answered (or the drain timed out and the handlers
  // still running are bounded by --verify-timeout): join the workers.
  s.workers.reset();
}

void AdmissionServer::Stop() {
  Impl* s = impl_.get();
  net::post(s->control, [s] { s->RequestStop(); });
}

}  // namespace provgate
