// The policy loader: every error kind located at file:line:column (fixtures
// in tests/testdata/policies/invalid), valid files, YAML scalar typing.
#include "policy/policy_loader.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <set>

#include "policy/condition.h"
#include "policy/glob.h"
#include "policy/policy_parser.h"
#include "tests/policy/deadline.h"

using namespace provgate;

namespace {

const std::string kPolicies = std::string(PROVGATE_TESTDATA) + "/policies";

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t nl = s.find('\n', start);
    out.push_back(s.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

struct InvalidCase {
  const char* file;      // in invalid/
  const char* position;  // "line:column"
  std::string message;   // substring of that error line
};

// One row per file in invalid/; each file's first line says what is wrong.
const InvalidCase kInvalid[] = {
    {"unknown-field-top", "13:1", "unknown field \"status\""},
    {"unknown-field-match", "9:5", "spec.match: unknown field \"refs\""},
    {"unknown-field-key", "12:9", "spec.authorities[0].key: unknown field \"pme\""},
    {"unknown-field-condition", "18:9", "unknown field \"equal\" (did you mean equals?)"},
    {"wrong-type-references", "8:17", "spec.match.references: expected a list, got a string"},
    {"wrong-type-require", "14:14", "spec.signatures.require: expected an integer, got a string"},
    {"wrong-type-require-digest", "13:18", "spec.requireDigest: expected a boolean, got a string"},
    {"wrong-type-spec", "7:3", "spec: expected a mapping, got a list"},
    {"missing-name", "5:3", "metadata: missing required field \"name\""},
    {"missing-match", "7:3", "spec: missing required field \"match\""},
    {"missing-predicate-type", "14:7", "spec.attestations[0]: missing required field \"predicateType\""},
    {"bad-api-version", "2:13", "apiVersion: expected \"provgate.dev/v1alpha1\", got \"provgate.dev/v1\""},
    {"bad-kind", "3:7", "kind: expected \"ModelPolicy\", got \"ClusterImagePolicy\""},
    {"bad-mode", "7:9", "spec.mode: unknown mode \"deny\""},
    {"bad-reference-glob", "9:9", "bad reference glob: glob \"registry.example.com/***\": 3 consecutive '*'"},
    {"bad-reference-glob-charclass", "8:18", "only * and ** are wildcards"},
    {"bad-reference-glob-empty", "9:9", "spec.match.references[0]: bad reference glob: glob is empty"},
    {"bad-reference-glob-host-only", "9:9",
     "glob \"registry.example.com\" names the Docker Hub repository docker.io/library/registry.example.com; "
     "write registry.example.com/** for everything in that registry"},
    {"bad-reference-glob-trailing-slash", "9:9",
     "glob \"registry.example.com/models/\" ends in '/' and can never match a reference "
     "(registry.example.com/models/** selects everything under it)"},
    {"condition-vacuous-operand", "17:19", "startsWith \"\" holds for every string"},
    {"bad-namespace-glob", "9:18", "bad namespace glob: glob \"Serving-*\""},
    {"unknown-source", "9:26", "spec.match.sources[1]: unknown source \"init-container\""},
    {"bad-regex", "18:18", "conditions.matches: invalid regular expression \"^(unclosed\": missing )"},
    {"bad-keyless-regex", "13:24", "keyless.subjectRegExp: invalid regular expression"},
    {"unparsable-pem", "12:14", "key.pem: unusable public key"},
    {"unsupported-key", "12:14", "RSA key of 1024 bits is too small"},
    {"unsupported-key-file", "12:15", "EC curve secp256k1 is not supported"},
    {"key-file-unreadable", "12:15", "key.file: cannot read key file"},
    {"key-pem-and-file", "12:9", "key: give exactly one of pem or file"},
    {"duplicate-policy-name", "17:9", "duplicate policy name \"p\" (first defined at "},
    {"duplicate-authority-name", "13:7", "duplicate authority name \"ci\""},
    {"duplicate-authority-key", "16:9",
     "spec.authorities[1].key: the same key as authority \"ci\" (at "},
    {"duplicate-keyless-identity", "14:16",
     "spec.authorities[1].keyless: the same identity as authority \"workflow\" (at "},
    {"duplicate-attestation-name", "16:7", "duplicate attestation name \"built\""},
    {"unknown-attestation-authority", "16:25", "unknown authority \"tekton\" (this policy's authorities: ci)"},
    {"authority-neither", "10:7", "an authority needs exactly one of key or keyless"},
    {"authority-both", "10:7", "exactly one of key or keyless, not both"},
    {"keyless-no-issuer", "12:9", "needs an issuer constraint"},
    {"keyless-no-subject", "12:9", "needs a subject constraint"},
    {"require-zero-with-metadata", "14:14",
     "metadata conditions need signatures.require of at least 1 or an attestation rule"},
    {"trusted-root-missing", "14:22", "keyless.trustedRoot: cannot read trusted root"},
    {"trusted-root-malformed", "14:22",
     "keyless.trustedRoot: unusable trusted root: " + kPolicies + "/roots/trusted_root_bad_log_id.json: "
     "tlogs[0].logId.keyId: is not the SHA-256 of the log's key"},
    {"model-signing-unknown-authority", "14:19", "unknown authority \"hub\" (this policy's authorities: ci)"},
    {"model-signing-absolute-ignore-path", "14:19", "\"/etc/passwd\" is not a relative path"},
    {"model-signing-unknown-field", "14:5", "spec.modelSigning: unknown field \"ignorePath\""},
    {"require-negative", "14:14", "must not be negative"},
    {"require-too-many", "14:14", "2 is more than the number of authorities (1)"},
    {"condition-no-operator", "18:13", "condition on path \"predicate.builder.id\" has no operator"},
    {"condition-two-operators", "19:9", "condition has 2 operators (equals and startsWith)"},
    {"condition-mixed", "20:9", "\"all\" cannot be combined with \"path\""},
    {"condition-empty-any", "17:14", "conditions.any: must not be empty"},
    {"condition-too-deep", "49:73", "conditions nest deeper than 32 levels"},
    {"condition-bad-path", "17:15", "expected a quoted key, an index or * after [ at character 21"},
    {"condition-in-not-list", "18:13", "in expects a non-empty list"},
    {"condition-numeric-operand", "16:23", "greaterOrEqual expects a number or a numeric string, got \"high\""},
    {"condition-exists-not-bool", "18:17", "exists expects true or false, got \"true\""},
    {"metadata-no-conditions", "13:13", "spec.metadata: missing required field \"conditions\""},
    {"yaml-syntax-error", "9:14", "YAML syntax error: end of sequence flow not found"},
    {"yaml-duplicate-key", "9:3", "spec: duplicate field \"match\""},
    {"not-a-mapping", "2:1", "document: expected a mapping, got a list"},
    {"empty-references", "8:17", "spec.match.references: must not be empty"},
    {"unsupported-tag", "18:17", "unsupported YAML tag"},
    {"bad-policy-name", "5:9", "metadata.name: invalid name \"team/p\""},
    {"predicate-type-twice", "17:11",
     "spec.attestations[0].predicateType[1]: predicateType \"https://slsa.dev/provenance/v1\" is listed twice"},
    {"predicate-type-empty-list", "15:22", "spec.attestations[0].predicateType: must not be empty"},
    {"predicate-type-not-string", "15:55", "spec.attestations[0].predicateType[1]: expected a string, got a mapping"},
};

}  // namespace

TEST_CASE("every invalid policy fixture fails at its line:column with its message") {
  for (const auto& c : kInvalid) {
    std::string path = kPolicies + "/invalid/" + c.file + ".yaml";
    CAPTURE(path);
    auto r = LoadPolicies({path});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    std::string want_prefix = path + ":" + c.position + ": ";
    bool found = false;
    for (const auto& line : Lines(r.status().message())) {
      if (line.rfind(want_prefix, 0) == 0 && line.find(c.message) != std::string::npos) found = true;
    }
    CHECK_MESSAGE(found, "want " << want_prefix << "..." << c.message << "\ngot:\n" << r.status().message());
  }
}

TEST_CASE("every file in invalid/ has a row, and says what is wrong on its first line") {
  std::set<std::string> rows;
  for (const auto& c : kInvalid) rows.insert(std::string(c.file) + ".yaml");
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(kPolicies + "/invalid")) {
    ++files;
    std::string name = e.path().filename().string();
    CHECK_MESSAGE(rows.count(name) == 1, name << " has no row in kInvalid");
    auto text = ReadFileBounded(e.path().string(), kMaxPolicyFileBytes);
    REQUIRE(text.ok());
    CHECK_MESSAGE(text->rfind("# ", 0) == 0, name << " does not open with a comment");
  }
  CHECK(files == rows.size());
}

