// Credentials from a docker config.json the way docker, cosign and crane
// read it (the CLI's default $DOCKER_CONFIG/config.json or
// ~/.docker/config.json): credHelpers[host], else credsStore, else auths.
// Credential helpers are programs `docker-credential-<name>` run with the
// argument `get`, the registry on stdin and {"Username","Secret"} JSON on
// stdout; they run when a host's credentials are first needed, and their
// answer is kept for the life of the object. Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "verifier/registry/registry_config.h"

namespace provgate {

// What a docker config.json says about credentials.
struct DockerConfigFile {
  std::map<std::string, Credentials> auths;          // canonical host -> credentials (ParseDockerConfig)
  std::string creds_store;                           // "credsStore": the helper for every host, or empty
  std::map<std::string, std::string> cred_helpers;   // "credHelpers": canonical host -> helper name
};

// Parses a whole docker config.json. Fails with InvalidArgument like
// ParseDockerConfig, and when credsStore or a credHelpers value is not a
// string, or names no valid helper (empty, or other than [A-Za-z0-9._-]:
// a helper name is part of a program name and never a path).
StatusOr<DockerConfigFile> ParseDockerConfigFile(std::string_view json);

// Runs a credential helper: `Get("desktop", "reg.example")` runs
// docker-credential-desktop get. Returns the credentials, nullopt when the
// helper has none for that server, or fails (PermissionDenied) naming the
// helper when it cannot be found, run or understood.
class CredentialHelperRunner {
 public:
  virtual ~CredentialHelperRunner() = default;
  virtual StatusOr<std::optional<Credentials>> Get(const std::string& helper, const std::string& server_url) = 0;
};

// The real runner: the program is looked up in $PATH (no shell), gets
// `server_url` on stdin and the environment of this process, must answer
// within `time_limit` with at most 64 KiB on stdout, and is killed
// otherwise. Its stderr is discarded (it may echo what it read). A
// "credentials not found" answer (exit status non-zero) is nullopt;
// Username "<token>" makes Secret an identity token, as docker reads it.
class ExecCredentialHelper : public CredentialHelperRunner {
 public:
  explicit ExecCredentialHelper(std::chrono::milliseconds time_limit = std::chrono::seconds(10))
      : time_limit_(time_limit) {}
  StatusOr<std::optional<Credentials>> Get(const std::string& helper, const std::string& server_url) override;

 private:
  std::chrono::milliseconds time_limit_;
};

// A CredentialSource over a parsed docker config. `origin` (the file's
// path) is named in errors.
class DockerCredentials : public CredentialSource {
 public:
  DockerCredentials(DockerConfigFile config, std::string origin, std::unique_ptr<CredentialHelperRunner> runner);

  // The credentials for `host` (canonical): from credHelpers[host], else
  // from credsStore, else from auths; nullopt when none has any. A helper's
  // failure is PermissionDenied naming the helper and `origin`; it is not
  // retried for that host.
  StatusOr<std::optional<Credentials>> Lookup(const std::string& host) const override;

 private:
  const DockerConfigFile config_;
  const std::string origin_;
  const std::unique_ptr<CredentialHelperRunner> runner_;
  mutable std::mutex mu_;
  mutable std::map<std::string, StatusOr<std::optional<Credentials>>> answers_;  // by host
};

}  // namespace provgate
