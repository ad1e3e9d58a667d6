// The registry flags users bring from cosign, crane and kubectl, end to end
// through the binary against a real docker-registry: -v (every request on
// stderr, never a credential), --allow-insecure-registry, and credentials
// from the default docker config and its credential helpers.
#include <doctest/doctest.h>

#include <filesystem>
#include <regex>
#include <sstream>

#include "base/encoding.h"
#include "tests/integration/cli_check_env.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

// The "provgate: registry: " lines of stderr.
std::vector<std::string> RequestLines(const std::string& err) {
  std::vector<std::string> out;
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("provgate: registry: ", 0) == 0) out.push_back(line);
  }
  return out;
}

// Nothing that could carry alice's password, in any encoding.
void CheckNoCredentials(const std::string& text) {
  for (const std::string& secret : {std::string("s3cret"), Base64Encode("alice:s3cret:pw"), std::string("Authorization"),
                                    std::string("Basic "), std::string("Bearer ")}) {
    CHECK_MESSAGE(!Contains(text, secret), secret << " in\n" << text);
  }
}

}  // namespace

TEST_CASE("-v prints every registry request: method, URL, status, bytes, ms; never a credential") {
  CheckEnv env({.basic_auth = true});
  env.PushTrusted("mnist");
  std::string policies = env.WritePolicies("p.yaml", {PolicySpec("production").Rules(BuiltByChainsRule())});

  auto quiet = env.CheckPod("mnist", policies);
  REQUIRE_MESSAGE(quiet.exit_code == 0, quiet.err);
  CHECK(RequestLines(quiet.err).empty());

  auto loud = env.CheckPod("mnist", policies, "-v");
  REQUIRE_MESSAGE(loud.exit_code == 0, loud.err);
  CHECK(loud.json["allowed"] == true);  // stdout is still the JSON alone
  auto lines = RequestLines(loud.err);
  REQUIRE(lines.size() >= 3);
  const std::regex shape(R"(provgate: registry: (GET|HEAD|PUT|POST|PATCH) http://127\.0\.0\.1:[0-9]+/\S* -> )"
                         R"([0-9]{3}, [0-9]+ bytes, [0-9]+ ms(, sent [0-9]+ bytes)?)");
  for (const auto& l : lines) CHECK_MESSAGE(std::regex_match(l, shape), l);
  const std::string base = "http://" + env.reg.host() + "/v2/models/mnist/";
  CHECK(Contains(loud.err, base + "manifests/v1 -> 401"));  // the challenge, answered with credentials
  CHECK(Contains(loud.err, base + "manifests/v1 -> 200"));
  CHECK(Contains(loud.err, base + "manifests/sha256-"));     // the .sig / .att tags
  CHECK(Contains(loud.err, base + "blobs/sha256:"));
  CheckNoCredentials(loud.err);

  SUBCASE("writes too: push shows its uploads") {
    WriteFile(env.dir.File("w.bin"), "weights");
    auto push = env.Run("push " + env.dir.File("w.bin") + " " + env.Ref("pushed") + " -v");
    REQUIRE_MESSAGE(push.exit_code == 0, push.err);
    CHECK(Contains(push.err, "provgate: registry: POST http://" + env.reg.host() + "/v2/models/pushed/blobs/uploads/"));
    CHECK(Contains(push.err, "provgate: registry: PUT http://" + env.reg.host() + "/v2/models/pushed/manifests/v1 -> 201"));
    CHECK(Contains(push.err, "_state=REDACTED"));  // the upload URL's opaque state is not shown
    CheckNoCredentials(push.err);
  }
  SUBCASE("--oci-layout: the layout's answers are shown the same way") {
    WriteFile(env.dir.File("w.bin"), "weights");
    std::string layout = env.dir.File("layout");
    auto push = env.Run("push " + env.dir.File("w.bin") + " registry.example.com/models/m:v1 --oci-layout " + layout, false);
    REQUIRE_MESSAGE(push.exit_code == 0, push.err);
    auto verify = env.Run("verify registry.example.com/models/m:v1 --key " + env.dir.File("release.pub") +
                              " --oci-layout " + layout + " -v",
                          false);
    CHECK(verify.exit_code == 1);  // unsigned
    CHECK(Contains(verify.err, "provgate: registry: GET https://registry.example.com/v2/models/m/manifests/v1 -> 200"));
  }
}

