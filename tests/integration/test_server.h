// `provgate serve` started as a subprocess on 127.0.0.1 with a free port and
// a certificate from a test CA, stopped on destruction; requests go over
// real HTTPS through libcurl (CurlTransport), verifying the test CA. The
// binary is the build's, or $PROVGATE_TEST_SERVE_BINARY when set (to run the
// same tests against another build, e.g. an older one).
#pragma once

#include <sys/types.h>

#include <functional>

#include <string>
#include <vector>

#include "tests/integration/test_registry.h"
#include "verifier/registry/curl_transport.h"

namespace provgate::testing {

class TestServer {
 public:
  // `args` are extra flags for `provgate serve` (policies, registry config, ...).
  TestServer(const TempDir& dir, const TestCa& ca, std::vector<std::string> args);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  int port() const { return port_; }
  std::string Url(const std::string& path) const;
  HttpResponse Post(const std::string& path, const std::string& body);
  HttpResponse Get(const std::string& path);
  // Waits until `pred(GET path)` holds, up to `seconds`.
  bool WaitFor(const std::string& path, const std::function<bool(const HttpResponse&)>& pred, double seconds);
  const std::string& log_file() const { return log_; }
  bool Running();
  // Sends `sig` to the server process.
  void Signal(int sig);
  // Waits up to `seconds` for the process to exit; returns its exit code,
  // 128 + the signal when a signal ended it, or -1 when it still runs.
  int WaitExit(double seconds);

 private:
  const TestCa& ca_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string log_;
  CurlTransport transport_;
};

}  // namespace provgate::testing