TEST_CASE("every valid policy fixture loads") {
  for (const auto& e : std::filesystem::directory_iterator(kPolicies + "/valid")) {
    CAPTURE(e.path().string());
    auto r = LoadPolicies({e.path().string()});
    CHECK_MESSAGE(r.ok(), r.status().message());
  }
  auto all = LoadPolicies({kPolicies + "/valid"});
  REQUIRE_MESSAGE(all.ok(), all.status().message());
  CHECK((*all)->policies().size() == 8);
}

TEST_CASE("the full example policy (valid/spec-example.yaml) compiles to what it says") {
  auto r = LoadPolicies({kPolicies + "/valid/spec-example.yaml"});
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  const Policy& p = (*r)->policies().at(0);
  CHECK(p.name == "production-models");
  CHECK(p.file == kPolicies + "/valid/spec-example.yaml:3");
  CHECK(p.mode == Mode::kEnforce);
  REQUIRE(p.match);
  CHECK(p.match->references().at(0).pattern() == "registry.example.com/models/**");
  CHECK(p.match->namespaces().at(0).pattern() == "serving-*");
  CHECK(p.match->sources().size() == 3);
  REQUIRE(p.authorities.size() == 2);
  CHECK(p.authorities[0].name == "tekton-chains");
  REQUIRE(p.authorities[0].key.has_value());
  CHECK(p.authorities[0].key->type() == KeyType::kEcdsaP256);
  CHECK_FALSE(p.authorities[0].keyless.has_value());
  REQUIRE(p.authorities[1].keyless.has_value());
  CHECK(p.authorities[1].keyless->issuer == "https://token.actions.githubusercontent.com");
  CHECK(p.authorities[1].keyless->subject_regexp == "^https://github\\.com/acme/models/");
  CHECK(p.authorities[1].keyless->trusted_root == "../roots/trusted_root.json");
  // Read relative to the policy file, and hashed by content.
  REQUIRE(p.authorities[1].keyless->root);
  CHECK(p.authorities[1].keyless->root->source == kPolicies + "/roots/trusted_root.json");
  CHECK(p.authorities[1].keyless->root->tlogs.size() == 1);
  CHECK(p.authorities[1].keyless->root->certificate_authorities.size() == 1);
  REQUIRE(p.model_signing);
  CHECK(p.model_signing->authorities == std::vector<std::string>{"release-workflow"});
  CHECK(p.model_signing->ignore_paths == std::vector<std::string>{"README.md"});
  CHECK(p.signatures_require == 1);
  REQUIRE(p.attestations.size() == 1);
  CHECK(p.attestations[0].name == "built-by-chains");
  CHECK(p.attestations[0].predicate_types == std::vector<std::string>{"https://slsa.dev/provenance/v0.2"});
  CHECK(p.attestations[0].authorities == std::vector<std::string>{"tekton-chains"});
  REQUIRE(p.attestations[0].conditions);
  CHECK(p.attestations[0].conditions->kind() == Condition::Kind::kAll);
  REQUIRE(p.metadata);
  CHECK(p.metadata->ToJson()["all"][0] ==
        Json::parse(R"({"path": "config.customProperties.accuracy", "greaterOrEqual": 0.95})"));

  auto keys = p.Keys();
  REQUIRE(keys.size() == 1);  // keyless authorities have no key
  CHECK(keys[0].signer == Signer("production-models", "tekton-chains"));
  auto keyless = p.KeylessTrust();
  REQUIRE(keyless.size() == 1);
  CHECK(keyless[0].signer == Signer("production-models", "release-workflow"));
  CHECK(keyless[0].root == p.authorities[1].keyless->root);
}