namespace {

// Runs the binary with `env_prefix` (VAR=value ..., or "-u VAR") before it;
// stderr is kept apart from stdout.
CliResult RunWithEnv(const TempDir& dir, const std::string& env_prefix, const std::string& args) {
  CommandResult r = RunCommand("env " + env_prefix + " " + std::string(PROVGATE_BINARY) + " " + args + " 2> " +
                               dir.File("stderr.txt"));
  CliResult out;
  out.exit_code = r.exit_code;
  out.out = r.output;
  out.err = ReadFile(dir.File("stderr.txt"));
  return out;
}

// A stand-in for the user's credential helper, docker-credential-provgate-test
// in `bin`: logs its argument and stdin, answers alice's credentials for
// `host` and "credentials not found" (exit 1) for any other.
void WriteFakeHelper(const TempDir& dir, const std::string& host) {
  std::string log = dir.File("helper.log");
  std::filesystem::create_directories(dir.File("bin"));
  WriteFile(dir.File("bin/docker-credential-provgate-test"),
            "#!/bin/sh\n"
            "read -r server\n"
            "echo \"args=$* server=$server\" >> " + log + "\n"
            "[ \"$1\" = get ] || exit 3\n"
            "if [ \"$server\" = \"" + host + "\" ]; then\n"
            "  printf '{\"ServerURL\":\"%s\",\"Username\":\"alice\",\"Secret\":\"s3cret:pw\"}' \"$server\"\n"
            "  exit 0\n"
            "fi\n"
            "echo 'credentials not found in native keychain'\n"
            "exit 1\n");
  RunCommand("chmod +x " + dir.File("bin/docker-credential-provgate-test"));
}

}  // namespace

TEST_CASE("the default docker config gives credentials: auths, credHelpers, credsStore; a missing helper is named") {
  TestRegistry reg({.basic_auth = true});  // loopback: plain HTTP without a registry config
  TempDir dir;
  WriteFile(dir.File("model.bin"), "weights");
  const std::string ref = reg.host() + "/models/m:v1";
  const std::string push = "push " + dir.File("model.bin") + " " + ref;
  WriteFakeHelper(dir, reg.host());
  const std::string path = "PATH=" + dir.File("bin") + ":/usr/bin:/bin";
  auto config_dir = [&](const std::string& name, const std::string& json) {
    std::filesystem::create_directories(dir.File(name));
    WriteFile(dir.File(name + "/config.json"), json);
    return "DOCKER_CONFIG=" + dir.File(name);
  };
  const std::string auths =
      config_dir("auths", R"({"auths":{")" + reg.host() + R"(":{"auth":")" + Base64Encode("alice:s3cret:pw") + R"("}}})");
  const std::string helpers = config_dir("helpers", R"({"credHelpers":{")" + reg.host() + R"(":"provgate-test"}})");
  const std::string store = config_dir("store", R"({"credsStore":"provgate-test","auths":{")" + reg.host() + R"(":{}}})");
  const std::string absent = config_dir("absent", R"({"credsStore":"absent"})");
  const std::string other_host =
      config_dir("other", R"({"credHelpers":{"127.0.0.1:1":"provgate-test","other.example":"absent"}})");

  struct Row {
    const char* name;
    std::string env;
    int exit_code;
    std::string err;  // a substring of stderr
  };
  const Row rows[] = {
      {"auths", auths + " " + path, 0, ""},
      {"credHelpers: the helper for this host", helpers + " " + path, 0, ""},
      {"credsStore: the helper for every host, over empty auths", store + " " + path, 0, ""},
      {"~/.docker/config.json without DOCKER_CONFIG", "-u DOCKER_CONFIG HOME=" + dir.File("home") + " " + path, 0, ""},
      {"no docker config: no credentials", "DOCKER_CONFIG=" + dir.File("none") + " " + path, 2,
       "requires credentials and none are configured"},
      {"helpers for other hosts only", other_host + " " + path, 2, "requires credentials and none are configured"},
      {"a helper not in PATH is named", absent + " " + path, 2,
       "credentials for " + reg.host() + " (credsStore of " + dir.File("absent/config.json") +
           "): credential helper docker-credential-absent not found in $PATH"},
      {"a malformed docker config is an input error naming it",
       config_dir("bad", R"({"credsStore":"../../bin/sh"})") + " " + path, 2,
       dir.File("bad/config.json") + ": docker config: credsStore \"../../bin/sh\" is not a credential helper name"},
  };
  std::filesystem::create_directories(dir.File("home/.docker"));
  WriteFile(dir.File("home/.docker/config.json"), ReadFile(dir.File("helpers/config.json")));
  for (const auto& row : rows) {
    CAPTURE(row.name);
    auto r = RunWithEnv(dir, row.env, push + " -v");
    CHECK_MESSAGE(r.exit_code == row.exit_code, r.err);
    if (!row.err.empty()) CHECK_MESSAGE(Contains(r.err, row.err), r.err);
    CheckNoCredentials(r.err);
  }
  // The helper ran with `get` and the registry on stdin, once per run
  // (its answer is kept for every later request of that run).
  std::string log = ReadFile(dir.File("helper.log"));
  CHECK(Contains(log, "args=get server=" + reg.host()));
  CHECK_FALSE(Contains(log, "args=get server=127.0.0.1:1"));  // not asked for hosts never contacted

  SUBCASE("sign and verify read the same credentials") {
    REQUIRE(RunWithEnv(dir, path, "keygen " + dir.File("k")).exit_code == 0);
    REQUIRE(RunWithEnv(dir, helpers + " " + path, "sign " + ref + " --key " + dir.File("k.key")).exit_code == 0);
    auto ok = RunWithEnv(dir, helpers + " " + path, "verify " + ref + " --key " + dir.File("k.pub"));
    CHECK_MESSAGE(ok.exit_code == 0, ok.err);
  }
  SUBCASE("a registry config entry naming a dockerConfig wins over the default") {
    auto r = RunWithEnv(dir, absent + " " + path, push + " --registry-config " + reg.config_file());
    CHECK_MESSAGE(r.exit_code == 0, r.err);
  }
}

