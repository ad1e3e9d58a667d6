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
// layout (push); otherwise it must be one. Fails with InvalidArgument on a
// bad registry config or layout (oci_layout_transport.h).
StatusOr<RegistryContext> MakeRegistryContext(const CommonOptions& o, bool create_layout = false);

// Prints "provgate: <message>" to stderr and returns kExitError.
int FailInput(const Status& s);

// The cosign key password from PROVGATE_PASSWORD or COSIGN_PASSWORD (empty if unset).
std::string KeyPasswordFromEnv();

}  // namespace provgate
