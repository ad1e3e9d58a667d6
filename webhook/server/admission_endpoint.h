// What the HTTPS shell (admission_server.h) asks of the side that answers
// reviews: AdmissionHandler in `provgate serve`, a fixed answer in the
// benchmark's no-op server (bench/noop_server.cc, the transport ceiling).
#pragma once

#include <string>
#include <string_view>

namespace provgate {

enum class Webhook { kValidate, kMutate };
const char* WebhookName(Webhook w);  // "validate" | "mutate"

struct HttpAnswer {
  int status = 200;
  std::string body;
  const char* content_type = "application/json";  // a literal
};

class AdmissionEndpoint {
 public:
  virtual ~AdmissionEndpoint() = default;
  // POST /validate and /mutate: the request body in, the whole answer out.
  // Runs on the server's worker pool, so it may block; called concurrently.
  virtual HttpAnswer Admit(std::string_view body, Webhook webhook) = 0;
  // GET /readyz.
  virtual HttpAnswer Ready() const = 0;
};

}  // namespace provgate
