// CurlTransport's own bounds, against a loopback socket that answers one
// request with canned bytes (what a hostile server can send that a real
// registry would not). Round trips with a real registry: tests/integration.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "verifier/registry/curl_transport.h"

using namespace provgate;

namespace {

// Listens on 127.0.0.1, answers the first connection's request with
// `response`, then closes it.
class OneShotServer {
 public:
  explicit OneShotServer(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd_, 1) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~OneShotServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v2/"; }

 private:
  void Serve() {
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      request.append(buf, static_cast<size_t>(n));
    }
    size_t sent = 0;
    while (sent < response_.size()) {
      ssize_t n = ::send(c, response_.data() + sent, response_.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;  // the client hung up (it refused the response)
      sent += static_cast<size_t>(n);
    }
    ::close(c);
  }

  std::string response_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

HttpRequest Get(const std::string& url) {
  HttpRequest r;
  r.url = url;
  r.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  return r;
}

}  // namespace

TEST_CASE("response headers are bounded in total, not only in count") {
  CurlTransport transport;
  {
    OneShotServer ok("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nDocker-Content-Digest: sha256:x\r\n\r\n{}");
    auto r = transport.Send(Get(ok.Url()));
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(r->status == 200);
    CHECK(r->body == "{}");
    CHECK(r->Header("docker-content-digest") == "sha256:x");
  }
  // 400 headers of 8 KiB each: 3.2 MB a hostile server makes us hold per
  // response (libcurl 7.88 caps one header line at 100 KiB, not their sum).
  std::string headers;
  for (int i = 0; i < 400; ++i) headers += "X-Filler-" + std::to_string(i) + ": " + std::string(8192, 'a') + "\r\n";
  OneShotServer big("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" + headers + "\r\n{}");
  auto r = transport.Send(Get(big.Url()));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kResourceExhausted);
  CHECK_MESSAGE(r.status().message().find("headers") != std::string::npos, r.status().message());
}
