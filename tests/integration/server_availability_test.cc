// `provgate serve` keeps answering while other clients hold connections
// open (docs/server.md#connections): 1,000 silent TCP connections, 100
// stalled halfway through the TLS handshake and 100 trickling a request a
// byte a second, from other peers; a peer past its connection budget; a
// server at its connection cap. Every measured exchange opens a connection
// of its own, from 127.0.0.1 (every 127.0.0.0/8 address is a peer of its
// own on loopback). Not a benchmark: the bound is generous, the answers
// take milliseconds, and took 9.5 s while one thread served each connection.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <regex>
#include <thread>

#include "tests/integration/connection_env.h"
#include "tests/integration/raw_client.h"
#include "tests/integration/test_server.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

constexpr double kAnswerBound = 1.0;  // seconds
using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

// `per_source` TCP connections from each address in `sources`.
std::vector<int> OpenIdle(const std::vector<std::string>& sources, size_t per_source, int port) {
  std::vector<int> fds;
  for (const auto& source : sources) {
    for (size_t i = 0; i < per_source; ++i) {
      int fd = ConnectFrom(source, port);
      if (fd < 0) return fds;
      fds.push_back(fd);
    }
  }
  return fds;
}

void CloseAll(std::vector<int>& fds) {
  for (int fd : fds) close(fd);
  fds.clear();
}

size_t CountClosed(const std::vector<int>& fds) {
  size_t n = 0;
  for (int fd : fds) n += PeerClosed(fd, milliseconds(0)) ? 1 : 0;
  return n;
}

// Waits until every connection in `fds` is closed by the server, up to `until`.
bool AllClosedBy(const std::vector<int>& fds, Steady::time_point until) {
  for (int fd : fds) {
    auto left = std::chrono::duration_cast<milliseconds>(until - Steady::now());
    if (!PeerClosed(fd, std::max(left, milliseconds(0)))) return false;
  }
  return true;
}

// The value of `series` in the Prometheus text `metrics`, -1 when absent.
double Metric(const std::string& metrics, const std::string& series) {
  size_t at = metrics.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(metrics.substr(at + series.size() + 2));
}

// A number from the server's "serving" log line, once the log's flusher
// has written it (within 100 ms).
long ServingField(const TestServer& s, const std::string& field) {
  std::regex number("\"" + field + "\":([0-9]+)");
  for (int i = 0; i < 50; ++i) {
    std::smatch m;
    std::string log = ReadFile(s.log_file());
    if (std::regex_search(log, m, number)) return std::stol(m[1]);
    std::this_thread::sleep_for(milliseconds(50));
  }
  return -1;
}

struct Probe {
  const TestServer& server;
  const ConnectionEnv& env;
  std::string source = "127.0.0.1";

  // /healthz and a /validate that needs no registry, each on a fresh
  // connection: both answered, both within kAnswerBound.
  void Check(const std::string& when) const {
    CAPTURE(when);
    double seconds = 0;
    auto health = ExchangeOnce(source, server.port(), env.ca.ca_cert, RequestText("GET", "/healthz"), &seconds);
    CHECK(health.status == 200);
    CHECK(health.body == "ok\n");
    CHECK_MESSAGE(seconds < kAnswerBound, "/healthz took " << seconds << " s " << when);
    auto review = ExchangeOnce(source, server.port(), env.ca.ca_cert,
                               RequestText("POST", "/validate", UnmatchedPodReview("uid-" + source)), &seconds);
    CHECK(review.status == 200);
    CHECK_MESSAGE(review.body.find("\"allowed\":true") != std::string::npos, review.body);
    CHECK_MESSAGE(seconds < kAnswerBound, "/validate took " << seconds << " s " << when);
  }
  std::string Metrics() const {
    return ExchangeOnce(source, server.port(), env.ca.ca_cert, RequestText("GET", "/metrics")).body;
  }
};

}  // namespace

