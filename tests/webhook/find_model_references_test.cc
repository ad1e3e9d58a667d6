// FindModelReferences (docs/server.md): every kind, every source, the exact field
// path and JSON pointer of each reference, and what is not a reference.
#include "webhook/decide/find_model_references.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace provgate;

namespace {

struct Expected {
  std::string field_path;
  std::string json_pointer;
  Source source;
  std::string raw;
  std::string normalised;  // Reference::String() of the parsed reference
};

struct Row {
  const char* name;
  const char* object;  // JSON
  std::vector<Expected> refs;
};

const Source kC = Source::kContainer, kV = Source::kImageVolume, kS = Source::kStorageUri;

std::vector<ModelReference> MustFind(const Json& object,
                                     const std::vector<std::string>& annotations = DefaultModelAnnotations()) {
  auto refs = FindModelReferences(object, annotations);
  REQUIRE_MESSAGE(refs.ok(), refs.status().ToString());
  return *refs;
}

// Every reference's pointer must name, in the object, exactly the string it
// was read from: /mutate patches through it.
void CheckPointers(const Json& object, const std::vector<ModelReference>& refs) {
  for (const auto& r : refs) {
    const Json& at = object.at(Json::json_pointer(r.json_pointer));
    CHECK_MESSAGE(at == r.raw, r.json_pointer);
  }
}

void CheckRows(const std::vector<Row>& rows) {
  for (const auto& row : rows) {
    const std::string name = row.name;
    CAPTURE(name);
    Json object = Json::parse(row.object);
    auto refs = MustFind(object);
    REQUIRE(refs.size() == row.refs.size());
    for (size_t i = 0; i < refs.size(); ++i) {
      const Expected& e = row.refs[i];
      CAPTURE(e.field_path);
      CHECK(refs[i].field_path == e.field_path);
      CHECK(refs[i].json_pointer == e.json_pointer);
      CHECK(refs[i].source == e.source);
      CHECK(refs[i].raw == e.raw);
      CHECK_MESSAGE(refs[i].parsed, refs[i].parse_error);
      CHECK(refs[i].reference.String() == e.normalised);
      CHECK(refs[i].has_oci_scheme == (e.raw.rfind("oci", 0) == 0 || e.raw.rfind("kit://", 0) == 0));
    }
    CheckPointers(object, refs);
  }
}

}  // namespace

