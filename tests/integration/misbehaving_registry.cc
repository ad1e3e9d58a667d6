#include "tests/integration/misbehaving_registry.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <list>
#include <mutex>
#include <optional>
#include <regex>
#include <stdexcept>
#include <thread>

namespace provgate::testing {

Fault Fault::Delay(int ms) {
  Fault f;
  f.kind = Kind::kDelay;
  f.ms = ms;
  return f;
}
Fault Fault::Trickle(int ms, size_t chunk_bytes) {
  Fault f;
  f.kind = Kind::kTrickle;
  f.ms = ms;
  f.chunk_bytes = chunk_bytes;
  return f;
}
Fault Fault::HangAfterHeaders() {
  Fault f;
  f.kind = Kind::kHangAfterHeaders;
  return f;
}
Fault Fault::Reset() {
  Fault f;
  f.kind = Kind::kReset;
  return f;
}
Fault Fault::Status(int status, int retry_after, size_t body_bytes) {
  Fault f;
  f.kind = Kind::kStatus;
  f.status = status;
  f.retry_after = retry_after;
  f.body_bytes = body_bytes;
  return f;
}
Fault Fault::CorruptBody() {
  Fault f;
  f.kind = Kind::kCorruptBody;
  return f;
}
Fault Fault::Redirect(std::string location) {
  Fault f;
  f.kind = Kind::kRedirect;
  f.location = std::move(location);
  return f;
}
Fault Fault::HugeContentLength(uint64_t claimed_bytes, int ms, size_t chunk_bytes) {
  Fault f;
  f.kind = Kind::kHugeContentLength;
  f.claimed_bytes = claimed_bytes;
  f.ms = ms;
  f.chunk_bytes = chunk_bytes;
  return f;
}
Fault Fault::EndlessBody(size_t chunk_bytes, int ms) {
  Fault f;
  f.kind = Kind::kEndlessBody;
  f.chunk_bytes = chunk_bytes;
  f.ms = ms;
  return f;
}

namespace {

constexpr size_t kMaxRequestHead = 64 << 10;
constexpr size_t kMaxRequestBody = 64 << 20;  // pushes through the front stay possible

struct Request {
  std::string method, target;
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent
  std::string body;
};

struct Answer {
  int status = 502;
  std::vector<std::pair<std::string, std::string>> headers;  // without Content-Length / Connection
  std::string content_length;                                // for HEAD: upstream's value, if any
  std::string body;
};

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

// Hop-by-hop and length headers are the front's own (RFC 9110 §7.6.1).
bool IsHopByHop(const std::string& lower_name) {
  return lower_name == "connection" || lower_name == "keep-alive" || lower_name == "transfer-encoding" ||
         lower_name == "content-length" || lower_name == "host" || lower_name == "expect" ||
         lower_name == "upgrade" || lower_name == "proxy-connection" || lower_name == "te";
}

}  // namespace

struct MisbehavingRegistry::Impl {
  struct Rule {
    std::regex pattern;
    Fault fault;
  };
  struct Connection {
    int fd = -1;
    bool done = false;
    std::thread thread;
  };

  std::string upstream_host;
  int upstream_port = 0;
  int listen_fd = -1;
  int port = 0;
  std::thread acceptor;

  mutable std::mutex mu;
  std::condition_variable cv;  // wakes naps on stop and Clear()
  bool stopping = false;
  uint64_t generation = 0;     // bumped by Clear(): faulted answers of an older one end
  std::vector<Rule> rules;
  std::vector<std::string> log;
  FaultStats stats;
  std::list<Connection> connections;

  std::string Host() const { return "127.0.0.1:" + std::to_string(port); }

  // Sleeps `ms`; false when the front stops or the rules were cleared meanwhile.
  bool Nap(int ms, uint64_t gen) {
    std::unique_lock<std::mutex> l(mu);
    cv.wait_for(l, std::chrono::milliseconds(ms), [&] { return stopping || generation != gen; });
    return !stopping && generation == gen;
  }
  bool Current(uint64_t gen) {
    std::lock_guard<std::mutex> l(mu);
    return !stopping && generation == gen;
  }

