// A real OCI registry (Debian's docker-registry, CNCF distribution) started
// on 127.0.0.1 with a free port and a temporary storage directory, stopped on
// destruction. Optionally with htpasswd basic auth and/or TLS from a test CA.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "tests/test_util.h"

namespace provgate::testing {

// A throwaway CA and a server certificate for 127.0.0.1 / localhost,
// generated with the openssl command line.
struct TestCa {
  std::string ca_cert, server_cert, server_key;
  // Writes files under `dir`; `name` prefixes the server files so one CA can
  // issue several certificates.
  static TestCa Create(const std::string& dir, const std::string& name = "server");
  // Issues another server certificate from the same CA.
  void Issue(const std::string& dir, const std::string& name, std::string* cert, std::string* key) const;
  std::string ca_key;
};

struct RegistryOptions {
  bool basic_auth = false;  // user "alice", password "s3cret:pw"
  bool tls = false;
};

class TestRegistry {
 public:
  explicit TestRegistry(RegistryOptions options = {});
  ~TestRegistry();
  TestRegistry(const TestRegistry&) = delete;
  TestRegistry& operator=(const TestRegistry&) = delete;

  // "127.0.0.1:PORT"
  const std::string& host() const { return host_; }
  int port() const { return port_; }
  // A registry config YAML path for provgate naming this registry
  // (insecure for plain HTTP, caFile for TLS, dockerConfig for basic auth).
  const std::string& config_file() const { return config_file_; }
  // The on-disk storage root (tests use it to corrupt stored content).
  std::string storage() const { return dir_.path() + "/data"; }
  const TempDir& dir() const { return dir_; }
  const std::string& ca_cert() const { return ca_.ca_cert; }

  void Stop();
  void Start();

 private:
  RegistryOptions options_;
  TempDir dir_;
  TestCa ca_;
  int port_ = 0;
  std::string host_;
  std::string config_file_;
  pid_t pid_ = -1;
};

}  // namespace provgate::testing
