// RegistryConfig::Parse (the --registry-config YAML) and ParseDockerConfig
// (docker config.json `auths`).
#include <doctest/doctest.h>

#include "base/encoding.h"
#include "tests/test_util.h"
#include "verifier/registry/registry_config.h"

using namespace provgate;
using provgate::testing::TempDir;
using provgate::testing::WriteFile;

namespace {

std::string AuthsJson(const std::string& key, const std::string& user_colon_password) {
  return R"({"auths":{")" + key + R"(":{"auth":")" + Base64Encode(user_colon_password) + R"("}}})";
}

}  // namespace

TEST_CASE("docker config auths: keys normalised to hosts, auth split at the first colon") {
  struct Row {
    std::string json;
    std::string host;
    Credentials want;
  };
  const Row rows[] = {
      {AuthsJson("reg.example", "alice:pw"), "reg.example", {"alice", "pw", ""}},
      // passwords may contain ':'
      {AuthsJson("reg.example", "alice:pa:ss:word"), "reg.example", {"alice", "pa:ss:word", ""}},
      {AuthsJson("reg.example", "alice:"), "reg.example", {"alice", "", ""}},
      // Docker Hub's key and its aliases are the reference's "docker.io"
      {AuthsJson("https://index.docker.io/v1/", "bob:x"), "docker.io", {"bob", "x", ""}},
      {AuthsJson("index.docker.io", "bob:x"), "docker.io", {"bob", "x", ""}},
      {AuthsJson("registry-1.docker.io", "bob:x"), "docker.io", {"bob", "x", ""}},
      // URL keys, ports and paths
      {AuthsJson("https://reg.example:5000/v2/", "c:d"), "reg.example:5000", {"c", "d", ""}},
      {AuthsJson("http://127.0.0.1:5000", "c:d"), "127.0.0.1:5000", {"c", "d", ""}},
      {AuthsJson("reg.example/team/models", "c:d"), "reg.example", {"c", "d", ""}},
      // any spelling of a host is keyed canonically
      {AuthsJson("Reg.Example:443", "c:d"), "reg.example", {"c", "d", ""}},
      {AuthsJson("https://REG.EXAMPLE:0443/v2/", "c:d"), "reg.example", {"c", "d", ""}},
      {AuthsJson("https://registry-1.docker.io/v2/", "c:d"), "docker.io", {"c", "d", ""}},
      {AuthsJson("registry:443", "c:d"), "registry:443", {"c", "d", ""}},
      // separate fields, and an identity token (OAuth2 refresh token)
      {R"({"auths":{"reg.example":{"username":"u","password":"p:q"}}})", "reg.example", {"u", "p:q", ""}},
      {R"({"auths":{"reg.example":{"auth":"","identitytoken":"refresh-1"}}})", "reg.example", {"", "", "refresh-1"}},
      // legacy .dockercfg: the map at top level, no "auths"
      {R"({"reg.example":{"auth":")" + Base64Encode("old:style") + R"(","email":"x@y"}})", "reg.example",
       {"old", "style", ""}},
  };
  for (const auto& row : rows) {
    CAPTURE(row.json);
    auto got = ParseDockerConfig(row.json);
    REQUIRE_MESSAGE(got.ok(), got.status().ToString());
    REQUIRE(got->size() == 1);
    REQUIRE(got->count(row.host) == 1);
    const Credentials& c = got->at(row.host);
    CHECK(c.username == row.want.username);
    CHECK(c.password == row.want.password);
    CHECK(c.identity_token == row.want.identity_token);
  }

  // Entries without credentials are skipped, not errors.
  auto empty = ParseDockerConfig(R"({"auths":{"reg.example":{},"other.example":{"email":"x@y"}},"credsStore":"x"})");
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}

