// Every model delivery path (docs/server.md, "Where model references come
// from") read from manifests in the shape their projects document
// (tests/testdata/manifests/SOURCE.md): KitOps' init container and
// kit:// storage, the ModelPack CSI driver, KServe's oci+fetch:// storageUris
// and storage-initializer args, LLMInferenceService, TrainedModel,
// STORAGE_URI, LeaderWorkerSet and Argo Rollout pod templates; the
// look-alikes beside them that must not be found; kinds not understood; and
// the same files through `provgate check`.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/test_util.h"
#include "webhook/decide/find_model_references.h"
#include "webhook/read_manifests.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

std::vector<Json> ReadTestManifest(const std::string& name) {
  const std::string path = TestData("manifests/" + name);
  auto objs = ReadManifestObjects(ReadFile(path), path);
  REQUIRE_MESSAGE(objs.ok(), objs.status().ToString());
  return *objs;
}

struct Expected {
  std::string field_path;
  std::string json_pointer;
  Source source;
  std::string raw;
  std::string normalised;  // Reference::String()
  bool pinnable = true;
};

struct Row {
  const char* file;
  size_t document;
  std::vector<Expected> refs;  // exactly these, in order
};

const Source kC = Source::kContainer, kV = Source::kImageVolume, kS = Source::kStorageUri, kE = Source::kEnv,
             kCsi = Source::kCsiVolume, kA = Source::kInitArgs;

void CheckRow(const Row& row) {
  const std::string where = std::string(row.file) + "#" + std::to_string(row.document);
  CAPTURE(where);
  Json object = ReadTestManifest(row.file).at(row.document);
  CHECK(IdentifyObject(object).kind_understood);
  auto refs = FindModelReferences(object, DefaultModelAnnotations());
  REQUIRE_MESSAGE(refs.ok(), refs.status().ToString());
  std::string found;
  for (const auto& r : *refs) found += r.field_path + " ";
  CAPTURE(found);
  REQUIRE(refs->size() == row.refs.size());
  for (size_t i = 0; i < refs->size(); ++i) {
    const ModelReference& r = (*refs)[i];
    const Expected& e = row.refs[i];
    CAPTURE(e.field_path);
    CHECK(r.field_path == e.field_path);
    CHECK(r.json_pointer == e.json_pointer);
    CHECK(r.source == e.source);
    CHECK(r.raw == e.raw);
    CHECK_MESSAGE(r.parsed, r.parse_error);
    CHECK(r.reference.String() == e.normalised);
    CHECK(r.pinnable == e.pinnable);
    // /mutate patches through the pointer: it must name the string read.
    CHECK(object.at(Json::json_pointer(r.json_pointer)) == r.raw);
  }
}

}  // namespace

