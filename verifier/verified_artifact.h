// What verification established about one artifact digest, and the pure
// function that establishes it from fetched bytes and trusted keys.
// A failed signature is a fact recorded here, never an error. Value types;
// VerifyArtifact is thread-safe.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/json_util.h"
#include "verifier/keys.h"
#include "verifier/oci_manifest.h"
#include "verifier/reference.h"

namespace provgate {

// A key the caller trusts, named by the policy authority it belongs to.
struct TrustedKey {
  std::string authority;
  PublicKey key;
};

// A layer of a cosign .sig or .att manifest with its blob, as fetched.
struct AttachedLayer {
  Descriptor descriptor;
  std::string blob;
};

// Everything the fetcher brought back for one artifact digest.
struct ArtifactMaterial {
  Reference reference;  // as requested, with `digest` set to the resolved digest
  std::string digest;
  std::string manifest_bytes;
  Manifest manifest;
  std::optional<std::string> config_bytes;  // images whose config was fetched
  std::vector<AttachedLayer> signature_layers;    // from sha256-<hex>.sig
  std::vector<AttachedLayer> attestation_layers;  // from sha256-<hex>.att
  std::vector<AttachedLayer> bundle_layers;       // Sigstore bundles attached as referrers
  std::vector<std::string> notes;                 // what the fetcher skipped, and why
};

// Where a signature or attestation was found.
inline constexpr char kOriginSigTag[] = "cosign-sig-tag";        // sha256-<hex>.sig
inline constexpr char kOriginAttTag[] = "cosign-att-tag";        // sha256-<hex>.att
inline constexpr char kOriginBundle[] = "sigstore-bundle";       // bundle referrer

struct SignatureFact {
  std::string layer_digest;
  std::string origin = kOriginSigTag;
  std::vector<std::string> signers;  // authorities whose key verified the signature
  std::string problem;               // why it does not count; empty when it does
  bool verified() const { return problem.empty() && !signers.empty(); }
};

struct AttestationFact {
  std::string layer_digest;
  std::string origin = kOriginAttTag;
  std::string statement_type;
  std::string predicate_type;  // from the verified statement, never the layer annotation
  Json predicate;              // object; empty unless verified() (unverified content is not kept)
  std::vector<std::string> signers;
  std::string problem;  // why it does not count; empty when it does
  bool verified() const { return problem.empty() && !signers.empty(); }
};

struct VerifiedArtifact {
  Reference reference;
  std::string digest;
  Manifest manifest;
  Json config;  // the config blob parsed as JSON, or null
  std::map<std::string, std::string> annotations;  // manifest annotations
  std::vector<SignatureFact> signatures;
  std::vector<AttestationFact> attestations;
  std::vector<std::string> notes;  // facts that are not failures (config not JSON, ...)

  // Distinct authorities with at least one verified signature.
  std::set<std::string> SignedBy() const;
};

// Verifies every signature and attestation layer in `material` against
// every key in `keys`. Binding checks: a simple-signing payload must name
// material.digest; a DSSE signature must cover the PAE of the payload; the
// payloadType must be in-toto; the statement must have a subject with
// material.digest. A Sigstore bundle whose statement has predicateType
// https://sigstore.dev/cosign/sign/v1 (cosign v3 `sign`), or whose
// messageSignature signs the manifest bytes, counts as a signature; other
// bundle statements are attestations. The config blob is hashed against the manifest's config
// descriptor before it is parsed.
VerifiedArtifact VerifyArtifact(const ArtifactMaterial& material, const std::vector<TrustedKey>& keys);

// The JSON rendering used by `provgate verify` and logs.
Json VerifiedArtifactToJson(const VerifiedArtifact& a);

}  // namespace provgate