  // Writes all of `data`; false when the peer is gone (or the front stops:
  // Stop() shuts the socket down, which fails a blocked send).
  static bool SendAll(int fd, std::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Waits up to `ms` for the socket to be readable; false on stop.
  bool WaitReadable(int fd, int ms) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < until) {
      {
        std::lock_guard<std::mutex> l(mu);
        if (stopping) return false;
      }
      pollfd p{fd, POLLIN, 0};
      int r = poll(&p, 1, 50);
      if (r > 0) return true;
      if (r < 0 && errno != EINTR) return false;
    }
    return false;
  }

  std::optional<Request> ReadRequest(int fd) {
    std::string buf;
    size_t head_end;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (buf.size() > kMaxRequestHead || !WaitReadable(fd, 10000)) return std::nullopt;
      char chunk[4096];
      ssize_t n = recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return std::nullopt;
      buf.append(chunk, static_cast<size_t>(n));
    }
    Request req;
    std::string head = buf.substr(0, head_end);
    std::string rest = buf.substr(head_end + 4);
    size_t line_end = head.find("\r\n");
    std::string line = head.substr(0, line_end);
    size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
    if (sp1 == std::string::npos || sp2 == sp1) return std::nullopt;
    req.method = line.substr(0, sp1);
    req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t content_length = 0;
    size_t at = line_end == std::string::npos ? head.size() : line_end + 2;
    while (at < head.size()) {
      size_t end = head.find("\r\n", at);
      if (end == std::string::npos) end = head.size();
      std::string h = head.substr(at, end - at);
      at = end + 2;
      size_t colon = h.find(':');
      if (colon == std::string::npos) continue;
      std::string name = h.substr(0, colon);
      std::string value = h.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      if (Lower(name) == "content-length") content_length = std::stoul(value);
      req.headers.emplace_back(std::move(name), std::move(value));
    }
    if (content_length > kMaxRequestBody) return std::nullopt;
    req.body = std::move(rest);
    while (req.body.size() < content_length) {
      if (!WaitReadable(fd, 10000)) return std::nullopt;
      char chunk[16384];
      ssize_t n = recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return std::nullopt;
      req.body.append(chunk, static_cast<size_t>(n));
    }
    req.body.resize(content_length);
    return req;
  }

  // The upstream registry's answer to `req` (502 when it cannot be asked).
  Answer Forward(const Request& req) {
    Answer a;
    httplib::Client client("127.0.0.1", upstream_port);
    client.set_connection_timeout(5);
    client.set_read_timeout(10);
    client.set_write_timeout(10);
    httplib::Request up;
    up.method = req.method;
    up.path = req.target;
    for (const auto& [name, value] : req.headers) {
      if (!IsHopByHop(Lower(name))) up.headers.emplace(name, value);
    }
    up.body = req.body;
    auto res = client.send(up);
    if (!res) {
      a.body = R"({"errors":[{"code":"UNAVAILABLE","message":"upstream did not answer"}]})";
      return a;
    }
    a.status = res->status;
    const std::string up_origin = "http://" + upstream_host;
    for (const auto& [name, value] : res->headers) {
      std::string lower = Lower(name);
      if (lower == "content-length") a.content_length = value;
      if (IsHopByHop(lower)) continue;
      std::string v = value;
      // Upload Locations name the upstream: send clients back through the front.
      if (lower == "location" && v.rfind(up_origin, 0) == 0) v = "http://" + Host() + v.substr(up_origin.size());
      a.headers.emplace_back(name, std::move(v));
    }
    a.body = std::move(res->body);
    return a;
  }

  static std::string Head(int status, const std::vector<std::pair<std::string, std::string>>& headers,
                          const std::optional<std::string>& content_length) {
    std::string h = "HTTP/1.1 " + std::to_string(status) + " " + ReasonPhrase(status) + "\r\n";
    for (const auto& [name, value] : headers) h += name + ": " + value + "\r\n";
    if (content_length) h += "Content-Length: " + *content_length + "\r\n";
    return h + "Connection: close\r\n\r\n";
  }

  void AddSent(size_t n) {
    std::lock_guard<std::mutex> l(mu);
    stats.body_bytes_sent += n;
  }

  // `body` in `chunk` byte pieces, `ms` apart; false when the peer left or the fault ended.
  bool Trickle(int fd, std::string_view body, size_t chunk, int ms, uint64_t gen) {
    chunk = std::max<size_t>(chunk, 1);
    while (!body.empty()) {
      size_t n = std::min(chunk, body.size());
      if (!SendAll(fd, body.substr(0, n))) return false;
      AddSent(n);
      body.remove_prefix(n);
      if (!body.empty() && !Nap(ms, gen)) return false;
    }
    return true;
  }

  // Sends nothing more until the peer closes, the rules are cleared or the front stops.
  void Hang(int fd, uint64_t gen) {
    while (Current(gen)) {
      pollfd p{fd, POLLIN, 0};
      int r = poll(&p, 1, 50);
      if (r < 0 && errno != EINTR) return;
      if (r > 0) {
        char c[256];
        ssize_t n = recv(fd, c, sizeof c, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return;
      }
    }
  }

  // Writes `chunk`-byte pieces of filler `ms` apart until the peer leaves.
  void Flood(int fd, size_t chunk, int ms, uint64_t gen) {
    std::string filler(std::max<size_t>(chunk, 1), 'x');
    while (Current(gen)) {
      if (!SendAll(fd, filler)) return;
      AddSent(filler.size());
      if (ms > 0 && !Nap(ms, gen)) return;
    }
  }

  void Reply(int fd, const Answer& a, bool head_only) {
    std::optional<std::string> length = std::to_string(a.body.size());
    if (head_only) length = a.content_length.empty() ? std::nullopt : std::optional<std::string>(a.content_length);
    SendAll(fd, Head(a.status, a.headers, length) + (head_only ? "" : a.body));
  }

  // Answers one request; returns true when the socket must be reset rather than closed.
  bool Serve(int fd, const Request& req) {
    std::optional<Fault> fault;
    uint64_t gen;
    {
      std::lock_guard<std::mutex> l(mu);
      log.push_back(req.method + " " + req.target);
      for (const auto& r : rules) {
        if (std::regex_search(req.target, r.pattern)) {
          fault = r.fault;
          break;
        }
      }
      gen = generation;
      if (fault) {
        ++stats.answered;
        stats.max_in_flight = std::max(stats.max_in_flight, ++stats.in_flight);
      }
    }
    if (!fault) {
      Reply(fd, Forward(req), req.method == "HEAD");
      return false;
    }
    bool reset = Misbehave(fd, req, *fault, gen);
    std::lock_guard<std::mutex> l(mu);
    --stats.in_flight;
    return reset;
  }

  bool Misbehave(int fd, const Request& req, const Fault& f, uint64_t gen) {
    const bool head_only = req.method == "HEAD";
    using K = Fault::Kind;
    switch (f.kind) {
      case K::kReset:
        return true;
      case K::kStatus: {
        std::string code = f.status == 429 ? "TOOMANYREQUESTS" : f.status == 404 ? "MANIFEST_UNKNOWN" : "UNKNOWN";
        Answer a;
        a.status = f.status;
        a.headers.emplace_back("Content-Type", "application/json");
        if (f.retry_after > 0) a.headers.emplace_back("Retry-After", std::to_string(f.retry_after));
        std::string message = "injected by the misbehaving registry";
        if (f.body_bytes > message.size()) message += std::string(f.body_bytes - message.size(), '.');
        a.body = R"({"errors":[{"code":")" + code + R"(","message":")" + message + R"("}]})";
        a.content_length = std::to_string(a.body.size());
        Reply(fd, a, head_only);
        return false;
      }
      case K::kRedirect: {
        Answer a;
        a.status = 307;
        a.headers.emplace_back("Location", f.location);
        a.content_length = "0";
        Reply(fd, a, head_only);
        return false;
      }
      case K::kDelay:
        if (!Nap(f.ms, gen)) return false;
        Reply(fd, Forward(req), head_only);
        return false;
      case K::kCorruptBody: {
        Answer a = Forward(req);
        if (!a.body.empty()) a.body[a.body.size() / 2] ^= 0x01;
        Reply(fd, a, head_only);
        return false;
      }
      case K::kTrickle:
      case K::kHangAfterHeaders: {
        Answer a = Forward(req);
        std::optional<std::string> length = std::to_string(a.body.size());
        if (head_only) length = a.content_length.empty() ? std::nullopt : std::optional<std::string>(a.content_length);
        if (!SendAll(fd, Head(a.status, a.headers, length))) return false;
        if (f.kind == K::kHangAfterHeaders) {
          Hang(fd, gen);
        } else if (!head_only) {
          Trickle(fd, a.body, f.chunk_bytes, f.ms, gen);
        }
        return false;
      }
      case K::kHugeContentLength:
      case K::kEndlessBody: {
        std::vector<std::pair<std::string, std::string>> headers = {
            {"Content-Type", "application/vnd.oci.image.manifest.v1+json"}};
        std::optional<std::string> length;
        if (f.kind == K::kHugeContentLength) length = std::to_string(f.claimed_bytes);
        if (!SendAll(fd, Head(200, headers, length))) return false;
        if (!head_only) Flood(fd, f.chunk_bytes, f.ms, gen);
        return false;
      }
    }
    return false;
  }

  void Close(Connection& c, bool reset) {
    std::lock_guard<std::mutex> l(mu);
    if (reset) {
      linger lg{1, 0};  // close() sends RST instead of FIN
      setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(c.fd);
    c.fd = -1;
    c.done = true;
  }

  void Handle(Connection& c) {
    bool reset = false;
    if (auto req = ReadRequest(c.fd)) reset = Serve(c.fd, *req);
    Close(c, reset);
  }

  void Accept() {
    for (;;) {
      {
        std::lock_guard<std::mutex> l(mu);
        if (stopping) return;
      }
      pollfd p{listen_fd, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int fd = accept(listen_fd, nullptr, nullptr);
      if (fd < 0) continue;
      std::list<Connection> finished;
      {
        std::lock_guard<std::mutex> l(mu);
        if (stopping) {
          close(fd);
          return;
        }
        // Connections marked done (their last act, under `mu`) are joined below, outside the lock.
        for (auto it = connections.begin(); it != connections.end();) {
          auto next = std::next(it);
          if (it->done) finished.splice(finished.end(), connections, it);
          it = next;
        }
        connections.emplace_back();
        Connection& c = connections.back();
        c.fd = fd;
        c.thread = std::thread([this, &c] { Handle(c); });
      }
      for (auto& f : finished) f.thread.join();
    }
  }
};

MisbehavingRegistry::MisbehavingRegistry(std::string upstream_host) : impl_(std::make_unique<Impl>()) {
  impl_->upstream_host = std::move(upstream_host);
  auto colon = impl_->upstream_host.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("upstream host needs a port: " + impl_->upstream_host);
  impl_->upstream_port = std::stoi(impl_->upstream_host.substr(colon + 1));
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("misbehaving registry: socket failed");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 128) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    throw std::runtime_error("misbehaving registry cannot listen on 127.0.0.1");
  }
  impl_->listen_fd = fd;
  impl_->port = ntohs(addr.sin_port);
  impl_->acceptor = std::thread([impl = impl_.get()] { impl->Accept(); });
}

