// The server extracts references from simdjson's DOM, `check` from
// nlohmann's: both must find exactly the same references, with the same
// paths and pointers, for every object — including odd ones.
#include <doctest/doctest.h>

#include <filesystem>
#include <simdjson.h>

#include "tests/test_util.h"
#include "webhook/decide/find_model_references.h"
#include "webhook/read_manifests.h"

using namespace provgate;

namespace {

// Both extractors over the same text: nlohmann's parse (as `check` reads
// JSON) and simdjson's (as the server reads reviews).
void CheckParityOfText(const std::string& text) {
  CAPTURE(text.substr(0, 300));
  Json object = Json::parse(text);
  simdjson::dom::parser parser;
  simdjson::dom::element element;
  REQUIRE(parser.parse(text).get(element) == simdjson::SUCCESS);
  auto annotations = DefaultModelAnnotations();
  annotations.push_back("example.com/~weird/name");
  auto a = FindModelReferences(object, annotations);
  auto b = FindModelReferencesSimdjson(element, annotations);
  REQUIRE(a.ok() == b.ok());
  if (!a.ok()) {
    CHECK(a.status().message() == b.status().message());
    return;
  }
  REQUIRE(a->size() == b->size());
  for (size_t i = 0; i < a->size(); ++i) {
    const auto &x = (*a)[i], &y = (*b)[i];
    CHECK(x.raw == y.raw);
    CHECK(x.field_path == y.field_path);
    CHECK(x.json_pointer == y.json_pointer);
    CHECK(x.source == y.source);
    CHECK(x.parsed == y.parsed);
    CHECK(x.reference == y.reference);
    CHECK(x.parse_error == y.parse_error);
  }
  auto ia = IdentifyObject(object);
  auto ib = IdentifyObjectSimdjson(element);
  CHECK(ia.kind == ib.kind);
  CHECK(ia.namespace_name == ib.namespace_name);
  CHECK(ia.name == ib.name);
}

void CheckParity(const Json& object) { CheckParityOfText(object.dump()); }

}  // namespace

TEST_CASE("simdjson and nlohmann extraction agree on every example manifest") {
  size_t objects = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(PROVGATE_SOURCE_DIR) + "/examples/manifests")) {
    if (e.path().extension() != ".yaml") continue;
    auto objs = ReadManifestObjects(testing::ReadFile(e.path().string()), e.path().string());
    REQUIRE(objs.ok());
    for (const auto& o : *objs) {
      CheckParity(o);
      ++objects;
    }
  }
  CHECK(objects >= 4);
}

TEST_CASE("simdjson and nlohmann extraction agree on odd objects") {
  const char* cases[] = {
      R"({"kind":"Pod","metadata":{"name":"p","annotations":{"provgate.dev/model":"oci://r.example/m:v1","example.com/~weird/name":"oci+native://r.example/w"}},"spec":{"containers":[{"image":"busybox"},{"image":5},{"name":"noimage"},{"image":""},{"image":"UPPER/Bad Ref"}],"initContainers":[{"image":"r.example/init@sha256:0000000000000000000000000000000000000000000000000000000000000000"}],"ephemeralContainers":[{"image":"r.example/debug:1"}],"volumes":[{"name":"a"},{"image":{"reference":"r.example/v:1"}},{"image":"notobject"}]}})",
      R"({"kind":"Deployment","metadata":{"namespace":"ns","generateName":"d-"},"spec":{"template":{"metadata":{"annotations":{"serving.kserve.io/storage-initializer-sourceuri":"s3://bucket/m"}},"spec":{"containers":[{"image":"r.example/c"}]}}}})",
      R"({"kind":"CronJob","spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"image":"r.example/cron"}]}}}}}})",
      R"({"apiVersion":"serving.kserve.io/v1beta1","kind":"InferenceService","metadata":{"name":"i"},"spec":{"predictor":{"model":{"storageUri":"oci://r.example/m:1"},"sklearn":{"storageUri":"gs://x"},"storageUri":"oci+fetch://r.example/top","storageUris":[{"uri":"oci://r.example/u1"},{"uri":"pvc://x"},{}],"containers":[{"image":"r.example/kserve"}],"weird~/key":{"storageUri":"oci://r.example/w"}},"transformer":{"containers":[{"image":"r.example/t"}]}}})",
      R"({"apiVersion":"serving.kserve.io/v1alpha1","kind":"InferenceService","spec":{"predictor":{"model":{"storageUri":"oci://r.example/m:1"}}}})",
      R"({"apiVersion":"example.com/v1","kind":"InferenceService","spec":{"predictor":{"model":{"storageUri":"oci://r.example/m:1"}}}})",
      R"({"kind":"Pod","spec":[]})",
      R"({"kind":"Pod","spec":{"containers":{"image":"not-a-list"}}})",
      R"({"kind":7,"spec":{}})",
      R"({"kind":"PodTemplate","template":{"spec":{"volumes":[{"image":{"reference":"r.example/pt"}}]}}})",
  };
  for (const char* c : cases) CheckParity(*ParseJson(c, "case"));
  // The reference bound is reported the same way.
  Json many = {{"kind", "Pod"}, {"spec", {{"containers", Json::array()}}}};
  for (size_t i = 0; i <= kMaxReferencesPerObject; ++i) many["spec"]["containers"].push_back({{"image", "r.example/m"}});
  CheckParity(many);
}

