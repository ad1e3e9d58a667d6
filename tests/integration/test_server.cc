#include "tests/integration/test_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <thread>

namespace provgate::testing {

TestServer::TestServer(const TempDir& dir, const TestCa& ca, std::vector<std::string> args) : ca_(ca) {
  port_ = FreePort();
  log_ = dir.File("provgate-" + std::to_string(port_) + ".log");
  const char* binary = std::getenv("PROVGATE_TEST_SERVE_BINARY");
  std::vector<std::string> argv = {binary && *binary ? binary : PROVGATE_BINARY,
                                   "serve",
                                   "--listen",
                                   "127.0.0.1:" + std::to_string(port_),
                                   "--tls-cert",
                                   ca.server_cert,
                                   "--tls-key",
                                   ca.server_key,
                                   "--policy-reload-interval",
                                   "0.2"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::fflush(stdout);
  std::fflush(stderr);
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  bool up = WaitFor("/healthz", [](const HttpResponse& r) { return r.status == 200; }, 10);
  if (!up) throw std::runtime_error("provgate serve did not come up; log:\n" + ReadFile(log_));
}

TestServer::~TestServer() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

bool TestServer::Running() { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }

void TestServer::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

int TestServer::WaitExit(double seconds) {
  if (pid_ <= 0) return -1;
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  for (;;) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;  // reaped: the destructor has nothing left to stop
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() >= until) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string TestServer::Url(const std::string& path) const {
  return "https://127.0.0.1:" + std::to_string(port_) + path;
}

HttpResponse TestServer::Post(const std::string& path, const std::string& body) {
  HttpRequest req;
  req.method = "POST";
  req.url = Url(path);
  req.headers.emplace_back("Content-Type", "application/json");
  req.body = body;
  req.ca_file = ca_.ca_cert;
  req.max_response_bytes = 8 << 20;
  req.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto r = transport_.Send(req);
  if (!r.ok()) return HttpResponse{0, {}, r.status().ToString()};
  return *r;
}

HttpResponse TestServer::Get(const std::string& path) {
  HttpRequest req;
  req.url = Url(path);
  req.ca_file = ca_.ca_cert;
  req.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto r = transport_.Send(req);
  if (!r.ok()) return HttpResponse{0, {}, r.status().ToString()};
  return *r;
}

bool TestServer::WaitFor(const std::string& path, const std::function<bool(const HttpResponse&)>& pred,
                         double seconds) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  while (std::chrono::steady_clock::now() < until) {
    if (pred(Get(path))) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace provgate::testing