TEST_CASE("FindModelReferences: every workload kind, at its pod template") {
  // One container and one image volume in each kind's pod spec.
  const std::string spec =
      R"({"containers":[{"name":"c","image":"registry.example.com/serve/runtime:v1"}],)"
      R"("volumes":[{"name":"m","image":{"reference":"registry.example.com/models/mnist:v1"}}]})";
  struct KindRow {
    const char* kind;
    const char* api_version;
    std::string object;
    const char* path;     // dotted prefix of the pod spec
    const char* pointer;  // pointer prefix of the pod spec
  };
  const std::string tmpl = R"({"template":{"metadata":{"labels":{"a":"b"}},"spec":)" + spec + "}}";
  std::vector<KindRow> kinds = {
      {"Pod", "v1", R"({"kind":"Pod","apiVersion":"v1","spec":)" + spec + "}", "spec", "/spec"},
      {"Deployment", "apps/v1", "", "spec.template.spec", "/spec/template/spec"},
      {"ReplicaSet", "apps/v1", "", "spec.template.spec", "/spec/template/spec"},
      {"StatefulSet", "apps/v1", "", "spec.template.spec", "/spec/template/spec"},
      {"DaemonSet", "apps/v1", "", "spec.template.spec", "/spec/template/spec"},
      {"Job", "batch/v1", "", "spec.template.spec", "/spec/template/spec"},
      {"ReplicationController", "v1", "", "spec.template.spec", "/spec/template/spec"},
      {"CronJob", "batch/v1",
       R"({"kind":"CronJob","apiVersion":"batch/v1","spec":{"schedule":"@daily","jobTemplate":{"spec":)" + tmpl + "}}}",
       "spec.jobTemplate.spec.template.spec", "/spec/jobTemplate/spec/template/spec"},
      {"PodTemplate", "v1", R"({"kind":"PodTemplate","apiVersion":"v1","template":{"spec":)" + spec + "}}",
       "template.spec", "/template/spec"},
  };
  for (auto& k : kinds) {
    const std::string kind = k.kind;
    CAPTURE(kind);
    if (k.object.empty()) {
      k.object = std::string(R"({"kind":")") + k.kind + R"(","apiVersion":")" + k.api_version + R"(","spec":)" + tmpl +
                 "}";
    }
    Json object = Json::parse(k.object);
    auto refs = MustFind(object);
    REQUIRE(refs.size() == 2);
    CHECK(refs[0].field_path == std::string(k.path) + ".containers[0].image");
    CHECK(refs[0].json_pointer == std::string(k.pointer) + "/containers/0/image");
    CHECK(refs[0].source == kC);
    CHECK(refs[0].reference.String() == "registry.example.com/serve/runtime:v1");
    CHECK(refs[1].field_path == std::string(k.path) + ".volumes[0].image.reference");
    CHECK(refs[1].json_pointer == std::string(k.pointer) + "/volumes/0/image/reference");
    CHECK(refs[1].source == kV);
    CHECK(refs[1].reference.String() == "registry.example.com/models/mnist:v1");
    CheckPointers(object, refs);
  }
}

TEST_CASE("FindModelReferences: container lists, image volumes and normalisation") {
  CheckRows({
      {"init, regular and ephemeral containers, init first",
       R"({"kind":"Pod","spec":{
           "containers":[{"name":"a","image":"busybox"},{"name":"b","image":"ghcr.io/acme/app@sha256:)"
       R"(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}],
           "initContainers":[{"name":"i","image":"acme/init:1"}],
           "ephemeralContainers":[{"name":"e","image":"registry.example.com/debug:v2"}]}})",
       {{"spec.initContainers[0].image", "/spec/initContainers/0/image", kC, "acme/init:1", "docker.io/acme/init:1"},
        {"spec.containers[0].image", "/spec/containers/0/image", kC, "busybox", "docker.io/library/busybox:latest"},
        {"spec.containers[1].image", "/spec/containers/1/image", kC,
         "ghcr.io/acme/app@sha256:" + std::string(64, 'a'), "ghcr.io/acme/app@sha256:" + std::string(64, 'a')},
        {"spec.ephemeralContainers[0].image", "/spec/ephemeralContainers/0/image", kC,
         "registry.example.com/debug:v2", "registry.example.com/debug:v2"}}},
      {"only image volumes count among volumes; indexes are the volume's own",
       R"({"kind":"Pod","spec":{"containers":[],"volumes":[
           {"name":"cfg","configMap":{"name":"x"}},
           {"name":"m","image":{"reference":"registry.example.com/models/a:v1","pullPolicy":"IfNotPresent"}},
           {"name":"empty","emptyDir":{}},
           {"name":"n","image":{"reference":"registry.example.com/models/b:v2"}}]}})",
       {{"spec.volumes[1].image.reference", "/spec/volumes/1/image/reference", kV, "registry.example.com/models/a:v1",
         "registry.example.com/models/a:v1"},
        {"spec.volumes[3].image.reference", "/spec/volumes/3/image/reference", kV, "registry.example.com/models/b:v2",
         "registry.example.com/models/b:v2"}}},
      {"containers without an image, non-string and empty images are skipped",
       R"({"kind":"Pod","spec":{"containers":[{"name":"a"},{"name":"b","image":42},{"name":"c","image":""},
           {"name":"d","image":"registry.example.com/x:v1"}],
           "volumes":[{"name":"v","image":{}},{"name":"w","image":"not-an-object"}]}})",
       {{"spec.containers[3].image", "/spec/containers/3/image", kC, "registry.example.com/x:v1",
         "registry.example.com/x:v1"}}},
      {"the same reference twice is reported twice, once per field",
       R"({"kind":"Pod","spec":{"containers":[{"name":"a","image":"registry.example.com/m:v1"}],
           "volumes":[{"name":"v","image":{"reference":"registry.example.com/m:v1"}}]}})",
       {{"spec.containers[0].image", "/spec/containers/0/image", kC, "registry.example.com/m:v1",
         "registry.example.com/m:v1"},
        {"spec.volumes[0].image.reference", "/spec/volumes/0/image/reference", kV, "registry.example.com/m:v1",
         "registry.example.com/m:v1"}}},
  });
}