TEST_CASE("docker config auths: two spellings of one registry") {
  // The same credentials under two spellings are one entry.
  auto same = ParseDockerConfig(R"({"auths":{"docker.io":{"auth":")" + Base64Encode("u:p") +
                                R"("},"https://index.docker.io/v1/":{"auth":")" + Base64Encode("u:p") + R"("}}})");
  REQUIRE_MESSAGE(same.ok(), same.status().ToString());
  CHECK(same->size() == 1);
  // Different ones: which applies must not depend on key order.
  auto differ = ParseDockerConfig(R"({"auths":{"Reg.Example":{"auth":")" + Base64Encode("u:p") +
                                  R"("},"reg.example:443":{"auth":")" + Base64Encode("v:hunter2") + R"("}}})");
  REQUIRE_FALSE(differ.ok());
  CHECK(differ.status().message().find("two auths keys name registry \"reg.example\"") != std::string::npos);
  CHECK(differ.status().message().find("hunter2") == std::string::npos);
  // A key that names no host applies to nothing.
  auto junk = ParseDockerConfig(R"({"auths":{"not a host!":{"auth":")" + Base64Encode("u:p") + R"("}}})");
  REQUIRE(junk.ok());
  CHECK(junk->empty());
}

TEST_CASE("registry config: an entry applies to every spelling of its host") {
  struct Row {
    const char* written;  // the entry's host
    const char* asked;    // the host a reference names
  };
  const Row rows[] = {
      {"registry.example.com", "registry.example.com"},
      {"registry.example.com:443", "registry.example.com"},
      {"Registry.Example.COM", "registry.example.com"},
      {"Registry.Example.COM:0443", "REGISTRY.example.com:443"},
      {"registry.example.com", "Registry.Example.COM:443"},
      {"index.docker.io", "docker.io"},
      {"registry-1.docker.io", "docker.io"},
      {"registry:443", "REGISTRY:0443"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.written);
    CAPTURE(row.asked);
    auto cfg = RegistryConfig::Parse(std::string("registries:\n  - host: \"") + row.written +
                                         "\"\n    caFile: /ca.pem\n",
                                     "cfg.yaml");
    REQUIRE_MESSAGE(cfg.ok(), cfg.status().ToString());
    CHECK(cfg->ForHost(row.asked).ca_file == "/ca.pem");
  }
  // Distinct hosts stay distinct.
  auto cfg = RegistryConfig::Parse("registries:\n  - host: registry.example.com\n    caFile: /ca.pem\n", "cfg.yaml");
  REQUIRE(cfg.ok());
  CHECK(cfg->ForHost("registry.example.com:5000").ca_file.empty());
  CHECK(cfg->ForHost("registry.example.com.evil.io").ca_file.empty());
  // Two spellings of one host are a duplicate; a host that is none is an error.
  auto dup = RegistryConfig::Parse("registries:\n  - host: a.example\n  - host: A.EXAMPLE:443\n", "cfg.yaml");
  REQUIRE_FALSE(dup.ok());
  CHECK_MESSAGE(dup.status().message().find("cfg.yaml:3:5: duplicate registry host \"A.EXAMPLE:443\" (\"a.example\")") !=
                    std::string::npos,
                dup.status().message());
  auto bad = RegistryConfig::Parse("registries:\n  - host: \"reg.example:0\"\n", "cfg.yaml");
  REQUIRE_FALSE(bad.ok());
  CHECK_MESSAGE(bad.status().message().find("cfg.yaml:2:5: registry \"reg.example:0\" is not a valid host") !=
                    std::string::npos,
                bad.status().message());
}

TEST_CASE("malformed docker configs are rejected without echoing secrets") {
  struct Row {
    std::string json;
    const char* reason;
  };
  const Row rows[] = {
      {"not json", "docker config"},
      {"[]", "not a JSON object"},
      {R"({"auths":[]})", "auths is not an object"},
      {R"({"auths":{"reg.example":{"auth":"hunter2!!"}}})", "is not base64"},
      {R"({"auths":{"reg.example":{"auth":")" + Base64Encode("hunter2-without-colon") + R"("}}})",
       "is not user:password"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.json);
    auto got = ParseDockerConfig(row.json);
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().code() == StatusCode::kInvalidArgument);
    CHECK_MESSAGE(got.status().message().find(row.reason) != std::string::npos, got.status().message());
    CHECK(got.status().message().find("hunter2") == std::string::npos);
  }
}

