// Test helpers for `provgate check` end to end: a real registry, key pairs,
// models pushed/signed/attested with the provgate binary, policy and
// manifest files in a temporary directory. Not thread-safe; one per test.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "base/json_util.h"
#include "tests/integration/test_registry.h"

namespace provgate::testing {

inline constexpr char kSlsaV02[] = "https://slsa.dev/provenance/v0.2";
inline constexpr char kChainsBuilder[] = "https://tekton.dev/chains/v2";

struct CliResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
  Json json;        // stdout parsed, for -o json (null otherwise)
};

// One ModelPolicy document. Key authorities read `<authority>.pub` from the
// policy file's directory.
struct PolicySpec {
  explicit PolicySpec(std::string n) : name(std::move(n)) {}
  PolicySpec& Mode(std::string m) { mode = std::move(m); return *this; }
  PolicySpec& References(std::string glob) { references = std::move(glob); return *this; }
  PolicySpec& Namespaces(std::vector<std::string> n) { namespaces = std::move(n); return *this; }
  PolicySpec& Sources(std::vector<std::string> s) { sources = std::move(s); return *this; }
  PolicySpec& Authorities(std::vector<std::string> a) { authorities = std::move(a); return *this; }
  PolicySpec& Require(int n) { require = n; return *this; }
  PolicySpec& Rules(std::string r) { rules = std::move(r); return *this; }

  std::string name;
  std::string mode = "enforce";
  std::string references;  // glob; default "<registry>/models/**"
  std::vector<std::string> namespaces;
  std::vector<std::string> sources;
  std::vector<std::string> authorities = {"release"};
  int require = 1;
  std::string rules;  // raw YAML under spec: (attestations:, metadata:), indented by two spaces
};

// The attestations: block requiring SLSA v0.2 provenance built by Tekton Chains.
inline std::string BuiltByChainsRule() {
  return "  attestations:\n"
         "    - name: built-by-chains\n"
         "      predicateType: " + std::string(kSlsaV02) + "\n"
         "      authorities: [release]\n"
         "      conditions:\n"
         "        all:\n"
         "          - path: predicate.builder.id\n"
         "            equals: " + kChainsBuilder + "\n";
}

class CheckEnv {
 public:
  explicit CheckEnv(RegistryOptions options = {}) : reg(options) {
    for (const char* k : {"release", "other", "second"}) {
      auto r = Run(std::string("keygen ") + dir.File(k), false);
      REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    }
  }

  // Runs `provgate ARGS` (with the registry config unless !registry);
  // `stdin_file` is fed to stdin when given.
  CliResult Run(const std::string& args, bool registry = true, const std::string& stdin_file = "") {
    std::string cmd = std::string(PROVGATE_BINARY) + " " + args;
    if (registry) cmd += " --registry-config " + reg.config_file();
    if (!stdin_file.empty()) cmd += " < " + stdin_file;
    cmd += " 2> " + dir.File("stderr.txt");
    CommandResult r = RunCommand(cmd);
    CliResult out;
    out.exit_code = r.exit_code;
    out.out = r.output;
    out.err = ReadFile(dir.File("stderr.txt"));
    if (args.find("-o json") != std::string::npos) {
      auto j = ParseJson(out.out, "provgate output", 64);
      if (j.ok()) out.json = std::move(*j);
    }
    return out;
  }

  // "<registry>/models/<name>:v1"
  std::string Ref(const std::string& name, const std::string& tag = "v1") const {
    return reg.host() + "/models/" + name + ":" + tag;
  }

  // Pushes a model whose weights are unique to `name` (so every model has its
  // own digest) with omlmd metadata `metadata_json`; returns the digest.
  std::string Push(const std::string& name, const std::string& metadata_json = R"({"name":"model"})") {
    WriteFile(dir.File(name + ".bin"), "weights of " + name);
    WriteFile(dir.File(name + ".md.json"), metadata_json);
    auto r = Run("push " + dir.File(name + ".bin") + " " + Ref(name) + " --metadata " + dir.File(name + ".md.json"));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return r.out.substr(0, r.out.find('\n'));
  }

