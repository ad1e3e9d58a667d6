// Rekor v1 transparency-log checks over a bundle's tlog entry: the signed
// entry timestamp (inclusion promise), the RFC 6962 inclusion proof up to a
// signed checkpoint, and the binding of the logged entry body to the
// signature, the signer and the artifact at hand. Pure, thread-safe.
// Each function returns OK or a Status whose message starts with the step
// that failed ("tlog SET", "tlog inclusion", "tlog checkpoint", "tlog body
// does not match"), for reasons shown to users.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "verifier/dsse.h"
#include "verifier/sigstore_bundle.h"
#include "verifier/trusted_root.h"

namespace provgate {

// The RFC 8785 canonical JSON the SET signs:
// {"body":"<base64 body>","integratedTime":N,"logID":"<hex log id>","logIndex":N}.
std::string SetPayload(const TlogEntry& entry);

// Verifies entry.signed_entry_timestamp (ASN.1 DER ECDSA, or Ed25519) over
// SetPayload(entry) with `log`'s key; `log.log_id` must equal entry.log_id
// and `log.valid_for` must contain entry.integrated_time. Fails when the
// entry has no SET.
Status VerifySignedEntryTimestamp(const TlogEntry& entry, const TransparencyLogInstance& log);

// RFC 6962 / 9162 audit-path verification: leaf = SHA-256(0x00 || body),
// node = SHA-256(0x01 || left || right). True when `hashes` lead from the
// leaf at `index` in a tree of `tree_size` to `root`. Rejects index >=
// tree_size, a wrong number of hashes, hashes that are not 32 bytes.
bool VerifyMerkleInclusion(std::string_view leaf_data, int64_t index, int64_t tree_size,
                           const std::vector<std::string>& hashes, std::string_view root);

// A parsed checkpoint (C2SP signed note): the signed text, and its body lines.
struct Checkpoint {
  std::string origin;
  int64_t tree_size = 0;
  std::string root_hash;  // raw
  std::string signed_text;  // the note text up to and including the line before the blank line
  struct Signature {
    std::string name;
    std::string key_hint;  // 4 raw bytes
    std::string signature;
  };
  std::vector<Signature> signatures;
};
// Parses a signed note. Fails ("tlog checkpoint: ...") on a missing blank
// line, a body of fewer than three lines, an empty origin, a size that is not
// decimal, a root that is not base64 of 32 bytes, no signature lines, a
// signature part that does not end with a newline, a signature line that does
// not start with "\u2014 <name> " or whose base64 is shorter than 5 bytes;
// ResourceExhausted beyond 16 signature lines or 16 KiB.
StatusOr<Checkpoint> ParseCheckpoint(std::string_view note);

// Verifies entry.inclusion_proof: the checkpoint parses and has a signature
// whose key hint is the first four bytes of `log.log_id` and that verifies
// with `log`'s key over the signed text (signatures with other hints, e.g.
// witnesses, are ignored); it carries proof.root_hash and proof.tree_size;
// and the audit path from the entry's body reaches that root at
// proof.log_index (checked in this order: the signed checkpoint is the
// anchor the proof is held to). Fails when the entry has no proof, names
// another log than `log`, or has more than 64 hashes.
Status VerifyInclusionProof(const TlogEntry& entry, const TransparencyLogInstance& log);

// What a logged entry body must say for it to be this signature's entry.
struct ExpectedEntry {
  std::string signature;     // raw signature bytes, as in the bundle
  std::string verifier_der;  // the leaf certificate DER (keyless) or the SPKI DER of the public key
  bool verifier_is_certificate = true;
  // Exactly one of these two is set:
  std::string message_sha256;         // message signature: raw 32-byte digest of the signed bytes
  const DsseEnvelope* dsse = nullptr;  // DSSE: the envelope (payload, payloadType, the one signature)
};

// Checks entry.canonicalized_body against `expected`: kindVersion equals the
// body's kind/apiVersion; supported are hashedrekord 0.0.1 (hash equals
// message_sha256 — or, for a DSSE bundle, nothing: refused), dsse 0.0.1
// (payloadHash = SHA-256 of the payload, one signature equal to the
// envelope's, verifier equal), intoto 0.0.2 (payloadHash, the envelope's
// payloadType and signature — base64 of base64 —, publicKey equal). Every
// key or certificate in a body is PEM inside base64 and is compared as DER.
// dsse and intoto bodies must log exactly one signature. A body that is not
// JSON (or holds a key twice), names another kind, or differs in any bound
// field fails with "tlog body does not match: <field>"; ResourceExhausted
// beyond 256 KiB or 256 JSON values.
Status VerifyEntryBody(const TlogEntry& entry, const ExpectedEntry& expected);

}  // namespace provgate