TEST_CASE("FindModelReferences: oci:// storage URIs in pod annotations") {
  CheckRows({
      {"both default annotations on a Pod; '/' in the name is ~1 in the pointer",
       R"({"kind":"Pod","metadata":{"annotations":{
           "serving.kserve.io/storage-initializer-sourceuri":"oci://registry.example.com/models/a:v1",
           "provgate.dev/model":"oci://registry.example.com/models/b:v2",
           "other.io/model":"oci://registry.example.com/models/ignored:v1"}},
           "spec":{"containers":[]}})",
       {{R"(metadata.annotations["serving.kserve.io/storage-initializer-sourceuri"])",
         "/metadata/annotations/serving.kserve.io~1storage-initializer-sourceuri", kS,
         "oci://registry.example.com/models/a:v1", "registry.example.com/models/a:v1"},
        {R"(metadata.annotations["provgate.dev/model"])", "/metadata/annotations/provgate.dev~1model", kS,
         "oci://registry.example.com/models/b:v2", "registry.example.com/models/b:v2"}}},
      {"non-oci storage URIs are not OCI models",
       R"({"kind":"Pod","metadata":{"annotations":{
           "serving.kserve.io/storage-initializer-sourceuri":"s3://bucket/models/a",
           "provgate.dev/model":"registry.example.com/models/no-scheme:v1"}},"spec":{}})",
       {}},
      {"oci+native:// and oci+fetch:// count as oci",
       R"({"kind":"Pod","metadata":{"annotations":{
           "serving.kserve.io/storage-initializer-sourceuri":"oci+native://registry.example.com/models/a:v1",
           "provgate.dev/model":"oci+fetch://registry.example.com/models/b:v1"}},"spec":{}})",
       {{R"(metadata.annotations["serving.kserve.io/storage-initializer-sourceuri"])",
         "/metadata/annotations/serving.kserve.io~1storage-initializer-sourceuri", kS,
         "oci+native://registry.example.com/models/a:v1", "registry.example.com/models/a:v1"},
        {R"(metadata.annotations["provgate.dev/model"])", "/metadata/annotations/provgate.dev~1model", kS,
         "oci+fetch://registry.example.com/models/b:v1", "registry.example.com/models/b:v1"}}},
      {"a workload's pod-template annotations count, its own metadata does not (it never reaches the pod)",
       R"({"kind":"Deployment","metadata":{"annotations":{"provgate.dev/model":"oci://registry.example.com/models/own:v1"}},
           "spec":{"template":{"metadata":{"annotations":{"provgate.dev/model":"oci://registry.example.com/models/t:v1"}},
           "spec":{"containers":[]}}}})",
       {{R"(spec.template.metadata.annotations["provgate.dev/model"])",
         "/spec/template/metadata/annotations/provgate.dev~1model", kS, "oci://registry.example.com/models/t:v1",
         "registry.example.com/models/t:v1"}}},
  });
}