TEST_CASE("model paths: KitOps init container, ModelPack CSI volume, kit:// storage") {
  for (const Row& row : std::vector<Row>{
           // Only the init container's MODELKIT_REF; the app container's is its own variable.
           {"kitops-init-pod.yaml", 0,
            {{"spec.initContainers[0].image", "/spec/initContainers/0/image", kC, "ghcr.io/kitops-ml/kitops-init:latest",
              "ghcr.io/kitops-ml/kitops-init:latest"},
             {"spec.initContainers[0].env[1].value", "/spec/initContainers/0/env/1/value", kE,
              "ghcr.io/kitops-ml/my-modelkit:latest", "ghcr.io/kitops-ml/my-modelkit:latest"},
             {"spec.containers[0].image", "/spec/containers/0/image", kC, "alpine:latest",
              "docker.io/library/alpine:latest"}}},
           // Only the ModelPack driver's volume; another driver's same-named attribute is not a model.
           {"modelpack-csi-pod.yaml", 0,
            {{"spec.containers[0].image", "/spec/containers/0/image", kC, "ubuntu:24.04", "docker.io/library/ubuntu:24.04"},
             {R"(spec.volumes[1].csi.volumeAttributes["model.csi.modelpack.org/reference"])",
              "/spec/volumes/1/csi/volumeAttributes/model.csi.modelpack.org~1reference", kCsi,
              "example.com/model/llama:v1.0.0", "example.com/model/llama:v1.0.0"}}},
           {"kitops-kserve.yaml", 0,
            {{"spec.predictor.model.storageUri", "/spec/predictor/model/storageUri", kS,
              "kit://ghcr.io/kitops-ml/kitops-examples:iris", "ghcr.io/kitops-ml/kitops-examples:iris"}}},
           // The Pod KServe makes of it: the annotation, and the ClusterStorageContainer's args
           // (a URI only: /mnt/models is not one).
           {"kitops-kserve.yaml", 1,
            {{R"(metadata.annotations["internal.serving.kserve.io/storage-initializer-sourceuri"])",
              "/metadata/annotations/internal.serving.kserve.io~1storage-initializer-sourceuri", kS,
              "kit://ghcr.io/kitops-ml/kitops-examples:iris", "ghcr.io/kitops-ml/kitops-examples:iris"},
             {"spec.initContainers[0].image", "/spec/initContainers/0/image", kC, "ghcr.io/kitops-ml/kitops-kserve:latest",
              "ghcr.io/kitops-ml/kitops-kserve:latest"},
             {"spec.initContainers[0].args[0]", "/spec/initContainers/0/args/0", kA,
              "kit://ghcr.io/kitops-ml/kitops-examples:iris", "ghcr.io/kitops-ml/kitops-examples:iris", false},
             {"spec.containers[0].image", "/spec/containers/0/image", kC, "kserve/sklearnserver:v0.15.0",
              "docker.io/kserve/sklearnserver:v0.15.0"}}},
       }) {
    CheckRow(row);
  }
}

TEST_CASE("model paths: KServe oci+fetch:// storageUris, storage-initializer args, STORAGE_URI") {
  for (const Row& row : std::vector<Row>{
           {"kserve-oci-fetch.yaml", 0,
            {{"spec.predictor.storageUris[0].uri", "/spec/predictor/storageUris/0/uri", kS,
              "oci+fetch://registry.example.com/models/llm:v1", "registry.example.com/models/llm:v1"},
             {"spec.predictor.storageUris[2].uri", "/spec/predictor/storageUris/2/uri", kS,
              "oci+fetch://registry.example.com/models/adapter:v2", "registry.example.com/models/adapter:v2"}}},
           // Every (uri, path) pair's URI; not another init container's args; not a gs:// STORAGE_URI.
           {"kserve-oci-fetch.yaml", 1,
            {{"spec.initContainers[0].image", "/spec/initContainers/0/image", kC, "kserve/storage-initializer:v0.16.0",
              "docker.io/kserve/storage-initializer:v0.16.0"},
             {"spec.initContainers[0].args[0]", "/spec/initContainers/0/args/0", kA,
              "oci://registry.example.com/models/llm:v1", "registry.example.com/models/llm:v1", false},
             {"spec.initContainers[0].args[2]", "/spec/initContainers/0/args/2", kA,
              "oci://registry.example.com/models/adapter:v2", "registry.example.com/models/adapter:v2", false},
             {"spec.initContainers[1].image", "/spec/initContainers/1/image", kC, "busybox:1.36",
              "docker.io/library/busybox:1.36"},
             {"spec.containers[0].image", "/spec/containers/0/image", kC, "kserve/huggingfaceserver:v0.16.0",
              "docker.io/kserve/huggingfaceserver:v0.16.0"}}},
       }) {
    CheckRow(row);
  }
}