TEST_CASE("defaults, multiple documents and key.file relative to the policy file") {
  auto r = LoadPolicies({kPolicies + "/valid/multi-document.yaml"});
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  const auto& ps = (*r)->policies();
  REQUIRE(ps.size() == 2);
  CHECK(ps[0].name == "first");
  CHECK(ps[0].mode == Mode::kEnforce);
  CHECK(ps[0].signatures_require == 1);
  CHECK(ps[0].match->namespaces().empty());
  CHECK(ps[0].match->sources().empty());
  CHECK(ps[1].name == "second");
  CHECK(ps[1].mode == Mode::kAudit);
  CHECK(ps[1].match->references().at(0).pattern() == "docker.io/library/busybox");
  REQUIRE(ps[1].authorities.at(0).key.has_value());
  CHECK(ps[1].authorities[0].key->Fingerprint() != ps[0].authorities[0].key->Fingerprint());
}

namespace {

// Parses `yaml` with key files served from memory.
StatusOr<std::vector<Policy>> Parse(const std::string& yaml) {
  FileReader reader = [](const std::string& path) -> StatusOr<std::string> {
    if (path == "/keys/ci.pub") {
      return ReadFileBounded(kPolicies + "/keys/ec-p256.pub", kMaxKeyFileBytes);
    }
    return InvalidArgument("no such file in the test reader");
  };
  return ParsePolicyDocuments(yaml, "mem.yaml", reader);
}

std::string PolicyWithCondition(const std::string& leaf) {
  return "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata: {name: p}\nspec:\n"
         "  match: {references: [\"**\"]}\n"
         "  authorities: [{name: ci, key: {file: /keys/ci.pub}}]\n"
         "  metadata:\n    conditions: " +
         leaf + "\n";
}

}  // namespace

