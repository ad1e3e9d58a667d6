#include "policy/path.h"

#include <doctest/doctest.h>

using namespace provgate;

namespace {

JsonPath MustParse(const std::string& text) {
  auto p = JsonPath::Parse(text);
  REQUIRE_MESSAGE(p.ok(), p.status().ToString());
  return *p;
}

// The selected values as one JSON array, for compact comparisons.
Json Select(const std::string& path, const Json& doc) {
  Json out = Json::array();
  for (const Json* v : MustParse(path).Evaluate(doc)) out.push_back(*v);
  return out;
}

const Json kDoc = Json::parse(R"({
  "predicate": {
    "builder": {"id": "https://tekton.dev/chains/v2"},
    "materials": [
      {"uri": "git+https://github.com/acme/models", "digest": {"sha1": "abc"}},
      {"uri": "oci://registry.example.com/base"},
      {"digest": {"sha256": "def"}}
    ],
    "empty": []
  },
  "annotations": {
    "org.opencontainers.image.source": "https://github.com/acme/models",
    "quote\"and\\backslash": 1,
    "customProperties": {"accuracy": 0.97}
  },
  "matrix": [[1, 2], [3]]
})");

}  // namespace

TEST_CASE("paths select values") {
  struct Row {
    const char* path;
    const char* want;  // JSON array of the selected values
  };
  Row rows[] = {
      {"predicate.builder.id", R"(["https://tekton.dev/chains/v2"])"},
      {"predicate.builder", R"([{"id": "https://tekton.dev/chains/v2"}])"},
      {R"(annotations["org.opencontainers.image.source"])", R"(["https://github.com/acme/models"])"},
      {R"(annotations["quote\"and\\backslash"])", "[1]"},
      {R"(["annotations"].customProperties.accuracy)", "[0.97]"},
      {"predicate.materials[0].uri", R"(["git+https://github.com/acme/models"])"},
      {"predicate.materials[1].uri", R"(["oci://registry.example.com/base"])"},
      {"predicate.materials[*].uri", R"(["git+https://github.com/acme/models", "oci://registry.example.com/base"])"},
      {"predicate.materials[*].digest.sha1", R"(["abc"])"},
      {"matrix[*][*]", "[1, 2, 3]"},
      {"matrix[1][0]", "[3]"},
      // Missing: absent keys, out-of-range indexes, steps on the wrong type.
      {"predicate.foo", "[]"},
      {"predicate.builder.id.x", "[]"},
      {"predicate.materials[3]", "[]"},
      {"predicate.materials.uri", "[]"},
      {"predicate.builder[0]", "[]"},
      {"predicate.builder[*]", "[]"},
      {"predicate.empty[*]", "[]"},
      {"nothing[*].at.all", "[]"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.path);
    CHECK(Select(r.path, kDoc) == Json::parse(r.want));
  }
}

TEST_CASE("paths record their steps") {
  JsonPath p = MustParse(R"(a["b.c"][2][*].d)");
  REQUIRE(p.steps().size() == 5);
  CHECK(p.steps()[0].key == "a");
  CHECK(p.steps()[1].key == "b.c");
  CHECK(p.steps()[2].kind == JsonPath::Step::Kind::kIndex);
  CHECK(p.steps()[2].index == 2);
  CHECK(p.steps()[3].kind == JsonPath::Step::Kind::kEach);
  CHECK(p.steps()[4].key == "d");
  CHECK(p.fans_out());
  CHECK_FALSE(MustParse("a.b[0]").fans_out());
  CHECK(p.text() == R"(a["b.c"][2][*].d)");
  CHECK(MustParse("customProperties+json").steps()[0].key == "customProperties+json");
  CHECK(MustParse(R"(a["*"])").steps()[1].key == "*");  // a key named * is written quoted
  CHECK(MustParse("a.b*").steps()[1].key == "b*");
}

TEST_CASE("malformed paths fail with the character position") {
  struct Row {
    const char* path;
    const char* message;
  };
  Row rows[] = {
      {"", "path is empty"},
      {"a..b", "at character 3"},
      {"a.", "empty key at character 3"},
      {".a", "at character 1"},
      {"a[x]", "expected a quoted key, an index or * after [ at character 3"},
      {"a[", "unterminated [ at character 2"},
      {"a[0", "expected ] after index at character 4"},
      {"a[*", "expected ] after * at character 4"},
      {R"(a["b)", "unterminated quoted key at character 3"},
      {R"(a["b"x)", "expected ] after quoted key at character 6"},
      {R"(a["b\n"])", "unsupported escape"},
      {"a[-1]", "at character 3"},
      {"a[99999999999]", "index too large"},
      {"a b", "expected . or [ at character 2"},
      {"a]", "expected . or [ at character 2"},
      {"a.'b'", "at character 3"},
      // A bare * is not a wildcard: it would be a key named "*", missing in
      // every document, so `materials.*.uri notEquals evil` would always pass.
      {"materials.*.uri",
       R"(write [*] to fan out over an array (a key named * is written ["*"]) at character 11)"},
      {"*", "a bare * is not a wildcard"},
      {"a.**", "a bare ** is not a wildcard"},
  };
  for (const auto& r : rows) {
    std::string path = r.path;
    CAPTURE(path);
    auto p = JsonPath::Parse(r.path);
    REQUIRE_FALSE(p.ok());
    CHECK_MESSAGE(p.status().message().find(r.message) != std::string::npos, p.status().message());
  }
  CHECK_FALSE(JsonPath::Parse(std::string(kMaxPathLength + 1, 'a')).ok());
  std::string many = "a";
  for (size_t i = 0; i < kMaxPathSteps + 1; ++i) many += ".a";
  CHECK(JsonPath::Parse(many).status().message().find("steps") != std::string::npos);
}
