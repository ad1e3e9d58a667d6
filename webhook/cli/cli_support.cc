#include "webhook/cli/cli_support.h"

#include "base/encoding.h"
#include "base/file.h"
#include "base/json_util.h"
#include "verifier/registry/curl_transport.h"
#include "verifier/registry/docker_credentials.h"
#include "verifier/registry/oci_layout_transport.h"
#include "verifier/registry/request_log_transport.h"
#include "verifier/registry_host.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
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

std::string DefaultDockerConfigPath() {
  // As docker, cosign and crane find it: $DOCKER_CONFIG names the directory.
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir && *dir) return std::string(dir) + "/config.json";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.docker/config.json";
  return "";
}

namespace {

// --allow-insecure-registry HOST: plain HTTP to HOST, keeping what the
// registry config says about it otherwise (its dockerConfig, say).
Status AllowInsecure(RegistryConfig* config, const std::string& written) {
  if (written.find('/') != std::string::npos) {
    return InvalidArgument("--allow-insecure-registry takes a registry host (HOST or HOST:PORT), not " +
                           Quote(written) + " (unlike cosign's, it names the one host allowed plain HTTP)");
  }
  auto host = CanonicalRegistryHost(written);
  if (!host.ok()) return InvalidArgument("--allow-insecure-registry " + Quote(written) + ": " + host.status().message());
  RegistryHostConfig h = config->ForHost(*host);
  h.insecure = true;
  config->SetHost(std::move(h));
  return Status::Ok();
}

// The default docker config's credentials, when the file exists.
Status UseDefaultDockerConfig(RegistryConfig* config) {
  const std::string path = DefaultDockerConfigPath();
  std::error_code ec;
  if (path.empty() || !std::filesystem::exists(path, ec)) return Status::Ok();
  ASSIGN_OR_RETURN(std::string text, ReadInputFile(path, 1 << 20));
  auto parsed = ParseDockerConfigFile(text);
  if (!parsed.ok()) return parsed.status().WithPrefix(path);
  config->SetFallbackCredentials(
      std::make_shared<DockerCredentials>(std::move(*parsed), path, std::make_unique<ExecCredentialHelper>()));
  return Status::Ok();
}

}  // namespace

StatusOr<RegistryContext> MakeRegistryContext(const CommonOptions& o, bool create_layout) {
  auto config = std::make_shared<RegistryConfig>();
  if (!o.registry_config.empty()) {
    ASSIGN_OR_RETURN(RegistryConfig loaded, RegistryConfig::Load(o.registry_config));
    config = std::make_shared<RegistryConfig>(std::move(loaded));
  }
  for (const auto& host : o.insecure_registries) RETURN_IF_ERROR(AllowInsecure(config.get(), host));
  if (o.default_docker_config && o.oci_layout.empty()) RETURN_IF_ERROR(UseDefaultDockerConfig(config.get()));
  RegistryContext ctx;
  if (!o.oci_layout.empty()) {
    ASSIGN_OR_RETURN(ctx.transport, OciLayoutTransport::Open(o.oci_layout, create_layout));
  } else {
    ctx.transport = std::make_unique<CurlTransport>();
  }
  if (o.verbose) {
    // -v: every request, answered by a registry or by the layout, one line
    // each on stderr (one fprintf per line: lines of parallel requests do
    // not interleave).
    ctx.transport = std::make_unique<RequestLogTransport>(std::move(ctx.transport), [](const std::string& line) {
      std::fprintf(stderr, "provgate: registry: %s\n", line.c_str());
    });
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

int FailInput(const Status& s, const std::string& output) {
  if (output == "json") {
    Json j = {{"error", s.ToString()}};
    std::printf("%s\n", j.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
  }
  return FailInput(s);
}

StatusOr<std::vector<std::string>> ExpandManifestPaths(const std::vector<std::string>& values, bool recursive) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  auto manifest_file = [](const fs::path& p) {
    const std::string ext = p.extension().string();
    return ext == ".yaml" || ext == ".yml" || ext == ".json";
  };
  for (const auto& value : values) {
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      std::string path = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      start = comma == std::string::npos ? value.size() + 1 : comma + 1;
      if (path.empty()) continue;
      std::error_code ec;
      if (path == "-" || !fs::is_directory(path, ec)) {
        if (path != "-" && !fs::exists(path, ec)) return InvalidArgument("-f " + path + ": no such file or directory");
        out.push_back(path);
        continue;
      }
      std::vector<std::string> found;
      auto add = [&](const fs::directory_entry& e) {
        std::error_code fec;
        if (e.is_regular_file(fec) && manifest_file(e.path())) found.push_back(e.path().string());
      };
      if (recursive) {
        for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec)) {
          add(*it);
        }
      } else {
        for (auto it = fs::directory_iterator(path, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
          add(*it);
        }
      }
      if (ec) return InvalidArgument("-f " + path + ": cannot read the directory: " + ec.message());
      if (found.empty()) {
        return InvalidArgument("-f " + path + ": no *.yaml, *.yml or *.json files in the directory" +
                               std::string(recursive ? "" : " (-R reads subdirectories)"));
      }
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    }
  }
  if (out.empty()) return InvalidArgument("-f names no file");
  return out;
}

std::string KeyPasswordFromEnv() {
  for (const char* name : {"PROVGATE_PASSWORD", "COSIGN_PASSWORD"}) {
    if (const char* v = std::getenv(name)) return v;
  }
  return "";
}

}  // namespace provgate
