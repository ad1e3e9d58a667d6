// One connection of the admission server: the TLS handshake, then HTTP/1.1
// requests read under deadlines and size limits, each answered at once or by
// work run on a worker thread, until the peer, a deadline, a limit or the
// drain at shutdown ends it. A session runs on its own strand; Evict(),
// Drain() and Close() may be called from any thread. Internal to the
// admission server (admission_server.cc); docs/server.md#connections.
#pragma once

// <utility> first: Boost 1.74's asio/awaitable.hpp uses std::exchange
// without including it.
#include <utility>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "webhook/server/admission_endpoint.h"
#include "webhook/server/admission_server.h"
#include "webhook/server/connection_table.h"
#include "webhook/server/metrics.h"
#include "webhook/server/worker_pool.h"

namespace provgate {

// How one request is answered: with `answer` at once, on the I/O thread (so
// it must be cheap), or, when `work` is set, with what `work(body)` returns,
// run on a worker thread.
struct Routed {
  HttpAnswer answer;
  std::function<HttpAnswer(const std::string& body)> work;
  const char* allow = nullptr;  // the Allow header of a 405: a literal
};
// The routes of one listener. Thread-safe.
using Router = std::function<Routed(boost::beast::http::verb method, std::string_view target)>;

// What the sessions of one listener share. Everything pointed to outlives
// them.
struct SessionContext {
  const ServerOptions* options = nullptr;
  boost::asio::ssl::context* tls = nullptr;  // null: plain HTTP
  const Router* router = nullptr;
  ConnectionTable* table = nullptr;
  WorkerPool* workers = nullptr;
  Metrics* metrics = nullptr;
};

class Session : public TrackedConnection, public std::enable_shared_from_this<Session> {
 public:
  // `socket` was accepted with a strand of its own as its executor.
  Session(boost::asio::ip::tcp::socket socket, const SessionContext& context);
  ~Session() override;

  // Serves the connection, admitted to the table under `ticket`, until it
  // ends; then removes it from the table.
  static void Start(std::shared_ptr<Session> session, ConnectionTable::Ticket ticket);

  // TrackedConnection: evictable until a request is being answered.
  bool Evictable() const override { return phase_.load(std::memory_order_relaxed) != Phase::kAnswering; }
  void Evict() override;
  // The answer written after Drain() says Connection: close.
  void Drain() override;
  void Close() override;

 private:
  enum class Phase { kHandshake, kIdle, kReading, kAnswering };
  using TimePoint = std::chrono::steady_clock::time_point;

  static boost::asio::awaitable<void> Run(std::shared_ptr<Session> self, ConnectionTable::Ticket ticket);
  boost::asio::awaitable<void> Converse();
  template <class Stream>
  boost::asio::awaitable<void> Exchange(Stream& stream);
  template <class Stream>
  boost::asio::awaitable<bool> Answer(Stream& stream, unsigned version, HttpAnswer&& answer, bool keep_alive,
                                      bool head, const char* allow);
  template <class Stream>
  boost::asio::awaitable<void> Linger(Stream& stream);

  // Closes the socket at `at` unless re-armed or disarmed before; counts
  // `reason` when it does.
  void Arm(TimePoint at, std::optional<Metrics::ConnectionClose> reason);
  void Disarm();
  void Wait(TimePoint at);
  void Shut();

  // Everything below is touched on the strand only, but phase_.
  SessionContext context_;
  boost::asio::ip::tcp::socket socket_;
  std::optional<boost::beast::ssl_stream<boost::asio::ip::tcp::socket&>> tls_;
  TimePoint deadline_ = TimePoint::max();  // max: none
  std::optional<Metrics::ConnectionClose> deadline_reason_;
  boost::asio::steady_timer deadline_timer_;  // expires at or before deadline_ while waiting_
  bool waiting_ = false;
  boost::beast::flat_buffer buffer_;
  bool draining_ = false;
  std::atomic<Phase> phase_{Phase::kHandshake};  // read by the table from any thread
};

}  // namespace provgate
