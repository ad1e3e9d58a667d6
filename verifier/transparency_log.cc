#include "verifier/transparency_log.h"

#include <openssl/pem.h>

#include <charconv>
#include <initializer_list>

#include "base/encoding.h"
#include "base/json_util.h"
#include "verifier/digest.h"
#include "verifier/openssl_util.h"

namespace provgate {
namespace {

// A 64-hash audit path covers a tree of 2^64 leaves: no real log is taller.
constexpr size_t kMaxProofHashes = 64;
constexpr size_t kMaxCheckpointSignatures = 16;
// A Rekor checkpoint is ~250 bytes; 16 signatures and a few extension lines
// stay far below this.
constexpr size_t kMaxCheckpointBytes = 16 * 1024;
// A Rekor v1 body holds hashes, a signature and a PEM certificate (a few KiB;
// intoto 0.0.2 drops the payload). The bundle's JSON bounds it already; this
// bounds the work done on it.
constexpr size_t kMaxEntryBodyBytes = 256 * 1024;
constexpr size_t kMaxEntryBodyValues = 256;
constexpr size_t kMaxBodySignatures = 16;
constexpr size_t kMaxPemBytes = 64 * 1024;

constexpr std::string_view kEmDashSpace = "\xE2\x80\x94 ";  // U+2014 EM DASH, then a space

std::string LogName(const TransparencyLogInstance& log) {
  return log.base_url.empty() ? HexEncode(log.log_id) : log.base_url;
}

Status CheckLogId(std::string_view step, const TlogEntry& entry, const TransparencyLogInstance& log) {
  if (entry.log_id != log.log_id) {
    return InvalidArgument(std::string(step) + ": the entry names log " + HexEncode(entry.log_id) + ", not log " +
                           LogName(log) + " (" + HexEncode(log.log_id) + ")");
  }
  return Status::Ok();
}

std::string HashNode(std::string_view left, std::string_view right) {
  std::string buf;
  buf.reserve(1 + left.size() + right.size());
  buf += '\x01';
  buf += left;
  buf += right;
  return Sha256(buf);
}

std::string HashLeaf(std::string_view data) {
  std::string buf;
  buf.reserve(1 + data.size());
  buf += '\x00';
  buf += data;
  return Sha256(buf);
}

// Splits `text` at '\n'; every line, the last one included, must end with
// '\n'. Returns false when the text does not end with a newline.
bool SplitLines(std::string_view text, std::vector<std::string_view>& lines) {
  if (text.empty() || text.back() != '\n') return false;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return true;
}

bool ParseDecimal(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

Status CheckpointError(std::string reason) { return InvalidArgument("tlog checkpoint: " + std::move(reason)); }

Status BodyMismatch(std::string field) { return InvalidArgument("tlog body does not match: " + std::move(field)); }

// The member at `path` below `root` (objects only), or null.
const Json* At(const Json& root, std::initializer_list<const char*> path) {
  const Json* cur = &root;
  for (const char* key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string PathName(std::initializer_list<const char*> path) {
  std::string out;
  for (const char* key : path) {
    if (!out.empty()) out += '.';
    out += key;
  }
  return out;
}

StatusOr<std::string> StringAt(const Json& root, std::initializer_list<const char*> path) {
  const Json* v = At(root, path);
  if (v == nullptr || !v->is_string()) return BodyMismatch(PathName(path) + " is missing or not a string");
  return v->get<std::string>();
}

StatusOr<std::string> Base64At(const Json& root, std::initializer_list<const char*> path) {
  ASSIGN_OR_RETURN(std::string text, StringAt(root, path));
  auto raw = Base64Decode(text);
  if (!raw) return BodyMismatch(PathName(path) + " is not base64");
  return std::move(*raw);
}

// A {"algorithm":"sha256","value":"<hex>"} object must name `expected_raw`.
Status CheckSha256At(const Json& root, std::initializer_list<const char*> path, std::string_view field,
                     std::string_view expected_raw) {
  const Json* hash = At(root, path);
  if (hash == nullptr || !hash->is_object()) return BodyMismatch(PathName(path) + " is missing");
  ASSIGN_OR_RETURN(std::string algorithm, StringAt(*hash, {"algorithm"}));
  if (algorithm != "sha256")
    return BodyMismatch(std::string(field) + " algorithm " + Quote(algorithm, 40) + " is not sha256");
  ASSIGN_OR_RETURN(std::string value, StringAt(*hash, {"value"}));
  auto raw = HexDecode(value);
  if (!raw || raw->size() != 32) return BodyMismatch(std::string(field) + " is not a hex SHA-256 digest");
  if (*raw != expected_raw) {
    return BodyMismatch(std::string(field) + " (the entry logs " + HexEncode(*raw) + ", expected " +
                        HexEncode(expected_raw) + ")");
  }
  return Status::Ok();
}

// Rekor bodies carry keys and certificates as PEM; the bundle as DER. Decodes
// the one PEM block of `pem` (OpenSSL's reader: line-wrapped base64) and
// checks its label. Text before the block is tolerated as OpenSSL's reader
// does; a second block is not (which one would be the verifier?).
StatusOr<std::string> PemToDer(std::string_view pem, std::string_view label, std::string_view field) {
  if (pem.size() > kMaxPemBytes) return BodyMismatch(std::string(field) + " is larger than 64 KiB");
  ossl::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Internal("tlog body: BIO_new_mem_buf failed");
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
    ERR_clear_error();
    return BodyMismatch(std::string(field) + " is not PEM");
  }
  std::string got_label = name;
  bool has_header = header != nullptr && header[0] != '\0';
  std::string der(reinterpret_cast<const char*>(data), static_cast<size_t>(len));
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  if (got_label != label) {
    return BodyMismatch(std::string(field) + " is a " + Quote(got_label, 40) + " PEM block, expected " +
                        std::string(label));
  }
  if (has_header) return BodyMismatch(std::string(field) + " PEM block has headers");
  char* name2 = nullptr;
  char* header2 = nullptr;
  unsigned char* data2 = nullptr;
  long len2 = 0;
  if (PEM_read_bio(bio.get(), &name2, &header2, &data2, &len2) == 1) {
    OPENSSL_free(name2);
    OPENSSL_free(header2);
    OPENSSL_free(data2);
    return BodyMismatch(std::string(field) + " holds more than one PEM block");
  }
  ERR_clear_error();
  return der;
}

// `text` is base64 of a PEM certificate or key: it must be the expected verifier.
Status CheckVerifier(std::string_view pem_field_text, const ExpectedEntry& expected, std::string_view field) {
  auto pem = Base64Decode(pem_field_text);
  if (!pem) return BodyMismatch(std::string(field) + " is not base64");
  ASSIGN_OR_RETURN(std::string der,
                   PemToDer(*pem, expected.verifier_is_certificate ? "CERTIFICATE" : "PUBLIC KEY", field));
  if (der != expected.verifier_der) {
    return BodyMismatch(std::string(field) + " (the entry logs another " +
                        (expected.verifier_is_certificate ? "certificate" : "public key") + ")");
  }
  return Status::Ok();
}

// hashedrekord 0.0.1: {"spec":{"data":{"hash":{...}},"signature":{"content","publicKey":{"content"}}}}.
Status CheckHashedRekord(const Json& body, const ExpectedEntry& expected) {
  if (expected.dsse != nullptr) {
    return BodyMismatch("kind (a hashedrekord entry logs a message signature; the bundle holds a DSSE envelope)");
  }
  RETURN_IF_ERROR(CheckSha256At(body, {"spec", "data", "hash"}, "hash", expected.message_sha256));
  ASSIGN_OR_RETURN(std::string sig, Base64At(body, {"spec", "signature", "content"}));
  if (sig != expected.signature) return BodyMismatch("signature (the entry logs another signature)");
  ASSIGN_OR_RETURN(std::string key, StringAt(body, {"spec", "signature", "publicKey", "content"}));
  return CheckVerifier(key, expected, "publicKey");
}

// dsse 0.0.1: {"spec":{"envelopeHash","payloadHash","signatures":[{"signature","verifier"}]}}.
// envelopeHash covers the envelope as submitted (keyids, encoding) and is not
// recomputable from the bundle; sigstore-go does not check it either.
Status CheckDsseEntry(const Json& body, const ExpectedEntry& expected) {
  if (expected.dsse == nullptr) {
    return BodyMismatch("kind (a dsse entry logs a DSSE envelope; the bundle holds a message signature)");
  }
  RETURN_IF_ERROR(CheckSha256At(body, {"spec", "payloadHash"}, "payloadHash", Sha256(expected.dsse->payload)));
  const Json* sigs = At(body, {"spec", "signatures"});
  if (sigs == nullptr || !sigs->is_array()) return BodyMismatch("spec.signatures is missing or not an array");
  if (sigs->size() != 1) {
    return BodyMismatch("signature (the entry logs " + std::to_string(sigs->size()) +
                        " signatures; the bundle's envelope has one)");
  }
  ASSIGN_OR_RETURN(std::string sig, Base64At((*sigs)[0], {"signature"}));
  if (sig != expected.signature) return BodyMismatch("signature (the entry logs another signature)");
  ASSIGN_OR_RETURN(std::string verifier, StringAt((*sigs)[0], {"verifier"}));
  return CheckVerifier(verifier, expected, "verifier");
}

// intoto 0.0.2: {"spec":{"content":{"envelope":{"payloadType","signatures":[{"sig","publicKey"}]},
// "hash","payloadHash"}}}. Rekor stores the envelope's `sig` string (already
// base64) as a base64 `bytes` field: base64 of base64. `hash` covers the
// envelope as submitted and is not recomputable from the bundle.
Status CheckInTotoEntry(const Json& body, const ExpectedEntry& expected) {
  if (expected.dsse == nullptr) {
    return BodyMismatch("kind (an intoto entry logs a DSSE envelope; the bundle holds a message signature)");
  }
  RETURN_IF_ERROR(
      CheckSha256At(body, {"spec", "content", "payloadHash"}, "payloadHash", Sha256(expected.dsse->payload)));
  ASSIGN_OR_RETURN(std::string payload_type, StringAt(body, {"spec", "content", "envelope", "payloadType"}));
  if (payload_type != expected.dsse->payload_type) {
    return BodyMismatch("payloadType (the entry logs " + Quote(payload_type, 80) + ", the envelope has " +
                        Quote(expected.dsse->payload_type, 80) + ")");
  }
  const Json* sigs = At(body, {"spec", "content", "envelope", "signatures"});
  if (sigs == nullptr || !sigs->is_array()) {
    return BodyMismatch("spec.content.envelope.signatures is missing or not an array");
  }
  if (sigs->size() != 1) {
    return BodyMismatch("signature (the entry logs " + std::to_string(sigs->size()) +
                        " signatures; the bundle's envelope has one)");
  }
  ASSIGN_OR_RETURN(std::string sig_base64, Base64At((*sigs)[0], {"sig"}));
  auto sig = Base64Decode(sig_base64);
  if (!sig) return BodyMismatch("signature (sig is not base64 of base64)");
  if (*sig != expected.signature) return BodyMismatch("signature (the entry logs another signature)");
  ASSIGN_OR_RETURN(std::string key, StringAt((*sigs)[0], {"publicKey"}));
  return CheckVerifier(key, expected, "publicKey");
}

}  // namespace

std::string SetPayload(const TlogEntry& entry) {
  // RFC 8785 orders members by their UTF-16 code units: body, integratedTime,
  // logID, logIndex. The strings are base64 and hex (nothing to escape) and
  // the integers are printed plainly: exact for the values below 2^53 that
  // Rekor's float64 canonicalizer can sign at all.
  std::string out = "{\"body\":\"";
  out += Base64Encode(entry.canonicalized_body);
  out += "\",\"integratedTime\":";
  out += std::to_string(entry.integrated_time);
  out += ",\"logID\":\"";
  out += HexEncode(entry.log_id);
  out += "\",\"logIndex\":";
  out += std::to_string(entry.log_index);
  out += '}';
  return out;
}

Status VerifySignedEntryTimestamp(const TlogEntry& entry, const TransparencyLogInstance& log) {
  if (entry.signed_entry_timestamp.empty()) {
    return InvalidArgument("tlog SET: the entry has no signed entry timestamp (inclusion promise)");
  }
  RETURN_IF_ERROR(CheckLogId("tlog SET", entry, log));
  // The time is what the SET vouches for; the key must have been the log's then.
  if (!log.valid_for.Contains(entry.integrated_time)) {
    return InvalidArgument("tlog SET: integrated time " + std::to_string(entry.integrated_time) +
                           " is outside the validity window of log " + LogName(log));
  }
  if (!log.key.Verify(SetPayload(entry), entry.signed_entry_timestamp)) {
    return InvalidArgument("tlog SET: signature does not verify with the key of log " + LogName(log));
  }
  return Status::Ok();
}

// RFC 9162 §2.1.3.2, verifying an inclusion proof. `fn` walks the leaf's
// index up the tree and `sn` the last index; a hash is a left sibling when
// fn is a right child or the last node of its level (which then climbs
// levels where it has no sibling at all).
bool VerifyMerkleInclusion(std::string_view leaf_data, int64_t index, int64_t tree_size,
                           const std::vector<std::string>& hashes, std::string_view root) {
  if (index < 0 || tree_size <= 0 || index >= tree_size) return false;
  if (hashes.size() > kMaxProofHashes || root.size() != 32) return false;
  uint64_t fn = static_cast<uint64_t>(index);
  uint64_t sn = static_cast<uint64_t>(tree_size) - 1;
  std::string r = HashLeaf(leaf_data);
  for (const std::string& p : hashes) {
    if (p.size() != 32) return false;
    if (sn == 0) return false;  // path longer than the tree is tall
    if ((fn & 1) == 1 || fn == sn) {
      r = HashNode(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = HashNode(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

StatusOr<Checkpoint> ParseCheckpoint(std::string_view note) {
  if (note.size() > kMaxCheckpointBytes) {
    return ResourceExhausted("tlog checkpoint: larger than " + std::to_string(kMaxCheckpointBytes) + " bytes");
  }
  // C2SP signed-note: the text, one blank line, the signature lines. The text
  // signed is everything up to and including the newline before the blank line.
  size_t blank = note.find("\n\n");
  if (blank == std::string_view::npos) {
    return CheckpointError("no blank line between the note text and its signatures");
  }
  Checkpoint cp;
  cp.signed_text = std::string(note.substr(0, blank + 1));
  std::vector<std::string_view> lines;
  SplitLines(cp.signed_text, lines);  // ends with '\n' by construction
  if (lines.size() < 3) {
    return CheckpointError("the note text has " + std::to_string(lines.size()) +
                           " lines; a checkpoint has origin, tree size and root hash");
  }
  if (lines[0].empty()) return CheckpointError("the origin line is empty");
  cp.origin = std::string(lines[0]);
  if (!ParseDecimal(lines[1], cp.tree_size)) {
    return CheckpointError("tree size " + Quote(lines[1], 40) + " is not a decimal number");
  }
  auto root = Base64Decode(lines[2]);
  if (!root || root->size() != 32)
    return CheckpointError("root hash " + Quote(lines[2], 80) + " is not base64 of 32 bytes");
  cp.root_hash = std::move(*root);

  std::string_view signature_part = note.substr(blank + 2);
  if (signature_part.empty()) return CheckpointError("no signature lines");
  std::vector<std::string_view> sig_lines;
  if (!SplitLines(signature_part, sig_lines)) {
    return CheckpointError("the signatures do not end with a newline");
  }
  if (sig_lines.size() > kMaxCheckpointSignatures) {
    return ResourceExhausted("tlog checkpoint: more than " + std::to_string(kMaxCheckpointSignatures) +
                             " signature lines");
  }
  for (std::string_view line : sig_lines) {
    if (line.substr(0, kEmDashSpace.size()) != kEmDashSpace) {
      return CheckpointError("signature line " + Quote(line, 60) +
                             " does not start with an em dash (U+2014) and a space");
    }
    std::string_view rest = line.substr(kEmDashSpace.size());
    size_t space = rest.find(' ');
    if (space == 0 || space == std::string_view::npos) {
      return CheckpointError("signature line " + Quote(line, 60) + " is not \"\xE2\x80\x94 <name> <base64>\"");
    }
    auto sig = Base64Decode(rest.substr(space + 1));
    if (!sig) return CheckpointError("signature of " + Quote(rest.substr(0, space), 60) + " is not base64");
    if (sig->size() < 5) {
      return CheckpointError("signature of " + Quote(rest.substr(0, space), 60) +
                             " is shorter than a 4-byte key hint and a signature");
    }
    Checkpoint::Signature s;
    s.name = std::string(rest.substr(0, space));
    s.key_hint = sig->substr(0, 4);
    s.signature = sig->substr(4);
    cp.signatures.push_back(std::move(s));
  }
  return cp;
}

Status VerifyInclusionProof(const TlogEntry& entry, const TransparencyLogInstance& log) {
  if (!entry.inclusion_proof) return InvalidArgument("tlog inclusion: the entry has no inclusion proof");
  const InclusionProof& proof = *entry.inclusion_proof;
  RETURN_IF_ERROR(CheckLogId("tlog inclusion", entry, log));

  // The signed checkpoint is the anchor: authenticate it first, then hold
  // the proof's claims to it, then do the Merkle math.
  ASSIGN_OR_RETURN(Checkpoint cp, ParseCheckpoint(proof.checkpoint));
  // Rekor v1 names its checkpoint key by the first four bytes of its log id
  // (SHA-256 of the key's SPKI). Other signatures (witnesses) may be present.
  std::string hint = log.log_id.substr(0, 4);
  bool hint_seen = false;
  bool verified = false;
  for (const Checkpoint::Signature& s : cp.signatures) {
    if (s.key_hint != hint) continue;
    hint_seen = true;
    if (log.key.Verify(cp.signed_text, s.signature)) {
      verified = true;
      break;
    }
  }
  if (!hint_seen) {
    return InvalidArgument("tlog checkpoint: signed by another key (no signature has the key hint " + HexEncode(hint) +
                           " of log " + LogName(log) + ")");
  }
  if (!verified) {
    return InvalidArgument("tlog checkpoint: signature does not verify with the key of log " + LogName(log));
  }
  if (cp.tree_size != proof.tree_size) {
    return InvalidArgument("tlog checkpoint: tree size " + std::to_string(cp.tree_size) + " differs from the proof's " +
                           std::to_string(proof.tree_size));
  }
  if (cp.root_hash != proof.root_hash) {
    return InvalidArgument("tlog checkpoint: root hash " + HexEncode(cp.root_hash) + " differs from the proof's " +
                           HexEncode(proof.root_hash));
  }

  if (proof.hashes.size() > kMaxProofHashes) {
    return ResourceExhausted("tlog inclusion: more than " + std::to_string(kMaxProofHashes) + " hashes");
  }
  for (const std::string& h : proof.hashes) {
    if (h.size() != 32) return InvalidArgument("tlog inclusion: a hash is not 32 bytes");
  }
  if (proof.log_index < 0 || proof.log_index >= proof.tree_size) {
    return InvalidArgument("tlog inclusion: index " + std::to_string(proof.log_index) +
                           " is not inside a tree of size " + std::to_string(proof.tree_size));
  }
  if (!VerifyMerkleInclusion(entry.canonicalized_body, proof.log_index, proof.tree_size, proof.hashes,
                             proof.root_hash)) {
    return InvalidArgument("tlog inclusion: audit path does not reach the root (index " +
                           std::to_string(proof.log_index) + ", tree size " + std::to_string(proof.tree_size) + ", " +
                           std::to_string(proof.hashes.size()) + " hashes)");
  }
  return Status::Ok();
}

Status VerifyEntryBody(const TlogEntry& entry, const ExpectedEntry& expected) {
  if (entry.canonicalized_body.size() > kMaxEntryBodyBytes) {
    return ResourceExhausted("tlog body: larger than " + std::to_string(kMaxEntryBodyBytes) + " bytes");
  }
  auto parsed = ParseJsonUniqueKeys(entry.canonicalized_body, "tlog entry body", {.max_values = kMaxEntryBodyValues});
  if (!parsed.ok()) return parsed.status().WithPrefix("tlog body does not match");
  const Json& body = *parsed;
  if (!body.is_object()) return BodyMismatch("the body is not a JSON object");
  ASSIGN_OR_RETURN(std::string kind, StringAt(body, {"kind"}));
  ASSIGN_OR_RETURN(std::string version, StringAt(body, {"apiVersion"}));
  if (kind != entry.kind || version != entry.version) {
    return BodyMismatch("kindVersion (the bundle says " + Quote(entry.kind, 40) + " " + Quote(entry.version, 40) +
                        ", the body is " + Quote(kind, 40) + " " + Quote(version, 40) + ")");
  }
  if (kind == "hashedrekord" && version == "0.0.1") return CheckHashedRekord(body, expected);
  if (kind == "dsse" && version == "0.0.1") return CheckDsseEntry(body, expected);
  if (kind == "intoto" && version == "0.0.2") return CheckInTotoEntry(body, expected);
  return BodyMismatch("kind " + Quote(kind, 40) + " version " + Quote(version, 40) +
                      " is not supported (hashedrekord 0.0.1, dsse 0.0.1, intoto 0.0.2)");
}

}  // namespace provgate