TEST_CASE("FindModelReferences: custom annotation names replace the defaults") {
  Json pod = Json::parse(R"({"kind":"Pod","metadata":{"annotations":{
      "acme.io/model~uri":"oci://registry.example.com/models/a:v1",
      "acme-model":"oci://registry.example.com/models/b:v1",
      "provgate.dev/model":"oci://registry.example.com/models/default:v1"}},"spec":{}})");
  auto refs = MustFind(pod, {"acme.io/model~uri", "acme-model"});
  REQUIRE(refs.size() == 2);
  CHECK(refs[0].field_path == R"(metadata.annotations["acme.io/model~uri"])");
  CHECK(refs[0].json_pointer == "/metadata/annotations/acme.io~1model~0uri");
  CHECK(refs[0].source == kS);
  CHECK(refs[1].field_path == R"(metadata.annotations["acme-model"])");
  CHECK(refs[1].json_pointer == "/metadata/annotations/acme-model");
  CheckPointers(pod, refs);
  CHECK(MustFind(pod, {}).empty());
}

TEST_CASE("FindModelReferences: KServe InferenceService") {
  CheckRows({
      {"predictor.model.storageUri",
       R"({"apiVersion":"serving.kserve.io/v1beta1","kind":"InferenceService","metadata":{"name":"mnist"},
           "spec":{"predictor":{"model":{"modelFormat":{"name":"onnx"},
           "storageUri":"oci://registry.example.com/models/mnist:v1"}}}})",
       {{"spec.predictor.model.storageUri", "/spec/predictor/model/storageUri", kS,
         "oci://registry.example.com/models/mnist:v1", "registry.example.com/models/mnist:v1"}}},
      {"predictor.<framework>.storageUri (legacy framework fields)",
       R"({"apiVersion":"serving.kserve.io/v1beta1","kind":"InferenceService",
           "spec":{"predictor":{"sklearn":{"storageUri":"oci://registry.example.com/models/iris:v3"}}}})",
       {{"spec.predictor.sklearn.storageUri", "/spec/predictor/sklearn/storageUri", kS,
         "oci://registry.example.com/models/iris:v3", "registry.example.com/models/iris:v3"}}},
      {"storageUris[] and a storageUri on the component itself",
       R"({"apiVersion":"serving.kserve.io/v1beta1","kind":"InferenceService",
           "spec":{"predictor":{"storageUri":"oci://registry.example.com/models/base:v1",
           "storageUris":[{"uri":"oci://registry.example.com/models/llm:v1","mountPath":"/mnt/models/llm"},
                          {"uri":"gs://bucket/adapter"},
                          {"uri":"oci://registry.example.com/models/adapter:v2","mountPath":"/mnt/models/adapter"}]}}})",
       {{"spec.predictor.storageUri", "/spec/predictor/storageUri", kS, "oci://registry.example.com/models/base:v1",
         "registry.example.com/models/base:v1"},
        {"spec.predictor.storageUris[0].uri", "/spec/predictor/storageUris/0/uri", kS,
         "oci://registry.example.com/models/llm:v1", "registry.example.com/models/llm:v1"},
        {"spec.predictor.storageUris[2].uri", "/spec/predictor/storageUris/2/uri", kS,
         "oci://registry.example.com/models/adapter:v2", "registry.example.com/models/adapter:v2"}}},
      {"non-oci storage URIs are ignored",
       R"({"apiVersion":"serving.kserve.io/v1beta1","kind":"InferenceService",
           "spec":{"predictor":{"model":{"storageUri":"s3://bucket/mnist"}},
                   "transformer":{"containers":[{"name":"t","image":"registry.example.com/t:v1"}]}}})",
       {{"spec.transformer.containers[0].image", "/spec/transformer/containers/0/image", kC,
         "registry.example.com/t:v1", "registry.example.com/t:v1"}}},
      {"predictor containers and image volumes, transformer, annotations",
       R"({"apiVersion":"serving.kserve.io/v1beta1","kind":"InferenceService",
           "metadata":{"annotations":{"provgate.dev/model":"oci://registry.example.com/models/ann:v1"}},
           "spec":{"predictor":{"containers":[{"name":"kserve-container","image":"registry.example.com/runtime:v1"}],
                                "volumes":[{"name":"m","image":{"reference":"registry.example.com/models/vol:v1"}}]},
                   "transformer":{"containers":[{"name":"t","image":"registry.example.com/transformer:v1"}],
                                  "storageUri":"oci://registry.example.com/models/tokenizer:v1"}}})",
       {{R"(metadata.annotations["provgate.dev/model"])", "/metadata/annotations/provgate.dev~1model", kS,
         "oci://registry.example.com/models/ann:v1", "registry.example.com/models/ann:v1"},
        {"spec.predictor.containers[0].image", "/spec/predictor/containers/0/image", kC,
         "registry.example.com/runtime:v1", "registry.example.com/runtime:v1"},
        {"spec.predictor.volumes[0].image.reference", "/spec/predictor/volumes/0/image/reference", kV,
         "registry.example.com/models/vol:v1", "registry.example.com/models/vol:v1"},
        {"spec.transformer.containers[0].image", "/spec/transformer/containers/0/image", kC,
         "registry.example.com/transformer:v1", "registry.example.com/transformer:v1"},
        {"spec.transformer.storageUri", "/spec/transformer/storageUri", kS,
         "oci://registry.example.com/models/tokenizer:v1", "registry.example.com/models/tokenizer:v1"}}},
      {"v1alpha1 of the same group counts",
       R"({"apiVersion":"serving.kserve.io/v1alpha1","kind":"InferenceService",
           "spec":{"predictor":{"model":{"storageUri":"oci://registry.example.com/models/m:v1"}}}})",
       {{"spec.predictor.model.storageUri", "/spec/predictor/model/storageUri", kS,
         "oci://registry.example.com/models/m:v1", "registry.example.com/models/m:v1"}}},
  });
}

