#include "tests/integration/raw_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace provgate::testing {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void SetTimeouts(int fd, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

}  // namespace

std::string RawResponse::Header(std::string_view name) const {
  std::string want = Lower(name) + ":";
  size_t start = headers.find("\r\n");
  while (start != std::string::npos && start + 2 < headers.size()) {
    size_t end = headers.find("\r\n", start + 2);
    std::string line = headers.substr(start + 2, end == std::string::npos ? std::string::npos : end - start - 2);
    if (Lower(line).compare(0, want.size(), want) == 0) {
      std::string value = line.substr(want.size());
      size_t first = value.find_first_not_of(' ');
      return first == std::string::npos ? "" : value.substr(first);
    }
    start = end;
  }
  return "";
}

size_t PrepareForManyConnections() {
  signal(SIGPIPE, SIG_IGN);
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  if (files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
    getrlimit(RLIMIT_NOFILE, &files);
  }
  return static_cast<size_t>(files.rlim_cur);
}

int ConnectFrom(const std::string& source, int port, std::chrono::milliseconds timeout) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  SetTimeouts(fd, timeout);  // SO_SNDTIMEO bounds connect() too
  if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool PeerClosed(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
  char c;
  ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

bool SendHalfClientHello(int fd) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);  // owned by ssl from here
  SSL_set_connect_state(ssl);
  SSL_do_handshake(ssl);  // wants to read the ServerHello: the ClientHello is in `out`
  char* data = nullptr;
  long len = BIO_get_mem_data(out, &data);
  bool ok = len > 2 && send(fd, data, static_cast<size_t>(len / 2), MSG_NOSIGNAL) == len / 2;
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ERR_clear_error();
  return ok;
}

std::unique_ptr<RawConnection> RawConnection::Open(const std::string& source, int port, const std::string& ca_file,
                                                   std::chrono::milliseconds timeout) {
  std::unique_ptr<RawConnection> c(new RawConnection());
  c->fd_ = ConnectFrom(source, port, timeout);
  if (c->fd_ < 0) return nullptr;
  if (ca_file.empty()) return c;
  c->ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_load_verify_locations(c->ctx_, ca_file.c_str(), nullptr) != 1) return nullptr;
  c->ssl_ = SSL_new(c->ctx_);
  SSL_set_tlsext_host_name(c->ssl_, "localhost");
  SSL_set1_host(c->ssl_, "localhost");
  SSL_set_fd(c->ssl_, c->fd_);
  if (SSL_connect(c->ssl_) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return c;
}

RawConnection::~RawConnection() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
  if (fd_ >= 0) close(fd_);
}

bool RawConnection::Write(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ssl_ ? SSL_write(ssl_, bytes.data(), static_cast<int>(std::min<size_t>(bytes.size(), 1 << 20)))
                     : send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      ERR_clear_error();
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

size_t RawConnection::Receive(char* out, size_t n) {
  if (ssl_) {
    int got = SSL_read(ssl_, out, static_cast<int>(n));
    if (got <= 0) {
      ERR_clear_error();
      return 0;
    }
    return static_cast<size_t>(got);
  }
  ssize_t got = recv(fd_, out, n, 0);
  return got > 0 ? static_cast<size_t>(got) : 0;
}

RawResponse RawConnection::Read(bool head) {
  RawResponse r;
  std::string data = std::move(pending_);
  pending_.clear();
  char buf[16384];
  size_t end;
  while ((end = data.find("\r\n\r\n")) == std::string::npos) {
    size_t n = Receive(buf, sizeof buf);
    if (n == 0) return r;
    data.append(buf, n);
  }
  r.headers = data.substr(0, end + 2);
  std::string rest = data.substr(end + 4);
  if (r.headers.size() < 12 || r.headers.compare(0, 5, "HTTP/") != 0) return r;
  int status = std::atoi(r.headers.c_str() + 9);
  size_t length = 0;
  if (std::string cl = r.Header("Content-Length"); !cl.empty() && !head) length = std::stoul(cl);
  while (rest.size() < length) {
    size_t n = Receive(buf, sizeof buf);
    if (n == 0) return r;
    rest.append(buf, n);
  }
  r.body = rest.substr(0, length);
  pending_ = rest.substr(length);
  r.status = status;
  return r;
}

RawResponse RawConnection::Exchange(std::string_view request) {
  if (!Write(request)) return {};
  return Read();
}

bool RawConnection::PeerClosed(std::chrono::milliseconds timeout) {
  if (!ssl_) return testing::PeerClosed(fd_, timeout);
  // Through TLS: readable bytes may be a session ticket, not the end, so
  // peek without blocking until TLS says data (open) or an end (closed).
  auto until = std::chrono::steady_clock::now() + timeout;
  int flags = fcntl(fd_, F_GETFL);
  fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  bool closed = false;
  for (;;) {
    char c;
    int n = SSL_peek(ssl_, &c, 1);
    int err = n > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_, n);
    ERR_clear_error();
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      closed = err != SSL_ERROR_NONE;
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    poll(&p, 1, static_cast<int>(left.count()));
  }
  fcntl(fd_, F_SETFL, flags);
  return closed;
}

std::string RequestText(const std::string& method, const std::string& path, const std::string& body) {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\n";
  if (!body.empty() || method == "POST") {
    r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return r + "\r\n" + body;
}

RawResponse ExchangeOnce(const std::string& source, int port, const std::string& ca_file, const std::string& request,
                         double* seconds) {
  auto start = std::chrono::steady_clock::now();
  RawResponse r;
  if (auto c = RawConnection::Open(source, port, ca_file, std::chrono::seconds(30))) r = c->Exchange(request);
  if (seconds) *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace provgate::testing
