// Fetches everything verification needs for one artifact: its manifest (by
// digest, or by tag and hashed), its config blob, and the layers of its
// cosign signature (.sig) and attestation (.att) manifests. Independent
// requests run in parallel. Thread-safe (the client is).
#pragma once

#include "verifier/registry/registry_client.h"
#include "verifier/verified_artifact.h"

namespace provgate {

// The cosign attachment tag for a digest: "sha256-<hex>.<suffix>".
std::string AttachmentTag(std::string_view digest, std::string_view suffix);

// Returns the material for `ref`. A missing .sig or .att tag means "no
// signatures" / "no attestations", not an error. Fails (never truncates)
// when a bound is exceeded: more than limits().max_attached_layers layers,
// a layer above max_attachment_bytes; fails with the client's Status when
// the registry is unavailable, the artifact is not found, or content does
// not match its digest.
StatusOr<ArtifactMaterial> FetchArtifact(RegistryClient& client, const Reference& ref, Deadline deadline);

// The second half of FetchArtifact, for callers that already hold the
// artifact's manifest (fetched by tag to learn the digest): fetches config,
// signatures and attestations for `manifest.digest`.
StatusOr<ArtifactMaterial> FetchAttachedMaterial(RegistryClient& client, const Reference& ref,
                                                 FetchedManifest manifest, Deadline deadline);

}  // namespace provgate