TEST_CASE("FindModelReferences: kinds and groups without model references yield nothing") {
  const char* objects[] = {
      // An InferenceService of another API group is not KServe's.
      R"({"apiVersion":"serving.example.com/v1","kind":"InferenceService",
          "spec":{"predictor":{"model":{"storageUri":"oci://registry.example.com/models/m:v1"}}}})",
      R"({"kind":"InferenceService","spec":{"predictor":{"model":{"storageUri":"oci://registry.example.com/m:v1"}}}})",
      // Unknown kinds, even shaped like a pod.
      R"({"apiVersion":"v1","kind":"ConfigMap","spec":{"containers":[{"image":"registry.example.com/m:v1"}]}})",
      R"({"apiVersion":"acme.io/v1","kind":"ModelServer","spec":{"template":{"spec":{"containers":[{"image":"x:v1"}]}}}})",
      R"({"spec":{"containers":[{"image":"registry.example.com/m:v1"}]}})",  // no kind at all
      R"({"kind":"pod","spec":{"containers":[{"image":"registry.example.com/m:v1"}]}})",  // kinds are case-sensitive
      // Known kinds with malformed or missing specs.
      R"({"kind":"Pod"})",
      R"({"kind":"Pod","spec":"nope"})",
      R"({"kind":"Pod","spec":{"containers":{"image":"registry.example.com/m:v1"}}})",
      R"({"kind":"Deployment","spec":{"template":[]}})",
      R"({"kind":"CronJob","spec":{"template":{"spec":{"containers":[{"image":"registry.example.com/m:v1"}]}}}})",
  };
  for (const char* text : objects) {
    const std::string object = text;
    CAPTURE(object);
    CHECK(MustFind(Json::parse(text)).empty());
  }
}

TEST_CASE("FindModelReferences: unparseable references are kept with the reason") {
  Json pod = Json::parse(R"({"kind":"Pod","metadata":{"annotations":{"provgate.dev/model":"oci://Registry/BAD NAME"}},
      "spec":{"containers":[{"name":"a","image":"registry.example.com/Models/Upper:v1"},
                            {"name":"b","image":"registry.example.com/m@sha256:short"}]}})");
  auto refs = MustFind(pod);
  REQUIRE(refs.size() == 3);
  for (const auto& r : refs) {
    CAPTURE(r.raw);
    CHECK_FALSE(r.parsed);
    CHECK_FALSE(r.parse_error.empty());
  }
  CHECK(refs[0].field_path == R"(metadata.annotations["provgate.dev/model"])");
  CHECK(refs[0].has_oci_scheme);
  CHECK(refs[0].raw == "oci://Registry/BAD NAME");
  CHECK(refs[1].field_path == "spec.containers[0].image");
  CHECK(refs[1].raw == "registry.example.com/Models/Upper:v1");
  CHECK(refs[2].field_path == "spec.containers[1].image");
  CheckPointers(pod, refs);
}

