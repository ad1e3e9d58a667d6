// Writes artifacts the way the ML and signing tools do: `push` in omlmd's
// layout, `sign` and `attest` in cosign's tag-based layouts (cosign's
// signature and attestation specs). Used by the CLI and the tests.
// Thread-compatible.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/json_util.h"
#include "verifier/keys.h"
#include "verifier/registry/registry_client.h"

namespace provgate {

inline constexpr char kModelLayerMediaType[] = "application/x-mlmodel";
inline constexpr char kOmlmdConfigMediaType[] = "application/x-config";

struct PushRequest {
  std::vector<std::string> paths;  // files, or one directory whose regular files are pushed
  std::optional<Json> metadata;    // omlmd model metadata (an object)
  std::map<std::string, std::string> annotations;  // extra manifest annotations
};

// Pushes model files as application/x-mlmodel layers (title annotation =
// path relative to the directory), the metadata JSON as the config blob and
// as a `model_metadata.omlmd.json` layer, metadata keys as manifest
// annotations (non-string values under "<key>+json"). Returns the manifest
// digest. Fails on unreadable files, an empty file list, or registry errors.
StatusOr<std::string> PushModel(RegistryClient& client, const Reference& ref, const PushRequest& request,
                                Deadline deadline);

// Adds a cosign simple-signing signature for ref's digest (resolved first)
// as a layer of the sha256-<hex>.sig manifest, keeping existing layers.
// Returns the signed digest.
StatusOr<std::string> SignArtifact(RegistryClient& client, const Reference& ref, const PrivateKey& key,
                                   const std::map<std::string, std::string>& annotations, Deadline deadline);

// Adds a DSSE-enveloped in-toto v1 statement (subject = ref's digest,
// `predicate_type`, `predicate`) as a layer of the sha256-<hex>.att
// manifest, keeping existing layers. Returns the attested digest.
StatusOr<std::string> AttestArtifact(RegistryClient& client, const Reference& ref, const PrivateKey& key,
                                     const std::string& predicate_type, const Json& predicate, Deadline deadline);

// Lower-level: appends a layer (blob + descriptor annotations) to the
// manifest at `tag` (created when absent) and pushes blob, config and
// manifest. Nothing is written when an existing layer equals the new one or
// `is_duplicate` says so. Exposed for tests that build hostile attachments.
Status AppendAttachmentLayer(RegistryClient& client, const Reference& ref, const std::string& tag,
                             const std::string& media_type, const std::string& blob,
                             const std::map<std::string, std::string>& annotations, Deadline deadline,
                             const std::function<bool(const Json& layer)>& is_duplicate = {});

}  // namespace provgate
