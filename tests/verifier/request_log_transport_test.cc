// RequestLogTransport (-v): one line per request, answers passed through
// unchanged, and no credential in any line: UrlForLog's table of URLs that
// must keep their harmless parts beside the secrets that must go.
#include <doctest/doctest.h>

#include <vector>

#include "verifier/registry/request_log_transport.h"

using namespace provgate;

namespace {

class ScriptedTransport : public HttpTransport {
 public:
  StatusOr<HttpResponse> Send(const HttpRequest& request) override {
    seen.push_back(request);
    if (!answer.ok()) return answer.status();
    return *answer;
  }
  StatusOr<HttpResponse> answer = HttpResponse{};
  std::vector<HttpRequest> seen;
};

// Moves 7 ms forward at every reading.
class SteppingClock : public Clock {
 public:
  TimePoint Now() const override { return now_ += std::chrono::milliseconds(7); }

 private:
  mutable TimePoint now_;
};

}  // namespace

TEST_CASE("UrlForLog keeps what identifies the request and drops what could be a secret") {
  struct Row {
    std::string url, want;
  };
  const Row keep[] = {
      {"https://reg.example/v2/models/mnist/manifests/v1", "https://reg.example/v2/models/mnist/manifests/v1"},
      {"http://127.0.0.1:5000/v2/", "http://127.0.0.1:5000/v2/"},
      {"https://auth.example/token?service=reg.example&scope=repository%3Amodels%2Fmnist%3Apull&account=alice",
       "https://auth.example/token?service=reg.example&scope=repository%3Amodels%2Fmnist%3Apull&account=alice"},
      {"https://reg.example/v2/m/referrers/sha256:ab?artifactType=x&n=10&last=y",
       "https://reg.example/v2/m/referrers/sha256:ab?artifactType=x&n=10&last=y"},
      {"https://reg.example/v2/m/blobs/uploads/?mount=sha256:ab&from=other", "https://reg.example/v2/m/blobs/uploads/?mount=sha256:ab&from=other"},
  };
  for (const auto& row : keep) CHECK(UrlForLog(row.url) == row.want);
  const Row redact[] = {
      {"https://alice:s3cret@reg.example/v2/", "https://reg.example/v2/"},
      {"https://alice@reg.example/v2/?n=1", "https://reg.example/v2/?n=1"},
      {"https://auth.example/token?service=r&password=s3cret&account=alice",
       "https://auth.example/token?service=r&password=REDACTED&account=alice"},
      {"https://bucket.s3.example/blob?X-Amz-Credential=AKIA&X-Amz-Signature=abcdef",
       "https://bucket.s3.example/blob?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED"},
      {"https://reg.example/v2/m/blobs/uploads/u?_state=opaque&digest=sha256:ab",
       "https://reg.example/v2/m/blobs/uploads/u?_state=REDACTED&digest=sha256:ab"},
      {"https://reg.example/x?s3cret", "https://reg.example/x?REDACTED"},
      {"https://reg.example/x?access_token=t0k#frag", "https://reg.example/x?access_token=REDACTED"},
      // '@' in the path is not userinfo
      {"https://reg.example/v2/m/manifests/sha256:ab@x", "https://reg.example/v2/m/manifests/sha256:ab@x"},
  };
  for (const auto& row : redact) CHECK_MESSAGE(UrlForLog(row.url) == row.want, row.url);
}

TEST_CASE("RequestLogTransport reports each request once and passes the answer through") {
  auto inner = std::make_unique<ScriptedTransport>();
  ScriptedTransport* scripted = inner.get();
  HttpResponse ok;
  ok.status = 200;
  ok.body = "0123456789";
  scripted->answer = ok;
  std::vector<std::string> lines;
  SteppingClock clock;
  RequestLogTransport t(std::move(inner), [&](const std::string& l) { lines.push_back(l); }, &clock);

  HttpRequest get;
  get.url = "https://reg.example/v2/m/manifests/v1";
  get.headers = {{"Authorization", "Basic YWxpY2U6czNjcmV0"}};
  auto r = t.Send(get);
  REQUIRE(r.ok());
  CHECK(r->body == "0123456789");
  REQUIRE(scripted->seen.size() == 1);
  CHECK(scripted->seen[0].headers == get.headers);  // forwarded unchanged

  HttpRequest put;
  put.method = "PUT";
  put.url = "https://reg.example/v2/m/blobs/uploads/u?_state=s&digest=sha256:ab";
  put.body = "grant_type=password&password=s3cret";
  scripted->answer.value().status = 201;
  scripted->answer.value().body.clear();
  REQUIRE(t.Send(put).ok());

  scripted->answer = Unavailable("PUT " + put.url + " failed: Connection refused");
  auto failed = t.Send(put);
  CHECK(failed.status().code() == StatusCode::kUnavailable);

  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "GET https://reg.example/v2/m/manifests/v1 -> 200, 10 bytes, 7 ms");
  CHECK(lines[1] == "PUT https://reg.example/v2/m/blobs/uploads/u?_state=REDACTED&digest=sha256:ab -> 201, 0 bytes, "
                    "7 ms, sent 35 bytes");
  CHECK(lines[2].find("-> failed: ") != std::string::npos);
  CHECK(lines[2].find("Connection refused") != std::string::npos);
  for (const auto& l : lines) {
    CHECK(l.find("YWxpY2U6czNjcmV0") == std::string::npos);
    CHECK(l.find("s3cret") == std::string::npos);
    CHECK(l.find("_state=s&") == std::string::npos);
  }
}
