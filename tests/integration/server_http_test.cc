// `provgate serve` at the HTTP level, over raw sockets (docs/server.md):
// routes, methods and the size limits as answers; keep-alive, pipelining,
// 100-continue; the plain-HTTP --metrics-port listener; and the graceful
// stop: a request in flight at SIGTERM is answered, idle connections are
// closed at once, new ones refused, and the process exits 0; before it,
// --shutdown-delay answers everything as usual.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "tests/integration/connection_env.h"
#include "tests/integration/raw_client.h"
#include "tests/integration/test_server.h"

using namespace provgate;
using namespace provgate::testing;
using std::chrono::milliseconds;

namespace {

// A request for `path` whose body arrives in chunks of `chunk` bytes.
std::string ChunkedPost(const std::string& path, size_t total, size_t chunk) {
  std::string r = "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n";
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", chunk);
  for (size_t sent = 0; sent < total; sent += chunk) r += size + std::string(chunk, 'a') + "\r\n";
  return r + "0\r\n\r\n";
}

// A registry host whose socket listens and never accepts: a verification
// against it hangs until --verify-timeout.
struct HangingRegistry {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  std::string host;
  HangingRegistry() {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(fd, 16) == 0);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    host = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  }
  ~HangingRegistry() { close(fd); }
};

}  // namespace

