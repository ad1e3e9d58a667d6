// HttpTransport over libcurl. A pool of easy handles, each keeping its own
// connections; DNS and TLS sessions are shared between them. Sequential and
// parallel requests to one registry reuse connections. Thread-safe.
#pragma once

#include <memory>

#include "verifier/registry/http_transport.h"

namespace provgate {

class CurlTransport : public HttpTransport {
 public:
  CurlTransport();
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  StatusOr<HttpResponse> Send(const HttpRequest& request) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace provgate
