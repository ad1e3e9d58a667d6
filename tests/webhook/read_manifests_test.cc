// ReadManifestObjects: YAML and JSON manifests for `provgate check`, and the
// example manifests shipped in examples/manifests (so they cannot rot).
#include "webhook/read_manifests.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "tests/policy/deadline.h"
#include "tests/test_util.h"
#include "webhook/decide/find_model_references.h"

using namespace provgate;

namespace {

std::vector<Json> MustRead(const std::string& text, const std::string& file = "m.yaml") {
  auto objs = ReadManifestObjects(text, file);
  REQUIRE_MESSAGE(objs.ok(), objs.status().ToString());
  return *objs;
}

std::vector<std::string> Names(const std::vector<Json>& objs) {
  std::vector<std::string> out;
  for (const auto& o : objs) out.push_back(o["kind"].get<std::string>() + "/" + o["metadata"]["name"].get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("ReadManifestObjects: documents that must read") {
  struct Row {
    const char* name;
    const char* text;
    std::vector<std::string> objects;  // kind/name, in order
  };
  Row rows[] = {
      {"one YAML document", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n", {"Pod/a"}},
      {"multi-document YAML with a leading ---, comments and empty documents",
       "# generated\n---\nkind: Pod\nmetadata: {name: a}\n---\n---\n# only a comment\n---\n"
       "kind: Deployment\nmetadata: {name: b}\n...\n---\nkind: Job\nmetadata: {name: c}\n",
       {"Pod/a", "Deployment/b", "Job/c"}},
      {"kind: List is expanded in place",
       "kind: Pod\nmetadata: {name: first}\n---\n"
       "apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  metadata: {name: a}\n- kind: CronJob\n  metadata: {name: b}\n"
       "---\nkind: Pod\nmetadata: {name: last}\n",
       {"Pod/first", "Pod/a", "CronJob/b", "Pod/last"}},
      {"a List inside a List", "kind: List\nitems:\n- kind: List\n  items:\n  - kind: Pod\n    metadata: {name: inner}\n",
       {"Pod/inner"}},
      {"an empty List", "kind: List\nitems: []\n", {}},
      {"JSON (kubectl -o json)", R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"j"}})", {"Pod/j"}},
      {"JSON List", R"(  {"kind":"List","items":[{"kind":"Pod","metadata":{"name":"a"}},
          {"kind":"Deployment","metadata":{"name":"b"}}]})",
       {"Pod/a", "Deployment/b"}},
      {"YAML flow style is not JSON, but still YAML", "{kind: Pod, metadata: {name: a}}\n", {"Pod/a"}},
      {"JSON documents separated by ---",
       "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"a\"}}\n---\n{\"kind\": \"Job\", \"metadata\": {\"name\": \"b\"}}\n",
       {"Pod/a", "Job/b"}},
      {"JSON documents are YAML too, after a comment",
       "# kubectl get -o json\n{\"kind\": \"Pod\", \"metadata\": {\"name\": \"a\"}}\n", {"Pod/a"}},
      {"an empty file", "", {}},
      {"only whitespace and comments", "\n  \n# nothing\n", {}},
  };
  for (const auto& row : rows) {
    const std::string name = row.name;
    CAPTURE(name);
    CHECK(Names(MustRead(row.text)) == row.objects);
  }
}

TEST_CASE("ReadManifestObjects: YAML scalars become the JSON a Kubernetes API server would see") {
  auto objs = MustRead(
      "kind: Pod\nmetadata:\n  name: a\n  annotations:\n    provgate.dev/model: oci://registry.example.com/m:v1\n"
      "spec:\n  containers:\n  - name: c\n    image: \"registry.example.com/serve:1.0\"\n    args: [\"--port\", 8080]\n"
      "    stdin: true\n");
  REQUIRE(objs.size() == 1);
  const Json& c = objs[0]["spec"]["containers"][0];
  CHECK(c["image"] == "registry.example.com/serve:1.0");
  CHECK(c["args"][1] == 8080);
  CHECK(c["stdin"] == true);
  CHECK(objs[0]["metadata"]["annotations"]["provgate.dev/model"] == "oci://registry.example.com/m:v1");
}

