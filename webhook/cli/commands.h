// The CLI subcommands (docs/cli.md). Each Run* function takes parsed options,
// does its work and returns the process exit code: 0 success / allowed,
// 1 denied or not verified, 2 usage, input or registry error.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace provgate {

inline constexpr int kExitOk = 0;
inline constexpr int kExitDenied = 1;
inline constexpr int kExitError = 2;

struct CommonOptions {
  std::string registry_config;  // --registry-config
  double timeout_seconds = 30;  // --timeout
  bool verbose = false;         // -v
  // --oci-layout DIR: every registry request is answered from this OCI
  // image layout instead of the network (check, verify, push, sign, attest).
  std::string oci_layout;
  // --allow-insecure-registry HOST (repeatable): plain HTTP to these hosts.
  std::vector<std::string> insecure_registries;
  // Credentials from $DOCKER_CONFIG/config.json or ~/.docker/config.json
  // (and its credential helpers) for hosts the registry config gives none;
  // off for `test`, whose result must not depend on who runs it.
  bool default_docker_config = true;
};

struct VerifyOptions {
  CommonOptions common;
  std::string reference;
  std::vector<std::string> keys;      // --key PUB.pem (repeatable)
  // Keyless, as cosign spells it: a trusted root and one identity.
  std::string trusted_root;             // --trusted-root FILE
  std::string certificate_identity;     // --certificate-identity (exact SAN)
  std::string certificate_identity_regexp;
  std::string certificate_oidc_issuer;  // --certificate-oidc-issuer (exact)
  std::string certificate_oidc_issuer_regexp;
  std::vector<std::string> policies;  // --policies PATH (repeatable)
  std::string namespace_name = "default";
  std::string output = "text";  // text | json
};
int RunVerify(const VerifyOptions& o);

struct KeygenOptions {
  std::string prefix;
  bool force = false;
};
int RunKeygen(const KeygenOptions& o);

struct PushOptions {
  CommonOptions common;
  std::string path;  // a model file or a directory
  std::string reference;
  std::string metadata_file;
  std::vector<std::string> annotations;  // k=v
};
int RunPush(const PushOptions& o);

struct SignOptions {
  CommonOptions common;
  std::string reference;
  std::string key_file;
  std::vector<std::string> annotations;  // k=v
};
int RunSign(const SignOptions& o);

struct AttestOptions {
  CommonOptions common;
  std::string reference;
  std::string key_file;
  std::string predicate_file;
  std::string predicate_type;
};
int RunAttest(const AttestOptions& o);

struct CheckOptions {
  CommonOptions common;
  std::vector<std::string> files;     // -f FILE|DIR|a,b (repeatable; "-" = stdin): ExpandManifestPaths
  bool recursive = false;             // -R: -f directories with their subdirectories
  std::vector<std::string> policies;  // --policies PATH (repeatable)
  std::string namespace_name = "default";
  std::string output = "text";
  bool unmatched_deny = false;  // --unmatched deny
  bool strict = false;          // --strict: deny objects of kinds provgate does not understand
  bool require_digest = false;  // --require-digest: every matching policy requires a digest
};
int RunCheck(const CheckOptions& o);

// `provgate test DIR...`: provgate-test.yaml suites (docs/cli.md#provgate-test).
// Exit 0 all expectations pass, 1 some failed, 2 usage or input error.
struct TestOptions {
  std::vector<std::string> paths;  // directories searched recursively, or test files
  std::string output = "text";     // text | junit
  double timeout_seconds = 30;     // per test file
  std::vector<std::string> insecure_registries;  // --allow-insecure-registry HOST (repeatable)
};
int RunTest(const TestOptions& o);

struct LintOptions {
  std::vector<std::string> paths;
};
int RunLint(const LintOptions& o);

struct ServeOptions {
  CommonOptions common;
  std::string listen = "0.0.0.0:8443";
  std::string tls_cert, tls_key;
  bool insecure_http = false;
  int metrics_port = 0;  // plain-HTTP /metrics and /healthz; 0 = off
  std::vector<std::string> policies;
  double cache_ttl_seconds = 300;
  double verify_timeout_seconds = 8;
  double shutdown_delay_seconds = 0;  // --shutdown-delay: answered as before after SIGTERM for this long
  std::string unmatched = "allow";
  std::string exclude_namespaces;
  bool exclude_namespaces_set = false;
  std::string model_annotations;  // comma-separated; empty = DefaultModelAnnotations()
  double reload_interval_seconds = 2;
  std::string pin_kinds = "Pod";  // --pin-kinds: comma-separated kinds /mutate pins; empty = none
  bool require_digest = false;    // --require-digest: every matching policy requires a digest
};
int RunServe(const ServeOptions& o);

}  // namespace provgate
