#include "webhook/server/http_session.h"

#include <boost/asio/redirect_error.hpp>

#include "webhook/server/admission_review.h"

namespace provgate {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using net::redirect_error;
using net::use_awaitable;

namespace {

constexpr size_t kMaxHeaderBytes = 16 << 10;
// The first read of a request: small, since an idle keep-alive connection
// holds this buffer while it waits; Beast reads the rest in larger pieces.
constexpr size_t kFirstReadBytes = 1024;
// After an error answer sent before the request was read to its end (a
// body over the limit), what the client still sends is read and dropped
// for a while: closing with unread data makes the kernel send a reset,
// which can destroy the answer before the client has read it.
constexpr auto kLingerTime = std::chrono::seconds(1);
constexpr size_t kMaxLingerBytes = 8 << 20;

std::chrono::steady_clock::time_point Now() { return std::chrono::steady_clock::now(); }

// The answer to a request that could not be read, or nothing when the
// connection just ended (the peer left, a deadline closed it).
std::optional<HttpAnswer> ReadErrorAnswer(const beast::error_code& ec) {
  if (ec == http::error::body_limit) return HttpAnswer{400, ErrorJson("request body larger than 3 MiB")};
  if (ec == http::error::header_limit) return HttpAnswer{431, ErrorJson("request header larger than 16 KiB")};
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) return std::nullopt;
  if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
    return HttpAnswer{400, ErrorJson("malformed HTTP request")};
  }
  return std::nullopt;
}

// Runs `work` on `pool`; completes, with its answer, on the executor of the
// coroutine that awaits it (the session's strand). The completion counts as
// outstanding work of the io_context while `work` runs, so the I/O threads
// do not return from run() under a request in flight.
template <class Token>
auto AsyncOnWorker(WorkerPool& pool, std::function<HttpAnswer()>&& work, Token&& token) {
  return net::async_initiate<Token, void(HttpAnswer)>(
      [&pool](auto handler, std::function<HttpAnswer()> work) {
        using Handler = decltype(handler);
        struct Job {
          Handler handler;
          net::any_io_executor tracked;
        };
        auto executor = net::get_associated_executor(handler);
        auto job = std::make_shared<Job>(
            Job{std::move(handler), net::prefer(executor, net::execution::outstanding_work.tracked)});
        pool.Post([job, work = std::move(work)] {
          HttpAnswer answer;
          try {
            answer = work();
          } catch (const std::exception&) {
            answer = HttpAnswer{500, ErrorJson("internal error")};
          }
          net::post(job->tracked, [job, answer = std::move(answer)]() mutable {
            std::move(job->handler)(std::move(answer));
          });
        });
      },
      token, std::move(work));
}

}  // namespace

Session::Session(tcp::socket socket, const SessionContext& context)
    : context_(context), socket_(std::move(socket)), deadline_timer_(socket_.get_executor()) {}

Session::~Session() = default;

void Session::Start(std::shared_ptr<Session> session, ConnectionTable::Ticket ticket) {
  session->context_.metrics->ConnectionOpened();
  auto executor = session->socket_.get_executor();
  net::co_spawn(executor, Run(std::move(session), std::move(ticket)), net::detached);
}

net::awaitable<void> Session::Run(std::shared_ptr<Session> self, ConnectionTable::Ticket ticket) {
  // Leaves the table however the coroutine ends: returning, or destroyed
  // with the io_context at a forced stop.
  struct Leave {
    Session* session;
    ConnectionTable::Ticket ticket;
    ~Leave() {
      session->context_.table->Remove(ticket);
      session->context_.metrics->ConnectionEnded();
    }
  } leave{self.get(), std::move(ticket)};
  co_await self->Converse();
  self->Shut();
}

net::awaitable<void> Session::Converse() {
  beast::error_code ec;
  Arm(Now() + context_.options->handshake_timeout, Metrics::ConnectionClose::kHandshakeTimeout);
  if (!context_.tls) {
    co_await Exchange(socket_);
    co_return;
  }
  // No TLS state before the client speaks: a silent connection costs a
  // socket, not a TLS engine and its buffers (~40 KB).
  co_await socket_.async_wait(tcp::socket::wait_read, redirect_error(use_awaitable, ec));
  if (ec || !socket_.is_open()) co_return;
  tls_.emplace(socket_, *context_.tls);
  co_await tls_->async_handshake(net::ssl::stream_base::server, redirect_error(use_awaitable, ec));
  if (ec) co_return;
  // No close_notify at the end: HTTP/1.1 framing says where answers end,
  // and waiting for the peer's close_notify would be one more wait to bound.
  co_await Exchange(*tls_);
}