TEST_CASE("FindModelReferences: at most kMaxReferencesPerObject references") {
  auto pod_with = [](size_t containers) {
    Json pod = {{"kind", "Pod"}, {"spec", {{"containers", Json::array()}}}};
    for (size_t i = 0; i < containers; ++i) {
      pod["spec"]["containers"].push_back({{"name", "c" + std::to_string(i)}, {"image", "registry.example.com/m:v1"}});
    }
    return pod;
  };
  auto at_bound = FindModelReferences(pod_with(kMaxReferencesPerObject), DefaultModelAnnotations());
  REQUIRE(at_bound.ok());
  CHECK(at_bound->size() == kMaxReferencesPerObject);

  auto over = FindModelReferences(pod_with(kMaxReferencesPerObject + 1), DefaultModelAnnotations());
  REQUIRE_FALSE(over.ok());
  CHECK(over.status().code() == StatusCode::kInvalidArgument);
  CHECK(over.status().message().find(std::to_string(kMaxReferencesPerObject)) != std::string::npos);
}

TEST_CASE("FindModelReferences: input that is not a JSON object is refused") {
  for (const Json& j : {Json::array(), Json("Pod"), Json(nullptr), Json(3)}) {
    const std::string input = j.dump();
    CAPTURE(input);
    auto refs = FindModelReferences(j, DefaultModelAnnotations());
    REQUIRE_FALSE(refs.ok());
    CHECK(refs.status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("IdentifyObject: kind, namespace and name for messages") {
  auto id = IdentifyObject(Json::parse(R"({"kind":"Deployment","metadata":{"namespace":"serving","name":"web"}})"));
  CHECK(id.kind == "Deployment");
  CHECK(id.namespace_name == "serving");
  CHECK(id.name == "web");
  auto generated = IdentifyObject(Json::parse(R"({"kind":"Pod","metadata":{"generateName":"web-7d9f-"}})"));
  CHECK(generated.name == "web-7d9f-*");
  CHECK(generated.namespace_name.empty());
  auto none = IdentifyObject(Json::array());
  CHECK(none.kind.empty());
  CHECK(none.name.empty());
}

// KServe's framework specs (sklearn, model, ...) inline a corev1.Container,
// so `image` there is the serving container's image; workerSpec inlines a
// PodSpec (multi-node predictors); the ART explainer inlines a container and
// a storageUri. (kserve/kserve pkg/apis/serving/v1beta1.)
TEST_CASE("FindModelReferences: KServe container images inlined in framework specs, workers, explainers") {
  CheckRows({
      {"predictor.<framework>.image and .storageUri; predictor.workerSpec pod spec",
       R"({"apiVersion":"serving.kserve.io/v1beta1","kind":"InferenceService",
           "spec":{"predictor":{
             "model":{"modelFormat":{"name":"huggingface"},"image":"registry.example.com/models/runtime-override:v1",
                      "storageUri":"oci://registry.example.com/models/llm:v1"},
             "workerSpec":{"tensorParallelSize":2,
                           "containers":[{"name":"worker","image":"registry.example.com/models/worker:v1"}],
                           "volumes":[{"name":"w","image":{"reference":"registry.example.com/models/wvol:v1"}}]},
             "annotations":{"image":"not-a-container","storageUri":"oci://not.a/field:v1"},
             "labels":{"image":"x"}}}})",
       {{"spec.predictor.workerSpec.containers[0].image", "/spec/predictor/workerSpec/containers/0/image", kC,
         "registry.example.com/models/worker:v1", "registry.example.com/models/worker:v1"},
        {"spec.predictor.workerSpec.volumes[0].image.reference", "/spec/predictor/workerSpec/volumes/0/image/reference",
         kV, "registry.example.com/models/wvol:v1", "registry.example.com/models/wvol:v1"},
        {"spec.predictor.model.image", "/spec/predictor/model/image", kC,
         "registry.example.com/models/runtime-override:v1", "registry.example.com/models/runtime-override:v1"},
        {"spec.predictor.model.storageUri", "/spec/predictor/model/storageUri", kS,
         "oci://registry.example.com/models/llm:v1", "registry.example.com/models/llm:v1"}}},
      {"explainer.art.image and .storageUri",
       R"({"apiVersion":"serving.kserve.io/v1beta1","kind":"InferenceService",
           "spec":{"predictor":{"sklearn":{"image":"registry.example.com/models/sk:v1"}},
                   "explainer":{"art":{"type":"SquareAttack","image":"registry.example.com/models/art:v1",
                                       "storageUri":"oci://registry.example.com/models/explain:v1"}}}})",
       {{"spec.predictor.sklearn.image", "/spec/predictor/sklearn/image", kC, "registry.example.com/models/sk:v1",
         "registry.example.com/models/sk:v1"},
        {"spec.explainer.art.image", "/spec/explainer/art/image", kC, "registry.example.com/models/art:v1",
         "registry.example.com/models/art:v1"},
        {"spec.explainer.art.storageUri", "/spec/explainer/art/storageUri", kS,
         "oci://registry.example.com/models/explain:v1", "registry.example.com/models/explain:v1"}}},
  });
}