TEST_CASE("ReadManifestObjects: input that must be refused, with where") {
  struct Row {
    const char* name;
    std::string text;
    std::vector<std::string> in_message;
  };
  Row rows[] = {
      {"YAML syntax error names file:line:column", "kind: Pod\nmetadata:\n  name: [a, b\n",
       {"deploy.yaml:4:1: "}},
      {"bad indentation, second document", "kind: Pod\n---\nkind: Pod\nmetadata:\n  name: a\n   bad: x\n",
       {"deploy.yaml:6:"}},
      {"a document that is a list", "kind: Pod\nmetadata: {name: a}\n---\n- kind: Pod\n- kind: Job\n",
       {"deploy.yaml:4", "document is not an object"}},
      {"a document that is a scalar", "just some text\n", {"deploy.yaml:1", "document is not an object"}},
      {"a List item that is not an object", "kind: List\nitems:\n- kind: Pod\n- 42\n",
       {"deploy.yaml:1", "document is not an object"}},
      {"malformed JSON", "{\"kind\": \"Pod\",\n \"metadata\": \n", {"deploy.yaml:3:1: "}},
      {"a JSON array", R"([{"kind":"Pod"}])", {"deploy.yaml", "document is not an object"}},
      {"duplicate keys", "kind: Pod\nmetadata:\n  name: a\n  name: b\n", {"deploy.yaml:4:3", "duplicate key"}},
      // yaml-cpp 0.7 read "\0N" in a plain scalar as an escape, the byte 0x85
      // (fuzz finding yaml-nul-escape): the image was not the text's.
      {"a NUL in an image", std::string("kind: Pod\nspec:\n  containers:\n  - image: ghcr.\0Nio/m:1\n", 55),
       {"deploy.yaml:4:17: text holds U+0000, which is not a YAML character"}},
      {"the escape \\N in an image", "kind: Pod\nspec:\n  containers:\n  - image: \"ghcr.\\Nio/m:1\"\n",
       {"deploy.yaml:4:12: a string that is not UTF-8"}},
  };
  for (const auto& row : rows) {
    const std::string name = row.name;
    CAPTURE(name);
    auto objs = ReadManifestObjects(row.text, "deploy.yaml");
    REQUIRE_FALSE(objs.ok());
    CHECK(objs.status().code() == StatusCode::kInvalidArgument);
    for (const auto& part : row.in_message) {
      CHECK_MESSAGE(objs.status().message().find(part) != std::string::npos, objs.status().message());
    }
  }
}

// yaml-cpp 0.7's LoadAll returns an empty document that reads no input over
// and over (jbeder/yaml-cpp#1040): `provgate check` never returned on a
// manifest holding one ','. Each row runs in a child process with a deadline.
TEST_CASE("ReadManifestObjects: a document that reads no input is refused at its position, not read forever") {
  const std::string json = "{\"kind\": \"Pod\",\n \"metadata\": {\"name\": \"a\"}}";
  auto read = [](const std::string& text) {
    return testing::WithinSeconds(5, [&] {
      auto objs = ReadManifestObjects(text, "m.yaml");
      return objs.ok() ? std::to_string(objs->size()) + " objects" : objs.status().message();
    }).value_or("no answer (the child was stopped at 5 s or 1 GiB)");
  };
  struct Row {
    const char* name;
    std::string text;
    std::string result;
  };
  const Row must_fail[] = {
      {"a lone comma", ",", "m.yaml:1:1: YAML syntax error: unexpected ','"},
      {"a comma after a document", "[1,],", "m.yaml:1:5: YAML syntax error: unexpected ','"},
      {"JSON with a trailing comma", json + ",\n", "m.yaml:2:28: YAML syntax error: unexpected ','"},
  };
  for (const auto& row : must_fail) {
    const std::string name = row.name;
    CAPTURE(name);
    CHECK(read(row.text) == row.result);
  }
  const Row must_pass[] = {
      {"the JSON without the comma", json + "\n", "1 objects"},
      {"a trailing comma inside a flow mapping is YAML", json.substr(0, json.size() - 1) + ",}\n", "1 objects"},
  };
  for (const auto& row : must_pass) {
    const std::string name = row.name;
    CAPTURE(name);
    CHECK(read(row.text) == row.result);
  }
}

