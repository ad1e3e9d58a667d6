// The small HTTP interface the registry client talks through. The real
// implementation is CurlTransport; unit tests of protocol logic may pass a
// fake. Implementations must be safe to call from many threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace provgate {


struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, PUT, POST, PATCH
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;            // request body, unless body_file is set
  std::string body_file;       // stream this file as the body instead
  uint64_t body_file_size = 0;
  size_t max_response_bytes = 4 << 20;  // a larger 2xx body fails with ResourceExhausted
  Deadline deadline;                    // the call fails with DeadlineExceeded past it
  std::string ca_file;                  // extra CA bundle for TLS, or empty
  bool show_progress = false;           // upload progress on stderr
};

struct HttpResponse {
  int status = 0;
  std::multimap<std::string, std::string> headers;  // names lowercased
  std::string body;

  // The first value of `name` (lowercase), or empty.
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Performs one request without following redirects. Returns the response
  // for any HTTP status; fails with Unavailable when the server cannot be
  // reached or TLS fails, DeadlineExceeded past the deadline,
  // ResourceExhausted when a 2xx body exceeds max_response_bytes (checked on
  // Content-Length before reading and while reading). Bodies of any other
  // status are read up to max(max_response_bytes, 64 KiB), so an error is
  // reported as itself; beyond that they fail with Unavailable.
  virtual StatusOr<HttpResponse> Send(const HttpRequest& request) = 0;
};

}  // namespace provgate
