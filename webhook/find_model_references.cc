#include "webhook/find_model_references.h"

#include <string_view>

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

class Collector {
 public:
  explicit Collector(const std::vector<std::string>& annotations) : annotations_(annotations) {}

  Status Add(const Json& value, const std::string& field_path, const std::string& pointer, Source source,
             bool storage_uri) {
    if (!value.is_string()) return Status::Ok();
    const std::string& raw = value.get_ref<const std::string&>();
    bool scheme = raw.rfind("oci://", 0) == 0 || raw.rfind("oci+native://", 0) == 0 ||
                  raw.rfind("oci+fetch://", 0) == 0;
    if (storage_uri && !scheme) return Status::Ok();  // s3://, gs://, pvc:// ... are not OCI models
    if (raw.empty()) return Status::Ok();
    if (out_.size() >= kMaxReferencesPerObject) {
      return InvalidArgument("object has more than " + std::to_string(kMaxReferencesPerObject) + " image references");
    }
    ModelReference m;
    m.raw = raw;
    m.field_path = field_path;
    m.json_pointer = pointer;
    m.source = source;
    m.has_oci_scheme = scheme;
    auto ref = ParseReference(raw);
    if (ref.ok()) {
      m.parsed = true;
      m.reference = *ref;
    } else {
      m.parse_error = ref.status().message();
    }
    out_.push_back(std::move(m));
    return Status::Ok();
  }

  // containers, initContainers, ephemeralContainers, volumes[].image.reference
  Status PodSpec(const Json& spec, const std::string& path, const std::string& ptr) {
    if (!spec.is_object()) return Status::Ok();
    for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
      auto it = spec.find(list);
      if (it == spec.end() || !it->is_array()) continue;
      for (size_t i = 0; i < it->size(); ++i) {
        const Json& c = (*it)[i];
        if (!c.is_object() || !c.contains("image")) continue;
        std::string idx = std::to_string(i);
        RETURN_IF_ERROR(Add(c["image"], path + "." + list + "[" + idx + "].image",
                            ptr + "/" + list + "/" + idx + "/image", Source::kContainer, false));
      }
    }
    auto vols = spec.find("volumes");
    if (vols != spec.end() && vols->is_array()) {
      for (size_t i = 0; i < vols->size(); ++i) {
        const Json& v = (*vols)[i];
        if (!v.is_object() || !v.contains("image") || !v["image"].is_object() || !v["image"].contains("reference")) {
          continue;
        }
        std::string idx = std::to_string(i);
        RETURN_IF_ERROR(Add(v["image"]["reference"], path + ".volumes[" + idx + "].image.reference",
                            ptr + "/volumes/" + idx + "/image/reference", Source::kImageVolume, false));
      }
    }
    return Status::Ok();
  }

  Status Annotations(const Json& metadata, const std::string& path, const std::string& ptr) {
    if (!metadata.is_object()) return Status::Ok();
    auto ann = metadata.find("annotations");
    if (ann == metadata.end() || !ann->is_object()) return Status::Ok();
    for (const auto& name : annotations_) {
      auto it = ann->find(name);
      if (it == ann->end()) continue;
      RETURN_IF_ERROR(Add(*it, path + ".annotations[\"" + name + "\"]", ptr + "/annotations/" + PointerToken(name),
                          Source::kStorageUri, true));
    }
    return Status::Ok();
  }

  // A pod template: {metadata, spec} at `path`.
  Status Template(const Json& tmpl, const std::string& path, const std::string& ptr) {
    if (!tmpl.is_object()) return Status::Ok();
    if (tmpl.contains("metadata")) RETURN_IF_ERROR(Annotations(tmpl["metadata"], path + ".metadata", ptr + "/metadata"));
    if (tmpl.contains("spec")) RETURN_IF_ERROR(PodSpec(tmpl["spec"], path + ".spec", ptr + "/spec"));
    return Status::Ok();
  }

  // KServe component (predictor, transformer, explainer): storageUri on any
  // framework sub-object or the component itself, storageUris[], and an
  // inline pod spec (containers, volumes).
  Status KServeComponent(const Json& comp, const std::string& path, const std::string& ptr, bool storage) {
    if (!comp.is_object()) return Status::Ok();
    RETURN_IF_ERROR(PodSpec(comp, path, ptr));
    if (!storage) return Status::Ok();
    if (comp.contains("storageUri")) {
      RETURN_IF_ERROR(Add(comp["storageUri"], path + ".storageUri", ptr + "/storageUri", Source::kStorageUri, true));
    }
    auto uris = comp.find("storageUris");
    if (uris != comp.end() && uris->is_array()) {
      for (size_t i = 0; i < uris->size(); ++i) {
        const Json& u = (*uris)[i];
        if (!u.is_object() || !u.contains("uri")) continue;
        std::string idx = std::to_string(i);
        RETURN_IF_ERROR(Add(u["uri"], path + ".storageUris[" + idx + "].uri", ptr + "/storageUris/" + idx + "/uri",
                            Source::kStorageUri, true));
      }
    }
    for (auto it = comp.begin(); it != comp.end(); ++it) {
      // model, sklearn, pytorch, onnx, huggingface, ...: objects with a storageUri.
      if (!it.value().is_object() || !it.value().contains("storageUri")) continue;
      RETURN_IF_ERROR(Add(it.value()["storageUri"], path + "." + it.key() + ".storageUri",
                          ptr + "/" + PointerToken(it.key()) + "/storageUri", Source::kStorageUri, true));
    }
    return Status::Ok();
  }

  std::vector<ModelReference> Take() { return std::move(out_); }

 private:
  const std::vector<std::string>& annotations_;
  std::vector<ModelReference> out_;
};

