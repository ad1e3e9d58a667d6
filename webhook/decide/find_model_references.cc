#include "webhook/decide/find_model_references.h"

#include <simdjson.h>

#include <algorithm>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string_view>
#include <tuple>
#include <utility>

#include "base/encoding.h"

namespace provgate {
namespace {

// RFC 6901 escaping of one pointer token.
std::string PointerToken(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

// `parts` joined, in one allocation.
std::string Join(std::initializer_list<std::string_view> parts) {
  size_t n = 0;
  for (auto p : parts) n += p.size();
  std::string out;
  out.reserve(n);
  for (auto p : parts) out.append(p);
  return out;
}

// The extraction below reads simdjson's DOM through a small adapter, for
// both the server (the AdmissionReview's object) and `check` (each manifest
// object, serialised and parsed again): one extractor, one behaviour. The
// adapter iterates arrays (never indexes them: simdjson indexes in linear
// time) and looks object keys up exactly (Kubernetes' decoders are
// case-sensitive: sigs.k8s.io/json).
//
// simdjson keeps duplicate keys and at_key finds the first; Go's decoders
// (the API server's, kubectl's) keep the last. Rather than pick one, a
// duplicate key met on the way to a reference fails the extraction (the
// server then denies). A real API server never sends one: it re-encodes
// objects before it calls webhooks.
struct SimdjsonAdapter {
  using Node = std::optional<simdjson::dom::element>;
  Node Get(const Node& n, std::string_view key) {
    Node found;
    GetEach(n, std::initializer_list<std::string_view>{key}, &found);
    return found;
  }
  // out[k] = the value of keys[k] in object n (absent: empty) for every k, in
  // one pass over the members; a key met twice is the duplicate error.
  template <typename Keys>
  void GetEach(const Node& n, const Keys& keys, Node* out) {
    size_t count = 0;
    for (auto it = std::begin(keys); it != std::end(keys); ++it) out[count++] = std::nullopt;
    simdjson::dom::object obj;
    if (!n || n->get_object().get(obj) != simdjson::SUCCESS) return;
    for (auto field : obj) {
      size_t k = 0;
      for (const auto& key : keys) {
        if (field.key == std::string_view(key)) {
          if (out[k]) {
            Duplicate(field.key);
          } else {
            out[k] = field.value;
          }
        }
        ++k;
      }
    }
  }
  static bool IsObject(const Node& n) { return n && n->is_object(); }
  static std::optional<std::string_view> String(const Node& n) {
    std::string_view s;
    if (!n || n->get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
    return s;
  }
  template <typename F>
  static Status ForEachItem(const Node& n, F f) {
    simdjson::dom::array arr;
    if (!n || n->get_array().get(arr) != simdjson::SUCCESS) return Status::Ok();
    size_t i = 0;
    for (simdjson::dom::element item : arr) RETURN_IF_ERROR(f(i++, Node(item)));
    return Status::Ok();
  }
  template <typename F>
  Status ForEachMember(const Node& n, F f) {
    simdjson::dom::object obj;
    if (!n || n->get_object().get(obj) != simdjson::SUCCESS) return Status::Ok();
    std::vector<std::pair<std::string_view, simdjson::dom::element>> members;
    for (auto field : obj) members.emplace_back(field.key, field.value);
    std::stable_sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 0; i < members.size(); ++i) {
      if (i > 0 && members[i].first == members[i - 1].first) {
        Duplicate(members[i].first);
        return error_;
      }
      RETURN_IF_ERROR(f(members[i].first, Node(members[i].second)));
    }
    return Status::Ok();
  }
  Status error() const { return error_; }

 private:
  void Duplicate(std::string_view key) {
    if (error_.ok()) {
      error_ = InvalidArgument("object has a duplicate key " + Quote(key) +
                               ": readers disagree on which value counts");
    }
  }
  Status error_;
};

using A = SimdjsonAdapter;

// A reference's field path and JSON pointer.
using Paths = std::pair<std::string, std::string>;

class Collector {
 public:
  using Node = A::Node;
  Collector(const std::vector<std::string>& annotations, A& adapter) : annotations_(annotations), a_(adapter) {
    out_.reserve(4);  // a pod's references, usually
  }

  // `paths()` returns the field path and JSON pointer of `value`; it is only
  // called for a string value (the admission hot path builds no strings for
  // the fields an object does not have). A `storage_uri` counts only with an
  // OCI or kit:// scheme.
  template <typename Paths>
  Status Add(const Node& value, Paths paths, Source source, bool storage_uri, bool pinnable = true) {
    auto text = A::String(value);
    if (!text) return Status::Ok();
    std::string_view raw = *text;
    // kit:// is KitOps' ClusterStorageContainer scheme for KServe (kitops-ml/kitops
    // build/dockerfiles/KServe): the rest is a ModelKit reference, an OCI artifact.
    constexpr std::string_view kKit = "kit://";
    const bool kit = raw.rfind(kKit, 0) == 0;
    const bool scheme = kit || raw.rfind("oci://", 0) == 0 || raw.rfind("oci+native://", 0) == 0 ||
                        raw.rfind("oci+fetch://", 0) == 0;
    if (storage_uri && !scheme) return Status::Ok();  // s3://, gs://, pvc:// ... are not OCI models
    if (raw.empty()) return Status::Ok();
    if (out_.size() >= kMaxReferencesPerObject) {
      return InvalidArgument("object has more than " + std::to_string(kMaxReferencesPerObject) + " image references");
    }
    ModelReference m;
    m.raw = std::string(raw);
    std::tie(m.field_path, m.json_pointer) = paths();
    m.source = source;
    m.has_oci_scheme = scheme;
    m.pinnable = pinnable;
    auto ref = ParseReference(kit ? raw.substr(kKit.size()) : raw);  // ParseReference strips the oci schemes
    if (ref.ok()) {
      m.parsed = true;
      m.reference = std::move(*ref);
    } else {
      m.parse_error = ref.status().message();
    }
    out_.push_back(std::move(m));
    return Status::Ok();
  }

  // One container of list `list` at index `i` of the pod spec at
  // (path, ptr): its image; env STORAGE_URI (a storage URI, any container)
  // and, in init containers, MODELKIT_REF (the KitOps init container's
  // ModelKit, kitops-ml/kitops build/dockerfiles/init); and the args of
  // KServe's storage-initializer init container
  // (constants.StorageInitializerContainerName), whose (uri, path) pairs are
  // where oci+fetch:// and storageUris[] models appear on a Pod.
  Status Container(const Node& c, std::string_view list, size_t i, const std::string& path, const std::string& ptr) {
    static constexpr std::string_view kKeys[] = {"image", "env", "args", "name"};
    Node f[4];
    a_.GetEach(c, kKeys, f);
    const bool init = list == "initContainers";
    auto at = [&](std::string_view dotted, std::string_view pointer) {
      std::string idx = std::to_string(i);
      return Paths(Join({path, ".", list, "[", idx, "]", dotted}), Join({ptr, "/", list, "/", idx, pointer}));
    };
    RETURN_IF_ERROR(Add(f[0], [&] { return at(".image", "/image"); }, Source::kContainer, false));
    RETURN_IF_ERROR(A::ForEachItem(f[1], [&](size_t e, const Node& var) {
      static constexpr std::string_view kVar[] = {"name", "value"};
      Node nv[2];
      a_.GetEach(var, kVar, nv);
      auto name = A::String(nv[0]);
      if (!name) return Status::Ok();
      const bool modelkit = init && *name == "MODELKIT_REF";
      if (!modelkit && *name != "STORAGE_URI") return Status::Ok();
      return Add(
          nv[1],
          [&] {
            std::string idx = std::to_string(e);
            return at(Join({".env[", idx, "].value"}), Join({"/env/", idx, "/value"}));
          },
          Source::kEnv, /*storage_uri=*/!modelkit);
    }));
    if (!init || A::String(f[3]).value_or("") != "storage-initializer") return Status::Ok();
    return A::ForEachItem(f[2], [&](size_t k, const Node& arg) {
      return Add(
          arg,
          [&] {
            std::string idx = std::to_string(k);
            return at(Join({".args[", idx, "]"}), Join({"/args/", idx}));
          },
          Source::kInitArgs, /*storage_uri=*/true, /*pinnable=*/false);
    });
  }

  // containers (init, regular, ephemeral: Container), volumes[].image.reference,
  // and ModelPack CSI volumes (modelpack/model-csi-driver: driver
  // model.csi.modelpack.org, the reference in a volume attribute).
  Status PodSpec(const Node& spec, const std::string& path, const std::string& ptr) {
    if (!A::IsObject(spec)) return Status::Ok();
    static constexpr std::string_view kLists[] = {"initContainers", "containers", "ephemeralContainers", "volumes"};
    Node lists[4];
    a_.GetEach(spec, kLists, lists);
    for (size_t l = 0; l < 3; ++l) {
      RETURN_IF_ERROR(A::ForEachItem(lists[l], [&](size_t i, const Node& c) { return Container(c, kLists[l], i, path, ptr); }));
    }
    return A::ForEachItem(lists[3], [&](size_t i, const Node& v) {
      static constexpr std::string_view kVolume[] = {"image", "csi"};
      Node vol[2];
      a_.GetEach(v, kVolume, vol);
      RETURN_IF_ERROR(Add(
          a_.Get(vol[0], "reference"),
          [&] {
            std::string idx = std::to_string(i);
            return Paths(Join({path, ".volumes[", idx, "].image.reference"}),
                         Join({ptr, "/volumes/", idx, "/image/reference"}));
          },
          Source::kImageVolume, false));
      static constexpr std::string_view kCsi[] = {"driver", "volumeAttributes"};
      Node csi[2];
      a_.GetEach(vol[1], kCsi, csi);
      if (A::String(csi[0]).value_or("") != "model.csi.modelpack.org") return Status::Ok();
      return Add(
          a_.Get(csi[1], "model.csi.modelpack.org/reference"),
          [&] {
            std::string idx = std::to_string(i);
            return Paths(Join({path, ".volumes[", idx, "].csi.volumeAttributes[\"model.csi.modelpack.org/reference\"]"}),
                         Join({ptr, "/volumes/", idx, "/csi/volumeAttributes/model.csi.modelpack.org~1reference"}));
          },
          Source::kCsiVolume, false);
    });
  }

  Status Annotations(const Node& metadata, const std::string& path, const std::string& ptr) {
    Node ann = a_.Get(metadata, "annotations");
    if (!A::IsObject(ann)) return Status::Ok();
    Node values[8];
    bool one_pass = annotations_.size() <= 8;
    if (one_pass) a_.GetEach(ann, annotations_, values);
    for (size_t k = 0; k < annotations_.size(); ++k) {
      const std::string& name = annotations_[k];
      RETURN_IF_ERROR(Add(
          one_pass ? values[k] : a_.Get(ann, name),
          [&] {
            return Paths(Join({path, ".annotations[\"", name, "\"]"}),
                         Join({ptr, "/annotations/", PointerToken(name)}));
          },
          Source::kStorageUri, true));
    }
    return Status::Ok();
  }

  // A pod template: {metadata, spec} at `path`.
  Status Template(const Node& tmpl, const std::string& path, const std::string& ptr) {
    if (!A::IsObject(tmpl)) return Status::Ok();
    RETURN_IF_ERROR(Annotations(a_.Get(tmpl, "metadata"), path + ".metadata", ptr + "/metadata"));
    return PodSpec(a_.Get(tmpl, "spec"), path + ".spec", ptr + "/spec");
  }

  // KServe component (predictor, transformer, explainer; kserve/kserve
  // pkg/apis/serving/v1beta1): an inline pod spec (containers, volumes),
  // storageUris[], workerSpec's inline pod spec (multi-node predictors), and
  // every framework sub-object (model, sklearn, pytorch, huggingface, the
  // explainer's art, ...), which inlines a corev1.Container (its `image`
  // replaces the serving runtime's) beside its storageUri. A storageUri on
  // the component itself is not KServe's, but costs nothing to check.
  Status KServeComponent(const Node& comp, const std::string& path, const std::string& ptr) {
    if (!A::IsObject(comp)) return Status::Ok();
    RETURN_IF_ERROR(PodSpec(comp, path, ptr));
    RETURN_IF_ERROR(Add(
        a_.Get(comp, "storageUri"), [&] { return Paths(path + ".storageUri", ptr + "/storageUri"); },
        Source::kStorageUri, true));
    RETURN_IF_ERROR(A::ForEachItem(a_.Get(comp, "storageUris"), [&](size_t i, const Node& u) {
      return Add(
          a_.Get(u, "uri"),
          [&] {
            std::string idx = std::to_string(i);
            return Paths(path + ".storageUris[" + idx + "].uri", ptr + "/storageUris/" + idx + "/uri");
          },
          Source::kStorageUri, true);
    }));
    RETURN_IF_ERROR(PodSpec(a_.Get(comp, "workerSpec"), path + ".workerSpec", ptr + "/workerSpec"));
    return a_.ForEachMember(comp, [&](std::string_view key, const Node& value) {
      if (!A::IsObject(value)) return Status::Ok();
      // String maps of the component, not containers.
      if (key == "annotations" || key == "labels" || key == "nodeSelector" || key == "overhead") return Status::Ok();
      std::string k(key);
      std::string sub_path = path + "." + k, sub_ptr = ptr + "/" + PointerToken(k);
      RETURN_IF_ERROR(Add(
          a_.Get(value, "image"), [&] { return Paths(sub_path + ".image", sub_ptr + "/image"); }, Source::kContainer,
          false));
      return Add(
          a_.Get(value, "storageUri"), [&] { return Paths(sub_path + ".storageUri", sub_ptr + "/storageUri"); },
          Source::kStorageUri, true);
    });
  }

  std::vector<ModelReference> Take() { return std::move(out_); }

 private:
  const std::vector<std::string>& annotations_;
  A& a_;
  std::vector<ModelReference> out_;
};

// The kinds FindModelReferences reads (docs/server.md). Core and apps kinds
// by kind alone, as before; custom resources by kind and API group.
enum class Kind {
  kUnknown,
  kPod,
  kPodTemplateWorkload,  // spec.template
  kCronJob,
  kPodTemplate,
  kInferenceService,
  kLLMInferenceService,
  kTrainedModel,
  kLeaderWorkerSet,
  kRollout,
};

Kind Classify(std::string_view kind, std::string_view api) {
  auto group = [&](std::string_view g) { return api.size() > g.size() && api.rfind(g, 0) == 0 && api[g.size()] == '/'; };
  if (kind == "Pod") return Kind::kPod;
  if (kind == "Deployment" || kind == "ReplicaSet" || kind == "StatefulSet" || kind == "DaemonSet" || kind == "Job" ||
      kind == "ReplicationController") {
    return Kind::kPodTemplateWorkload;
  }
  if (kind == "CronJob") return Kind::kCronJob;
  if (kind == "PodTemplate") return Kind::kPodTemplate;
  if (group("serving.kserve.io")) {
    if (kind == "InferenceService") return Kind::kInferenceService;
    if (kind == "LLMInferenceService") return Kind::kLLMInferenceService;
    if (kind == "TrainedModel") return Kind::kTrainedModel;
  }
  if (kind == "LeaderWorkerSet" && group("leaderworkerset.x-k8s.io")) return Kind::kLeaderWorkerSet;
  if (kind == "Rollout" && group("argoproj.io")) return Kind::kRollout;
  return Kind::kUnknown;
}

ObjectIdentity Identify(const A::Node& object) {
  ObjectIdentity id;
  if (!A::IsObject(object)) return id;
  A a;  // for messages only: a duplicate key here decides nothing
  auto str = [](const A::Node& n) { return std::string(A::String(n).value_or("")); };
  id.kind = str(a.Get(object, "kind"));
  id.api_version = str(a.Get(object, "apiVersion"));
  id.kind_understood = Classify(id.kind, id.api_version) != Kind::kUnknown;
  A::Node metadata = a.Get(object, "metadata");
  id.namespace_name = str(a.Get(metadata, "namespace"));
  if (auto name = A::String(a.Get(metadata, "name"))) {
    id.name = std::string(*name);
  } else if (auto gen = A::String(a.Get(metadata, "generateName"))) {
    id.name.reserve(gen->size() + 1);
    id.name.append(*gen).push_back('*');
  }
  return id;
}

StatusOr<std::vector<ModelReference>> Find(const A::Node& object,
                                           const std::vector<std::string>& model_annotations) {
  using Node = A::Node;
  if (!A::IsObject(object)) return InvalidArgument("object is not a JSON object");
  A a;
  Collector c(model_annotations, a);
  auto at = [&](std::initializer_list<const char*> keys) {
    Node cur = object;
    for (const char* k : keys) cur = a.Get(cur, k);
    return cur;
  };
  switch (Classify(A::String(a.Get(object, "kind")).value_or(""), A::String(a.Get(object, "apiVersion")).value_or(""))) {
    case Kind::kUnknown:
      break;
    case Kind::kPod:
      RETURN_IF_ERROR(c.Annotations(a.Get(object, "metadata"), "metadata", "/metadata"));
      RETURN_IF_ERROR(c.PodSpec(a.Get(object, "spec"), "spec", "/spec"));
      break;
    case Kind::kPodTemplateWorkload:
    case Kind::kRollout:  // argoproj.io Rollout: spec.template, a PodTemplateSpec (or a workloadRef: nothing here)
      RETURN_IF_ERROR(c.Template(at({"spec", "template"}), "spec.template", "/spec/template"));
      break;
    case Kind::kCronJob:
      RETURN_IF_ERROR(c.Template(at({"spec", "jobTemplate", "spec", "template"}), "spec.jobTemplate.spec.template",
                                 "/spec/jobTemplate/spec/template"));
      break;
    case Kind::kPodTemplate:
      RETURN_IF_ERROR(c.Template(a.Get(object, "template"), "template", "/template"));
      break;
    case Kind::kLeaderWorkerSet:
      // kubernetes-sigs/lws api/leaderworkerset/v1: two PodTemplateSpecs, the leader's optional.
      for (const char* t : {"leaderTemplate", "workerTemplate"}) {
        RETURN_IF_ERROR(c.Template(at({"spec", "leaderWorkerTemplate", t}), std::string("spec.leaderWorkerTemplate.") + t,
                                   std::string("/spec/leaderWorkerTemplate/") + t));
      }
      break;
    case Kind::kInferenceService:
      RETURN_IF_ERROR(c.Annotations(a.Get(object, "metadata"), "metadata", "/metadata"));
      for (const char* comp : {"predictor", "transformer", "explainer"}) {
        RETURN_IF_ERROR(
            c.KServeComponent(at({"spec", comp}), std::string("spec.") + comp, std::string("/spec/") + comp));
      }
      break;
    case Kind::kLLMInferenceService:
      // kserve/kserve pkg/apis/serving/v1alpha1 (and v1alpha2) llm_inference_service_types.go:
      // the model URI, and WorkloadSpecs whose template and worker are PodSpecs
      // (not PodTemplateSpecs): the decode workload inline in spec, the
      // prefill workload, and the router's scheduler (the endpoint picker).
      RETURN_IF_ERROR(c.Annotations(a.Get(object, "metadata"), "metadata", "/metadata"));
      RETURN_IF_ERROR(c.Add(
          at({"spec", "model", "uri"}), [] { return Paths("spec.model.uri", "/spec/model/uri"); }, Source::kStorageUri,
          true));
      RETURN_IF_ERROR(c.PodSpec(at({"spec", "template"}), "spec.template", "/spec/template"));
      RETURN_IF_ERROR(c.PodSpec(at({"spec", "worker"}), "spec.worker", "/spec/worker"));
      RETURN_IF_ERROR(c.PodSpec(at({"spec", "prefill", "template"}), "spec.prefill.template", "/spec/prefill/template"));
      RETURN_IF_ERROR(c.PodSpec(at({"spec", "prefill", "worker"}), "spec.prefill.worker", "/spec/prefill/worker"));
      RETURN_IF_ERROR(c.PodSpec(at({"spec", "router", "scheduler", "template"}), "spec.router.scheduler.template",
                                "/spec/router/scheduler/template"));
      break;
    case Kind::kTrainedModel:
      // kserve/kserve pkg/apis/serving/v1alpha1/trained_model.go: a model added to a multi-model InferenceService.
      RETURN_IF_ERROR(c.Add(
          at({"spec", "model", "storageUri"}), [] { return Paths("spec.model.storageUri", "/spec/model/storageUri"); },
          Source::kStorageUri, true));
      break;
  }
  RETURN_IF_ERROR(a.error());
  return c.Take();
}

}  // namespace

// docs/server.md's two, plus the annotation KServe itself writes on the pods it
// creates (constants.StorageInitializerSourceUriInternalAnnotationKey): with
// oci+fetch:// the model is otherwise only in the storage-initializer's args.
std::vector<std::string> DefaultModelAnnotations() {
  return {"serving.kserve.io/storage-initializer-sourceuri", "internal.serving.kserve.io/storage-initializer-sourceuri",
          "provgate.dev/model"};
}

namespace {

// `object` serialised and parsed with simdjson, for the one extractor.
StatusOr<simdjson::dom::element> ParseForExtraction(const Json& object, simdjson::dom::parser& parser) {
  std::string text = object.dump(-1, ' ', false, Json::error_handler_t::replace);
  simdjson::dom::element e;
  if (parser.parse(text).get(e) != simdjson::SUCCESS) return InvalidArgument("object cannot be read as JSON");
  return e;
}

}  // namespace

ObjectIdentity IdentifyObject(const Json& object) {
  simdjson::dom::parser parser;
  auto e = ParseForExtraction(object, parser);
  return e.ok() ? Identify(*e) : ObjectIdentity{};
}

ObjectIdentity IdentifyObjectSimdjson(const simdjson::dom::element& object) { return Identify(object); }

bool KindUnderstood(std::string_view kind, std::string_view api_version) {
  return Classify(kind, api_version) != Kind::kUnknown;
}

const std::vector<std::string>& UnderstoodKindNames() {
  // Classify's kinds; find_model_references_test checks each against it.
  static const std::vector<std::string> kNames = {
      "Pod",     "Deployment",  "ReplicaSet",       "StatefulSet",         "DaemonSet",
      "Job",     "ReplicationController",           "CronJob",             "PodTemplate",
      "InferenceService",       "LLMInferenceService", "TrainedModel",     "LeaderWorkerSet", "Rollout"};
  return kNames;
}

StatusOr<std::vector<ModelReference>> FindModelReferences(const Json& object,
                                                          const std::vector<std::string>& model_annotations) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(simdjson::dom::element e, ParseForExtraction(object, parser));
  return Find(e, model_annotations);
}

StatusOr<std::vector<ModelReference>> FindModelReferencesSimdjson(const simdjson::dom::element& object,
                                                                 const std::vector<std::string>& model_annotations) {
  return Find(object, model_annotations);
}

}  // namespace provgate
