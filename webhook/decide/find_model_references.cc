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
  // the fields an object does not have).
  template <typename Paths>
  Status Add(const Node& value, Paths paths, Source source, bool storage_uri) {
    auto text = A::String(value);
    if (!text) return Status::Ok();
    std::string_view raw = *text;
    bool scheme = raw.rfind("oci://", 0) == 0 || raw.rfind("oci+native://", 0) == 0 ||
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
    auto ref = ParseReference(raw);
    if (ref.ok()) {
      m.parsed = true;
      m.reference = std::move(*ref);
    } else {
      m.parse_error = ref.status().message();
    }
    out_.push_back(std::move(m));
    return Status::Ok();
  }

  // containers, initContainers, ephemeralContainers, volumes[].image.reference
  Status PodSpec(const Node& spec, const std::string& path, const std::string& ptr) {
    if (!A::IsObject(spec)) return Status::Ok();
    static constexpr std::string_view kLists[] = {"initContainers", "containers", "ephemeralContainers", "volumes"};
    Node lists[4];
    a_.GetEach(spec, kLists, lists);
    for (size_t l = 0; l < 3; ++l) {
      std::string_view list = kLists[l];
      RETURN_IF_ERROR(A::ForEachItem(lists[l], [&](size_t i, const Node& c) {
        return Add(
            a_.Get(c, "image"),
            [&] {
              std::string idx = std::to_string(i);
              return Paths(Join({path, ".", list, "[", idx, "].image"}), Join({ptr, "/", list, "/", idx, "/image"}));
            },
            Source::kContainer, false);
      }));
    }
    return A::ForEachItem(lists[3], [&](size_t i, const Node& v) {
      return Add(
          a_.Get(a_.Get(v, "image"), "reference"),
          [&] {
            std::string idx = std::to_string(i);
            return Paths(Join({path, ".volumes[", idx, "].image.reference"}),
                         Join({ptr, "/volumes/", idx, "/image/reference"}));
          },
          Source::kImageVolume, false);
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

ObjectIdentity Identify(const A::Node& object) {
  ObjectIdentity id;
  if (!A::IsObject(object)) return id;
  A a;  // for messages only: a duplicate key here decides nothing
  auto str = [](const A::Node& n) { return std::string(A::String(n).value_or("")); };
  id.kind = str(a.Get(object, "kind"));
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
  std::string kind(A::String(a.Get(object, "kind")).value_or(""));
  std::string api(A::String(a.Get(object, "apiVersion")).value_or(""));
  Collector c(model_annotations, a);
  auto at = [&](std::initializer_list<const char*> keys) {
    Node cur = object;
    for (const char* k : keys) cur = a.Get(cur, k);
    return cur;
  };
  if (kind == "Pod") {
    RETURN_IF_ERROR(c.Annotations(a.Get(object, "metadata"), "metadata", "/metadata"));
    RETURN_IF_ERROR(c.PodSpec(a.Get(object, "spec"), "spec", "/spec"));
  } else if (kind == "Deployment" || kind == "ReplicaSet" || kind == "StatefulSet" || kind == "DaemonSet" ||
             kind == "Job" || kind == "ReplicationController") {
    RETURN_IF_ERROR(c.Template(at({"spec", "template"}), "spec.template", "/spec/template"));
  } else if (kind == "CronJob") {
    RETURN_IF_ERROR(c.Template(at({"spec", "jobTemplate", "spec", "template"}), "spec.jobTemplate.spec.template",
                               "/spec/jobTemplate/spec/template"));
  } else if (kind == "PodTemplate") {
    RETURN_IF_ERROR(c.Template(a.Get(object, "template"), "template", "/template"));
  } else if (kind == "InferenceService" && api.rfind("serving.kserve.io/", 0) == 0) {
    RETURN_IF_ERROR(c.Annotations(a.Get(object, "metadata"), "metadata", "/metadata"));
    for (const char* comp : {"predictor", "transformer", "explainer"}) {
      RETURN_IF_ERROR(c.KServeComponent(at({"spec", comp}), std::string("spec.") + comp, std::string("/spec/") + comp));
    }
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
