#include "verifier/registry/docker_credentials.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/encoding.h"
#include "base/json_util.h"
#include "verifier/registry_host.h"

extern char** environ;

namespace provgate {
namespace {

constexpr size_t kMaxHelperOutput = 64 << 10;

bool ValidHelperName(const std::string& name) {
  if (name.empty() || name.size() > 100) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    if (!ok) return false;
  }
  return name != "." && name != "..";
}

// `program` in a directory of $PATH, executable; "" when there is none.
std::string FindInPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t colon = dirs.find(':', start);
    std::string dir = dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return "";
}

// Writes all of `data` to `fd` without letting a helper that exited early
// kill us with SIGPIPE: the signal is blocked in this thread while writing,
// and one it raised is taken before the mask is restored.
bool WriteAllNoSigpipe(int fd, const std::string& data) {
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  size_t done = 0;
  bool ok = true;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      if (errno == EPIPE) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, nullptr, &zero);
      }
      break;
    }
    done += static_cast<size_t>(n);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return ok;
}

}  // namespace

StatusOr<DockerConfigFile> ParseDockerConfigFile(std::string_view json) {
  DockerConfigFile out;
  ASSIGN_OR_RETURN(out.auths, ParseDockerConfig(json));
  ASSIGN_OR_RETURN(Json j, ParseJson(json, "docker config"));
  if (j.contains("credsStore")) {
    const Json& store = j["credsStore"];
    if (!store.is_string()) return InvalidArgument("docker config: credsStore is not a string");
    out.creds_store = store.get<std::string>();
    // An empty credsStore is how `docker logout` leaves some files: no store.
    if (!out.creds_store.empty() && !ValidHelperName(out.creds_store)) {
      return InvalidArgument("docker config: credsStore " + Quote(out.creds_store) + " is not a credential helper name");
    }
  }
  if (j.contains("credHelpers")) {
    const Json& helpers = j["credHelpers"];
    if (!helpers.is_object()) return InvalidArgument("docker config: credHelpers is not an object");
    for (auto it = helpers.begin(); it != helpers.end(); ++it) {
      if (!it.value().is_string() || !ValidHelperName(it.value().get<std::string>())) {
        return InvalidArgument("docker config: credHelpers " + Quote(it.key()) + " does not name a credential helper");
      }
      // Keys are hosts, as in auths (docker writes "gcr.io", sometimes a URL).
      std::string_view key = it.key();
      for (std::string_view scheme : {"https://", "http://"}) {
        if (key.substr(0, scheme.size()) == scheme) key.remove_prefix(scheme.size());
      }
      auto host = CanonicalRegistryHost(key.substr(0, key.find('/')));
      if (!host.ok()) continue;  // names no registry: applies to nothing
      out.cred_helpers[*host] = it.value().get<std::string>();
    }
  }
  return out;
}

StatusOr<std::optional<Credentials>> ExecCredentialHelper::Get(const std::string& helper,
                                                                const std::string& server_url) {
  const std::string program = "docker-credential-" + helper;
  if (!ValidHelperName(helper)) return PermissionDenied("invalid credential helper name " + Quote(helper));
  const std::string path = FindInPath(program);
  if (path.empty()) return PermissionDenied("credential helper " + program + " not found in $PATH");

  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return PermissionDenied("cannot run " + program + ": " + std::strerror(errno));
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return PermissionDenied("cannot run " + program + ": " + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  std::string arg0 = program, arg1 = "get";
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = -1;
  int rc = posix_spawn(&pid, path.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    return PermissionDenied("cannot run " + path + ": " + std::strerror(rc));
  }
  WriteAllNoSigpipe(in[1], server_url);  // a helper that does not read is judged by its answer
  close(in[1]);

  std::string output;
  bool too_long = false, timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + time_limit_;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p = {out[0], POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      timed_out = ready == 0;
      break;
    }
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buf, static_cast<size_t>(n));
    if (output.size() > kMaxHelperOutput) {
      too_long = true;
      break;
    }
  }
  close(out[0]);
  if (timed_out || too_long) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return PermissionDenied(program + " get did not answer within " + std::to_string(time_limit_.count()) + " ms");
  }
  if (too_long) return PermissionDenied(program + " get wrote more than " + std::to_string(kMaxHelperOutput) + " bytes");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    // The docker-credential-helpers protocol: "credentials not found in
    // native keychain" on stdout and a non-zero exit mean no credentials.
    if (output.find("credentials not found") != std::string::npos) return std::optional<Credentials>();
    // The output is not quoted: a failing helper may echo what it holds.
    return PermissionDenied(program + " get failed (" +
                            (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                               : std::string("killed by a signal")) +
                            ")");
  }
  auto j = ParseJson(output, "credential helper output", 8);
  if (!j.ok() || !j->is_object() || !j->contains("Username") || !(*j)["Username"].is_string() ||
      !j->contains("Secret") || !(*j)["Secret"].is_string()) {
    return PermissionDenied(program + " get did not answer JSON with Username and Secret strings");
  }
  Credentials c;
  const std::string user = (*j)["Username"].get<std::string>();
  const std::string secret = (*j)["Secret"].get<std::string>();
  if (user == "<token>") {
    c.identity_token = secret;  // docker's marker for an identity (refresh) token
  } else {
    c.username = user;
    c.password = secret;
  }
  if (c.username.empty() && c.identity_token.empty()) return std::optional<Credentials>();
  return std::optional<Credentials>(std::move(c));
}

DockerCredentials::DockerCredentials(DockerConfigFile config, std::string origin,
                                     std::unique_ptr<CredentialHelperRunner> runner)
    : config_(std::move(config)), origin_(std::move(origin)), runner_(std::move(runner)) {}

StatusOr<std::optional<Credentials>> DockerCredentials::Lookup(const std::string& host) const {
  std::string helper;
  const char* which = "";
  if (auto it = config_.cred_helpers.find(host); it != config_.cred_helpers.end()) {
    helper = it->second;
    which = "credHelpers";
  } else if (!config_.creds_store.empty()) {
    helper = config_.creds_store;
    which = "credsStore";
  } else {
    auto a = config_.auths.find(host);
    if (a == config_.auths.end()) return std::optional<Credentials>();
    return std::optional<Credentials>(a->second);
  }
  // One helper run per host, whoever asks: the answer, or its failure.
  std::lock_guard<std::mutex> l(mu_);
  if (auto it = answers_.find(host); it != answers_.end()) return it->second;
  // Docker keys Docker Hub's credentials by its v1 index URL.
  const std::string server = host == kDockerHubHost ? "https://index.docker.io/v1/" : host;
  StatusOr<std::optional<Credentials>> got = runner_->Get(helper, server);
  if (!got.ok()) {
    got = PermissionDenied("credentials for " + host + " (" + which + " of " + origin_ + "): " + got.status().message());
  }
  answers_.emplace(host, got);
  return got;
}

}  // namespace provgate