// The node budget was per document: a 5.4 KB file of documents each within
// it ("billion laughs" aliases) made `check` use 1.86 GB for 42 s.
TEST_CASE("ReadManifestObjects: what YAML aliases expand to is bounded per file, not per document") {
  // A document of 901,238 nodes in 258 bytes: within the bound on its own.
  std::string doc = "---\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n a: &a [x,x,x,x,x,x,x,x,x,x]\n";
  for (std::string prev = "a", name = "b"; name <= "f"; prev = name, ++name[0]) {
    doc += " " + name + ": " + (name == "f" ? "" : "&" + name + " ") + "[*" + prev;
    for (int i = 1; i < (name == "f" ? 7 : 10); ++i) doc += ",*" + prev;
    doc += "]\n";
  }
  CHECK(MustRead(doc).size() == 1);

  std::string file;  // 5.4 KB, 19 million nodes
  for (int i = 0; i < 21; ++i) file += doc;
  auto got = testing::WithinSeconds(10, [&] {
    auto objs = ReadManifestObjects(file, "m.yaml");
    return objs.ok() ? std::to_string(objs->size()) + " objects" : objs.status().message();
  });
  REQUIRE_MESSAGE(got.has_value(), "no answer (the child was stopped at 10 s or 1 GiB)");
  CHECK_MESSAGE(got->rfind("m.yaml:", 0) == 0, *got);
  CHECK_MESSAGE(got->find(": too many nodes: more than " + std::to_string(kMaxManifestNodes) + " in one file") !=
                    std::string::npos,
                *got);
}

TEST_CASE("ReadManifestObjects: deep nesting is refused, not a stack overflow") {
  std::string yaml = "kind: Pod\nspec: " + std::string(5000, '[') + std::string(5000, ']') + "\n";
  CHECK_FALSE(ReadManifestObjects(yaml, "deep.yaml").ok());
  std::string json = R"({"kind":"Pod","spec":)" + std::string(5000, '[') + std::string(5000, ']') + "}";
  CHECK_FALSE(ReadManifestObjects(json, "deep.json").ok());
}

TEST_CASE("examples/manifests: every object reads and has model references") {
  const std::filesystem::path dir = std::filesystem::path(PROVGATE_SOURCE_DIR) / "examples" / "manifests";
  REQUIRE(std::filesystem::is_directory(dir));
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string ext = e.path().extension().string();
    if (ext == ".yaml" || ext == ".yml" || ext == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 4);

  std::set<std::string> kinds;
  std::set<Source> sources;
  for (const auto& f : files) {
    const std::string file = f.string();
    CAPTURE(file);
    auto objs = MustRead(testing::ReadFile(f.string()), f.filename().string());
    REQUIRE_FALSE(objs.empty());
    for (const auto& obj : objs) {
      auto id = IdentifyObject(obj);
      const std::string object_name = id.kind + "/" + id.name;
      CAPTURE(object_name);
      kinds.insert(id.kind);
      auto refs = FindModelReferences(obj, DefaultModelAnnotations());
      REQUIRE_MESSAGE(refs.ok(), refs.status().ToString());
      CHECK_FALSE(refs->empty());
      bool has_model = false;
      for (const auto& r : *refs) {
        CHECK_MESSAGE(r.parsed, std::string(r.raw + ": " + r.parse_error));
        sources.insert(r.source);
        has_model |= r.parsed && r.reference.Name().rfind("registry.example.com/models/", 0) == 0;
      }
      CHECK_MESSAGE(has_model, "no reference under registry.example.com/models/");
    }
  }
  // What the examples promise to show.
  for (const char* k : {"Pod", "Deployment", "InferenceService", "CronJob"}) {
    CHECK_MESSAGE(kinds.count(k) == 1, k);
  }
  CHECK(sources.count(Source::kImageVolume) == 1);
  CHECK(sources.count(Source::kStorageUri) == 1);
  CHECK(sources.count(Source::kContainer) == 1);
}