MisbehavingRegistry::~MisbehavingRegistry() {
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    impl_->stopping = true;
    // Wake every connection thread: blocked sends and polls fail at once.
    for (auto& c : impl_->connections) {
      if (c.fd >= 0) shutdown(c.fd, SHUT_RDWR);
    }
  }
  impl_->cv.notify_all();
  impl_->acceptor.join();
  close(impl_->listen_fd);
  for (auto& c : impl_->connections) c.thread.join();
}

std::string MisbehavingRegistry::host() const { return impl_->Host(); }
int MisbehavingRegistry::port() const { return impl_->port; }

void MisbehavingRegistry::Inject(const std::string& path_pattern, Fault fault) {
  std::regex pattern(path_pattern, std::regex::ECMAScript);
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->rules.push_back({std::move(pattern), std::move(fault)});
}

void MisbehavingRegistry::Clear() {
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    impl_->rules.clear();
    ++impl_->generation;
    int in_flight = impl_->stats.in_flight;
    impl_->stats = FaultStats{};
    impl_->stats.in_flight = in_flight;  // those still unwinding decrement it
  }
  impl_->cv.notify_all();
}

int MisbehavingRegistry::Requests(const std::string& path_pattern) const {
  std::regex pattern(path_pattern, std::regex::ECMAScript);
  std::lock_guard<std::mutex> l(impl_->mu);
  int n = 0;
  for (const auto& entry : impl_->log) {
    if (std::regex_search(entry.substr(entry.find(' ') + 1), pattern)) ++n;
  }
  return n;
}

std::vector<std::string> MisbehavingRegistry::RequestLog() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->log;
}

FaultStats MisbehavingRegistry::stats() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->stats;
}

}  // namespace provgate::testing