TEST_CASE("registry config: hosts, insecure, caFile, and defaults for unknown hosts") {
  auto cfg = RegistryConfig::Parse(R"(
registries:
  - host: "127.0.0.1:5000"
    insecure: true
  - host: reg.example
    caFile: /etc/ssl/reg-ca.pem
    insecure: false
)",
                                   "cfg.yaml");
  REQUIRE_MESSAGE(cfg.ok(), cfg.status().ToString());
  CHECK(cfg->ForHost("127.0.0.1:5000").insecure);
  CHECK(cfg->ForHost("127.0.0.1:5000").ca_file.empty());
  CHECK_FALSE(cfg->ForHost("reg.example").insecure);
  CHECK(cfg->ForHost("reg.example").ca_file == "/etc/ssl/reg-ca.pem");
  // Unknown hosts: TLS with system CAs, anonymous.
  auto other = cfg->ForHost("other.example");
  CHECK(other.host == "other.example");
  CHECK_FALSE(other.insecure);
  CHECK(other.ca_file.empty());
  CHECK_FALSE(cfg->CredentialsFor("other.example").has_value());

  // An empty mirrors map (the documented example's `mirrors: {}`) lists
  // nothing, so there is nothing to refuse.
  for (const char* no_mirrors : {"registries:\n  - host: 127.0.0.1:5000\n    insecure: true\nmirrors: {}\n",
                                 "registries: []\nmirrors:\n"}) {
    CAPTURE(no_mirrors);
    auto m = RegistryConfig::Parse(no_mirrors, "mirrors.yaml");
    REQUIRE_MESSAGE(m.ok(), m.status().message());
  }
  CHECK(RegistryConfig::Parse("registries:\n  - host: 127.0.0.1:5000\n    insecure: true\nmirrors: {}\n", "m.yaml")
            ->ForHost("127.0.0.1:5000")
            .insecure);

  for (const char* empty : {"", "# nothing\n", "~\n"}) {
    auto e = RegistryConfig::Parse(empty, "empty.yaml");
    REQUIRE(e.ok());
    CHECK_FALSE(e->ForHost("reg.example").insecure);
    CHECK_FALSE(e->CredentialsFor("reg.example").has_value());
  }
}

TEST_CASE("registry config errors name file:line:column") {
  struct Row {
    std::string yaml;
    std::string want;  // prefix position and reason, as one substring
  };
  const Row rows[] = {
      {"registries: []\nmirror: {}\n", "cfg.yaml:2:1: unknown field \"mirror\""},
      // a mirror is refused, never silently ignored
      {"registries: []\nmirrors: {docker.io: [mirror.example]}\n", "cfg.yaml:2:1: mirrors are not supported"},
      {"mirrors:\n  docker.io: [mirror.example]\n", "cfg.yaml:1:1: mirrors are not supported"},
      {"mirrors: []\n", "cfg.yaml:1:1: mirrors are not supported"},
      {"registries:\n  - host: a\n    insecur: true\n", "cfg.yaml:3:5: unknown field \"insecur\""},
      {"registries:\n  - host: a\n    insecure: maybe\n", "cfg.yaml:3:15: insecure must be true or false"},
      {"registries:\n  - host: a\n    insecure: 1\n", "cfg.yaml:3:15: insecure must be true or false"},
      {"registries:\n  - host: a\n    insecure: [true]\n", "cfg.yaml:3:15: insecure must be true or false"},
      {"registries:\n  - host: a\n  - host: b\n  - host: a\n    insecure: true\n",
       "cfg.yaml:4:5: duplicate registry host \"a\""},
      {"registries:\n  - insecure: true\n", "cfg.yaml:2:5: registry entry without host"},
      {"registries:\n  - host: [a]\n", "cfg.yaml:2:11: host must be a string"},
      {"registries:\n  - host: a\n    caFile: {x: 1}\n", "cfg.yaml:3:13: caFile must be a string"},
      {"registries: {host: a}\n", "cfg.yaml:1:13: registries must be a list"},
      {"registries:\n  - just-a-string\n", "cfg.yaml:2:5: registry entry must be a mapping"},
      {"- a\n- b\n", "cfg.yaml:1:1: registry config must be a mapping"},
      {"registries: [\n", "cfg.yaml:"},
      // A lone ',': not an empty config, and never the endless LoadAll of
      // yaml-cpp 0.7. (A trailing comma inside a flow mapping is valid YAML.)
      {",", "cfg.yaml:1:1: YAML syntax error: unexpected ','"},
      {"registries: []\n---\nregistries: [{host: a, insecure: true}]\n", "is one YAML document, not 2"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.yaml);
    auto cfg = RegistryConfig::Parse(row.yaml, "cfg.yaml");
    REQUIRE_FALSE(cfg.ok());
    CHECK(cfg.status().code() == StatusCode::kInvalidArgument);
    CHECK_MESSAGE(cfg.status().message().find(row.want) != std::string::npos, cfg.status().message());
  }
}