TEST_CASE("--allow-insecure-registry HOST: plain HTTP to one non-loopback host, without a registry config") {
  TestRegistry reg;
  TempDir dir;
  WriteFile(dir.File("model.bin"), "weights");
  // 0.0.0.0 reaches the loopback registry, but is not a loopback name: HTTPS by default.
  const std::string host = "0.0.0.0:" + std::to_string(reg.port());
  const std::string push = "push " + dir.File("model.bin") + " " + host + "/models/m:v1 --timeout 10";
  const std::string env = "DOCKER_CONFIG=" + dir.File("none");

  auto tls = RunWithEnv(dir, env, push);
  CHECK(tls.exit_code == 2);  // HTTPS to a plain HTTP server
  auto plain = RunWithEnv(dir, env, push + " --allow-insecure-registry " + host + " -v");
  CHECK_MESSAGE(plain.exit_code == 0, plain.err);
  CHECK(Contains(plain.err, "provgate: registry: PUT http://" + host + "/v2/models/m/manifests/v1 -> 201"));
  REQUIRE(RunWithEnv(dir, env, "keygen " + dir.File("k")).exit_code == 0);
  const std::string verify = "verify " + host + "/models/m:v1 --key " + dir.File("k.pub") + " --timeout 10";
  CHECK(RunWithEnv(dir, env, verify).exit_code == 2);                                      // could not ask
  CHECK(RunWithEnv(dir, env, verify + " --allow-insecure-registry " + host).exit_code == 1);  // asked: unsigned

  const std::string refused[] = {host + "/models/m", "https://" + host, "not a host"};
  for (const auto& value : refused) {
    CAPTURE(value);
    auto r = RunWithEnv(dir, env, push + " --allow-insecure-registry '" + value + "'");
    CHECK(r.exit_code == 2);
    CHECK_MESSAGE(Contains(r.err, "--allow-insecure-registry"), r.err);
  }
}

TEST_CASE("mirrors: in the registry config and serve --timeout are refused, not ignored") {
  TempDir dir;
  WriteFile(dir.File("mirrors.yaml"), "mirrors:\n  docker.io: [mirror.example]\n");
  WriteFile(dir.File("model.bin"), "weights");
  WriteFile(dir.File("p.yaml"), "");
  auto m = RunWithEnv(dir, "DOCKER_CONFIG=" + dir.File("none"),
                      "push " + dir.File("model.bin") + " registry.example.com/m:v1 --registry-config " +
                          dir.File("mirrors.yaml"));
  CHECK(m.exit_code == 2);
  CHECK_MESSAGE(Contains(m.err, dir.File("mirrors.yaml") + ":1:1: mirrors are not supported"), m.err);

  auto t = RunWithEnv(dir, "", "serve --policies " + dir.File("p.yaml") + " --insecure-http --timeout 5");
  CHECK(t.exit_code == 2);
  CHECK_MESSAGE(Contains(t.err, "--verify-timeout"), t.err);
}
