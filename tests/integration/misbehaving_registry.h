// A plain-HTTP registry front run inside a test on 127.0.0.1 with a free
// port: it passes every request through to a real upstream registry
// (TestRegistry) and, for requests whose path matches a pattern, misbehaves
// as hostile or broken registries do (slow, hanging, resetting, erroring,
// lying about digests and sizes, redirecting). Counts what it was asked.
// Thread-safe; the destructor closes every socket it holds and joins.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace provgate::testing {

// One way to misbehave, applied to one request (see MisbehavingRegistry::Inject).
struct Fault {
  enum class Kind {
    kDelay,              // wait `ms`, then answer as upstream does
    kTrickle,            // upstream's headers, then its body `chunk_bytes` every `ms`
    kHangAfterHeaders,   // upstream's headers (with their Content-Length), then no body until the peer closes
    kReset,              // read the request, then close with SO_LINGER 0 (a TCP reset), no answer
    kStatus,             // answer `status` with a registry JSON error of about `body_bytes` (and Retry-After when `retry_after` > 0)
    kCorruptBody,        // upstream's answer with one byte of the body flipped, headers untouched
    kRedirect,           // answer 307 with `Location: location`
    kHugeContentLength,  // 200 claiming `claimed_bytes`, then `chunk_bytes` every `ms` until the peer closes
    kEndlessBody,        // 200 without Content-Length, `chunk_bytes` every `ms` until the peer closes
  };
  Kind kind = Kind::kStatus;
  int ms = 0;
  size_t chunk_bytes = 1;
  int status = 500;
  int retry_after = 0;
  size_t body_bytes = 0;  // kStatus: the error message padded to this size (0: a short one)
  std::string location;
  uint64_t claimed_bytes = 10ull << 30;  // 10 GiB

  static Fault Delay(int ms);
  static Fault Trickle(int ms, size_t chunk_bytes = 1);
  static Fault HangAfterHeaders();
  static Fault Reset();
  static Fault Status(int status, int retry_after = 0, size_t body_bytes = 0);
  static Fault CorruptBody();
  static Fault Redirect(std::string location);
  static Fault HugeContentLength(uint64_t claimed_bytes, int ms, size_t chunk_bytes = 1);
  static Fault EndlessBody(size_t chunk_bytes, int ms);
};

// What the faulted answers did, since the last Clear().
struct FaultStats {
  int answered = 0;             // requests a fault applied to
  int in_flight = 0;            // faulted answers still being sent (or hanging)
  int max_in_flight = 0;        // the most at once
  uint64_t body_bytes_sent = 0; // body bytes written by faulted answers
};

class MisbehavingRegistry {
 public:
  // Listens on a free port of 127.0.0.1 in front of `upstream_host`
  // ("127.0.0.1:PORT", plain HTTP). Throws std::runtime_error when it cannot listen.
  explicit MisbehavingRegistry(std::string upstream_host);
  // Closes the listening socket and every connection (hanging ones too), and joins.
  ~MisbehavingRegistry();
  MisbehavingRegistry(const MisbehavingRegistry&) = delete;
  MisbehavingRegistry& operator=(const MisbehavingRegistry&) = delete;

  // "127.0.0.1:PORT"
  std::string host() const;
  int port() const;

  // Applies `fault` to every request whose target (path and query, e.g.
  // "/v2/models/m/manifests/v1") matches the ECMAScript regular expression
  // `path_pattern` anywhere. The first matching rule wins; requests no rule
  // matches are passed through. Throws std::regex_error on a bad pattern.
  void Inject(const std::string& path_pattern, Fault fault);
  // Removes every rule and resets stats(); hanging answers end.
  void Clear();

  // Requests received whose target matches `path_pattern`, faulted or not.
  int Requests(const std::string& path_pattern) const;
  // "METHOD target" of every request received, in order.
  std::vector<std::string> RequestLog() const;
  FaultStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace provgate::testing