  void Sign(const std::string& name, const std::string& key = "release") {
    auto r = Run("sign " + Ref(name) + " --key " + dir.File(key + ".key"));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  }

  void Attest(const std::string& name, const std::string& predicate_json, const std::string& type = kSlsaV02,
              const std::string& key = "release") {
    std::string file = dir.File(name + ".predicate.json");
    WriteFile(file, predicate_json);
    auto r = Run("attest " + Ref(name) + " --key " + dir.File(key + ".key") + " --predicate " + file + " --type " + type);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  }

  // Push, sign with `release` and attest Chains-built SLSA v0.2 provenance.
  std::string PushTrusted(const std::string& name) {
    std::string digest = Push(name);
    Sign(name);
    Attest(name, R"({"builder":{"id":")" + std::string(kChainsBuilder) + R"("}})");
    return digest;
  }

  std::string PolicyYaml(const PolicySpec& p) const {
    auto list = [](const std::vector<std::string>& items) {
      std::string s;
      for (const auto& i : items) s += (s.empty() ? "" : ", ") + ("\"" + i + "\"");
      return "[" + s + "]";
    };
    std::string y = "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata:\n  name: " + p.name +
                    "\nspec:\n  mode: " + p.mode + "\n  match:\n    references: " +
                    list({p.references.empty() ? reg.host() + "/models/**" : p.references}) + "\n";
    if (!p.namespaces.empty()) y += "    namespaces: " + list(p.namespaces) + "\n";
    if (!p.sources.empty()) y += "    sources: " + list(p.sources) + "\n";
    y += "  authorities:\n";
    for (const auto& a : p.authorities) y += "    - name: " + a + "\n      key:\n        file: " + a + ".pub\n";
    y += "  signatures:\n    require: " + std::to_string(p.require) + "\n" + p.rules;
    return y;
  }

  // Writes policies (one document each) to `file` in the temp dir; returns its path.
  std::string WritePolicies(const std::string& file, const std::vector<PolicySpec>& policies) const {
    std::string text;
    for (const auto& p : policies) text += (text.empty() ? "" : "---\n") + PolicyYaml(p);
    WriteFile(dir.File(file), text);
    return dir.File(file);
  }

  std::string WriteManifest(const std::string& file, const std::string& text) const {
    WriteFile(dir.File(file), text);
    return dir.File(file);
  }

  // A Pod in `ns` (no namespace field when empty) mounting `ref` as an image volume.
  static std::string PodYaml(const std::string& name, const std::string& ns, const std::string& ref) {
    return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n" + (ns.empty() ? "" : "  namespace: " + ns + "\n") +
           "spec:\n  containers:\n    - name: server\n      image: registry.example.com/runtime:v1\n"
           "  volumes:\n    - name: model\n      image:\n        reference: " + ref + "\n";
  }

  // `check -o json` of a Pod (namespace "serving") mounting model `name`.
  CliResult CheckPod(const std::string& name, const std::string& policies, const std::string& extra = "") {
    std::string m = WriteManifest("pod-" + name + ".yaml", PodYaml("predictor", "serving", Ref(name)));
    return Run("check -f " + m + " --policies " + policies + " -o json " + extra);
  }

  TestRegistry reg;
  TempDir dir;
};

// The reference at `field` of the first object of a `check -o json` output.
inline Json RefAt(const Json& out, const std::string& field, size_t object = 0) {
  for (const auto& r : out["objects"][object]["references"]) {
    if (r["field"] == field) return r;
  }
  FAIL("no reference at " << field << " in " << out.dump());
  return nullptr;
}

inline Json ModelRef(const Json& out) { return RefAt(out, "spec.volumes[0].image.reference"); }

// All reasons of all policies of one reference, joined for substring checks.
inline std::string Reasons(const Json& ref) {
  std::string s;
  if (ref.contains("reasons")) {
    for (const auto& r : ref["reasons"]) s += r.get<std::string>() + "\n";
  }
  for (const auto& p : ref["policies"]) {
    for (const auto& r : p["reasons"]) s += r.get<std::string>() + "\n";
  }
  return s;
}

inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace provgate::testing
