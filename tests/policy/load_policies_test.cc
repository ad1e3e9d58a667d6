// LoadPolicies, the file-system shell: directories, ConfigMap mounts,
// duplicates across files, unreadable paths.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "policy/policy_loader.h"

using namespace provgate;
namespace fs = std::filesystem;

namespace {

const std::string kPolicies = std::string(PROVGATE_TESTDATA) + "/policies";

std::string PolicyYaml(const std::string& name) {
  return "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata:\n  name: " + name +
         "\nspec:\n  match:\n    references: [registry.example.com/**]\n  authorities:\n    - name: ci\n"
         "      key:\n        file: " +
         kPolicies + "/keys/ec-p256.pub\n";
}

// A scratch directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "provgate-policy-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  void Write(const std::string& rel, const std::string& content) const {
    fs::create_directories((path_ / rel).parent_path());
    std::ofstream(path_ / rel) << content;
  }

 private:
  fs::path path_;
};

std::vector<std::string> Names(const PolicySet& set) {
  std::vector<std::string> out;
  for (const auto& p : set.policies()) out.push_back(p.name);
  return out;
}

}  // namespace

TEST_CASE("a ConfigMap mount: dot entries skipped, symlinked files read, other extensions ignored") {
  TempDir dir;
  // What the kubelet writes: a timestamped directory, ..data pointing at it,
  // and one symlink per key pointing through ..data.
  dir.Write("..2024_06_01_12_00_00.123/models.yaml", PolicyYaml("models"));
  dir.Write("..2024_06_01_12_00_00.123/extra.yml", PolicyYaml("extra"));
  dir.Write("..2024_06_01_12_00_00.123/third.json",
            R"({"apiVersion": "provgate.dev/v1alpha1", "kind": "ModelPolicy", "metadata": {"name": "third"},)"
            R"( "spec": {"match": {"references": ["**"]}, "authorities": [{"name": "ci", "key": {"file": ")" +
                kPolicies + R"(/keys/ec-p256.pub"}}]}})");
  fs::create_directory_symlink("..2024_06_01_12_00_00.123", dir.path() / "..data");
  for (const char* f : {"models.yaml", "extra.yml", "third.json"}) {
    fs::create_symlink(fs::path("..data") / f, dir.path() / f);
  }
  dir.Write(".hidden.yaml", "this is not YAML: [");
  dir.Write("README.md", "not a policy");
  dir.Write("notes.txt", "not a policy");
  dir.Write("nested/deeper.yaml", "not read: directories are not descended into [");

  auto r = LoadPolicies({dir.path().string()});
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CHECK(Names(**r) == std::vector<std::string>{"extra", "models", "third"});  // name order
}

TEST_CASE("policy names are unique across files") {
  auto r = LoadPolicies({kPolicies + "/dir-duplicate"});
  REQUIRE_FALSE(r.ok());
  std::string b = kPolicies + "/dir-duplicate/b.yaml";
  std::string a = kPolicies + "/dir-duplicate/a.yaml";
  CHECK(r.status().message() ==
        b + ":17:9: metadata.name: duplicate policy name \"shared\" (first defined at " + a + ":5:9)");
}

TEST_CASE("a file reached twice is read once") {
  std::string file = kPolicies + "/valid/spec-example.yaml";
  auto r = LoadPolicies({file, kPolicies + "/valid/../valid/spec-example.yaml", kPolicies + "/valid"});
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  auto dir_only = LoadPolicies({kPolicies + "/valid"});
  REQUIRE_MESSAGE(dir_only.ok(), dir_only.status().message());
  CHECK((*r)->policies().size() == (*dir_only)->policies().size());  // spec-example.yaml's once, not three times
}

TEST_CASE("unreadable paths and errors in several files are all reported") {
  TempDir dir;
  dir.Write("good.yaml", PolicyYaml("good"));
  dir.Write("bad1.yaml", "# broken\nkind: [\n");
  dir.Write("bad2.yaml", PolicyYaml("bad2") + "  mode: sometimes\n");
  std::string missing = (dir.path() / "missing.yaml").string();
  auto r = LoadPolicies({dir.path().string(), missing});
  REQUIRE_FALSE(r.ok());
  const std::string m = r.status().message();
  CHECK(m.find((dir.path() / "bad1.yaml").string() + ":3:1: YAML syntax error") != std::string::npos);
  CHECK(m.find((dir.path() / "bad2.yaml").string() + ":12:9: spec.mode: unknown mode \"sometimes\"") !=
        std::string::npos);
  CHECK(m.find(missing + ": cannot read: No such file or directory") != std::string::npos);
  CHECK(std::count(m.begin(), m.end(), '\n') == 2);  // three errors, one per line
}

TEST_CASE("an explicitly named file is read whatever its extension; directories may be empty") {
  TempDir dir;
  dir.Write("policy.txt", PolicyYaml("txt"));
  auto r = LoadPolicies({(dir.path() / "policy.txt").string()});
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  CHECK(Names(**r) == std::vector<std::string>{"txt"});

  TempDir empty;
  auto e = LoadPolicies({empty.path().string()});
  REQUIRE_MESSAGE(e.ok(), e.status().message());
  CHECK((*e)->policies().empty());
}

TEST_CASE("file size is bounded") {
  TempDir dir;
  dir.Write("huge.yaml", std::string(kMaxPolicyFileBytes + 10, '#'));
  auto r = LoadPolicies({(dir.path() / "huge.yaml").string()});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("larger than 1048576 bytes") != std::string::npos);
}

TEST_CASE("ReadFileBounded") {
  TempDir dir;
  dir.Write("f", "hello");
  auto ok = ReadFileBounded((dir.path() / "f").string(), 5);
  REQUIRE(ok.ok());
  CHECK(*ok == "hello");
  CHECK_FALSE(ReadFileBounded((dir.path() / "f").string(), 4).ok());
  auto d = ReadFileBounded(dir.path().string(), 100);
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message() == "Is a directory");
}

// The verification cache is keyed by the set's hash: a trusted root replaced
// under the same path must give another key, or results verified under the
// old root would still decide.
TEST_CASE("the set hash covers a keyless authority's trusted root file, not only its path") {
  TempDir dir;
  const std::string policy =
      "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata: {name: keyless}\nspec:\n"
      "  match: {references: [registry.example.com/**]}\n"
      "  authorities:\n    - name: release\n      keyless:\n        issuer: https://issuer.example\n"
      "        subject: https://github.com/acme/models/.github/workflows/release.yml@refs/heads/main\n"
      "        trustedRoot: roots/root.json\n";
  dir.Write("p.yaml", policy);
  std::ifstream in(kPolicies + "/roots/trusted_root.json");
  const std::string root((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(root.size() > 100);
  dir.Write("roots/root.json", root);  // not beside the policy: a *.json there is read as one
  auto a = LoadPolicies({dir.path().string()});
  REQUIRE_MESSAGE(a.ok(), a.status().message());
  auto again = LoadPolicies({dir.path().string()});
  REQUIRE(again.ok());
  CHECK((*again)->hash() == (*a)->hash());
  // The same trust in other bytes (one more newline) is other trust material.
  dir.Write("roots/root.json", root + "\n");
  auto b = LoadPolicies({dir.path().string()});
  REQUIRE_MESSAGE(b.ok(), b.status().message());
  CHECK((*b)->hash() != (*a)->hash());
}
