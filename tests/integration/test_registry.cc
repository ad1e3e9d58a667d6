#include "tests/integration/test_registry.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

#include <cstdio>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "base/encoding.h"

namespace provgate::testing {
namespace {

void Run(const std::string& cmd) {
  auto r = RunCommand(cmd + " 2>&1");
  if (r.exit_code != 0) throw std::runtime_error("command failed: " + cmd + "\n" + r.output);
}

bool CanConnect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

}  // namespace

TestCa TestCa::Create(const std::string& dir, const std::string& name) {
  TestCa ca;
  ca.ca_cert = dir + "/ca.pem";
  ca.ca_key = dir + "/ca.key";
  Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=provgate-test-ca"
      " -keyout " + ca.ca_key + " -out " + ca.ca_cert);
  ca.Issue(dir, name, &ca.server_cert, &ca.server_key);
  return ca;
}

void TestCa::Issue(const std::string& dir, const std::string& name, std::string* cert, std::string* key) const {
  *cert = dir + "/" + name + ".pem";
  *key = dir + "/" + name + ".key";
  std::string csr = dir + "/" + name + ".csr", ext = dir + "/" + name + ".ext";
  WriteFile(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                 "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n");
  Run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=" + name + " -keyout " + *key +
      " -out " + csr);
  Run("openssl x509 -req -in " + csr + " -CA " + ca_cert + " -CAkey " + ca_key +
      " -CAcreateserial -days 2 -extfile " + ext + " -out " + *cert);
}

TestRegistry::TestRegistry(RegistryOptions options) : options_(options) {
  if (options_.tls) ca_ = TestCa::Create(dir_.path());
  port_ = FreePort();
  host_ = "127.0.0.1:" + std::to_string(port_);
  std::string yml = "version: 0.1\nlog: {level: error}\n"
                    "storage: {filesystem: {rootdirectory: " + storage() + "}, delete: {enabled: true}}\n"
                    "http:\n  addr: " + host_ + "\n";
  if (options_.tls) yml += "  tls: {certificate: " + ca_.server_cert + ", key: " + ca_.server_key + "}\n";
  std::string provgate_cfg = "registries:\n  - host: \"" + host_ + "\"\n";
  if (!options_.tls) provgate_cfg += "    insecure: true\n";
  if (options_.tls) provgate_cfg += "    caFile: " + ca_.ca_cert + "\n";
  if (options_.basic_auth) {
    Run("htpasswd -Bbc " + dir_.File("htpasswd") + " alice 's3cret:pw'");
    yml += "auth: {htpasswd: {realm: test, path: " + dir_.File("htpasswd") + "}}\n";
    WriteFile(dir_.File("docker-config.json"),
              R"({"auths":{")" + host_ + R"(":{"auth":")" + Base64Encode("alice:s3cret:pw") + R"("}}})");
    provgate_cfg += "    dockerConfig: " + dir_.File("docker-config.json") + "\n";
  }
  WriteFile(dir_.File("registry.yml"), yml);
  config_file_ = dir_.File("provgate-registries.yaml");
  WriteFile(config_file_, provgate_cfg);
  Start();
}

void TestRegistry::Start() {
  std::string log = dir_.File("registry.log");
  std::fflush(stdout);
  std::fflush(stderr);
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execlp("docker-registry", "docker-registry", "serve", dir_.File("registry.yml").c_str(), nullptr);
    _exit(127);
  }
  for (int i = 0; i < 200; ++i) {
    if (CanConnect(port_)) return;
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("docker-registry exited at start; see " + dir_.File("registry.log"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  throw std::runtime_error("docker-registry did not start listening on " + host_);
}

void TestRegistry::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

TestRegistry::~TestRegistry() { Stop(); }

}  // namespace provgate::testing
