// Per-registry settings (docs/registries.md --registry-config) and credentials from
// docker config.json files. Immutable after loading; thread-safe to read.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace provgate {

struct Credentials {
  std::string username;
  std::string password;
  std::string identity_token;  // OAuth2 refresh token (config.json "identitytoken")
};

// Where credentials come from for hosts the config names none for (the
// CLI's default docker config and its credential helpers:
// docker_credentials.h). Implementations must be thread-safe.
class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  // Credentials for `host` (canonical), nullopt when there are none; fails
  // when they could not be obtained (a credential helper is missing).
  virtual StatusOr<std::optional<Credentials>> Lookup(const std::string& host) const = 0;
};

struct RegistryHostConfig {
  std::string host;         // canonical "host" or "host:port" (CanonicalRegistryHost)
  bool insecure = false;    // plain HTTP (loopback/test registries only)
  std::string ca_file;      // extra CA bundle for TLS
  std::string docker_config;  // path of a docker config.json with `auths`
};

class RegistryConfig {
 public:
  RegistryConfig() = default;

  // Parses the YAML of --registry-config. Unknown keys, wrong types and a
  // duplicate host are InvalidArgument with file:line:column. dockerConfig
  // files are read and parsed now, so credentials errors surface at start.
  static StatusOr<RegistryConfig> Parse(std::string_view yaml, const std::string& file_name);
  // Reads and parses `path`.
  static StatusOr<RegistryConfig> Load(const std::string& path);

  // Settings for `host`, in any spelling (looked up canonically:
  // CanonicalRegistryHost). Hosts not configured get TLS with the system
  // CAs, anonymous access -- except loopback hosts (127.0.0.0/8, [::1],
  // localhost), which default to plain HTTP as Docker treats them.
  RegistryHostConfig ForHost(const std::string& host) const;
  // Credentials for `host` (any spelling) from its dockerConfig, if any.
  std::optional<Credentials> CredentialsFor(const std::string& host) const;
  // What the registry client sends: CredentialsFor(host) when the config
  // has credentials for it or names a dockerConfig for it; else the
  // fallback source's answer (nullopt without one). Fails as the source does.
  StatusOr<std::optional<Credentials>> LookupCredentials(const std::string& host) const;

  // Adds or replaces a host entry, keyed canonically (used by the CLI for
  // --insecure-registry style flags and tests).
  void SetHost(RegistryHostConfig cfg);
  // Adds credentials for a host (any spelling) directly.
  void SetCredentials(const std::string& host, Credentials c);
  // The source asked for hosts without configured credentials (null: none).
  void SetFallbackCredentials(std::shared_ptr<const CredentialSource> source);

 private:
  std::map<std::string, RegistryHostConfig> hosts_;
  std::map<std::string, Credentials> credentials_;  // keyed by host
  std::shared_ptr<const CredentialSource> fallback_;
};

// True for "127.x.y.z[:port]", "localhost[:port]" and "[::1][:port]".
bool IsLoopbackHost(const std::string& host_port);

// Parses a docker config.json `auths` map: keys may be "host", "host:port",
// or URLs ("https://index.docker.io/v1/"), in any spelling; `auth` is
// base64("user:password"), split at the first ':'. Returns canonical host
// -> credentials; keys that name no valid host are skipped, and two keys
// naming one registry with different credentials are InvalidArgument.
StatusOr<std::map<std::string, Credentials>> ParseDockerConfig(std::string_view json);

}  // namespace provgate