// kubectl (k8s.io/apimachinery's unstructured decoder) treats every document
// with an `items` field as a list and applies its items; items with neither
// kind nor apiVersion take the list's apiVersion and its kind without "List".
// `check` must see the same objects, or a PodList would pass unexamined.
TEST_CASE("ReadManifestObjects: typed lists are expanded as kubectl expands them") {
  auto pods = MustRead(R"({"apiVersion":"v1","kind":"PodList","items":[
      {"metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"registry.example.com/models/m:v1"}]}},
      {"apiVersion":"v1","kind":"Pod","metadata":{"name":"b"}}]})",
                       "pods.json");
  CHECK(Names(pods) == std::vector<std::string>{"Pod/a", "Pod/b"});
  CHECK(pods[0]["apiVersion"] == "v1");
  auto refs = FindModelReferences(pods[0], DefaultModelAnnotations());
  REQUIRE(refs.ok());
  CHECK(refs->size() == 1);

  auto deployments = MustRead("apiVersion: apps/v1\nkind: DeploymentList\nmetadata: {}\nitems:\n"
                              "- metadata: {name: d}\n  spec: {}\n");
  CHECK(Names(deployments) == std::vector<std::string>{"Deployment/d"});
  CHECK(deployments[0]["apiVersion"] == "apps/v1");

  // Any kind: kubectl only looks for the items field.
  CHECK(Names(MustRead("kind: Anything\nitems:\n- kind: Job\n  metadata: {name: j}\n")) ==
        std::vector<std::string>{"Job/j"});
  CHECK(MustRead("kind: PodList\nitems: null\n").empty());
  auto not_a_list = ReadManifestObjects("kind: PodList\nitems: {a: b}\n", "l.yaml");
  CHECK_FALSE(not_a_list.ok());
  // A kind that is not a string is read, not thrown on.
  CHECK(MustRead("kind: 5\nitems: []\n").empty());
  CHECK(MustRead("kind: 5\nmetadata: {name: a}\n").size() == 1);
}

// kubectl's YAML reader (go-yaml v2) applies merge keys; yaml-cpp reads `<<`
// as an ordinary key. Rather than guess which of go-yaml's order-dependent
// merge rules applies, `check` refuses them: a container whose image comes
// from a merge would otherwise have no image here and one in the cluster.
TEST_CASE("ReadManifestObjects: YAML merge keys are refused, with where") {
  const char* text =
      "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: busybox\n"
      "  - <<: {image: registry.example.com/models/hidden:v1}\n    name: b\n";
  auto objs = ReadManifestObjects(text, "merge.yaml");
  REQUIRE_FALSE(objs.ok());
  CHECK(objs.status().code() == StatusCode::kInvalidArgument);
  CHECK_MESSAGE(objs.status().message().find("merge.yaml:7:") != std::string::npos, objs.status().message());
  CHECK_MESSAGE(objs.status().message().find("merge key") != std::string::npos, objs.status().message());

  const char* aliased =
      "x-base: &base\n  image: registry.example.com/models/hidden:v1\nkind: Pod\nmetadata: {name: p}\n"
      "spec:\n  containers:\n  - name: b\n    <<: *base\n";
  CHECK_FALSE(ReadManifestObjects(aliased, "merge.yaml").ok());
  // A quoted "<<" is an ordinary key for every YAML reader; anchors and
  // aliases without merges read as usual.
  CHECK(MustRead("kind: ConfigMap\nmetadata: {name: c}\ndata:\n  '<<': x\n").size() == 1);
  auto aliases = MustRead("kind: Pod\nmetadata: {name: p, annotations: {a: &img registry.example.com/m:v1}}\n"
                          "spec:\n  containers:\n  - {name: c, image: *img}\n");
  CHECK(aliases[0]["spec"]["containers"][0]["image"] == "registry.example.com/m:v1");
}

// Duplicate keys are already refused in YAML; JSON must not differ. Go's
// decoder keeps the last duplicate, simdjson (the server) finds the first:
// an object with duplicates means different things to different readers.
TEST_CASE("ReadManifestObjects: duplicate keys in JSON are refused") {
  const char* dup = R"({"kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[
      {"name":"a","image":"registry.example.com/models/m:v1","image":"busybox"}]}})";
  auto objs = ReadManifestObjects(dup, "dup.json");
  REQUIRE_FALSE(objs.ok());
  CHECK(objs.status().code() == StatusCode::kInvalidArgument);
  CHECK_MESSAGE(objs.status().message().find("key \"image\" appears twice in one object") != std::string::npos, objs.status().message());
  CHECK_MESSAGE(objs.status().message().find("dup.json") != std::string::npos, objs.status().message());
  // The same key in sibling objects is no duplicate; escapes are decoded first.
  CHECK(MustRead(R"({"kind":"Pod","metadata":{"name":"p","labels":{"name":"x"}}})", "ok.json").size() == 1);
  CHECK_FALSE(ReadManifestObjects(R"({"kind":"Pod","metadata":{"name":"p"},"\u006bind":"Job"})", "esc.json").ok());
}