TEST_CASE("YAML scalars become JSON values: plain ones are typed, quoted ones stay strings") {
  struct Row {
    const char* operand;  // as written in YAML
    const char* json;     // the operand the condition holds
  };
  Row rows[] = {
      {"0.95", "0.95"},
      {"\"0.95\"", "\"0.95\""},
      {"'0.95'", "\"0.95\""},
      {"42", "42"},
      {"-7", "-7"},
      {"+3", "3"},
      {"1e3", "1000.0"},
      {"true", "true"},
      {"False", "false"},
      {"\"true\"", "\"true\""},
      {"null", "null"},
      {"~", "null"},
      {"yes", "\"yes\""},
      {"on", "\"on\""},
      {"0x10", "\"0x10\""},
      {"v1.2", "\"v1.2\""},
      {"[a, 1, {b: c}]", R"(["a", 1, {"b": "c"}])"},
      {"!!str 12", "\"12\""},
  };
  for (const auto& r : rows) {
    CAPTURE(r.operand);
    auto ps = Parse(PolicyWithCondition(std::string("{path: a, equals: ") + r.operand + "}"));
    REQUIRE_MESSAGE(ps.ok(), ps.status().message());
    Json got = ps->at(0).metadata->ToJson()["equals"];
    Json want = Json::parse(r.json);
    CHECK(got == want);
    CHECK(got.is_string() == want.is_string());
    CHECK(got.is_number_float() == want.is_number_float());
  }
}

TEST_CASE("ParsePolicyDocuments reports every error, each on its own line, in file order") {
  std::string yaml =
      "apiVersion: provgate.dev/v1alpha1\n"                          // 1
      "kind: ModelPolicy\n"                                          // 2
      "metadata: {name: p}\n"                                        // 3
      "spec:\n"                                                      // 4
      "  mode: block\n"                                              // 5
      "  match: {references: [\"**\"], sources: [pod]}\n"            // 6
      "  authorities: [{name: ci, key: {file: /keys/other.pub}}]\n"  // 7
      "  signatures: {require: -1}\n"                                // 8
      "---\n"                                                        // 9
      "apiVersion: provgate.dev/v1alpha1\n"                          // 10
      "kind: ModelPolicy\n"                                          // 11
      "metadata: {name: q, nmae: x}\n"                               // 12
      "spec: {match: {references: [\"**\"]}, authorities: [{name: ci, key: {file: /keys/ci.pub}}]}\n";
  auto r = Parse(yaml);
  REQUIRE_FALSE(r.ok());
  std::vector<std::string> lines = Lines(r.status().message());
  REQUIRE_MESSAGE(lines.size() == 5, r.status().message());
  CHECK(lines[0].rfind("mem.yaml:5:9: spec.mode: unknown mode \"block\"", 0) == 0);
  CHECK(lines[1].rfind("mem.yaml:6:41: spec.match.sources[0]: unknown source \"pod\"", 0) == 0);
  CHECK(lines[2] ==
        "mem.yaml:7:40: spec.authorities[0].key.file: cannot read key file \"/keys/other.pub\": "
        "no such file in the test reader");
  CHECK(lines[3] == "mem.yaml:8:25: spec.signatures.require: must not be negative, got -1");
  CHECK(lines[4].rfind("mem.yaml:12:21: metadata: unknown field \"nmae\" (did you mean name?)", 0) == 0);
}

TEST_CASE("empty documents and comment-only texts yield no policies") {
  for (const char* yaml : {"", "---\n", "# nothing\n", "---\n---\n...\n"}) {
    CAPTURE(yaml);
    auto r = Parse(yaml);
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    CHECK(r->empty());
  }
}

TEST_CASE("size and count bounds") {
  auto big = Parse(std::string(kMaxPolicyFileBytes + 1, '#'));
  REQUIRE_FALSE(big.ok());
  CHECK(big.status().message().find("larger than") != std::string::npos);

  std::string many;
  for (size_t i = 0; i <= kMaxDocumentsPerFile; ++i) many += "---\n{}\n";
  auto r = Parse(many);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("more than 1000 documents") != std::string::npos);
  // Empty documents count: yaml-cpp builds a node for each (4 bytes -> ~700).
  auto empties = Parse([] {
    std::string s;
    for (size_t i = 0; i <= kMaxDocumentsPerFile; ++i) s += "---\n";
    return s;
  }());
  REQUIRE_FALSE(empties.ok());
  CHECK(empties.status().message() == "mem.yaml:1001:1: more than 1000 documents in one file");

  // Aliases describing an exponentially large operand are refused, not expanded.
  std::string bomb =
      "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata: {name: p}\nspec:\n"
      "  match: {references: [\"**\"]}\n"
      "  authorities: [{name: ci, key: {file: /keys/ci.pub}}]\n"
      "  metadata:\n    conditions:\n      all:\n"
      "        - {path: a, in: &l0 [x, x]}\n";
  for (int i = 1; i <= 25; ++i) {
    std::string prev = "l" + std::to_string(i - 1);
    bomb += "        - {path: a, in: &l" + std::to_string(i) + " [*" + prev + ", *" + prev + "]}\n";
  }
  auto b = Parse(bomb);
  REQUIRE_FALSE(b.ok());
  CHECK_MESSAGE(b.status().message().find("too many nodes") != std::string::npos, b.status().message());

  // A self-referencing alias cannot loop the converter.
  auto cycle = Parse(PolicyWithCondition("{path: a, equals: &c [*c]}"));
  REQUIRE_FALSE(cycle.ok());
  CHECK_MESSAGE(cycle.status().message().find("nests too deeply") != std::string::npos, cycle.status().message());
}