// Registry host names are case-insensitive (DNS, TLS) and :443 is https's
// default port: the runtime pulls `Registry.Example.COM:443/models/m` from
// the same registry as `registry.example.com/models/m`. Policies must see
// the one name, or an upper-case host walks past every policy unmatched.
TEST_CASE("FindModelReferences: registry hosts are compared as the runtime reaches them") {
  CheckRows({
      {"host case and the default https port",
       R"({"kind":"Pod","spec":{"containers":[
           {"name":"a","image":"Registry.Example.COM/models/m:v1"},
           {"name":"b","image":"registry.example.com:443/models/m:v1"},
           {"name":"c","image":"REGISTRY.EXAMPLE.COM:0443/models/m@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
           {"name":"d","image":"registry.example.com:5000/models/m:v1"},
           {"name":"e","image":"Index.Docker.IO/busybox"},
           {"name":"f","image":"docker.io:443/library/busybox:1"},
           {"name":"g","image":"LOCALHOST:5000/m:v1"}]}})",
       {{"spec.containers[0].image", "/spec/containers/0/image", kC, "Registry.Example.COM/models/m:v1",
         "registry.example.com/models/m:v1"},
        {"spec.containers[1].image", "/spec/containers/1/image", kC, "registry.example.com:443/models/m:v1",
         "registry.example.com/models/m:v1"},
        {"spec.containers[2].image", "/spec/containers/2/image", kC,
         "REGISTRY.EXAMPLE.COM:0443/models/m@sha256:" + std::string(64, 'a'),
         "registry.example.com/models/m@sha256:" + std::string(64, 'a')},
        {"spec.containers[3].image", "/spec/containers/3/image", kC, "registry.example.com:5000/models/m:v1",
         "registry.example.com:5000/models/m:v1"},
        {"spec.containers[4].image", "/spec/containers/4/image", kC, "Index.Docker.IO/busybox",
         "docker.io/library/busybox:latest"},
        {"spec.containers[5].image", "/spec/containers/5/image", kC, "docker.io:443/library/busybox:1",
         "docker.io/library/busybox:1"},
        {"spec.containers[6].image", "/spec/containers/6/image", kC, "LOCALHOST:5000/m:v1", "localhost:5000/m:v1"}}},
      // The mirror image: a first component that is a host only by its case
      // or its port is pulled from that host (distribution's
      // splitDockerDomain), never from Docker Hub.
      {"hosts only by case or port stay hosts",
       R"({"kind":"Pod","spec":{"containers":[
           {"name":"a","image":"ACME/model:v1"},
           {"name":"b","image":"registry:443/models/m:v1"},
           {"name":"c","image":"acme/model:v1"},
           {"name":"d","image":"registry-1.docker.io/acme/model:v1"}]}})",
       {{"spec.containers[0].image", "/spec/containers/0/image", kC, "ACME/model:v1", "acme:443/model:v1"},
        {"spec.containers[1].image", "/spec/containers/1/image", kC, "registry:443/models/m:v1",
         "registry:443/models/m:v1"},
        {"spec.containers[2].image", "/spec/containers/2/image", kC, "acme/model:v1", "docker.io/acme/model:v1"},
        {"spec.containers[3].image", "/spec/containers/3/image", kC, "registry-1.docker.io/acme/model:v1",
         "docker.io/acme/model:v1"}}},
  });
}