TEST_CASE("dockerConfig is read at parse time and its credentials matched to the entry's host only") {
  TempDir dir;
  WriteFile(dir.File("config.json"), R"({"auths":{
    "reg.example:5000": {"auth": ")" + Base64Encode("alice:pw:with:colons") + R"("},
    "other.example": {"auth": ")" + Base64Encode("mallory:x") + R"("},
    "https://index.docker.io/v1/": {"auth": ")" + Base64Encode("hubuser:hubpw") + R"("}}})");
  auto cfg = RegistryConfig::Parse("registries:\n"
                                   "  - host: \"reg.example:5000\"\n"
                                   "    dockerConfig: " + dir.File("config.json") + "\n"
                                   "  - host: docker.io\n"
                                   "    dockerConfig: " + dir.File("config.json") + "\n",
                                   "cfg.yaml");
  REQUIRE_MESSAGE(cfg.ok(), cfg.status().ToString());
  auto c = cfg->CredentialsFor("reg.example:5000");
  REQUIRE(c.has_value());
  CHECK(c->username == "alice");
  CHECK(c->password == "pw:with:colons");
  auto hub = cfg->CredentialsFor("docker.io");
  REQUIRE(hub.has_value());
  CHECK(hub->username == "hubuser");
  // The file names other.example, but no entry does: its credentials are not used.
  CHECK_FALSE(cfg->CredentialsFor("other.example").has_value());
  CHECK_FALSE(cfg->CredentialsFor("reg.example").has_value());  // the port is part of the host
  CHECK(cfg->ForHost("reg.example:5000").docker_config == dir.File("config.json"));
}

TEST_CASE("a broken dockerConfig fails the registry config at parse time") {
  TempDir dir;
  WriteFile(dir.File("bad.json"), R"({"auths":{"reg.example":{"auth":"hunter2!!"}}})");
  struct Row {
    std::string path;
    const char* reason;
  };
  const Row rows[] = {
      {dir.File("bad.json"), "is not base64"},
      {dir.File("missing.json"), "cannot read dockerConfig"},
  };
  for (const auto& row : rows) {
    auto cfg = RegistryConfig::Parse("registries:\n  - host: reg.example\n    dockerConfig: " + row.path + "\n",
                                     "cfg.yaml");
    REQUIRE_FALSE(cfg.ok());
    CHECK(cfg.status().code() == StatusCode::kInvalidArgument);
    CHECK_MESSAGE(cfg.status().message().find(row.reason) != std::string::npos, cfg.status().message());
    CHECK(cfg.status().message().find(row.path) != std::string::npos);
    CHECK(cfg.status().message().find("hunter2") == std::string::npos);
  }
}

TEST_CASE("RegistryConfig::Load reads a file and reports its path in errors") {
  TempDir dir;
  WriteFile(dir.File("ok.yaml"), "registries:\n  - host: a\n    insecure: true\n");
  WriteFile(dir.File("bad.yaml"), "registries:\n  - host: a\n    tls: false\n");
  auto ok = RegistryConfig::Load(dir.File("ok.yaml"));
  REQUIRE(ok.ok());
  CHECK(ok->ForHost("a").insecure);
  auto bad = RegistryConfig::Load(dir.File("bad.yaml"));
  REQUIRE_FALSE(bad.ok());
  CHECK_MESSAGE(bad.status().message().find(dir.File("bad.yaml") + ":3:5: unknown field") != std::string::npos,
                bad.status().message());
  CHECK_FALSE(RegistryConfig::Load(dir.File("absent.yaml")).ok());
}