TEST_CASE("serve: routes, methods and limits answer with the documented status and a JSON error") {
  ConnectionEnv env;
  TestServer s(env.dir, env.ca, env.Args());
  struct Row {
    std::string name, request;
    int status;
    std::string body_has, allow;
  };
  Row rows[] = {
      {"an unknown path", RequestText("GET", "/nope"), 404, "\"error\":\"not found\"", ""},
      {"GET on /validate", RequestText("GET", "/validate"), 405, "method not allowed", "POST"},
      {"POST on /healthz", RequestText("POST", "/healthz", "{}"), 405, "method not allowed", "GET, HEAD"},
      {"a query string", RequestText("GET", "/healthz?verbose=1"), 200, "ok\n", ""},
      {"/readyz", RequestText("GET", "/readyz"), 200, "\"ready\":true", ""},
      {"/mutate", RequestText("POST", "/mutate", UnmatchedPodReview("m")), 200, "\"allowed\":true", ""},
      {"a malformed review", RequestText("POST", "/validate", "not json"), 400, "malformed JSON", ""},
      {"a request line that is not HTTP", "NOT HTTP AT ALL\r\n\r\n", 400, "malformed HTTP request", ""},
      {"headers over 16 KiB",
       "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Pad: " + std::string(17 << 10, 'a') + "\r\n\r\n", 431,
       "request header larger than 16 KiB", ""},
      {"a body over 3 MiB, sent without waiting for 100-continue",
       RequestText("POST", "/validate", std::string((3 << 20) + 1, 'a')), 400, "request body larger than 3 MiB", ""},
      {"a chunked body over 3 MiB", ChunkedPost("/validate", 4 << 20, 64 << 10), 400,
       "request body larger than 3 MiB", ""},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    auto r = ExchangeOnce("127.0.0.1", s.port(), env.ca.ca_cert, row.request);
    CHECK(r.status == row.status);
    CHECK_MESSAGE(r.body.find(row.body_has) != std::string::npos, r.body.substr(0, 300));
    if (row.status != 200) CHECK(r.Header("Content-Type") == "application/json");
    if (!row.allow.empty()) CHECK(r.Header("Allow") == row.allow);
  }
  auto head = RawConnection::Open("127.0.0.1", s.port(), env.ca.ca_cert);
  REQUIRE(head);
  REQUIRE(head->Write("HEAD /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  auto h = head->Read(true);
  CHECK(h.status == 200);
  CHECK(h.Header("Content-Length") == "3");
  CHECK(s.Running());
}

TEST_CASE("serve: keep-alive, pipelined requests, HTTP/1.0 and 100-continue") {
  ConnectionEnv env;
  TestServer s(env.dir, env.ca, env.Args());
  auto c = RawConnection::Open("127.0.0.1", s.port(), env.ca.ca_cert);
  REQUIRE(c);
  // Two requests in one write: two answers, in order, on one connection.
  REQUIRE(c->Write(RequestText("GET", "/healthz") + RequestText("POST", "/validate", UnmatchedPodReview("p2"))));
  auto first = c->Read();
  auto second = c->Read();
  CHECK(first.status == 200);
  CHECK(first.body == "ok\n");
  CHECK(second.status == 200);
  CHECK(second.body.find("\"uid\":\"p2\"") != std::string::npos);
  CHECK_FALSE(c->PeerClosed(milliseconds(200)));  // kept alive
  // Expect: 100-continue gets its interim answer before the body is sent.
  std::string body = UnmatchedPodReview("p3");
  REQUIRE(c->Write("POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
                   "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n"));
  CHECK(c->Read().status == 100);
  REQUIRE(c->Write(body));
  auto third = c->Read();
  CHECK(third.status == 200);
  CHECK(third.body.find("\"uid\":\"p3\"") != std::string::npos);
  // HTTP/1.0 without keep-alive: answered, then closed.
  auto old = RawConnection::Open("127.0.0.1", s.port(), env.ca.ca_cert);
  REQUIRE(old);
  auto r = old->Exchange("GET /healthz HTTP/1.0\r\n\r\n");
  CHECK(r.status == 200);
  CHECK(old->PeerClosed(milliseconds(1000)));
}

TEST_CASE("serve: --metrics-port serves /metrics and /healthz over plain HTTP, and nothing else") {
  ConnectionEnv env;
  int metrics_port = FreePort();
  TestServer s(env.dir, env.ca, env.Args({"--metrics-port", std::to_string(metrics_port)}));
  auto m = ExchangeOnce("127.0.0.1", metrics_port, "", RequestText("GET", "/metrics"));
  CHECK(m.status == 200);
  CHECK(m.Header("Content-Type") == "text/plain; version=0.0.4");
  CHECK(m.body.find("# TYPE provgate_admission_requests_total counter") != std::string::npos);
  CHECK(m.body.find("provgate_http_connections ") != std::string::npos);
  auto health = ExchangeOnce("127.0.0.1", metrics_port, "", RequestText("GET", "/healthz"));
  CHECK(health.status == 200);
  CHECK(health.body == "ok\n");
  CHECK(ExchangeOnce("127.0.0.1", metrics_port, "", RequestText("POST", "/validate", UnmatchedPodReview("x"))).status ==
        404);
  CHECK(ExchangeOnce("127.0.0.1", metrics_port, "", RequestText("GET", "/readyz")).status == 404);
  CHECK(ExchangeOnce("127.0.0.1", metrics_port, "", RequestText("DELETE", "/metrics")).status == 405);
  // Plain HTTP only there; the webhook port stays TLS and keeps /metrics.
  CHECK(RawConnection::Open("127.0.0.1", metrics_port, env.ca.ca_cert, milliseconds(2000)) == nullptr);
  CHECK(ExchangeOnce("127.0.0.1", s.port(), env.ca.ca_cert, RequestText("GET", "/metrics")).status == 200);
  // The serving line, once the log's flusher has written it (100 ms).
  std::string want = "\"metricsListen\":\"127.0.0.1:" + std::to_string(metrics_port) + "\"", log;
  for (int i = 0; i < 50 && log.find(want) == std::string::npos; ++i) {
    std::this_thread::sleep_for(milliseconds(50));
    log = ReadFile(s.log_file());
  }
  CHECK_MESSAGE(log.find(want) != std::string::npos, log);
}

TEST_CASE("serve: SIGTERM answers the request in flight, closes idle connections, refuses new ones, exits 0") {
  ConnectionEnv env;
  HangingRegistry registry;
  WriteFile(env.dir.File("registries.yaml"), "registries:\n  - host: \"" + registry.host + "\"\n    insecure: true\n");
  // A second policy, like the first, matching the hanging registry.
  std::string policy = ReadFile(env.policies + "/models.yaml");
  policy.replace(policy.find("name: models"), 12, "name: hanging");
  policy.replace(policy.find("registry.invalid/models/**"), 26, registry.host + "/**");
  WriteFile(env.policies + "/hanging.yaml", policy);
  TestServer s(env.dir, env.ca,
               env.Args({"--registry-config", env.dir.File("registries.yaml"), "--verify-timeout", "2"}));

  auto idle = RawConnection::Open("127.0.0.1", s.port(), env.ca.ca_cert);
  REQUIRE(idle);
  REQUIRE(idle->Exchange(RequestText("GET", "/healthz")).status == 200);  // then idles in keep-alive

  RawResponse in_flight;
  double in_flight_seconds = 0;
  std::thread request([&] {
    in_flight = ExchangeOnce("127.0.0.1", s.port(), env.ca.ca_cert,
                             RequestText("POST", "/validate", PodReview("in-flight", registry.host + "/models/m:v1")),
                             &in_flight_seconds);
  });
  std::this_thread::sleep_for(milliseconds(500));  // the verification now hangs on the registry
  auto signalled = std::chrono::steady_clock::now();
  s.Signal(SIGTERM);

  CHECK(idle->PeerClosed(milliseconds(1000)));
  bool refused = false;
  for (int i = 0; i < 40 && !refused; ++i) {
    int fd = ConnectFrom("127.0.0.1", s.port(), milliseconds(500));
    refused = fd < 0;
    if (fd >= 0) close(fd);
    if (!refused) std::this_thread::sleep_for(milliseconds(25));
  }
  CHECK_MESSAGE(refused, "the listener still accepts after SIGTERM");

  request.join();
  CHECK(in_flight.status == 200);
  CHECK_MESSAGE(in_flight.body.find("registry-unavailable") != std::string::npos, in_flight.body);
  CHECK(in_flight.Header("Connection") == "close");
  CHECK(in_flight_seconds > 1.5);  // it did wait for the verification deadline
  CHECK(s.WaitExit(10) == 0);
  double stop_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - signalled).count();
  CHECK_MESSAGE(stop_seconds < 4, "the stop took " << stop_seconds << " s");
  std::string log = ReadFile(s.log_file());
  CHECK(log.find("\"msg\":\"stopping\"") != std::string::npos);
  CHECK(log.find("\"msg\":\"stopped\"") != std::string::npos);
}

// The pod is still in the Service's endpoints for a moment after SIGTERM:
// --shutdown-delay answers new connections as before for that long.
TEST_CASE("serve: --shutdown-delay answers /healthz and /validate after SIGTERM for the delay, then stops and exits 0") {
  ConnectionEnv env;
  TestServer s(env.dir, env.ca, env.Args({"--shutdown-delay", "2"}));
  auto signalled = std::chrono::steady_clock::now();
  s.Signal(SIGTERM);
  auto since = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - signalled).count(); };
  int answered = 0;
  while (since() < 1.5) {
    auto health = ExchangeOnce("127.0.0.1", s.port(), env.ca.ca_cert, RequestText("GET", "/healthz"));
    CHECK_MESSAGE(health.status == 200, "/healthz at " << since() << " s after SIGTERM");
    auto review = ExchangeOnce("127.0.0.1", s.port(), env.ca.ca_cert,
                               RequestText("POST", "/validate", UnmatchedPodReview("during-delay")));
    CHECK_MESSAGE(review.status == 200, "/validate at " << since() << " s after SIGTERM");
    CHECK(review.body.find("\"allowed\":true") != std::string::npos);
    ++answered;
    std::this_thread::sleep_for(milliseconds(100));
  }
  CHECK(answered >= 5);
  // Then the stop: the listener closes and the process exits 0.
  CHECK(s.WaitExit(10) == 0);
  double stopped = since();
  CHECK_MESSAGE(stopped >= 2, "stopped after " << stopped << " s, before the delay");
  CHECK_MESSAGE(stopped < 5, "stopped after " << stopped << " s");
  CHECK(ConnectFrom("127.0.0.1", s.port(), milliseconds(500)) < 0);
  std::string log = ReadFile(s.log_file());
  CHECK_MESSAGE(log.find("\"shutdownDelaySeconds\":2") != std::string::npos, log);
  CHECK(log.find("\"msg\":\"stopped\"") != std::string::npos);
}

TEST_CASE("serve: a second SIGTERM during --shutdown-delay stops at once") {
  ConnectionEnv env;
  TestServer s(env.dir, env.ca, env.Args({"--shutdown-delay", "60"}));
  auto signalled = std::chrono::steady_clock::now();
  s.Signal(SIGTERM);
  std::this_thread::sleep_for(milliseconds(300));
  CHECK(ExchangeOnce("127.0.0.1", s.port(), env.ca.ca_cert, RequestText("GET", "/healthz")).status == 200);
  CHECK(s.Running());
  s.Signal(SIGTERM);
  CHECK(s.WaitExit(10) == 0);
  double stopped = std::chrono::duration<double>(std::chrono::steady_clock::now() - signalled).count();
  CHECK_MESSAGE(stopped < 5, "stopped after " << stopped << " s");
  CHECK(ReadFile(s.log_file()).find("\"msg\":\"stopping now\"") != std::string::npos);
}
