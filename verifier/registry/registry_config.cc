#include "verifier/registry/registry_config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "base/encoding.h"
#include "base/file.h"
#include "base/json_util.h"
#include "base/yaml_documents.h"
#include "verifier/registry_host.h"

namespace provgate {
namespace {

constexpr size_t kMaxConfigBytes = 1 << 20;
// Nodes the file may build: a registry entry takes about ten.
constexpr size_t kMaxConfigNodes = 100'000;

StatusOr<std::string> ReadSmallFile(const std::string& path, const char* what) {
  auto text = ReadFileBounded(path, kMaxConfigBytes);
  if (!text.ok()) return InvalidArgument(std::string("cannot read ") + what + " " + path + ": " + text.status().message());
  return text;
}

std::string Where(const std::string& file, const YAML::Mark& m) {
  return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

// The registry an `auths` key names, canonically: "https://index.docker.io/v1/"
// -> "docker.io", "Registry.Example.com:443/path" -> "registry.example.com".
// A key that names no valid host applies to nothing.
std::optional<std::string> HostOfAuthKey(std::string_view key) {
  for (std::string_view scheme : {"https://", "http://"}) {
    if (key.substr(0, scheme.size()) == scheme) key.remove_prefix(scheme.size());
  }
  key = key.substr(0, key.find('/'));
  auto host = CanonicalRegistryHost(key);
  if (!host.ok()) return std::nullopt;
  return *host;
}

// `host` canonical, or as written when it is not a valid host (then it
// matches no configured entry, whose hosts are all canonical).
std::string CanonicalOrAsWritten(const std::string& host) {
  auto canonical = CanonicalRegistryHost(host);
  return canonical.ok() ? *canonical : host;
}

}  // namespace

StatusOr<std::map<std::string, Credentials>> ParseDockerConfig(std::string_view json) {
  ASSIGN_OR_RETURN(Json j, ParseJson(json, "docker config"));
  std::map<std::string, Credentials> out;
  if (!j.is_object()) return InvalidArgument("docker config is not a JSON object");
  const Json* auths = &j;
  if (j.contains("auths")) auths = &j["auths"];  // legacy .dockercfg has the map at top level
  if (!auths->is_object()) return InvalidArgument("docker config: auths is not an object");
  for (auto it = auths->begin(); it != auths->end(); ++it) {
    if (!it.value().is_object()) continue;
    const Json& e = it.value();
    Credentials c;
    if (e.contains("auth") && e["auth"].is_string() && !e["auth"].get_ref<const std::string&>().empty()) {
      auto decoded = Base64Decode(e["auth"].get<std::string>());
      if (!decoded) return InvalidArgument("docker config: auth for " + Quote(it.key()) + " is not base64");
      auto colon = decoded->find(':');
      if (colon == std::string::npos) {
        return InvalidArgument("docker config: auth for " + Quote(it.key()) + " is not user:password");
      }
      c.username = decoded->substr(0, colon);
      c.password = decoded->substr(colon + 1);
    }
    if (e.contains("username") && e["username"].is_string()) c.username = e["username"];
    if (e.contains("password") && e["password"].is_string()) c.password = e["password"];
    if (e.contains("identitytoken") && e["identitytoken"].is_string()) c.identity_token = e["identitytoken"];
    if (c.username.empty() && c.identity_token.empty()) continue;
    auto host = HostOfAuthKey(it.key());
    if (!host) continue;
    if (auto [prev, inserted] = out.emplace(*host, c); !inserted) {
      // Two spellings of one registry ("docker.io" and
      // "https://index.docker.io/v1/"): which applies must not depend on
      // key order.
      if (prev->second.username != c.username || prev->second.password != c.password ||
          prev->second.identity_token != c.identity_token) {
        return InvalidArgument("docker config: two auths keys name registry " + Quote(*host) +
                               " with different credentials (one is " + Quote(it.key()) + ")");
      }
    }
  }
  return out;
}

StatusOr<RegistryConfig> RegistryConfig::Parse(std::string_view yaml, const std::string& file) {
  RegistryConfig cfg;
  // One document, loaded with the bounds yaml-cpp lacks (a lone ',' makes
  // its LoadAll loop forever; Load would silently read it as empty).
  YamlLoadError error;
  auto docs = LoadYamlDocuments(yaml, 2, kMaxConfigNodes, &error);
  if (!docs) return InvalidArgument(Where(file, error.mark) + ": " + error.message);
  size_t non_empty = 0;
  for (const auto& d : *docs) non_empty += d.IsNull() ? 0 : 1;
  if (non_empty > 1 || docs->size() > 1) {
    return InvalidArgument(file + ": a registry config is one YAML document, not " + std::to_string(docs->size()));
  }
  YAML::Node root = docs->empty() ? YAML::Node() : (*docs)[0];
  if (!root || root.IsNull()) return cfg;
  if (!root.IsMap()) return InvalidArgument(Where(file, root.Mark()) + ": registry config must be a mapping");
  try {
    for (auto top : root) {
      std::string key = top.first.as<std::string>();
      if (key == "mirrors") {
        // An empty map (or none) lists nothing to ignore. A mirror is refused,
        // not ignored: a user who lists one expects pulls to go there, and
        // provgate would ask the registry each reference names.
        if (top.second.IsNull() || (top.second.IsMap() && top.second.size() == 0)) continue;
        return InvalidArgument(Where(file, top.first.Mark()) +
                               ": mirrors are not supported: provgate reads every reference from the registry it "
                               "names; list that registry under registries:");
      }
      if (key != "registries") {
        return InvalidArgument(Where(file, top.first.Mark()) + ": unknown field " + Quote(key));
      }
      if (!top.second.IsSequence()) {
        return InvalidArgument(Where(file, top.second.Mark()) + ": registries must be a list");
      }
      for (auto entry : top.second) {
        if (!entry.IsMap()) return InvalidArgument(Where(file, entry.Mark()) + ": registry entry must be a mapping");
        RegistryHostConfig h;
        for (auto f : entry) {
          std::string name = f.first.as<std::string>();
          auto scalar = [&]() -> StatusOr<std::string> {
            if (!f.second.IsScalar()) return InvalidArgument(Where(file, f.second.Mark()) + ": " + name + " must be a string");
            return f.second.as<std::string>();
          };
          if (name == "host") {
            ASSIGN_OR_RETURN(h.host, scalar());
          } else if (name == "insecure") {
            bool b = false;
            if (!f.second.IsScalar() || !YAML::convert<bool>::decode(f.second, b)) {
              return InvalidArgument(Where(file, f.second.Mark()) + ": insecure must be true or false");
            }
            h.insecure = b;
          } else if (name == "caFile") {
            ASSIGN_OR_RETURN(h.ca_file, scalar());
          } else if (name == "dockerConfig") {
            ASSIGN_OR_RETURN(h.docker_config, scalar());
          } else {
            return InvalidArgument(Where(file, f.first.Mark()) + ": unknown field " + Quote(name));
          }
        }
        if (h.host.empty()) return InvalidArgument(Where(file, entry.Mark()) + ": registry entry without host");
        auto canonical = CanonicalRegistryHost(h.host);
        if (!canonical.ok()) return InvalidArgument(Where(file, entry.Mark()) + ": " + canonical.status().message());
        if (cfg.hosts_.count(*canonical)) {
          return InvalidArgument(Where(file, entry.Mark()) + ": duplicate registry host " + Quote(h.host) +
                                 (*canonical == h.host ? "" : " (" + Quote(*canonical) + ")"));
        }
        h.host = std::move(*canonical);
        if (!h.docker_config.empty()) {
          ASSIGN_OR_RETURN(std::string dc, ReadSmallFile(h.docker_config, "dockerConfig"));
          auto creds = ParseDockerConfig(dc);
          if (!creds.ok()) return creds.status().WithPrefix(h.docker_config);
          for (auto& [host, c] : *creds) {
            if (host == h.host) cfg.credentials_[host] = c;
          }
        }
        cfg.hosts_[h.host] = std::move(h);
      }
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(Where(file, e.mark) + ": " + e.msg);
  }
  return cfg;
}

StatusOr<RegistryConfig> RegistryConfig::Load(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, "registry config"));
  return Parse(text, path);
}

RegistryHostConfig RegistryConfig::ForHost(const std::string& written) const {
  std::string host = CanonicalOrAsWritten(written);
  auto it = hosts_.find(host);
  if (it != hosts_.end()) return it->second;
  RegistryHostConfig d;
  d.host = host;
  // Like Docker, registries on loopback (127.0.0.0/8, ::1, localhost) speak
  // plain HTTP unless configured otherwise: nothing leaves the machine.
  d.insecure = IsLoopbackHost(host);
  return d;
}

bool IsLoopbackHost(const std::string& host_port) {
  std::string host = host_port;
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    host = close == std::string::npos ? host : host.substr(1, close - 1);
    return host == "::1";
  }
  if (auto colon = host.rfind(':'); colon != std::string::npos) host = host.substr(0, colon);
  if (host == "localhost") return true;
  // 127.a.b.c with numeric octets.
  if (host.rfind("127.", 0) != 0) return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

void RegistryConfig::SetHost(RegistryHostConfig cfg) {
  cfg.host = CanonicalOrAsWritten(cfg.host);
  hosts_[cfg.host] = std::move(cfg);
}

void RegistryConfig::SetCredentials(const std::string& host, Credentials c) {
  credentials_[CanonicalOrAsWritten(host)] = std::move(c);
}

void RegistryConfig::SetFallbackCredentials(std::shared_ptr<const CredentialSource> source) {
  fallback_ = std::move(source);
}

StatusOr<std::optional<Credentials>> RegistryConfig::LookupCredentials(const std::string& written) const {
  const std::string host = CanonicalOrAsWritten(written);
  if (auto c = CredentialsFor(host)) return c;
  // A host whose entry names a dockerConfig gets that file's credentials
  // or none: the user chose the file for it.
  auto h = hosts_.find(host);
  if (h != hosts_.end() && !h->second.docker_config.empty()) return std::optional<Credentials>();
  if (!fallback_) return std::optional<Credentials>();
  return fallback_->Lookup(host);
}

std::optional<Credentials> RegistryConfig::CredentialsFor(const std::string& host) const {
  auto it = credentials_.find(CanonicalOrAsWritten(host));
  if (it == credentials_.end()) return std::nullopt;
  return it->second;
}

}  // namespace provgate
