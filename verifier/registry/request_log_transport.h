// An HttpTransport decorator for `-v`: forwards every request to the
// transport it wraps and reports each as one line (method, URL, status,
// bytes, milliseconds) to a sink. Credentials never reach the line: headers
// and bodies are not shown, and URLs lose their userinfo and the values of
// query parameters not known to be harmless. Thread-safe when the wrapped
// transport and the sink are.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/clock.h"
#include "verifier/registry/http_transport.h"

namespace provgate {

class RequestLogTransport : public HttpTransport {
 public:
  // Receives one complete line per request, without a trailing newline.
  using Sink = std::function<void(const std::string& line)>;

  // `clock` (null: the steady clock) times the requests and must outlive this.
  RequestLogTransport(std::unique_ptr<HttpTransport> inner, Sink sink, const Clock* clock = nullptr);

  // The wrapped transport's answer, unchanged; reported as
  // "GET URL -> 200, 1234 bytes, 12 ms" (", sent N bytes" when the request
  // had a body; "-> failed: <status>" when no response arrived).
  StatusOr<HttpResponse> Send(const HttpRequest& request) override;

 private:
  std::unique_ptr<HttpTransport> inner_;
  Sink sink_;
  SteadyClock steady_;
  const Clock* clock_;
};

// `url` fit for a log: "user:password@" removed, and the value of every
// query parameter other than the distribution API's and token requests'
// harmless ones (service, scope, account, digest, mount, from, n, last,
// artifactType) replaced by "REDACTED" -- a redirect to object storage
// carries signatures there.
std::string UrlForLog(const std::string& url);

}  // namespace provgate
