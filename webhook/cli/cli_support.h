// Helpers shared by the CLI subcommands: reading input files with bounds,
// building the registry client from --registry-config. Not thread-safe
// beyond what the returned objects document.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/status.h"
#include "verifier/registry/http_transport.h"
#include "verifier/registry/registry_client.h"
#include "webhook/cli/commands.h"

namespace provgate {

// Reads a whole file (or stdin for "-"), failing with InvalidArgument when it
// cannot be read or is larger than `max_bytes`.
StatusOr<std::string> ReadInputFile(const std::string& path, size_t max_bytes);

// The registry client the CLI uses: CurlTransport, or with --oci-layout an
// OciLayoutTransport for every host, + the registry config.
struct RegistryContext {
  std::unique_ptr<HttpTransport> transport;
  std::unique_ptr<RegistryClient> client;
  Deadline deadline;
};
// `create_layout`: a missing or empty --oci-layout directory becomes a new
// layout (push); otherwise it must be one. Hosts of --allow-insecure-registry
// speak plain HTTP; hosts without configured credentials take them from the
// default docker config (DefaultDockerConfigPath, unless
// !o.default_docker_config or with --oci-layout). Fails with InvalidArgument
// on a bad registry config, layout (oci_layout_transport.h), insecure host or
// docker config.
StatusOr<RegistryContext> MakeRegistryContext(const CommonOptions& o, bool create_layout = false);

// $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json; "" when
// neither variable is set.
std::string DefaultDockerConfigPath();

// Prints "provgate: <message>" to stderr and returns kExitError.
int FailInput(const Status& s);
// The same, and with `output` "json" also {"error": "<message>"} on stdout,
// so that a script reading -o json always gets JSON.
int FailInput(const Status& s, const std::string& output);

// The files `-f` values name, as kubectl reads them: each value may be a
// comma-separated list; "-" is stdin; a directory stands for its *.yaml,
// *.yml and *.json files in name order (its subdirectories' too when
// `recursive`). Fails with InvalidArgument for a path that does not exist
// or a directory holding no such file.
StatusOr<std::vector<std::string>> ExpandManifestPaths(const std::vector<std::string>& values, bool recursive);

// The cosign key password from PROVGATE_PASSWORD or COSIGN_PASSWORD (empty if unset).
std::string KeyPasswordFromEnv();

}  // namespace provgate
