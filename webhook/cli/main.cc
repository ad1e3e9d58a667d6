// provgate: the one composition root. Parses the command line and hands
// each subcommand its options; nothing else constructs the real parts.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "base/encoding.h"
#include "webhook/cli/commands.h"
#include "webhook/cli/shell_completion.h"
#include "webhook/cli/version.h"  // generated into the build tree (top-level CMakeLists.txt)

namespace {

constexpr char kInsecureRegistryHelp[] =
    "speak plain HTTP to this registry HOST[:PORT] (repeatable; a host, not a reference)";

// `client`: the commands that talk to registries once (all but serve,
// which has its own time budget and reads its registry config itself).
void AddCommon(CLI::App* cmd, provgate::CommonOptions* c, bool client = true) {
  cmd->add_option("--registry-config", c->registry_config, "registry settings YAML (docs/registries.md)")
      ->check(CLI::ExistingFile);
  if (client) {
    cmd->add_option("--timeout", c->timeout_seconds, "overall time budget in seconds")
        ->check(CLI::Range(0.1, 3600.0));
    cmd->add_flag("-v,--verbose", c->verbose,
                  "print every registry request on stderr: method, URL, status, bytes, ms (never credentials)");
    cmd->add_option("--oci-layout", c->oci_layout,
                    "answer every registry request from this OCI image layout directory (offline; docs/cli.md)");
    cmd->add_option("--allow-insecure-registry", c->insecure_registries, kInsecureRegistryHelp)
        ->allow_extra_args(false);
  } else {
    // Accepted so that it is refused with a pointer, not silently unused.
    cmd->add_option("--timeout", c->timeout_seconds, "not for serve: use --verify-timeout")
        ->check(CLI::Validator(
            [](std::string&) {
              return std::string("serve has no overall time budget: --verify-timeout SECONDS bounds each object");
            },
            "", "serve-timeout"));
    cmd->add_flag("-v,--verbose", c->verbose, "debug log lines on stderr");
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace provgate;
  CLI::App app{"provgate: model provenance policy for Kubernetes admission"};
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersionLine, "version, commit and build date");

  VerifyOptions verify;
  auto* v = app.add_subcommand("verify", "verify one artifact's signatures and attestations");
  v->add_option("reference", verify.reference, "artifact reference (oci:// accepted)")->required();
  // One value per flag, so that `verify --key k.pub REF` keeps REF.
  v->add_option("--key", verify.keys, "trusted public key PEM (repeatable)")->allow_extra_args(false);
  v->add_option("--trusted-root", verify.trusted_root, "Sigstore trusted_root.json: verify keyless signatures");
  v->add_option("--certificate-identity", verify.certificate_identity, "keyless: the certificate's SAN, exactly");
  v->add_option("--certificate-identity-regexp", verify.certificate_identity_regexp,
                "keyless: RE2 the whole SAN must match");
  v->add_option("--certificate-oidc-issuer", verify.certificate_oidc_issuer, "keyless: the OIDC issuer, exactly");
  v->add_option("--certificate-oidc-issuer-regexp", verify.certificate_oidc_issuer_regexp,
                "keyless: RE2 the whole issuer must match");
  v->add_option("--policies", verify.policies, "policy files or directories (repeatable)");
  v->add_option("--namespace", verify.namespace_name, "namespace to match policies in");
  v->add_option("-o,--output", verify.output, "text or json")->check(CLI::IsMember({"text", "json"}));
  AddCommon(v, &verify.common);

  CheckOptions check;
  std::string check_unmatched = "allow";
  auto* c = app.add_subcommand("check", "decide Kubernetes manifests exactly as the webhook would");
  c->add_option("-f,--filename", check.files,
                "manifest file, directory of *.yaml/*.yml/*.json files, or a comma list (multi-document; - for stdin)")
      ->required();
  c->add_flag("-R,--recursive", check.recursive, "read -f directories with their subdirectories");
  c->add_option("--policies", check.policies, "policy files or directories (repeatable)")->required();
  c->add_option("--namespace", check.namespace_name, "namespace for objects without one");
  c->add_option("-o,--output", check.output, "text or json")->check(CLI::IsMember({"text", "json"}));
  c->add_option("--unmatched", check_unmatched, "allow or deny references no policy matches")
      ->check(CLI::IsMember({"allow", "deny"}));
  c->add_flag("--strict", check.strict, "deny objects of kinds provgate does not understand (default: SKIPPED)");
  c->add_flag("--require-digest", check.require_digest,
              "deny a policy-matched reference that names a tag without a digest, as if every policy set requireDigest");
  AddCommon(c, &check.common);

  TestOptions test;
  auto* t = app.add_subcommand("test", "run provgate-test.yaml policy test suites (offline with ociLayout)");
  t->add_option("path", test.paths, "directories searched recursively for provgate-test.yaml, or test files")
      ->required();
  t->add_option("-o,--output", test.output, "text or junit")->check(CLI::IsMember({"text", "junit"}));
  t->add_option("--timeout", test.timeout_seconds, "time budget per test file in seconds")
      ->check(CLI::Range(0.1, 3600.0));
  t->add_option("--allow-insecure-registry", test.insecure_registries, kInsecureRegistryHelp)->allow_extra_args(false);

  LintOptions lint;
  auto* pol = app.add_subcommand("policy", "policy file tools");
  pol->require_subcommand(1);
  auto* l = pol->add_subcommand("lint", "validate policy files; errors name file:line:column");
  l->add_option("path", lint.paths, "policy files or directories")->required();

  ServeOptions serve;
  auto* sv = app.add_subcommand("serve", "run the HTTPS admission webhook");
  sv->add_option("--listen", serve.listen, "ADDR:PORT to listen on (default 0.0.0.0:8443)");
  sv->add_option("--tls-cert", serve.tls_cert, "server certificate PEM (re-read on change)");
  sv->add_option("--tls-key", serve.tls_key, "server key PEM (re-read on change)");
  sv->add_flag("--insecure-http", serve.insecure_http, "serve plain HTTP (local testing only)");
  sv->add_option("--metrics-port", serve.metrics_port,
                 "also serve GET /metrics and /healthz over plain HTTP on this port of the --listen address (default 0: off)")
      ->check(CLI::Range(0, 65535));
  sv->add_option("--policies", serve.policies, "policy files or directories (repeatable; re-read on change)")
      ->required();
  sv->add_option("--cache-ttl", serve.cache_ttl_seconds, "seconds a verification stays cached (default 300)")
      ->check(CLI::Range(0.0, 86400.0));
  sv->add_option("--verify-timeout", serve.verify_timeout_seconds,
                 "seconds allowed to verify one object; keep under the webhook timeoutSeconds (default 8)")
      ->check(CLI::Range(0.1, 30.0));
  sv->add_option("--shutdown-delay", serve.shutdown_delay_seconds,
                 "seconds to keep accepting and answering after SIGTERM before the graceful stop, while the pod "
                 "leaves the Service's endpoints; a second SIGTERM stops at once (default 0)")
      ->check(CLI::Range(0.0, 300.0));
  sv->add_option("--unmatched", serve.unmatched, "allow or deny references no policy matches (default allow)")
      ->check(CLI::IsMember({"allow", "deny"}));
  auto* excl = sv->add_option("--exclude-namespaces", serve.exclude_namespaces,
                              "comma-separated namespaces admitted untouched (default: own namespace, kube-system)");
  sv->add_option("--model-annotations", serve.model_annotations,
                 "comma-separated pod annotations holding oci:// model URIs (default: "
                 "serving.kserve.io/storage-initializer-sourceuri, "
                 "internal.serving.kserve.io/storage-initializer-sourceuri, provgate.dev/model)");
  sv->add_option("--policy-reload-interval", serve.reload_interval_seconds, "seconds between policy file checks")
      ->check(CLI::Range(0.1, 3600.0));
  sv->add_option("--pin-kinds", serve.pin_kinds,
                 "comma-separated object kinds /mutate pins to digests (default Pod; empty: none); other kinds are "
                 "decided but not rewritten");
  sv->add_flag("--require-digest", serve.require_digest,
               "deny a policy-matched reference that names a tag without a digest, as if every policy set requireDigest");
  AddCommon(sv, &serve.common, /*client=*/false);

  KeygenOptions keygen;
  auto* k = app.add_subcommand("keygen", "write PREFIX.key (PKCS#8 ECDSA P-256) and PREFIX.pub");
  k->add_option("prefix", keygen.prefix, "output path prefix")->required();
  k->add_flag("--force", keygen.force, "overwrite existing files");

  PushOptions push;
  auto* p = app.add_subcommand("push", "push model files as an OCI artifact (omlmd layout)");
  p->add_option("path", push.path, "model file or directory")->required();
  p->add_option("reference", push.reference, "target reference with a tag")->required();
  p->add_option("--metadata", push.metadata_file, "model metadata JSON (omlmd)");
  p->add_option("--annotation", push.annotations, "manifest annotation key=value (repeatable)")
      ->allow_extra_args(false);
  AddCommon(p, &push.common);

  SignOptions sign;
  auto* s = app.add_subcommand("sign", "attach a cosign-compatible signature");
  s->add_option("reference", sign.reference, "artifact reference")->required();
  s->add_option("--key", sign.key_file, "private key PEM (cosign encrypted keys read with $PROVGATE_PASSWORD or $COSIGN_PASSWORD)")->required();
  s->add_option("--annotation,-a", sign.annotations, "signed annotation key=value (repeatable)")
      ->allow_extra_args(false);
  AddCommon(s, &sign.common);

  AttestOptions attest;
  auto* a = app.add_subcommand("attest", "attach a cosign-compatible DSSE in-toto attestation");
  a->add_option("reference", attest.reference, "artifact reference")->required();
  a->add_option("--key", attest.key_file, "private key PEM")->required();
  a->add_option("--predicate", attest.predicate_file, "predicate JSON file")->required();
  a->add_option("--type", attest.predicate_type,
                "predicate type: an absolute URI, or cosign's slsaprovenance, slsaprovenance02, slsaprovenance1, spdx, "
                "spdxjson, cyclonedx, link, vuln, openvex")
      ->required();
  AddCommon(a, &attest.common);

  auto* ver = app.add_subcommand("version", "print the version, commit and build date (as --version)");
  std::string completion_shell;
  auto* comp = app.add_subcommand("completion", "print a shell completion script: source <(provgate completion bash)");
  comp->add_option("shell", completion_shell, "bash or zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    // `verify --policies p.yaml REF`: the list flag took REF as a path too.
    if (v->parsed() && verify.reference.empty() && verify.policies.size() >= 2) {
      std::fprintf(stderr,
                   "provgate: --policies read every word after it, %s too: write `provgate verify REF --policies "
                   "PATH...`\n",
                   Quote(verify.policies.back()).c_str());
    }
    return kExitError;
  }

  if (v->parsed()) return RunVerify(verify);
  if (c->parsed()) {
    check.unmatched_deny = check_unmatched == "deny";
    return RunCheck(check);
  }
  if (l->parsed()) return RunLint(lint);
  if (t->parsed()) return RunTest(test);
  if (sv->parsed()) {
    serve.exclude_namespaces_set = excl->count() > 0;
    return RunServe(serve);
  }
  if (k->parsed()) return RunKeygen(keygen);
  if (p->parsed()) return RunPush(push);
  if (s->parsed()) return RunSign(sign);
  if (a->parsed()) return RunAttest(attest);
  if (ver->parsed()) {
    std::printf("%s\n", kVersionLine);
    return kExitOk;
  }
  if (comp->parsed()) {
    std::fputs(CompletionScript(CompletionTree(app, "provgate"), completion_shell).c_str(), stdout);
    return kExitOk;
  }
  return kExitError;
}
