// Sigstore bundles (sigstore protobuf-specs, bundle v0.1-v0.3): the JSON that cosign v3, Tekton Chains'
// sigstore-bundle mode and sigstore-js attach to OCI artifacts as
// referrers. Parsing only; the signature is checked by VerifyArtifact.
// Pure, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "verifier/dsse.h"

namespace provgate {

inline constexpr char kBundleMediaTypePrefix[] = "application/vnd.dev.sigstore.bundle";
// cosign v3 `sign` writes a DSSE statement of this predicate type whose
// subject is the signed image: it is a signature, not an attestation.
inline constexpr char kCosignSignPredicateType[] = "https://sigstore.dev/cosign/sign/v1";

// JSON values a bundle may hold: 32 tlog entries and 32 timestamps, a few
// dozen values each.
inline constexpr size_t kMaxBundleValues = 16384;
// sigstore-go's limits (after its advisory on unbounded bundles).
inline constexpr size_t kMaxBundleTlogEntries = 32;
inline constexpr size_t kMaxBundleTimestamps = 32;
inline constexpr size_t kMaxBundleCertificates = 10;

// An inclusion proof of a Rekor entry (RFC 6962 audit path) and the signed
// checkpoint (signed note) whose root it must reach.
struct InclusionProof {
  int64_t log_index = 0;   // tree-local index: the one the Merkle math uses
  std::string root_hash;   // raw 32 bytes
  int64_t tree_size = 0;
  std::vector<std::string> hashes;  // raw 32 bytes each, leaf to root
  std::string checkpoint;  // checkpoint.envelope: the signed note text
};

// One transparency log entry of verificationMaterial.tlogEntries. Unverified
// claims until transparency_log.h checks them.
struct TlogEntry {
  int64_t log_index = 0;       // global index (what the SET signs)
  std::string log_id;          // raw logId.keyId
  std::string kind;            // kindVersion.kind: hashedrekord | dsse | intoto
  std::string version;         // kindVersion.version
  int64_t integrated_time = 0;  // Unix seconds; 0 when absent (Rekor v2)
  std::string signed_entry_timestamp;  // raw DER inclusionPromise.signedEntryTimestamp; empty when absent
  std::optional<InclusionProof> inclusion_proof;
  std::string canonicalized_body;  // raw bytes of the Rekor entry JSON
};

struct SigstoreBundle {
  std::string media_type;
  std::string version;  // "0.1", "0.2" or "0.3", from the media type
  bool is_dsse = false;
  DsseEnvelope dsse;  // when is_dsse
  // messageSignature: the SHA-256 digest (raw bytes) of the signed bytes, and the signature.
  std::string message_digest;
  std::string message_signature;
  // Verification material: exactly one kind. A public key is only a hint
  // naming which key signed (never trust: the policy's keys are the trust);
  // certificates claim a keyless or PKI identity that keyless.h checks.
  bool has_public_key = false;
  std::string public_key_hint;       // publicKey.hint, may be empty
  std::string public_key_raw_bytes;  // decoded publicKey.rawBytes (model_signing v1.0's shape), may be empty
  bool has_certificate = false;      // certificate or x509CertificateChain
  std::vector<std::string> certificates_der;  // leaf first; one for `certificate`
  bool certificate_chain_form = false;        // x509CertificateChain (not allowed from v0.3)
  std::vector<TlogEntry> tlog_entries;
  std::vector<std::string> rfc3161_timestamps;  // raw DER signedTimestamp each

  // The raw signature: the envelope's one signature, or the message signature.
  const std::string& Signature() const { return is_dsse ? dsse.signatures[0].sig : message_signature; }
};

// True for the bundle media types sigstore clients accept: "…bundle.v0.3+json"
// and "…bundle+json;version=0.1|0.2|0.3".
bool IsSupportedBundleMediaType(std::string_view media_type);

// Parses a bundle. Fails with InvalidArgument naming the field for malformed
// JSON, an unsupported mediaType, neither or both of dsseEnvelope and
// messageSignature, a DSSE envelope without exactly one signature (bundles
// carry one), a message digest that is not SHA2_256 of 32 bytes, or missing
// verification material, or more than one kind of it (publicKey, certificate,
// x509CertificateChain are a protobuf oneof), a chain form in a v0.3
// bundle, certificates or tlog entries that are not base64, int64 fields
// that are neither a decimal string nor an integer; ResourceExhausted
// beyond kMaxBundleValues JSON values (checked before parsing), or more than
// kMaxBundleTlogEntries entries, kMaxBundleTimestamps timestamps or
// kMaxBundleCertificates certificates (the message names the limit).
StatusOr<SigstoreBundle> ParseSigstoreBundle(std::string_view bytes);

// cosign v2 keyless layers (.sig and .att) carry their Rekor entry as the
// `dev.sigstore.cosign/bundle` annotation: {"SignedEntryTimestamp": b64,
// "Payload": {"body": b64, "integratedTime": N, "logIndex": N, "logID": hex}}
// (capitalised outer keys). Reads it as a tlog entry (kind and version from
// the body), so it takes the bundle path. Fails with InvalidArgument naming
// the field.
StatusOr<TlogEntry> ParseCosignRekorBundle(std::string_view json);

// The `dev.sigstore.cosign/rfc3161timestamp` annotation:
// {"SignedRFC3161Timestamp": b64}. Returns the DER token.
StatusOr<std::string> ParseCosignTimestampAnnotation(std::string_view json);

}  // namespace provgate