TEST_CASE("serve: answers within a second while 1,000 idle, 100 half-handshake and 100 trickling connections are held") {
  size_t files = PrepareForManyConnections();
  if (files < 2000) {
    MESSAGE("skipped: RLIMIT_NOFILE hard limit " << files << " is below the 2,000 connections this needs");
    return;
  }
  ConnectionEnv env;
  TestServer s(env.dir, env.ca, env.Args());
  Probe probe{s, env};
  probe.Check("before any load");

  // Silent TCP connections from four peers, 250 each.
  auto opened = Steady::now();
  std::vector<int> idle = OpenIdle({"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"}, 250, s.port());
  REQUIRE(idle.size() == 1000);
  probe.Check("with 1,000 idle connections");

  // Half a ClientHello each, then nothing.
  std::vector<int> half = OpenIdle({"127.0.0.6"}, 100, s.port());
  REQUIRE(half.size() == 100);
  for (int fd : half) REQUIRE(SendHalfClientHello(fd));
  probe.Check("with 1,000 idle and 100 half-handshake connections");

  // Complete TLS handshakes, then a request trickled a byte a second.
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 100; ++i) {
    auto c = RawConnection::Open("127.0.0.7", s.port(), env.ca.ca_cert);
    REQUIRE_MESSAGE(c, "TLS connection " << i << " failed");
    slow.push_back(std::move(c));
  }
  std::string trickled = RequestText("POST", "/validate", UnmatchedPodReview("slowloris"));
  // The trickling thread owns the connections until it is joined: it also
  // notes when the server closed each one.
  std::vector<bool> closed(slow.size(), false);
  auto trickle_start = Steady::now();
  auto trickle_until = trickle_start + std::chrono::seconds(13);
  std::thread trickler([&] {
    for (size_t at = 0; at < trickled.size() && Steady::now() < trickle_until; ++at) {
      size_t open = 0;
      for (size_t i = 0; i < slow.size(); ++i) {
        if (closed[i]) continue;
        if (slow[i]->PeerClosed(milliseconds(0)) || !slow[i]->Write(trickled.substr(at, 1))) {
          closed[i] = true;
        } else {
          ++open;
        }
      }
      if (open == 0) return;
      std::this_thread::sleep_for(milliseconds(1000));
    }
  });

  for (int round = 0; round < 3; ++round) {
    probe.Check("with 1,200 connections held, round " + std::to_string(round));
    std::this_thread::sleep_for(milliseconds(500));
  }
  std::string metrics = probe.Metrics();
  // Some of the first idle ones may be gone already (the handshake deadline).
  CHECK_MESSAGE(Metric(metrics, "provgate_http_connections") >= 1100,
                metrics.substr(std::min(metrics.find("provgate_http"), metrics.size())));

  // Silent and stalled connections are closed at the handshake deadline (5 s).
  CHECK(AllClosedBy(idle, opened + std::chrono::seconds(8)));
  CHECK(AllClosedBy(half, opened + std::chrono::seconds(8)));
  // A trickled request is closed at the request deadline (10 s from its
  // first byte), however long the client would keep trickling.
  trickler.join();
  CHECK(std::count(closed.begin(), closed.end(), true) == static_cast<long>(slow.size()));
  CHECK(Steady::now() < trickle_until);

  metrics = probe.Metrics();
  CHECK(Metric(metrics, "provgate_http_connections_closed_total{reason=\"handshake-timeout\"}") >= 1100);
  CHECK(Metric(metrics, "provgate_http_connections_closed_total{reason=\"request-timeout\"}") >= 100);
  probe.Check("after the load");
  CloseAll(idle);
  CloseAll(half);
  CHECK(s.Running());
}