// KServe writes the storage URI on the pods it creates under its internal
// annotation (constants.StorageInitializerSourceUriInternalAnnotationKey,
// "internal.serving.kserve.io/storage-initializer-sourceuri"); with
// oci+fetch the storage-initializer's arguments are the only other place the
// model appears (both are read: tests/webhook/model_paths_test.cc). It is
// searched by default.
TEST_CASE("FindModelReferences: KServe's internal storage-initializer annotation on pods") {
  CheckRows({
      {"the annotation KServe sets",
       R"({"kind":"Pod","metadata":{"annotations":{
           "internal.serving.kserve.io/storage-initializer-sourceuri":"oci+fetch://registry.example.com/models/llm:v1"}},
           "spec":{"initContainers":[{"name":"storage-initializer","image":"kserve/storage-initializer:v0.15.0",
                   "args":["oci+fetch://registry.example.com/models/llm:v1","/mnt/models"]}],
                   "containers":[{"name":"kserve-container","image":"kserve/huggingfaceserver:v0.15.0"}]}})",
       {{R"(metadata.annotations["internal.serving.kserve.io/storage-initializer-sourceuri"])",
         "/metadata/annotations/internal.serving.kserve.io~1storage-initializer-sourceuri", kS,
         "oci+fetch://registry.example.com/models/llm:v1", "registry.example.com/models/llm:v1"},
        {"spec.initContainers[0].image", "/spec/initContainers/0/image", kC, "kserve/storage-initializer:v0.15.0",
         "docker.io/kserve/storage-initializer:v0.15.0"},
        {"spec.initContainers[0].args[0]", "/spec/initContainers/0/args/0", Source::kInitArgs,
         "oci+fetch://registry.example.com/models/llm:v1", "registry.example.com/models/llm:v1"},
        {"spec.containers[0].image", "/spec/containers/0/image", kC, "kserve/huggingfaceserver:v0.15.0",
         "docker.io/kserve/huggingfaceserver:v0.15.0"}}},
  });
}

TEST_CASE("UnderstoodKindNames: each is understood in some API group, and nothing else is") {
  const char* const api_versions[] = {"v1", "apps/v1", "batch/v1", "serving.kserve.io/v1beta1",
                                      "leaderworkerset.x-k8s.io/v1", "argoproj.io/v1alpha1"};
  auto understood_somewhere = [&](const std::string& kind) {
    for (const char* api : api_versions) {
      if (KindUnderstood(kind, api)) return true;
    }
    return false;
  };
  for (const auto& kind : UnderstoodKindNames()) {
    CAPTURE(kind);
    CHECK(understood_somewhere(kind));
  }
  for (const char* kind : {"pods", "Service", "ConfigMap", "deployment", ""}) {
    CAPTURE(kind);
    CHECK_FALSE(understood_somewhere(kind));
    CHECK(std::find(UnderstoodKindNames().begin(), UnderstoodKindNames().end(), kind) == UnderstoodKindNames().end());
  }
}
