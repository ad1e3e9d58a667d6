// ParseDockerConfigFile and DockerCredentials: which of credHelpers,
// credsStore and auths answers for a host, helper answers kept per host,
// helper failures named; RegistryConfig::LookupCredentials' order. The
// helper is a fake runner here; the real one runs in
// tests/integration/cli_registry_options_test.cc.
#include <doctest/doctest.h>

#include "base/encoding.h"
#include "verifier/registry/docker_credentials.h"

using namespace provgate;

namespace {

class FakeRunner : public CredentialHelperRunner {
 public:
  StatusOr<std::optional<Credentials>> Get(const std::string& helper, const std::string& server) override {
    calls.push_back(helper + " " + server);
    if (helper == "broken") return PermissionDenied("credential helper docker-credential-broken not found in $PATH");
    if (server == "none.example") return std::optional<Credentials>();
    return std::optional<Credentials>(Credentials{helper + "-user", "pw-for-" + server, ""});
  }
  std::vector<std::string> calls;
};

}  // namespace

TEST_CASE("docker credentials: credHelpers[host], else credsStore, else auths") {
  const std::string auth = Base64Encode("file-user:file-pw");
  struct Row {
    std::string json, host;
    std::string user;    // "" = no credentials
    std::string call;    // the helper run, "" = none
  };
  const Row rows[] = {
      {R"({"auths":{"reg.example":{"auth":")" + auth + R"("}}})", "reg.example", "file-user", ""},
      {R"({"auths":{"reg.example":{"auth":")" + auth + R"("}}})", "other.example", "", ""},
      {R"({"credsStore":"desktop","auths":{"reg.example":{"auth":")" + auth + R"("}}})", "reg.example",
       "desktop-user", "desktop reg.example"},
      {R"({"credsStore":"desktop","credHelpers":{"Reg.Example:443":"gcr"}})", "reg.example", "gcr-user",
       "gcr reg.example"},
      {R"({"credsStore":"desktop","credHelpers":{"gcr.io":"gcr"}})", "reg.example", "desktop-user",
       "desktop reg.example"},
      {R"({"credsStore":"desktop"})", "docker.io", "desktop-user", "desktop https://index.docker.io/v1/"},
      {R"({"credsStore":"desktop"})", "none.example", "", "desktop none.example"},
      {R"({"credsStore":""})", "reg.example", "", ""},  // an emptied store is none
  };
  for (const auto& row : rows) {
    CAPTURE(row.json);
    CAPTURE(row.host);
    auto parsed = ParseDockerConfigFile(row.json);
    REQUIRE_MESSAGE(parsed.ok(), parsed.status().ToString());
    auto runner = std::make_unique<FakeRunner>();
    FakeRunner* fake = runner.get();
    DockerCredentials creds(std::move(*parsed), "config.json", std::move(runner));
    auto got = creds.Lookup(row.host);
    REQUIRE(got.ok());
    CHECK(got->has_value() == !row.user.empty());
    if (got->has_value()) CHECK((*got)->username == row.user);
    CHECK(fake->calls == (row.call.empty() ? std::vector<std::string>{} : std::vector<std::string>{row.call}));
    // Asked again: the kept answer, no second run.
    REQUIRE(creds.Lookup(row.host).ok());
    CHECK(fake->calls.size() == (row.call.empty() ? 0u : 1u));
  }
}

TEST_CASE("docker credentials: a failing helper is named with the file; bad helper names are refused") {
  auto parsed = ParseDockerConfigFile(R"({"credHelpers":{"reg.example":"broken"}})");
  REQUIRE(parsed.ok());
  DockerCredentials creds(std::move(*parsed), "/home/u/.docker/config.json", std::make_unique<FakeRunner>());
  auto got = creds.Lookup("reg.example");
  REQUIRE_FALSE(got.ok());
  CHECK(got.status().code() == StatusCode::kPermissionDenied);
  CHECK(got.status().message() ==
        "credentials for reg.example (credHelpers of /home/u/.docker/config.json): credential helper "
        "docker-credential-broken not found in $PATH");

  const char* must_fail[] = {
      R"({"credsStore":"../../bin/sh"})", R"({"credsStore":"a b"})",        R"({"credsStore":7})",
      R"({"credHelpers":{"reg.example":"/bin/sh"}})", R"({"credHelpers":{"reg.example":""}})",
      R"({"credHelpers":["x"]})",
  };
  for (const char* json : must_fail) {
    CAPTURE(json);
    CHECK(ParseDockerConfigFile(json).status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("RegistryConfig::LookupCredentials: configured credentials, a host's own dockerConfig, then the fallback") {
  auto parsed = ParseDockerConfigFile(R"({"credsStore":"desktop"})");
  REQUIRE(parsed.ok());
  RegistryConfig cfg;
  cfg.SetCredentials("set.example", {"set-user", "pw", ""});
  cfg.SetHost({"own-file.example", false, "", "/etc/provgate/docker.json"});  // names a file without this host
  cfg.SetHost({"insecure.example", true, "", ""});
  cfg.SetFallbackCredentials(
      std::make_shared<DockerCredentials>(std::move(*parsed), "config.json", std::make_unique<FakeRunner>()));
  CHECK((*cfg.LookupCredentials("set.example"))->username == "set-user");
  CHECK_FALSE(cfg.LookupCredentials("own-file.example")->has_value());
  CHECK((*cfg.LookupCredentials("insecure.example"))->username == "desktop-user");
  CHECK((*cfg.LookupCredentials("Anything.Example"))->password == "pw-for-anything.example");
  RegistryConfig bare;
  CHECK_FALSE(bare.LookupCredentials("reg.example")->has_value());
}