TEST_CASE("serve: a peer's connections past its budget are closed at once, while another peer is served") {
  size_t files = PrepareForManyConnections();
  ConnectionEnv env;
  TestServer s(env.dir, env.ca, env.Args());
  long budget = ServingField(s, "maxConnectionsPerPeer");
  REQUIRE(budget > 0);
  if (files < static_cast<size_t>(budget) + 200) {
    MESSAGE("skipped: RLIMIT_NOFILE hard limit " << files << " is too low for a budget of " << budget);
    return;
  }
  std::vector<int> greedy = OpenIdle({"127.0.0.9"}, static_cast<size_t>(budget) + 50, s.port());
  REQUIRE(greedy.size() == static_cast<size_t>(budget) + 50);
  std::this_thread::sleep_for(milliseconds(1000));  // well before the 5 s handshake deadline
  // The server accepts in connect order: the first `budget` stay open.
  std::vector<int> within(greedy.begin(), greedy.begin() + budget), past(greedy.begin() + budget, greedy.end());
  CHECK(CountClosed(within) == 0);
  CHECK(CountClosed(past) == 50);
  // One more from that peer is closed at once; another peer is served.
  int more = ConnectFrom("127.0.0.9", s.port());
  CHECK(PeerClosed(more, milliseconds(1000)));
  close(more);
  Probe other{s, env, "127.0.0.10"};
  other.Check("with 127.0.0.9 at its budget");
  std::string metrics = other.Metrics();
  CHECK(Metric(metrics, "provgate_http_connections_closed_total{reason=\"peer-limit\"}") == 51);
  CloseAll(greedy);
}

TEST_CASE("serve: at the connection cap a newcomer evicts an idle connection of the largest peer") {
  size_t files = PrepareForManyConnections();
  ConnectionEnv env;
  TestServer s(env.dir, env.ca, env.Args());
  long cap = ServingField(s, "maxConnections"), budget = ServingField(s, "maxConnectionsPerPeer");
  REQUIRE(cap > 0);
  REQUIRE(budget > 0);
  if (files < static_cast<size_t>(cap) + 200) {
    MESSAGE("skipped: RLIMIT_NOFILE hard limit " << files << " is too low to fill a cap of " << cap);
    return;
  }
  // What is open already (TestServer's own client keeps a connection
  // alive), less the connection that asks.
  std::string before = ExchangeOnce("127.0.0.1", s.port(), env.ca.ca_cert, RequestText("GET", "/metrics")).body;
  long open = static_cast<long>(Metric(before, "provgate_http_connections")) - 1;
  REQUIRE(open >= 0);
  std::this_thread::sleep_for(milliseconds(100));  // the asking connection is gone
  // Fill the table from as few peers as the budget allows, all idle.
  std::vector<int> fill;
  for (int peer = 11; open + static_cast<long>(fill.size()) < cap; ++peer) {
    size_t n = static_cast<size_t>(std::min<long>(budget, cap - open - static_cast<long>(fill.size())));
    auto more = OpenIdle({"127.0.0." + std::to_string(peer)}, n, s.port());
    REQUIRE(more.size() == n);
    fill.insert(fill.end(), more.begin(), more.end());
  }
  std::this_thread::sleep_for(milliseconds(300));
  CHECK(CountClosed(fill) == 0);
  // A peer with no connection gets one: an idle one of a larger peer goes.
  double seconds = 0;
  auto health = ExchangeOnce("127.0.0.30", s.port(), env.ca.ca_cert, RequestText("GET", "/healthz"), &seconds);
  CHECK(health.status == 200);
  CHECK(seconds < kAnswerBound);
  std::this_thread::sleep_for(milliseconds(300));
  CHECK(CountClosed(fill) == 1);
  std::string metrics = ExchangeOnce("127.0.0.31", s.port(), env.ca.ca_cert, RequestText("GET", "/metrics")).body;
  // 1, or 2 when the /healthz connection was still counted as this one came.
  CHECK(Metric(metrics, "provgate_http_connections_closed_total{reason=\"connection-limit\"}") >= 1);
  CloseAll(fill);
}