// yaml-cpp builds about 450 bytes a node: a 1 MiB policy file of 500,000
// one-letter scalars took `policy lint` to 245 MB, and a reload of it the
// server near its memory limit. The node bound (kNodeBudgetPerFile) is now
// kept before the tree is built. Each row runs in a child process that may
// map 96 MiB more than the test: enough for a file at the bound, not for
// one built past it.
TEST_CASE("a policy file of more nodes than the per-file budget is refused before yaml-cpp builds them") {
  REQUIRE(kNodeBudgetPerFile == 100'000);
  auto parse = [](const std::string& yaml) {
    return testing::WithinSeconds(
               10,
               [&] {
                 auto r = Parse(yaml);
                 return r.ok() ? std::string("ok") : r.status().message();
               },
               size_t{96} << 20)
        .value_or("no answer (the child was stopped at 10 s)");
  };
  // Nodes: the mapping, the key, the sequence, then the items.
  auto flat = [](size_t items) {
    std::string s = "x: [";
    for (size_t i = 0; i < items; ++i) s += i ? ",a" : "a";
    return s + "]\n";
  };
  // Node 100,001 is item 99,997, at column 5 + 2 * 99,997.
  CHECK(parse(flat(500'000)) == "mem.yaml:1:199999: too many nodes: more than 100000 in one file");
  CHECK(parse(flat(99'998)) == "mem.yaml:1:199999: too many nodes: more than 100000 in one file");
  // At the bound the text is built and read as usual.
  std::string at_bound = parse(flat(99'997));
  CHECK_MESSAGE(at_bound.rfind("mem.yaml:1:1: unknown field \"x\"", 0) == 0, at_bound.substr(0, 300));
  CHECK(at_bound.find("too many nodes") == std::string::npos);
  // Every document counts toward the one budget.
  std::string documents;
  for (int i = 0; i < 4; ++i) documents += "---\n" + flat(30'000);
  CHECK(parse(documents).find("too many nodes: more than 100000 in one file") != std::string::npos);
}

// yaml-cpp 0.7's LoadAll returns an empty document that reads no input over
// and over (jbeder/yaml-cpp#1040): `provgate policy lint` never returned on a
// file holding one ','. Each row runs in a child process with a deadline.
TEST_CASE("a document that reads no input is refused at its position, not read forever") {
  const std::string json =
      "{\"apiVersion\": \"provgate.dev/v1alpha1\", \"kind\": \"ModelPolicy\", \"metadata\": {\"name\": \"p\"},\n"
      " \"spec\": {\"match\": {\"references\": [\"**\"]}, \"authorities\": [{\"name\": \"ci\", \"key\": "
      "{\"file\": \"/keys/ci.pub\"}}]}}";
  auto parse = [](const std::string& yaml) {
    return testing::WithinSeconds(5, [&] {
      auto r = Parse(yaml);
      return r.ok() ? std::string("ok") : r.status().message();
    }).value_or("no answer (the child was stopped at 5 s or 1 GiB)");
  };
  struct Row {
    const char* name;
    std::string yaml;
    std::string result;
  };
  const Row must_fail[] = {
      {"a lone comma", ",", "mem.yaml:1:1: YAML syntax error: unexpected ','"},
      {"a comma after a document", "[1,],", "mem.yaml:1:5: YAML syntax error: unexpected ','"},
      {"a JSON policy with a trailing comma", json + ",\n", "mem.yaml:2:110: YAML syntax error: unexpected ','"},
  };
  for (const auto& row : must_fail) {
    const std::string name = row.name;
    CAPTURE(name);
    CHECK(parse(row.yaml) == row.result);
  }
  const Row must_pass[] = {
      {"the JSON policy without the comma", json + "\n", "ok"},
      {"a trailing comma inside a flow mapping is YAML", "---\n" + json.substr(0, json.size() - 1) + ",}\n", "ok"},
  };
  for (const auto& row : must_pass) {
    const std::string name = row.name;
    CAPTURE(name);
    CHECK(parse(row.yaml) == row.result);
  }
}

// YAML is Unicode: a byte that is not UTF-8 is refused where it is, not
// carried into names, globs and messages (fuzz finding policy-text-not-utf8).
TEST_CASE("a policy file that is not UTF-8 is refused at the first bad byte") {
  auto parse = [](const std::string& yaml) {
    auto r = Parse(yaml);
    return r.ok() ? std::string("ok") : r.status().message();
  };
  struct Row {
    const char* name;
    std::string yaml;
    std::string result;
  };
  const Row must_fail[] = {
      {"a Latin-1 byte in a value", "apiVersion: provgate.dev/v1\nkind: ModelPolicy\nmetadata: {name: caf\xe9}\n",
       "mem.yaml:3:21: text is not UTF-8 (byte \\xe9)"},
      {"an overlong encoding of '/'", "a: \xc0\xaf\n", "mem.yaml:1:4: text is not UTF-8 (byte \\xc0)"},
      {"a lone continuation byte", "\x80", "mem.yaml:1:1: text is not UTF-8 (byte \\x80)"},
  };
  for (const auto& row : must_fail) {
    const std::string name = row.name;
    CAPTURE(name);
    CHECK(parse(row.yaml) == row.result);
  }
  // Beyond ASCII is fine: the check is for well-formed UTF-8, not for ASCII.
  auto r = Parse("# caf\xc3\xa9 \xf0\x9f\x94\x92\napiVersion: provgate.dev/v1\nkind: ModelPolicy\nmetadata: {name: caf\xc3\xa9}\n");
  REQUIRE(!r.ok());
  CHECK(r.status().message().find("not UTF-8") == std::string::npos);
}

// YAML 1.2 allows no control character but tab, LF, CR and NEL. yaml-cpp
// 0.7 reads a NUL in a plain scalar as the start of an escape ("x\0Ny" was
// the string "x", 0x85, "y"), and decodes the escapes \N and \_ to single
// bytes that are not UTF-8 (fuzz finding yaml-nul-escape).
TEST_CASE("a policy file with a character YAML does not allow, or an escape yaml-cpp decodes wrongly, is refused") {
  auto parse = [](const std::string& yaml) {
    auto r = Parse(yaml);
    return r.ok() ? std::string("ok") : r.status().message();
  };
  const std::string not_yaml = ", which is not a YAML character (a control character or noncharacter)";
  const std::string escape = "a string that is not UTF-8: write U+0085 and U+00A0 as \\x85 and \\xA0, not \\N and \\_";
  struct Row {
    const char* name;
    std::string yaml;
    std::string result;
  };
  const Row must_fail[] = {
      {"a NUL before N in a plain scalar", std::string("a: x\0Ny\n", 8), "mem.yaml:1:5: text holds U+0000" + not_yaml},
      {"a NUL in a quoted scalar", std::string("a: \"x\0\"\n", 8), "mem.yaml:1:6: text holds U+0000" + not_yaml},
      {"an escape character", "a: b\x1b[2J\n", "mem.yaml:1:5: text holds U+001B" + not_yaml},
      {"DEL", "a: b\x7f\n", "mem.yaml:1:5: text holds U+007F" + not_yaml},
      {"a C1 control", "a: b\xc2\x9b\n", "mem.yaml:1:5: text holds U+009B" + not_yaml},
      {"U+FFFE", "a: b\xef\xbf\xbe\n", "mem.yaml:1:5: text holds U+FFFE" + not_yaml},
      {"U+FFFF", "a: b\xef\xbf\xbf\n", "mem.yaml:1:5: text holds U+FFFF" + not_yaml},
      {"the escape \\N", "a: \"x\\Ny\"\n", "mem.yaml:1:4: " + escape},
      {"the escape \\_ in a key", "\"k\\_\": v\n", "mem.yaml:1:1: " + escape},
  };
  for (const auto& row : must_fail) {
    const std::string name = row.name;
    CAPTURE(name);
    CHECK(parse(row.yaml) == row.result);
  }
  // Tab, CR, NEL and the escapes that yaml-cpp decodes to UTF-8 are YAML.
  for (const std::string yaml : {"a: \"x\ty\"\r\n", "a: x\xc2\x85y\n", "a: \"x\\x85\\u00a0\\L\"\n"}) {
    CAPTURE(yaml);
    auto r = Parse(yaml);
    REQUIRE(!r.ok());  // not a policy
    CHECK(r.status().message().find("YAML") == std::string::npos);
    CHECK(r.status().message().find("UTF-8") == std::string::npos);
  }
}

// Every error is one line that starts with the file, whatever the input
// puts into it: RE2's message repeats a pattern raw, and a pattern may hold
// a newline (fuzz finding regex-error-newline; earlier, one by one,
// glob-suggestion-raw, pem-label-spans-lines, yaml-error-raw-byte).
TEST_CASE("an error message quoting input that holds a newline is still one line") {
  const std::string yaml =
      "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata: {name: p}\nspec:\n"
      "  match: {references: [\"**\"]}\n"
      "  authorities:\n"
      "    - name: ci\n"
      "      keyless: {issuer: https://issuer.example, subjectRegExp: \"^(a\\nb\"}\n";
  auto r = Parse(yaml);
  REQUIRE_FALSE(r.ok());
  const std::string m = r.status().message();
  CHECK_MESSAGE(m.find('\n') == std::string::npos, m);
  CHECK_MESSAGE(m.rfind("mem.yaml:8:", 0) == 0, m);
  CHECK_MESSAGE(m.find("keyless.subjectRegExp: invalid regular expression \"^(a\\nb\": missing ): ^(a\\x0ab") !=
                    std::string::npos,
                m);
}

// Aliases can repeat an authority, an attestation or a list cheaply; the
// loader bounds what one file can make it do (OpenSSL needs ~0.3 ms per key:
// a 1 MiB file of "*a" authorities once took 100 s to be refused).
TEST_CASE("aliased authorities, attestations and lists are bounded") {
  const std::string head =
      "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata: {name: p}\nspec:\n"
      "  match: {references: [\"**\"]}\n";
  const std::string ci = "{file: /keys/ci.pub}";

  std::string many_authorities = head + "  authorities:\n";
  for (size_t i = 0; i <= kMaxAuthoritiesPerPolicy; ++i) {
    const std::string n = std::to_string(i);
    many_authorities += "    - {name: a" + n + ", keyless: {issuer: i, subject: s" + n + "}}\n";
  }
  auto r = Parse(many_authorities);
  REQUIRE_FALSE(r.ok());
  CHECK_MESSAGE(r.status().message().find("mem.yaml:7:5: spec.authorities: more than 64 entries") != std::string::npos,
                r.status().message());

  std::string bomb = head + "  authorities: [&a {name: ci, key: " + ci + "}";
  for (int i = 0; i < 90000; ++i) bomb += ", *a";  // within the node bound: the list bound refuses it
  bomb += "]\n";
  auto b = Parse(bomb);
  REQUIRE_FALSE(b.ok());
  CHECK_MESSAGE(b.status().message().find("spec.authorities: more than 64 entries") != std::string::npos,
                b.status().message().substr(0, 500));

  std::string attestations = head + "  authorities: [{name: ci, key: " + ci + "}]\n  attestations:\n";
  for (size_t i = 0; i <= kMaxAttestationsPerPolicy; ++i) {
    attestations += "    - {name: t" + std::to_string(i) + ", predicateType: x}\n";
  }
  auto t = Parse(attestations);
  REQUIRE_FALSE(t.ok());
  CHECK_MESSAGE(t.status().message().find("spec.attestations: more than 64 entries") != std::string::npos,
                t.status().message());

  std::string refs = "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata: {name: p}\nspec:\n"
                     "  match: {references: [&r a/b";
  for (size_t i = 0; i < kMaxListItems; ++i) refs += ", *r";
  refs += "]}\n  authorities: [{name: ci, key: " + ci + "}]\n";
  auto l = Parse(refs);
  REQUIRE_FALSE(l.ok());
  CHECK_MESSAGE(l.status().message().find("spec.match.references: more than 1000 entries") != std::string::npos,
                l.status().message());
}

// Two authorities holding one key let one signature meet signatures.require:
// 2. The loader compared encodings: the same key written another way (an EC
// point compressed, an RSA key as RSASSA-PSS) loaded as a second signer.
TEST_CASE("one key is one authority whatever its encoding; two keys are two") {
  const std::string keys = std::string(PROVGATE_TESTDATA) + "/keys/";
  FileReader reader = [](const std::string& path) { return ReadFileBounded(path, kMaxKeyFileBytes); };
  auto parse = [&](const std::string& first, const std::string& second) {
    auto r = ParsePolicyDocuments(
        "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata: {name: p}\nspec:\n"
        "  match: {references: [\"**\"]}\n"
        "  authorities:\n"
        "    - {name: ci, key: {file: " + keys + first + "}}\n"
        "    - {name: release, key: {file: " + keys + second + "}}\n"
        "  signatures: {require: 2}\n",
        "mem.yaml", reader);
    return r.ok() ? std::string("ok") : r.status().message();
  };
  struct Row {
    const char* name;
    const char* first;
    const char* second;
    std::string result;
  };
  const std::string same =
      "mem.yaml:8:28: spec.authorities[1].key: the same key as authority \"ci\" (at mem.yaml:7:23";
  const std::string rest = "): one signer is one authority, and signatures.require counts distinct signers";
  const Row must_fail[] = {
      {"EC point uncompressed and compressed", "ec-p256.pub", "ec-p256.compressed.pub",
       same + ", encoded differently" + rest},
      {"RSA as rsaEncryption and as RSASSA-PSS", "rsa-2048.pub", "rsa-2048.pss.pub",
       same + ", encoded differently" + rest},
      {"RSA as RSASSA-PSS and as rsaEncryption", "rsa-2048.pss.pub", "rsa-2048.pub",
       same + ", encoded differently" + rest},
      {"the same file twice", "ec-p256.pub", "ec-p256.pub", same + rest},
  };
  for (const auto& row : must_fail) {
    const std::string name = row.name;
    CAPTURE(name);
    CHECK(parse(row.first, row.second) == row.result);
  }
  const Row must_pass[] = {
      {"two P-256 keys", "ec-p256.pub", "../policies/keys/ec-p256-second.pub", "ok"},
      {"a P-256 key and an RSA-PSS key", "ec-p256.compressed.pub", "rsa-2048.pss.pub", "ok"},
      {"RSA and Ed25519", "rsa-2048.pub", "ed25519.pub", "ok"},
  };
  for (const auto& row : must_pass) {
    const std::string name = row.name;
    CAPTURE(name);
    CHECK(parse(row.first, row.second) == row.result);
  }
}

TEST_CASE("a key named twice in one file is read and parsed once") {
  int reads = 0;
  FileReader reader = [&reads](const std::string& path) -> StatusOr<std::string> {
    ++reads;
    if (path == "/keys/ci.pub") return ReadFileBounded(kPolicies + "/keys/ec-p256.pub", kMaxKeyFileBytes);
    return InvalidArgument("no such file in the test reader");
  };
  std::string yaml;
  for (int i = 0; i < 3; ++i) {
    yaml += "---\napiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata: {name: p" + std::to_string(i) +
            "}\nspec:\n  match: {references: [\"**\"]}\n  authorities: [{name: ci, key: {file: /keys/ci.pub}}]\n";
  }
  auto r = ParsePolicyDocuments(yaml, "mem.yaml", reader);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CHECK(r->size() == 3);
  CHECK(reads == 1);
}

TEST_CASE("every example policy loads") {
  std::string dir = std::string(PROVGATE_SOURCE_DIR) + "/examples/policies";
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.size() < 5 || name.substr(name.size() - 5) != ".yaml") continue;
    ++files;
    CAPTURE(name);
    auto r = LoadPolicies({e.path().string()});
    CHECK_MESSAGE(r.ok(), r.status().message());
  }
  CHECK(files >= 5);
  auto all = LoadPolicies({dir});  // names are unique across the examples too
  CHECK_MESSAGE(all.ok(), all.status().message());
}

TEST_CASE("spec.requireDigest: a boolean, false when absent") {
  const std::string head = "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata: {name: p}\nspec:\n"
                           "  match: {references: [\"**\"]}\n"
                           "  authorities: [{name: ci, key: {file: /keys/ci.pub}}]\n";
  const std::vector<std::pair<std::string, bool>> valid = {
      {"", false},
      {"  requireDigest: true\n", true},
      {"  requireDigest: false\n", false},
      {"  requireDigest: True\n", true},  // the YAML 1.2 core schema's spellings
  };
  for (const auto& [field, want] : valid) {
    CAPTURE(field);
    auto r = Parse(head + field);
    REQUIRE_MESSAGE(r.ok(), r.status().message());
    CHECK(r->at(0).require_digest == want);
  }
  const std::vector<std::pair<std::string, std::string>> invalid = {
      {"  requireDigest: \"true\"\n", "spec.requireDigest: expected a boolean, got a string"},
      {"  requireDigest: yes\n", "spec.requireDigest: expected a boolean, got a string"},
      {"  requireDigest: 1\n", "spec.requireDigest: expected a boolean, got a"},
      {"  requireDigest: [true]\n", "spec.requireDigest: expected a boolean, got a list"},
      {"  requireDigest:\n", "spec.requireDigest: expected a boolean, got"},
      {"  requiredigest: true\n", "unknown field \"requiredigest\""},
  };
  for (const auto& [field, message] : invalid) {
    CAPTURE(field);
    auto r = Parse(head + field);
    REQUIRE_FALSE(r.ok());
    CHECK_MESSAGE(r.status().message().find(message) != std::string::npos, r.status().message());
  }
}

TEST_CASE("attestations[].predicateType: a string or a list of at most 16 distinct strings") {
  auto with_types = [](size_t n) {
    std::string s =
        "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata: {name: p}\nspec:\n"
        "  match: {references: [\"**\"]}\n"
        "  authorities: [{name: ci, key: {file: /keys/ci.pub}}]\n"
        "  attestations:\n    - name: built\n      predicateType:\n";
    for (size_t i = 0; i < n; ++i) s += "        - https://example.com/type/" + std::to_string(i) + "\n";
    return s;
  };
  auto sixteen = Parse(with_types(kMaxPredicateTypesPerRule));
  REQUIRE_MESSAGE(sixteen.ok(), sixteen.status().message());
  CHECK(sixteen->at(0).attestations[0].predicate_types.size() == 16);
  CHECK(sixteen->at(0).attestations[0].predicate_types.back() == "https://example.com/type/15");
  auto seventeen = Parse(with_types(kMaxPredicateTypesPerRule + 1));
  REQUIRE_FALSE(seventeen.ok());
  CHECK_MESSAGE(seventeen.status().message().find("spec.attestations[0].predicateType: more than 16 entries") !=
                    std::string::npos,
                seventeen.status().message());
}