template <class Stream>
net::awaitable<void> Session::Exchange(Stream& stream) {
  const ServerOptions& options = *context_.options;
  beast::error_code ec;
  bool first = true;
  for (;;) {
    // Between requests. The first request's first byte is still under the
    // handshake deadline armed by Converse().
    phase_ = Phase::kIdle;
    if (draining_) co_return;
    if (buffer_.size() == 0) {
      if (!first) {
        buffer_.shrink_to_fit();  // an idle connection keeps no 64 KiB read buffer
        Arm(Now() + options.idle_timeout, std::nullopt);
      }
      size_t n = co_await stream.async_read_some(buffer_.prepare(kFirstReadBytes), redirect_error(use_awaitable, ec));
      if (ec) co_return;
      buffer_.commit(n);
    }
    first = false;

    // One deadline for the whole request, from its first byte.
    phase_ = Phase::kReading;
    Arm(Now() + options.request_timeout, Metrics::ConnectionClose::kRequestTimeout);
    http::request_parser<http::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(kMaxAdmissionBodyBytes);  // checked against Content-Length with the header
    co_await http::async_read_header(stream, buffer_, parser, redirect_error(use_awaitable, ec));
    if (!ec && !parser.is_done()) {
      // curl asks before sending bodies over 1 MiB, and waits a second for
      // the answer before sending anyway.
      if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
        co_await http::async_write(stream, go_on, redirect_error(use_awaitable, ec));
      }
      if (!ec) co_await http::async_read(stream, buffer_, parser, redirect_error(use_awaitable, ec));
    }
    if (ec) {
      if (auto answer = ReadErrorAnswer(ec)) {
        phase_ = Phase::kAnswering;
        if (co_await Answer(stream, 11, std::move(*answer), false, false, nullptr)) co_await Linger(stream);
      }
      co_return;
    }

    http::request<http::string_body>& request = parser.get();
    beast::string_view target = request.target();  // boost::string_view in Boost 1.74
    Routed routed = (*context_.router)(request.method(), std::string_view(target.data(), target.size()));
    phase_ = Phase::kAnswering;
    HttpAnswer answer;
    if (routed.work) {
      // No deadline while the handler works: it bounds itself
      // (--verify-timeout), and the stop's drain bounds everything.
      Disarm();
      // A named local passed by reference, not a temporary in the co_await
      // expression: GCC 12 destroys such temporaries twice in a coroutine.
      std::function<HttpAnswer()> job = [work = std::move(routed.work), body = std::move(request.body())] {
        return work(body);
      };
      answer = co_await AsyncOnWorker(*context_.workers, std::move(job), use_awaitable);
    } else {
      answer = std::move(routed.answer);
    }
    bool keep_alive = request.keep_alive() && !draining_;
    bool written = co_await Answer(stream, request.version(), std::move(answer), keep_alive,
                                   request.method() == http::verb::head, routed.allow);
    if (!written || !keep_alive) co_return;
  }
}

template <class Stream>
net::awaitable<bool> Session::Answer(Stream& stream, unsigned version, HttpAnswer&& answer, bool keep_alive, bool head,
                                     const char* allow) {
  http::response<http::string_body> response{static_cast<http::status>(answer.status), version};
  response.set(http::field::content_type, answer.content_type);
  if (allow) response.set(http::field::allow, allow);
  response.body() = std::move(answer.body);
  response.keep_alive(keep_alive);
  response.prepare_payload();
  if (head) response.body().clear();  // Content-Length stays that of the GET answer
  Arm(Now() + context_.options->write_timeout, Metrics::ConnectionClose::kWriteTimeout);
  beast::error_code ec;
  co_await http::async_write(stream, response, redirect_error(use_awaitable, ec));
  co_return !ec;
}

template <class Stream>
net::awaitable<void> Session::Linger(Stream& stream) {
  Arm(Now() + kLingerTime, std::nullopt);
  if (!tls_) {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);  // the client sees the answer end
  }
  beast::error_code ec;
  size_t dropped = 0;
  while (dropped < kMaxLingerBytes) {
    size_t n = co_await stream.async_read_some(buffer_.prepare(16 << 10), redirect_error(use_awaitable, ec));
    if (ec) break;
    dropped += n;
    buffer_.clear();
  }
}

void Session::Arm(TimePoint at, std::optional<Metrics::ConnectionClose> reason) {
  deadline_ = at;
  deadline_reason_ = reason;
  // The timer is moved only when the deadline comes earlier than its
  // expiry; a later deadline is picked up when the timer fires early. A
  // keep-alive connection's requests thus move no timer (each request's
  // deadline lies after the last one's), where re-arming three times per
  // request cost a share of a warm review.
  if (waiting_ && at >= deadline_timer_.expiry()) return;
  Wait(at);
}

void Session::Wait(TimePoint at) {
  waiting_ = true;
  deadline_timer_.expires_at(at);  // a wait still pending completes with operation_aborted
  deadline_timer_.async_wait([weak = weak_from_this(), at](const beast::error_code& ec) {
    auto self = weak.lock();
    if (!self || ec || self->deadline_timer_.expiry() != at) return;  // re-armed since, or gone
    self->waiting_ = false;
    if (self->deadline_ == TimePoint::max()) return;  // disarmed
    if (Now() < self->deadline_) {
      self->Wait(self->deadline_);  // the deadline moved later since
      return;
    }
    if (self->deadline_reason_) self->context_.metrics->CountConnectionClosed(*self->deadline_reason_);
    self->Shut();
  });
}

void Session::Disarm() { deadline_ = TimePoint::max(); }

void Session::Shut() {
  Disarm();
  deadline_timer_.cancel();
  beast::error_code ignored;
  socket_.close(ignored);  // what is pending on it completes with operation_aborted
}

void Session::Evict() {
  net::post(socket_.get_executor(), [self = shared_from_this()] {
    if (!self->Evictable() || !self->socket_.is_open()) return;
    self->context_.metrics->CountConnectionClosed(Metrics::ConnectionClose::kConnectionLimit);
    self->Shut();
  });
}

void Session::Drain() {
  net::post(socket_.get_executor(), [self = shared_from_this()] {
    self->draining_ = true;
    Phase phase = self->phase_;
    if (phase == Phase::kHandshake || phase == Phase::kIdle) self->Shut();
  });
}

void Session::Close() {
  net::post(socket_.get_executor(), [self = shared_from_this()] { self->Shut(); });
}

}  // namespace provgate
