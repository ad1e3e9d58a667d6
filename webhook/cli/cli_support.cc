#include "webhook/cli/cli_support.h"

#include "base/file.h"
#include "verifier/registry/curl_transport.h"
#include "verifier/registry/oci_layout_transport.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace provgate {

StatusOr<std::string> ReadInputFile(const std::string& path, size_t max_bytes) {
  if (path != "-") {
    auto text = ReadFileBounded(path, max_bytes);
    if (!text.ok()) return InvalidArgument("cannot read " + path + ": " + text.status().message());
    return text;
  }
  std::string data;
  std::vector<char> buf(64 * 1024);
  while (std::cin) {
    std::cin.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    data.append(buf.data(), static_cast<size_t>(std::cin.gcount()));
    if (data.size() > max_bytes) return InvalidArgument("standard input is larger than " + std::to_string(max_bytes) + " bytes");
  }
  if (std::cin.bad()) return InvalidArgument("error reading standard input");
  return data;
}

StatusOr<RegistryContext> MakeRegistryContext(const CommonOptions& o, bool create_layout) {
  auto config = std::make_shared<RegistryConfig>();
  if (!o.registry_config.empty()) {
    ASSIGN_OR_RETURN(RegistryConfig loaded, RegistryConfig::Load(o.registry_config));
    config = std::make_shared<RegistryConfig>(std::move(loaded));
  }
  RegistryContext ctx;
  if (!o.oci_layout.empty()) {
    ASSIGN_OR_RETURN(ctx.transport, OciLayoutTransport::Open(o.oci_layout, create_layout));
  } else {
    ctx.transport = std::make_unique<CurlTransport>();
  }
  ctx.client = std::make_unique<RegistryClient>(ctx.transport.get(), config);
  ctx.deadline = std::chrono::steady_clock::now() +
                 std::chrono::milliseconds(static_cast<long long>(o.timeout_seconds * 1000));
  return ctx;
}

int FailInput(const Status& s) {
  std::fprintf(stderr, "provgate: %s\n", s.ToString().c_str());
  return kExitError;
}

std::string KeyPasswordFromEnv() {
  for (const char* name : {"PROVGATE_PASSWORD", "COSIGN_PASSWORD"}) {
    if (const char* v = std::getenv(name)) return v;
  }
  return "";
}

}  // namespace provgate
