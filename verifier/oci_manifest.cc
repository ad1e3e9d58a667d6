#include "verifier/oci_manifest.h"

#include "base/encoding.h"
#include "base/json_util.h"
#include "verifier/reference.h"

namespace provgate {
namespace {

std::string_view StripParams(std::string_view ct) {
  auto semi = ct.find(';');
  if (semi != std::string_view::npos) ct = ct.substr(0, semi);
  while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
  return ct;
}

bool IsKnownManifestType(std::string_view t) {
  return t == kOciManifest || t == kOciIndex || t == kDockerManifest || t == kDockerManifestList;
}

Status ParseAnnotations(const Json& j, const std::string& where, std::map<std::string, std::string>* out) {
  if (!j.contains("annotations") || j["annotations"].is_null()) return Status::Ok();
  const Json& a = j["annotations"];
  if (!a.is_object()) return InvalidArgument(where + ".annotations is not an object");
  for (auto it = a.begin(); it != a.end(); ++it) {
    if (!it.value().is_string()) {
      return InvalidArgument(where + ".annotations[" + Quote(it.key()) + "] is not a string");
    }
    (*out)[it.key()] = it.value().get<std::string>();
  }
  return Status::Ok();
}

StatusOr<Descriptor> ParseDescriptor(const Json& j, const std::string& where) {
  if (!j.is_object()) return InvalidArgument(where + " is not an object");
  RETURN_IF_ERROR(RejectGoFoldedKeys(
      j, {"mediaType", "digest", "size", "urls", "annotations", "data", "platform", "artifactType"}, where));
  Descriptor d;
  auto str = [&](const char* key, std::string* out, bool required) -> Status {
    if (!j.contains(key)) {
      return required ? InvalidArgument(where + "." + key + " is missing") : Status::Ok();
    }
    if (!j[key].is_string()) return InvalidArgument(where + "." + key + " is not a string");
    *out = j[key].get<std::string>();
    return Status::Ok();
  };
  RETURN_IF_ERROR(str("mediaType", &d.media_type, true));
  RETURN_IF_ERROR(str("digest", &d.digest, true));
  RETURN_IF_ERROR(str("artifactType", &d.artifact_type, false));
  if (Status s = ValidateDigest(d.digest); !s.ok()) return InvalidArgument(where + ".digest: " + s.message());
  if (!j.contains("size") || !j["size"].is_number_integer()) {
    return InvalidArgument(where + ".size is missing or not an integer");
  }
  d.size = j["size"].get<int64_t>();
  if (d.size < 0) return InvalidArgument(where + ".size is negative");
  RETURN_IF_ERROR(ParseAnnotations(j, where, &d.annotations));
  return d;
}

Status ParseDescriptorList(const Json& j, const char* key, size_t max_entries, std::vector<Descriptor>* out) {
  if (!j.contains(key)) return Status::Ok();
  const Json& arr = j[key];
  if (!arr.is_array()) return InvalidArgument(std::string("manifest.") + key + " is not an array");
  if (arr.size() > max_entries) {
    return ResourceExhausted(std::string("manifest has ") + std::to_string(arr.size()) + " " + key +
                             ", more than the limit of " + std::to_string(max_entries));
  }
  out->reserve(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) {
    ASSIGN_OR_RETURN(Descriptor d, ParseDescriptor(arr[i], std::string("manifest.") + key + "[" + std::to_string(i) + "]"));
    out->push_back(std::move(d));
  }
  return Status::Ok();
}

}  // namespace

StatusOr<Manifest> ParseManifest(std::string_view bytes, std::string_view content_type, size_t max_entries) {
  // Runtimes and Go tools decode manifests into structs: a key given twice or
  // a case variant of a field would make them read another config, layers or
  // annotations than the ones verified and evaluated here.
  ASSIGN_OR_RETURN(Json j, ParseJsonUniqueKeys(bytes, "manifest", {.max_values = kMaxManifestValues}));
  if (!j.is_object()) return InvalidArgument("manifest is not a JSON object");
  RETURN_IF_ERROR(RejectGoFoldedKeys(j,
                                     {"schemaVersion", "mediaType", "artifactType", "config", "layers", "manifests",
                                      "subject", "annotations"},
                                     "manifest"));
  std::string_view ct = StripParams(content_type);
  if (ct.find("prettyjws") != std::string_view::npos || ct == "application/vnd.docker.distribution.manifest.v1+json") {
    return InvalidArgument("Docker schema 1 manifests are not supported");
  }
  if (j.contains("schemaVersion") && j["schemaVersion"] != 2) {
    return InvalidArgument("manifest schemaVersion is not 2");
  }
  Manifest m;
  std::string field_type;
  if (j.contains("mediaType")) {
    if (!j["mediaType"].is_string()) return InvalidArgument("manifest.mediaType is not a string");
    field_type = j["mediaType"].get<std::string>();
  }
  if (IsKnownManifestType(ct)) {
    if (!field_type.empty() && field_type != ct) {
      return InvalidArgument("manifest.mediaType " + Quote(field_type) + " contradicts Content-Type " + Quote(ct));
    }
    m.media_type = std::string(ct);
  } else if (IsKnownManifestType(field_type)) {
    m.media_type = field_type;
  } else if (!field_type.empty()) {
    return InvalidArgument("unsupported manifest media type " + Quote(field_type));
  } else if (j.contains("manifests")) {
    m.media_type = kOciIndex;
  } else if (j.contains("layers") || j.contains("config")) {
    m.media_type = kOciManifest;
  } else {
    return InvalidArgument("document is neither a manifest nor an index");
  }
  m.kind = (m.media_type == kOciIndex || m.media_type == kDockerManifestList) ? Manifest::Kind::kIndex
                                                                               : Manifest::Kind::kImage;
  if (j.contains("artifactType")) {
    if (!j["artifactType"].is_string()) return InvalidArgument("manifest.artifactType is not a string");
    m.artifact_type = j["artifactType"].get<std::string>();
  }
  RETURN_IF_ERROR(ParseAnnotations(j, "manifest", &m.annotations));
  if (j.contains("subject") && !j["subject"].is_null()) {
    ASSIGN_OR_RETURN(Descriptor s, ParseDescriptor(j["subject"], "manifest.subject"));
    m.subject = std::move(s);
  }
  if (m.kind == Manifest::Kind::kIndex) {
    if (!j.contains("manifests")) return InvalidArgument("index has no manifests array");
    RETURN_IF_ERROR(ParseDescriptorList(j, "manifests", max_entries, &m.manifests));
  } else {
    if (!j.contains("config")) return InvalidArgument("manifest has no config descriptor");
    ASSIGN_OR_RETURN(m.config, ParseDescriptor(j["config"], "manifest.config"));
    if (!j.contains("layers")) return InvalidArgument("manifest has no layers array");
    RETURN_IF_ERROR(ParseDescriptorList(j, "layers", max_entries, &m.layers));
  }
  return m;
}

}  // namespace provgate
