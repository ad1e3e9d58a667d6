// HTTP/1.1 by hand over blocking sockets, for tests of how the server
// handles connections: a chosen loopback source address (every 127.0.0.0/8
// address is local, so each is a distinct peer), half a TLS handshake,
// requests written a byte at a time, answers read under a deadline. Every
// exchange opens its own connection unless told otherwise: curl's
// connection reuse would hide a server that cannot take new ones. Not
// thread-safe per connection.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace provgate::testing {

struct RawResponse {
  int status = 0;       // 0: no complete answer (closed, timed out)
  std::string headers;  // the header block, status line included
  std::string body;
  // The value of header `name` (case-insensitive), "" when absent.
  std::string Header(std::string_view name) const;
};

// Readies this process to hold thousands of connections: raises the soft
// RLIMIT_NOFILE to the hard limit (returned), and ignores SIGPIPE, so that a
// write to a connection the server closed fails instead of ending the test.
size_t PrepareForManyConnections();

// A TCP connection to 127.0.0.1:`port` from `source` (e.g. "127.0.0.2"),
// with `timeout` on every send and receive. -1 when it cannot connect.
int ConnectFrom(const std::string& source, int port, std::chrono::milliseconds timeout = std::chrono::seconds(5));

// True when the peer closed `fd` (end of stream or reset) within `timeout`;
// false when it is still open (data to read counts as open).
bool PeerClosed(int fd, std::chrono::milliseconds timeout);

// Writes the first half of a TLS 1.2+ ClientHello to `fd`. False on error.
bool SendHalfClientHello(int fd);

class RawConnection {
 public:
  // Connects from `source`; with a non-empty `ca_file`, completes a TLS
  // handshake that checks the server certificate against it. Null on error.
  static std::unique_ptr<RawConnection> Open(const std::string& source, int port, const std::string& ca_file,
                                             std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool Write(std::string_view bytes);
  // Reads one answer framed by Content-Length (interim 1xx answers are
  // returned like any other); the answer to a HEAD request has no body.
  RawResponse Read(bool head = false);
  // Write() then Read().
  RawResponse Exchange(std::string_view request);
  bool PeerClosed(std::chrono::milliseconds timeout);
  int fd() const { return fd_; }

 private:
  RawConnection() = default;
  // Up to `n` bytes into `out`; 0 at the end or on an error.
  size_t Receive(char* out, size_t n);

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string pending_;  // read past the last answer
};

// "METHOD PATH HTTP/1.1" with Host, Content-Length (when there is a body)
// and Content-Type: application/json.
std::string RequestText(const std::string& method, const std::string& path, const std::string& body = "");

// One request on a connection of its own, with the seconds it took.
RawResponse ExchangeOnce(const std::string& source, int port, const std::string& ca_file, const std::string& request,
                         double* seconds = nullptr);

}  // namespace provgate::testing
