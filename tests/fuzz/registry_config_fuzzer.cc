// RegistryConfig::Parse (--registry-config YAML) and ParseDockerConfig
// (config.json) over "<yaml>\n%%\n<json>". A YAML "@DOCKERCONFIG@" names a
// file holding the JSON part, so credentials are read through the config.
// Invariants (verifier/registry/registry_config.h): docker config hosts are
// canonical and carry a user or a token; ForHost answers in the canonical
// spelling; loopback hosts default to plain HTTP.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "tests/fuzz/fuzz_target.h"
#include "verifier/registry/registry_config.h"
#include "verifier/registry_host.h"

using namespace provgate;
using provgate::fuzz::FuzzCheck;

namespace {

const std::string& DockerConfigPath() {
  static const std::string path = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string p = std::string(tmp && *tmp ? tmp : "/tmp") + "/provgate-fuzz-docker-XXXXXX";
    int fd = mkstemp(p.data());
    FuzzCheck(fd >= 0, "cannot create a temporary file");
    close(fd);
    return p;
  }();
  return path;
}

void CheckHost(const RegistryConfig& cfg, const std::string& host) {
  auto canonical = CanonicalRegistryHost(host);
  RegistryHostConfig h = cfg.ForHost(host);
  if (canonical.ok()) {
    FuzzCheck(h.host == *canonical, "ForHost does not answer in the canonical spelling: " + h.host);
    FuzzCheck(cfg.ForHost(*canonical).host == h.host, "two spellings of one host get different settings");
  }
  (void)cfg.CredentialsFor(host);
}

}  // namespace

PROVGATE_FUZZ_TARGET(registry_config) {
  std::string yaml(input);
  std::string json;
  if (auto sep = yaml.find("\n%%\n"); sep != std::string::npos) {
    json = yaml.substr(sep + 4);
    yaml.resize(sep);
  }
  auto creds = ParseDockerConfig(json);
  if (creds.ok()) {
    for (const auto& [host, c] : *creds) {
      auto canonical = CanonicalRegistryHost(host);
      FuzzCheck(canonical.ok() && *canonical == host, "a docker config host is not canonical: " + host);
      FuzzCheck(!c.username.empty() || !c.identity_token.empty(), "credentials without user or token");
    }
  }
  const std::string placeholder = "@DOCKERCONFIG@";
  if (auto at = yaml.find(placeholder); at != std::string::npos) {
    std::ofstream(DockerConfigPath(), std::ios::binary | std::ios::trunc) << json;
    yaml.replace(at, placeholder.size(), DockerConfigPath());
  }
  auto cfg = RegistryConfig::Parse(yaml, "fuzz.yaml");
  if (!cfg.ok()) {
    FuzzCheck(cfg.status().code() == StatusCode::kInvalidArgument, "unexpected status " + cfg.status().ToString());
    return;
  }
  for (const char* host : {"docker.io", "index.docker.io", "127.0.0.1:5000", "localhost", "[::1]:5000",
                           "registry.example.com", "Registry.Example.COM:0443", "acme"}) {
    CheckHost(*cfg, host);
  }
  if (creds.ok()) {
    for (const auto& [host, c] : *creds) CheckHost(*cfg, host);
  }
  // The first line of the YAML as a host, in any spelling the fuzzer finds.
  CheckHost(*cfg, yaml.substr(0, yaml.find('\n')));
  RegistryConfig empty;
  FuzzCheck(empty.ForHost("127.0.0.1:5000").insecure && !empty.ForHost("registry.example.com").insecure,
            "loopback defaults changed");
  (void)IsLoopbackHost(yaml);
}