TEST_CASE("model paths: LLMInferenceService, TrainedModel, LeaderWorkerSet, Argo Rollout") {
  const std::string vllm = "vllm/vllm-openai:v0.9.2", llmd = "ghcr.io/llm-d/llm-d:v0.2.0";
  for (const Row& row : std::vector<Row>{
           {"llminferenceservice.yaml", 0,
            {{"spec.model.uri", "/spec/model/uri", kS,
              "oci://registry.redhat.io/rhelai1/modelcar-granite-3-1-8b-lab-v1:1.4.0",
              "registry.redhat.io/rhelai1/modelcar-granite-3-1-8b-lab-v1:1.4.0"},
             {"spec.template.containers[0].image", "/spec/template/containers/0/image", kC, vllm, "docker.io/" + vllm},
             {"spec.template.containers[0].env[0].value", "/spec/template/containers/0/env/0/value", kE,
              "oci://registry.example.com/models/granite-extra:v1", "registry.example.com/models/granite-extra:v1"},
             {"spec.worker.containers[0].image", "/spec/worker/containers/0/image", kC, vllm, "docker.io/" + vllm},
             {"spec.prefill.template.containers[0].image", "/spec/prefill/template/containers/0/image", kC, llmd, llmd},
             {"spec.prefill.worker.containers[0].image", "/spec/prefill/worker/containers/0/image", kC, llmd, llmd},
             {"spec.router.scheduler.template.containers[0].image", "/spec/router/scheduler/template/containers/0/image",
              kC, "ghcr.io/llm-d/llm-d-inference-scheduler:v0.2.1", "ghcr.io/llm-d/llm-d-inference-scheduler:v0.2.1"}}},
           // v1alpha2 counts; hf:// is not an OCI model.
           {"llminferenceservice.yaml", 1,
            {{"spec.template.containers[0].image", "/spec/template/containers/0/image", kC, "vllm/vllm-openai:latest",
              "docker.io/vllm/vllm-openai:latest"}}},
           {"trainedmodel.yaml", 0,
            {{"spec.model.storageUri", "/spec/model/storageUri", kS, "oci://registry.example.com/models/iris:v1",
              "registry.example.com/models/iris:v1"}}},
           {"trainedmodel.yaml", 1, {}},  // gs://
           {"leaderworkerset.yaml", 0,
            {{R"(spec.leaderWorkerTemplate.leaderTemplate.metadata.annotations["provgate.dev/model"])",
              "/spec/leaderWorkerTemplate/leaderTemplate/metadata/annotations/provgate.dev~1model", kS,
              "oci://registry.example.com/models/llama:v3", "registry.example.com/models/llama:v3"},
             {"spec.leaderWorkerTemplate.leaderTemplate.spec.containers[0].image",
              "/spec/leaderWorkerTemplate/leaderTemplate/spec/containers/0/image", kC, "vllm/vllm-openai:v0.8.5",
              "docker.io/vllm/vllm-openai:v0.8.5"},
             {"spec.leaderWorkerTemplate.workerTemplate.spec.containers[0].image",
              "/spec/leaderWorkerTemplate/workerTemplate/spec/containers/0/image", kC, "vllm/vllm-openai:v0.8.5",
              "docker.io/vllm/vllm-openai:v0.8.5"},
             {"spec.leaderWorkerTemplate.workerTemplate.spec.volumes[0].image.reference",
              "/spec/leaderWorkerTemplate/workerTemplate/spec/volumes/0/image/reference", kV,
              "registry.example.com/models/llama:v3", "registry.example.com/models/llama:v3"}}},
           {"argo-rollout.yaml", 0,
            {{"spec.template.spec.containers[0].image", "/spec/template/spec/containers/0/image", kC,
              "argoproj/rollouts-demo:blue", "docker.io/argoproj/rollouts-demo:blue"}}},
       }) {
    CheckRow(row);
  }
}

