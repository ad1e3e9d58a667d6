// `provgate serve`: wires the real parts together and runs the admission
// server until SIGTERM or SIGINT.
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <atomic>
#include <thread>

#include "base/clock.h"
#include "base/encoding.h"
#include "webhook/server/admission_handler.h"
#include "webhook/server/admission_server.h"
#include "verifier/registry/curl_transport.h"
#include "webhook/cli/commands.h"  // ServeOptions and the exit codes: a header, no cli code
#include "webhook/cli/version.h"   // generated (top-level CMakeLists.txt): provgate_build_info

namespace provgate {
namespace {

std::string OwnNamespace() {
  if (const char* ns = std::getenv("POD_NAMESPACE"); ns && *ns) return ns;
  std::ifstream in("/var/run/secrets/kubernetes.io/serviceaccount/namespace");
  std::string ns;
  std::getline(in, ns);
  return ns;
}

int Fail(const Status& s) {
  std::fprintf(stderr, "provgate: %s\n", s.ToString().c_str());
  return kExitError;
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// Raises the soft limit on open files to the hard one: every connection is
// a descriptor, and the server holds thousands where the default soft limit
// is often 1024. Returns the soft limit now in force.
rlim_t RaiseOpenFileLimit() {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0) return 0;
  if (files.rlim_cur < files.rlim_max) {
    rlimit raised = files;
    raised.rlim_cur = files.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) files = raised;
  }
  return files.rlim_cur;
}

}  // namespace

int RunServe(const ServeOptions& o) {
  // glibc raises its mmap threshold to the size of each large block freed
  // (up to 32 MiB), after which attachment buffers of up to 16 MiB come from
  // the arenas of 16+ worker threads and stay there: serve's RSS grew by
  // ~100 MiB per round of 16 hostile artifacts, past the chart's 256 MiB
  // (bench/hostile_serve.sh). A fixed threshold hands every block above
  // 128 KiB back to the kernel when it is freed.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  ServerOptions so;
  auto colon = o.listen.rfind(':');
  if (colon == std::string::npos) return Fail(InvalidArgument("--listen must be ADDR:PORT"));
  so.host = o.listen.substr(0, colon);
  try {
    so.port = std::stoi(o.listen.substr(colon + 1));
  } catch (const std::exception&) {
    return Fail(InvalidArgument("--listen port is not a number"));
  }
  if (so.host.size() > 2 && so.host.front() == '[') so.host = so.host.substr(1, so.host.size() - 2);
  so.tls_cert = o.tls_cert;
  so.tls_key = o.tls_key;
  so.insecure_http = o.insecure_http;
  so.metrics_port = o.metrics_port == 0 ? -1 : o.metrics_port;
  HandlerOptions ho;
  ho.verify_timeout = std::chrono::milliseconds(static_cast<long long>(o.verify_timeout_seconds * 1000));
  // The stop waits for the slowest request in flight: one that has just
  // begun a verification, plus the time to write its answer.
  so.drain_timeout = ho.verify_timeout + std::chrono::seconds(2);
  so.shutdown_delay = std::chrono::milliseconds(static_cast<long long>(o.shutdown_delay_seconds * 1000));
  ho.decision.unmatched = o.unmatched == "deny" ? UnmatchedAction::kDeny : UnmatchedAction::kAllow;
  if (!o.model_annotations.empty()) ho.decision.model_annotations = SplitComma(o.model_annotations);
  if (o.require_digest) ho.decision.digest_requirement = DigestRequirement::kEveryPolicy;
  ho.pin_kinds.clear();
  for (auto& kind : SplitComma(o.pin_kinds)) {
    const auto& known = UnderstoodKindNames();
    if (std::find(known.begin(), known.end(), kind) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      return Fail(InvalidArgument("--pin-kinds: unknown kind " + Quote(kind) + " (kinds provgate reads: " + list + ")"));
    }
    ho.pin_kinds.insert(kind);
  }
  if (o.exclude_namespaces_set) {
    for (auto& ns : SplitComma(o.exclude_namespaces)) ho.exclude_namespaces.insert(ns);
  } else {
    ho.exclude_namespaces.insert("kube-system");
    if (auto own = OwnNamespace(); !own.empty()) ho.exclude_namespaces.insert(own);
  }

  // Block the stop signals in every thread; one thread waits for them. First
  // thing, before any thread starts (the log's flusher, the policy watcher,
  // the verification pool): a thread that does not block SIGTERM would take
  // it with the default action, ending the process without the drain.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // Decision lines are buffered for at most 100 ms (one write(2) per
  // admission otherwise); warnings and errors are written at once.
  JsonLog log(stderr, o.common.verbose, std::chrono::milliseconds(100));
  Metrics metrics(kVersion, kCommit);
  auto config = std::make_shared<RegistryConfig>();
  if (!o.common.registry_config.empty()) {
    auto loaded = RegistryConfig::Load(o.common.registry_config);
    if (!loaded.ok()) return Fail(loaded.status());
    config = std::make_shared<RegistryConfig>(std::move(*loaded));
  }
  SteadyClock clock;  // the one clock: caches, token lifetimes, certificate reloads
  CurlTransport transport;
  RegistryClient client(&transport, config, RegistryLimits{}, &metrics, &clock);
  VerificationService::Options vo;
  vo.cache_ttl = std::chrono::milliseconds(static_cast<long long>(o.cache_ttl_seconds * 1000));
  VerificationService verifier(client, clock, vo, &metrics);
  metrics.WatchVerifications(&verifier);
  PolicyStore policies(o.policies, &log, &metrics);
  policies.Reload();
  if (!policies.Current()) {
    log.Error("no valid policy set; /readyz answers 503 until the files are fixed", {{"error", policies.LastError()}});
  }
  policies.Watch(std::chrono::milliseconds(static_cast<long long>(o.reload_interval_seconds * 1000)));


  rlim_t open_files = RaiseOpenFileLimit();
  AdmissionHandler handler(ho, policies, verifier, metrics, log);
  AdmissionServer server(so, handler, metrics, clock);
  auto port = server.Bind();
  if (!port.ok()) return Fail(port.status());
  Json serving = {{"listen", so.host + ":" + std::to_string(*port)},
                  {"tls", !so.insecure_http},
                  {"verifyTimeoutSeconds", o.verify_timeout_seconds},
                  {"cacheTtlSeconds", o.cache_ttl_seconds},
                  {"pinKinds", ho.pin_kinds},
                  {"requireDigest", o.require_digest},
                  {"maxConnections", server.max_connections()},
                  {"maxConnectionsPerPeer", so.max_connections_per_peer},
                  {"openFileLimit", static_cast<unsigned long long>(open_files)}};
  if (server.metrics_port() > 0) serving["metricsListen"] = so.host + ":" + std::to_string(server.metrics_port());
  log.Info("serving", serving);
  std::atomic<bool> served{false};
  std::thread waiter([&] {
    // The first signal starts the stop (after --shutdown-delay); a second
    // one during the delay cuts it short.
    for (bool first = true;; first = false) {
      int sig = 0;
      sigwait(&stop_signals, &sig);
      if (served) return;  // woken by the main thread below
      if (first) {
        log.Info("stopping", {{"signal", sig},
                              {"shutdownDelaySeconds", so.shutdown_delay.count() / 1000.0},
                              {"drainTimeoutSeconds", so.drain_timeout.count() / 1000.0}});
      } else {
        log.Info("stopping now", {{"signal", sig}});
      }
      server.Stop();
    }
  });
  server.Serve();
  served = true;
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  log.Info("stopped");
  log.Flush();
  return kExitOk;
}

}  // namespace provgate