TEST_CASE("simdjson and nlohmann extraction agree on text as written: key order, escapes, case") {
  const char* cases[] = {
      // KServe component members out of alphabetical order (nlohmann iterates
      // objects sorted, simdjson in document order).
      R"({"apiVersion":"serving.kserve.io/v1beta1","kind":"InferenceService","spec":{"predictor":{
          "xgboost":{"storageUri":"oci://r.example/x:1"},"model":{"storageUri":"oci://r.example/m:1","image":"r.example/i:1"},
          "Zeta":{"storageUri":"oci://r.example/z:1"},"alpha":{"storageUri":"oci://r.example/a:1"}}}})",
      // Escaped keys are the same keys once decoded.
      R"({"kind":"Pod","spec":{"\u0063ontainers":[{"name":"a","\u0069mage":"r.example/esc:1"}]}})",
      // Go's Kubernetes decoders are case-sensitive (sigs.k8s.io/json): these
      // fields do not exist for the API server, and not for us either.
      R"({"kind":"Pod","spec":{"Containers":[{"image":"r.example/a:1"}],"containers":[{"IMAGE":"r.example/b:1"}]}})",
  };
  for (const char* c : cases) CheckParityOfText(c);
}

// An object with a duplicate key means different things to different
// readers (Go keeps the last, simdjson finds the first): neither `check` nor
// the server may pick one. Kubernetes' API server re-encodes objects before
// it sends them to webhooks, so a real review never has any.
TEST_CASE("duplicate keys on the paths references are read from are refused by both readers") {
  const char* cases[] = {
      R"({"kind":"Pod","spec":{"containers":[{"name":"a","image":"r.example/models/m:v1","image":"busybox"}]}})",
      R"({"kind":"ConfigMap","kind":"Pod","spec":{"containers":[{"image":"r.example/models/m:v1"}]}})",
      R"({"kind":"Pod","spec":{"containers":[]},"spec":{"containers":[{"image":"r.example/models/m:v1"}]}})",
      R"({"kind":"Pod","spec":{"volumes":[{"image":{"reference":"busybox","reference":"r.example/models/m:v1"}}]}})",
      R"({"kind":"Pod","metadata":{"annotations":{"provgate.dev/model":"s3://x","provgate.dev/model":"oci://r.example/m:1"}}})",
      R"({"apiVersion":"serving.kserve.io/v1beta1","kind":"InferenceService","spec":{"predictor":{
          "model":{"storageUri":"oci://r.example/m:1"},"model":{"storageUri":"s3://b/m"}}}})",
  };
  for (const char* c : cases) {
    const std::string text = c;
    CAPTURE(text);
    simdjson::dom::parser parser;
    simdjson::dom::element element;
    REQUIRE(parser.parse(text).get(element) == simdjson::SUCCESS);
    auto server = FindModelReferencesSimdjson(element, DefaultModelAnnotations());
    REQUIRE_FALSE(server.ok());
    CHECK(server.status().code() == StatusCode::kInvalidArgument);
    CHECK_MESSAGE(server.status().message().find("duplicate key") != std::string::npos, server.status().message());
    auto cli = ReadManifestObjects(text, "dup.json");
    CHECK_FALSE(cli.ok());
  }
  // Duplicates elsewhere (labels, status) do not concern references; the
  // server does not look there. (`check` refuses them anywhere.)
  const std::string elsewhere =
      R"({"kind":"Pod","metadata":{"labels":{"a":"1","a":"2"}},"spec":{"containers":[{"image":"r.example/m:1"}]}})";
  simdjson::dom::parser parser;
  simdjson::dom::element element;
  REQUIRE(parser.parse(elsewhere).get(element) == simdjson::SUCCESS);
  auto refs = FindModelReferencesSimdjson(element, DefaultModelAnnotations());
  REQUIRE(refs.ok());
  CHECK(refs->size() == 1);
}