TEST_CASE("model paths: look-alikes that are not model references") {
  struct NotRow {
    const char* name;
    const char* object;
  };
  const NotRow rows[] = {
      {"MODELKIT_REF on a regular or ephemeral container",
       R"({"kind":"Pod","spec":{"containers":[{"name":"a","env":[{"name":"MODELKIT_REF","value":"ghcr.io/x/m:v1"}]}],
           "ephemeralContainers":[{"name":"e","env":[{"name":"MODELKIT_REF","value":"ghcr.io/x/m:v1"}]}]}})"},
      {"MODELKIT_REF from valueFrom, empty, or not a string; other names",
       R"({"kind":"Pod","spec":{"initContainers":[{"name":"kitops-init","env":[
           {"name":"MODELKIT_REF","valueFrom":{"configMapKeyRef":{"name":"c","key":"k"}}},
           {"name":"MODELKIT_REF","value":""},{"name":"MODELKIT_REF","value":7},
           {"name":"modelkit_ref","value":"ghcr.io/x/m:v1"},{"name":"UNPACK_PATH","value":"ghcr.io/x/m:v1"}]}]}})"},
      {"STORAGE_URI without an OCI or kit scheme",
       R"({"kind":"Pod","spec":{"containers":[{"name":"a","env":[{"name":"STORAGE_URI","value":"hf://org/repo"},
           {"name":"STORAGE_URI","value":"registry.example.com/m:v1"}]}]}})"},
      {"CSI volumes: another driver, no reference (dynamic mount), no attributes",
       R"({"kind":"Pod","spec":{"volumes":[
           {"name":"a","csi":{"driver":"other.csi.example.com","volumeAttributes":{"model.csi.modelpack.org/reference":"x.io/m:v1"}}},
           {"name":"b","csi":{"driver":"model.csi.modelpack.org","volumeAttributes":{"model.csi.modelpack.org/type":"image"}}},
           {"name":"c","csi":{"driver":"model.csi.modelpack.org"}}]}})"},
      {"storage-initializer as a regular container, and its non-URI args",
       R"({"kind":"Pod","spec":{"containers":[{"name":"storage-initializer","args":["oci://x.io/m:v1","/mnt/models"]}],
           "initContainers":[{"name":"storage-initializer","args":["s3://bucket/m","/mnt/models","x.io/m:v1"]}]}})"},
      {"an LLMInferenceService's pod specs are PodSpecs: a {spec:...} wrapper is not read",
       R"({"apiVersion":"serving.kserve.io/v1alpha1","kind":"LLMInferenceService",
           "spec":{"template":{"spec":{"containers":[{"name":"main","image":"x.io/m:v1"}]}}}})"},
      {"a TrainedModel's storageUri outside spec.model",
       R"({"apiVersion":"serving.kserve.io/v1alpha1","kind":"TrainedModel","spec":{"storageUri":"oci://x.io/m:v1"}})"},
  };
  for (const auto& row : rows) {
    const std::string name = row.name;
    CAPTURE(name);
    Json object = Json::parse(row.object);
    auto refs = FindModelReferences(object, DefaultModelAnnotations());
    REQUIRE(refs.ok());
    std::string found;
    for (const auto& r : *refs) found += r.field_path + " ";
    CHECK_MESSAGE(refs->empty(), found);
    CHECK(IdentifyObject(object).kind_understood);
  }
}

TEST_CASE("model paths: kinds not understood have no references and say so") {
  auto objects = ReadTestManifest("kinds-not-understood.yaml");
  REQUIRE(objects.size() == 3);
  for (const auto& o : objects) {
    ObjectIdentity id = IdentifyObject(o);
    CAPTURE(id.kind);
    CHECK_FALSE(id.kind_understood);
    auto refs = FindModelReferences(o, DefaultModelAnnotations());
    REQUIRE(refs.ok());
    CHECK(refs->empty());
  }
  struct KindRow {
    const char* kind;
    const char* api_version;
    bool understood;
  };
  const KindRow kinds[] = {
      {"Pod", "v1", true},
      {"Deployment", "apps/v1", true},
      {"InferenceService", "serving.kserve.io/v1beta1", true},
      {"LLMInferenceService", "serving.kserve.io/v1alpha2", true},
      {"TrainedModel", "serving.kserve.io/v1alpha1", true},
      {"LeaderWorkerSet", "leaderworkerset.x-k8s.io/v1", true},
      {"Rollout", "argoproj.io/v1alpha1", true},
      {"Rollout", "argoproj.io.evil.com/v1", false},
      {"Rollout", "argoproj.io", false},
      {"LeaderWorkerSet", "apps/v1", false},
      {"TrainedModel", "serving.example.com/v1", false},
      {"LLMInferenceServiceConfig", "serving.kserve.io/v1alpha1", false},
      {"ClusterStorageContainer", "serving.kserve.io/v1alpha1", false},
      {"ConfigMap", "v1", false},
      {"", "", false},
  };
  for (const auto& k : kinds) {
    const std::string kind = std::string(k.api_version) + " " + k.kind;
    CAPTURE(kind);
    CHECK(KindUnderstood(k.kind, k.api_version) == k.understood);
  }
}

