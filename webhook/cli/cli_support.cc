#include "webhook/cli/cli_support.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace provgate {

StatusOr<std::string> ReadInputFile(const std::string& path, size_t max_bytes) {
  std::string data;
  auto read_stream = [&](std::istream& in) -> Status {
    std::vector<char> buf(64 * 1024);
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      data.append(buf.data(), static_cast<size_t>(in.gcount()));
      if (data.size() > max_bytes) {
        return InvalidArgument(path + " is larger than " + std::to_string(max_bytes) + " bytes");
      }
    }
    if (in.bad()) return InvalidArgument("error reading " + path);
    return Status::Ok();
  };
  if (path == "-") {
    RETURN_IF_ERROR(read_stream(std::cin));
    return data;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read " + path);
  RETURN_IF_ERROR(read_stream(in));
  return data;
}

StatusOr<RegistryContext> MakeRegistryContext(const CommonOptions& o) {
  auto config = std::make_shared<RegistryConfig>();
  if (!o.registry_config.empty()) {
    ASSIGN_OR_RETURN(RegistryConfig loaded, RegistryConfig::Load(o.registry_config));
    config = std::make_shared<RegistryConfig>(std::move(loaded));
  }
  RegistryContext ctx;
  ctx.transport = std::make_unique<CurlTransport>();
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
