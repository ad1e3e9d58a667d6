// Finds the model references in a Kubernetes object (docs/server.md): container
// images, image volumes, oci:// and kit:// storage URIs, model env values
// (KitOps MODELKIT_REF, STORAGE_URI), ModelPack CSI volumes and KServe's
// storage-initializer args, each with the field path it came from. Pure,
// thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/json_util.h"
#include "base/status.h"
#include "policy/policy.h"
#include "verifier/reference.h"

namespace simdjson::dom {
class element;
}

namespace provgate {

struct ModelReference {
  std::string raw;            // the string as written in the object
  std::string field_path;     // "spec.template.spec.volumes[0].image.reference"
  std::string json_pointer;   // RFC 6901 pointer to the same string, for patches
  Source source = Source::kContainer;
  bool parsed = false;
  Reference reference;        // normalised, registry host canonical; valid when parsed
  std::string parse_error;    // why `raw` is not a reference, when !parsed
  // raw started with a storage-URI scheme: oci://, oci+native://,
  // oci+fetch:// or kit:// (stripped before parsing).
  bool has_oci_scheme = false;
  // /mutate may rewrite the field to `raw@digest`. False for KServe's
  // storage-initializer args: KServe's pod webhook finds its (uri, path) arg
  // pairs by value, so a rewritten URI would be appended again, unpinned,
  // when it is reinvoked.
  bool pinnable = true;
};

inline constexpr size_t kMaxReferencesPerObject = 1024;

// The annotations searched for storage URIs by default: docs/server.md's
// serving.kserve.io/storage-initializer-sourceuri and provgate.dev/model,
// and internal.serving.kserve.io/storage-initializer-sourceuri (KServe's own).
std::vector<std::string> DefaultModelAnnotations();

// Returns every model reference in `object` (a Pod, a workload with a pod
// template, a CronJob, a LeaderWorkerSet, an Argo Rollout, or a KServe
// InferenceService, LLMInferenceService or TrainedModel; other kinds have
// none: see KindUnderstood). Storage URIs count only with an oci:// style
// or kit:// scheme. Fails with
// InvalidArgument when the object is not a JSON object or has more than
// kMaxReferencesPerObject references.
StatusOr<std::vector<ModelReference>> FindModelReferences(const Json& object,
                                                          const std::vector<std::string>& model_annotations);
// The same over simdjson's DOM (the admission server's parser). The first
// form serialises `object` and runs this one: one extractor for both.
StatusOr<std::vector<ModelReference>> FindModelReferencesSimdjson(const simdjson::dom::element& object,
                                                                 const std::vector<std::string>& model_annotations);

// True when FindModelReferences knows where `kind` of `api_version` keeps
// its model references (docs/server.md's kinds). For any other kind "no
// references" means "not looked at", not "none there".
bool KindUnderstood(std::string_view kind, std::string_view api_version);
// The kind names KindUnderstood accepts in some API group (docs/server.md's
// kinds table), in that table's order: what --pin-kinds may name.
const std::vector<std::string>& UnderstoodKindNames();

// The object's kind, namespace and name for messages ("" when absent).
struct ObjectIdentity {
  std::string kind, namespace_name, name;
  std::string api_version;       // "" when absent
  bool kind_understood = false;  // KindUnderstood(kind, api_version)
};
ObjectIdentity IdentifyObject(const Json& object);
ObjectIdentity IdentifyObjectSimdjson(const simdjson::dom::element& object);

}  // namespace provgate