// The same manifests through `provgate check`: a policy that matches none of
// them fetches nothing, so no registry is needed. The new source names are
// valid in match.sources.
TEST_CASE("model paths: provgate check reports each source, SKIPPED kinds, and --strict denies them") {
  TempDir dir;
  const std::string key = ReadFile(TestData("keys/ec-p256.pub"));
  std::string pem;
  for (size_t at = 0; at < key.size();) {
    size_t nl = key.find('\n', at);
    if (nl == std::string::npos) nl = key.size();
    pem += "          " + key.substr(at, nl - at) + "\n";
    at = nl + 1;
  }
  const std::string policy = dir.File("policy.yaml");
  WriteFile(policy, "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata:\n  name: elsewhere\nspec:\n"
                    "  match:\n    references: [\"models.invalid/**\"]\n    sources: [env, csi-volume, init-args, storage-uri]\n"
                    "  authorities:\n    - name: k\n      key:\n        pem: |\n" + pem);
  const std::string bin = PROVGATE_BINARY;
  auto lint = RunCommand(bin + " policy lint " + policy + " 2>&1");
  REQUIRE_MESSAGE(lint.exit_code == 0, lint.output);

  auto json = RunCommand(bin + " check -o json --policies " + policy + " -f " + TestData("manifests/kitops-init-pod.yaml") +
                         " -f " + TestData("manifests/modelpack-csi-pod.yaml") + " -f " +
                         TestData("manifests/kserve-oci-fetch.yaml") + " -f " +
                         TestData("manifests/kinds-not-understood.yaml"));
  REQUIRE_MESSAGE(json.exit_code == 0, json.output);
  Json out = Json::parse(json.output);
  std::vector<std::string> sources;
  for (const auto& o : out["objects"]) {
    for (const auto& r : o["references"]) sources.push_back(r["source"].get<std::string>() + " " + r["field"].get<std::string>());
  }
  auto has = [&](const std::string& s) { return std::find(sources.begin(), sources.end(), s) != sources.end(); };
  CHECK(has("env spec.initContainers[0].env[1].value"));
  CHECK(has(R"(csi-volume spec.volumes[1].csi.volumeAttributes["model.csi.modelpack.org/reference"])"));
  CHECK(has("init-args spec.initContainers[0].args[2]"));
  CHECK(has("storage-uri spec.predictor.storageUris[2].uri"));
  REQUIRE(out["objects"].size() == 7);
  CHECK(out["objects"][6]["undecided"] == "kind-not-understood");
  CHECK(out["objects"][6]["allowed"] == true);
  CHECK_FALSE(out["objects"][0].contains("undecided"));
  CHECK(out["summary"] == Json::parse(R"({"objects":7,"allowed":4,"denied":0,"skipped":3})"));

  const std::string skipped = TestData("manifests/kinds-not-understood.yaml");
  auto text = RunCommand(bin + " check --policies " + policy + " -f " + skipped);
  CHECK_MESSAGE(text.exit_code == 0, text.output);
  CHECK_MESSAGE(text.output.find("SKIPPED   Workspace serving/mysmollm2app-workspace: kind not understood "
                                 "(kaito.sh/v1alpha1 Workspace)\n") != std::string::npos,
                text.output);
  CHECK(text.output.find("no model references") == std::string::npos);
  CHECK(text.output.find("3 objects: 0 allowed, 0 denied, 3 skipped (kind not understood)") != std::string::npos);

  auto strict = RunCommand(bin + " check --strict --policies " + policy + " -f " + skipped);
  CHECK_MESSAGE(strict.exit_code == 1, strict.output);
  CHECK_MESSAGE(strict.output.find("DENY      ConfigMap serving/settings: kind not understood (v1 ConfigMap): "
                                   "--strict denies it") != std::string::npos,
                strict.output);
  CHECK(strict.output.find("3 objects: 0 allowed, 3 denied, 0 skipped") != std::string::npos);
  // --strict changes nothing for kinds provgate reads.
  auto strict_known = RunCommand(bin + " check --strict --policies " + policy + " -f " +
                                 TestData("manifests/argo-rollout.yaml"));
  CHECK_MESSAGE(strict_known.exit_code == 0, strict_known.output);
}
