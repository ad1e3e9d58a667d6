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

#include "base/byte_budget.h"
#include "base/json_util.h"
#include "verifier/keyless.h"
#include "verifier/keys.h"
#include "verifier/model_signing.h"
#include "verifier/oci_manifest.h"
#include "verifier/reference.h"
#include "verifier/signer.h"

namespace provgate {

// A key the caller trusts, named by the policy authority it belongs to.
struct TrustedKey {
  Signer signer;
  PublicKey key;
};

// Everything a verification may trust: the policies' keys and keyless
// authorities, and the current time (Unix seconds), which only refuses a
// transparency-log time in the future.
struct Trust {
  std::vector<TrustedKey> keys;
  std::vector<KeylessAuthorityTrust> keyless;
  int64_t now = 0;
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
  std::vector<AttachedLayer> model_signature_layers;  // the artifact's own layers titled model.sig
  std::vector<std::string> notes;                 // what the fetcher skipped, and why
  // The attachment bytes above are reserved in the fetcher's memory budget
  // until the last copy of this material is destroyed.
  std::vector<std::shared_ptr<const ByteBudget::Reservation>> memory;
};

// Where a signature or attestation was found.
inline constexpr char kOriginSigTag[] = "cosign-sig-tag";        // sha256-<hex>.sig
inline constexpr char kOriginAttTag[] = "cosign-att-tag";        // sha256-<hex>.att
inline constexpr char kOriginBundle[] = "sigstore-bundle";       // bundle referrer
inline constexpr char kOriginModelSigLayer[] = "model.sig-layer";  // a layer of the artifact titled model.sig

struct SignatureFact {
  std::string layer_digest;
  std::string origin = kOriginSigTag;
  std::vector<Signer> signers;  // authorities whose key (or keyless identity) verified the signature
  std::string problem;               // why it does not count; empty when it does
  std::optional<KeylessIdentityFacts> keyless;  // a certificate signature that verified, whoever it names
  bool verified() const { return problem.empty() && !signers.empty(); }
};

struct AttestationFact {
  std::string layer_digest;
  std::string origin = kOriginAttTag;
  std::string statement_type;
  std::string predicate_type;  // from the verified statement, never the layer annotation
  Json predicate;              // object; empty unless verified() (unverified content is not kept)
  std::vector<Signer> signers;
  std::string problem;  // why it does not count; empty when it does
  std::optional<KeylessIdentityFacts> keyless;
  bool verified() const { return problem.empty() && !signers.empty(); }
};

// An OpenSSF model signature (a model.sig layer, or a bundle referrer whose
// statement is a model-signing one). Verified means its signature verified
// for `signers` and its statement parsed; whether it covers the layers is
// the policy's question (its ignorePaths), answered by CheckModelCoverage.
struct ModelSignatureFact {
  std::string layer_digest;
  std::string origin = kOriginModelSigLayer;
  std::vector<Signer> signers;
  std::string problem;
  std::optional<KeylessIdentityFacts> keyless;
  std::shared_ptr<const ModelSignatureStatement> statement;  // set when verified()
  bool verified() const { return problem.empty() && !signers.empty() && statement != nullptr; }
};

struct VerifiedArtifact {
  Reference reference;
  std::string digest;
  Manifest manifest;
  Json config;  // the config blob parsed as JSON, or null
  std::map<std::string, std::string> annotations;  // manifest annotations
  std::vector<SignatureFact> signatures;
  std::vector<AttestationFact> attestations;
  std::vector<ModelSignatureFact> model_signatures;
  std::vector<std::string> notes;  // facts that are not failures (config not JSON, ...)

  // Distinct authorities with at least one verified signature.
  std::set<Signer> SignedBy() const;
};

// Verifies every signature, attestation and model-signature layer in
// `material` against `trust`. Binding checks: a simple-signing payload must
// name material.digest; a DSSE signature must cover the PAE of the payload;
// the payloadType must be in-toto; the statement must have a subject with
// material.digest. A Sigstore bundle whose statement has predicateType
// https://sigstore.dev/cosign/sign/v1 (cosign v3 `sign`), or whose
// messageSignature signs the manifest bytes, counts as a signature; a
// model-signing statement is a model signature (as are the model.sig
// layers); other bundle statements are attestations. A bundle, or a cosign
// layer, signed with a certificate is checked by VerifyKeylessBundle under
// the root of each keyless authority (once per root) and counts for those
// whose identity matches; it never counts for a key authority, and key
// material embedded in a bundle is never trust. The config blob is hashed
// against the manifest's config descriptor before it is parsed.
VerifiedArtifact VerifyArtifact(const ArtifactMaterial& material, const Trust& trust);
// The same with keys only.
VerifiedArtifact VerifyArtifact(const ArtifactMaterial& material, const std::vector<TrustedKey>& keys);

// What a verified keyless signature established, for output.
Json KeylessToJson(const KeylessIdentityFacts& k);

// The JSON rendering used by `provgate verify` and logs.
Json VerifiedArtifactToJson(const VerifiedArtifact& a);

}  // namespace provgate
