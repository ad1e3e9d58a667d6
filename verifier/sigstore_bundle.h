// Sigstore bundles (sigstore protobuf-specs, bundle v0.1-v0.3): the JSON that cosign v3, Tekton Chains'
// sigstore-bundle mode and sigstore-js attach to OCI artifacts as
// referrers. Parsing only; the signature is checked by VerifyArtifact.
// Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "verifier/dsse.h"

namespace provgate {

inline constexpr char kBundleMediaTypePrefix[] = "application/vnd.dev.sigstore.bundle";
// cosign v3 `sign` writes a DSSE statement of this predicate type whose
// subject is the signed image: it is a signature, not an attestation.
inline constexpr char kCosignSignPredicateType[] = "https://sigstore.dev/cosign/sign/v1";

// JSON values a bundle may hold: sigstore-go allows 32 tlog entries and 32
// timestamps, a few dozen values each.
inline constexpr size_t kMaxBundleValues = 16384;

struct SigstoreBundle {
  std::string media_type;
  bool is_dsse = false;
  DsseEnvelope dsse;  // when is_dsse
  // messageSignature: the SHA-256 digest (raw bytes) of the signed bytes, and the signature.
  std::string message_digest;
  std::string message_signature;
  // Verification material: exactly one kind. Only a publicKey bundle can count
  // for a key authority; a certificate bundle claims a keyless or PKI identity.
  std::string public_key_hint;  // publicKey.hint, may be empty
  bool has_public_key = false;
  bool has_certificate = false;  // certificate or x509CertificateChain (keyless / PKI)
};

// True for the bundle media types sigstore clients accept: "…bundle.v0.3+json"
// and "…bundle+json;version=0.1|0.2|0.3".
bool IsSupportedBundleMediaType(std::string_view media_type);

// Parses a bundle. Fails with InvalidArgument naming the field for malformed
// JSON, an unsupported mediaType, neither or both of dsseEnvelope and
// messageSignature, a DSSE envelope without exactly one signature (bundles
// carry one), a message digest that is not SHA2_256 of 32 bytes, or missing
// verification material, or more than one kind of it (publicKey, certificate,
// x509CertificateChain are a protobuf oneof); ResourceExhausted beyond
// kMaxBundleValues JSON values (checked before parsing).
StatusOr<SigstoreBundle> ParseSigstoreBundle(std::string_view bytes);

}  // namespace provgate
