// OCI / Docker manifests and indexes parsed from their exact bytes
// (the OCI image and distribution specs). Pure, thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace provgate {

inline constexpr char kOciManifest[] = "application/vnd.oci.image.manifest.v1+json";
inline constexpr char kOciIndex[] = "application/vnd.oci.image.index.v1+json";
inline constexpr char kDockerManifest[] = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr char kDockerManifestList[] = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr char kManifestAccept[] =
    "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json";

// JSON values a manifest may hold (1024 layers with annotations fit easily):
// bounds the tree of what any registry serves, before it is built.
inline constexpr size_t kMaxManifestValues = 65536;

struct Descriptor {
  std::string media_type;
  std::string digest;
  int64_t size = 0;
  std::string artifact_type;
  std::map<std::string, std::string> annotations;
};

struct Manifest {
  enum class Kind { kImage, kIndex };
  Kind kind = Kind::kImage;
  std::string media_type;     // the effective media type (Content-Type or field)
  std::string artifact_type;  // optional
  Descriptor config;          // images only
  std::vector<Descriptor> layers;     // images only
  std::vector<Descriptor> manifests;  // indexes only
  std::map<std::string, std::string> annotations;
  std::optional<Descriptor> subject;
};

// Parses manifest bytes. `content_type` is the registry's Content-Type
// (parameters ignored; may be empty). Dispatches on it, then on the
// `mediaType` field, then on the fields present (KitOps omits mediaType).
// Fails with InvalidArgument for malformed JSON, schema 1 manifests, a
// `mediaType` field that contradicts `content_type`, descriptors with a bad
// digest or negative size, non-string annotations, a key given twice or a
// case variant of a field (Go decoders would read it); ResourceExhausted
// beyond kMaxManifestValues JSON values, or when
// there are more than `max_entries` layers or index entries.
StatusOr<Manifest> ParseManifest(std::string_view bytes, std::string_view content_type, size_t max_entries);

}  // namespace provgate