const Json* At(const Json& j, std::initializer_list<const char*> keys) {
  const Json* cur = &j;
  for (const char* k : keys) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(k);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

}  // namespace

std::vector<std::string> DefaultModelAnnotations() {
  return {"serving.kserve.io/storage-initializer-sourceuri", "provgate.dev/model"};
}

ObjectIdentity IdentifyObject(const Json& object) {
  ObjectIdentity id;
  if (!object.is_object()) return id;
  if (object.contains("kind") && object["kind"].is_string()) id.kind = object["kind"];
  if (const Json* ns = At(object, {"metadata", "namespace"}); ns && ns->is_string()) id.namespace_name = *ns;
  if (const Json* n = At(object, {"metadata", "name"}); n && n->is_string()) {
    id.name = *n;
  } else if (const Json* g = At(object, {"metadata", "generateName"}); g && g->is_string()) {
    id.name = g->get<std::string>() + "*";
  }
  return id;
}

StatusOr<std::vector<ModelReference>> FindModelReferences(const Json& object,
                                                          const std::vector<std::string>& model_annotations) {
  if (!object.is_object()) return InvalidArgument("object is not a JSON object");
  std::string kind = object.contains("kind") && object["kind"].is_string() ? object["kind"].get<std::string>() : "";
  std::string api = object.contains("apiVersion") && object["apiVersion"].is_string()
                        ? object["apiVersion"].get<std::string>()
                        : "";
  Collector c(model_annotations);
  if (kind == "Pod") {
    if (object.contains("metadata")) RETURN_IF_ERROR(c.Annotations(object["metadata"], "metadata", "/metadata"));
    if (object.contains("spec")) RETURN_IF_ERROR(c.PodSpec(object["spec"], "spec", "/spec"));
  } else if (kind == "Deployment" || kind == "ReplicaSet" || kind == "StatefulSet" || kind == "DaemonSet" ||
             kind == "Job" || kind == "ReplicationController") {
    if (const Json* t = At(object, {"spec", "template"})) RETURN_IF_ERROR(c.Template(*t, "spec.template", "/spec/template"));
  } else if (kind == "CronJob") {
    if (const Json* t = At(object, {"spec", "jobTemplate", "spec", "template"})) {
      RETURN_IF_ERROR(c.Template(*t, "spec.jobTemplate.spec.template", "/spec/jobTemplate/spec/template"));
    }
  } else if (kind == "PodTemplate") {
    if (const Json* t = At(object, {"template"})) RETURN_IF_ERROR(c.Template(*t, "template", "/template"));
  } else if (kind == "InferenceService" && api.rfind("serving.kserve.io/", 0) == 0) {
    if (object.contains("metadata")) RETURN_IF_ERROR(c.Annotations(object["metadata"], "metadata", "/metadata"));
    if (const Json* p = At(object, {"spec", "predictor"})) {
      RETURN_IF_ERROR(c.KServeComponent(*p, "spec.predictor", "/spec/predictor", true));
    }
    for (const char* comp : {"transformer", "explainer"}) {
      if (const Json* t = At(object, {"spec", comp})) {
        RETURN_IF_ERROR(c.KServeComponent(*t, std::string("spec.") + comp, std::string("/spec/") + comp, true));
      }
    }
  }
  return c.Take();
}

}  // namespace provgate
