// ParseSigstoreBundle, ParseCosignRekorBundle and ParseCosignTimestampAnnotation
// over arbitrary bytes, then every check a keyless verification runs on the
// parts (with the test keys and trusted root, so the hostile parts reach
// OpenSSL and the Merkle and body code). Invariants (verifier/sigstore_bundle.h,
// transparency_log.h, keyless.h): exactly one kind of verification material
// and of content; the bounds hold; a v0.3 bundle has no chain form; each tlog
// entry's proof and body checks fail with a message naming their step;
// VerifyKeylessBundle fails with one of its documented steps.
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_support.h"
#include "tests/fuzz/fuzz_target.h"
#include "verifier/digest.h"
#include "verifier/fulcio_certificate.h"
#include "verifier/keyless.h"
#include "verifier/sigstore_bundle.h"
#include "verifier/transparency_log.h"

using namespace provgate;
using provgate::fuzz::FuzzCheck;

namespace {

constexpr int64_t kNow = 1767225600;  // 2026-01-01

bool StartsWith(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

void CheckStep(const Status& s, std::string_view step, const char* what) {
  if (s.ok()) return;
  FuzzCheck(StartsWith(s.message(), step), std::string(what) + " failed without naming its step: " + s.message());
}

// The log the entry names, keyed by the test key: the proof and SET checks
// then run to their signature checks (and, for the Merkle math, directly).
void CheckTlogEntry(const TlogEntry& e, const ExpectedEntry* expected) {
  (void)SetPayload(e);
  const TransparencyLogInstance log{"https://rekor.example", e.log_id, "", provgate::fuzz::TestPublicKeys()[0], {}};
  CheckStep(VerifySignedEntryTimestamp(e, log), "tlog SET", "VerifySignedEntryTimestamp");
  if (e.inclusion_proof) {
    const InclusionProof& p = *e.inclusion_proof;
    CheckStep(VerifyInclusionProof(e, log), "tlog ", "VerifyInclusionProof");
    bool ok = VerifyMerkleInclusion(e.canonicalized_body, p.log_index, p.tree_size, p.hashes, p.root_hash);
    if (ok) FuzzCheck(p.log_index >= 0 && p.log_index < p.tree_size && p.root_hash.size() == 32, "inclusion verified outside the tree");
    (void)ParseCheckpoint(p.checkpoint);
  }
  if (expected) CheckStep(VerifyEntryBody(e, *expected), "tlog body", "VerifyEntryBody");
}

void CheckBundle(const SigstoreBundle& b, std::string_view input) {
  FuzzCheck(IsSupportedBundleMediaType(b.media_type), "an unsupported media type was accepted");
  FuzzCheck(b.version == "0.1" || b.version == "0.2" || b.version == "0.3", "version " + b.version);
  FuzzCheck(b.has_public_key != b.has_certificate, "not exactly one kind of verification material");
  FuzzCheck(b.has_certificate == !b.certificates_der.empty(), "certificates without certificate material");
  FuzzCheck(b.certificates_der.size() <= kMaxBundleCertificates, "more certificates than allowed");
  FuzzCheck(!(b.version == "0.3" && b.certificate_chain_form), "a v0.3 bundle with a chain");
  FuzzCheck(b.tlog_entries.size() <= kMaxBundleTlogEntries, "more tlog entries than allowed");
  FuzzCheck(b.rfc3161_timestamps.size() <= kMaxBundleTimestamps, "more timestamps than allowed");
  if (b.is_dsse) {
    FuzzCheck(b.dsse.signatures.size() == 1, "a DSSE bundle without exactly one signature");
    FuzzCheck(b.message_digest.empty() && b.message_signature.empty(), "a DSSE bundle with a message signature");
  } else {
    FuzzCheck(b.message_digest.size() == 32, "a message digest that is not 32 bytes");
  }
  for (const TlogEntry& e : b.tlog_entries) {
    if (b.version == "0.1") FuzzCheck(!e.signed_entry_timestamp.empty(), "a v0.1 entry without a promise");
    if (b.version != "0.1") FuzzCheck(e.inclusion_proof.has_value(), "a v0.2+ entry without a proof");
  }

  ExpectedEntry expected;
  expected.signature = b.Signature();
  if (b.has_certificate) {
    expected.verifier_der = b.certificates_der[0];
  } else {
    expected.verifier_der = b.public_key_raw_bytes;
    expected.verifier_is_certificate = false;
  }
  if (b.is_dsse) {
    expected.dsse = &b.dsse;
  } else {
    expected.message_sha256 = b.message_digest;
  }
  for (const TlogEntry& e : b.tlog_entries) CheckTlogEntry(e, &expected);

  auto root = provgate::fuzz::TestTrustedRoot();
  for (const std::string& der : b.certificates_der) CheckStep(ParseSigningCertificate(der).status(), "certificate", "ParseSigningCertificate");
  if (b.has_certificate) {
    std::vector<std::string> untrusted(b.certificates_der.begin() + 1, b.certificates_der.end());
    int64_t at = b.tlog_entries.empty() ? kNow : b.tlog_entries[0].integrated_time;
    CheckStep(VerifyCertificateChain(b.certificates_der[0], untrusted, root->certificate_authorities, at).status(),
              "certificate chain", "VerifyCertificateChain");
    const PublicKey& key = provgate::fuzz::TestPublicKeys()[0];
    const TransparencyLogInstance ct{"https://ct.example", Sha256(key.Der()), "", key, {}};
    CheckStep(VerifyEmbeddedSct(b.certificates_der[0], untrusted.empty() ? b.certificates_der[0] : untrusted[0], {ct}),
              "SCT", "VerifyEmbeddedSct");
    auto facts = VerifyKeylessBundle(b, *root, input, kNow);
    if (!facts.ok()) {
      const std::string m = facts.status().message();
      FuzzCheck(StartsWith(m, "certificate") || StartsWith(m, "SCT") || StartsWith(m, "timestamp") ||
                    StartsWith(m, "tlog ") || StartsWith(m, "signature") || StartsWith(m, "signing time"),
                "VerifyKeylessBundle failed without naming its step: " + m);
    }
  }
  for (const std::string& token : b.rfc3161_timestamps) {
    CheckStep(VerifyRfc3161Timestamp(token, b.Signature(), root->certificate_authorities).status(), "timestamp",
              "VerifyRfc3161Timestamp");
  }
  for (const auto& key : provgate::fuzz::TestPublicKeys()) {
    (void)key.Verify(b.is_dsse ? PreAuthEncoding(b.dsse.payload_type, b.dsse.payload) : std::string(input), b.Signature());
  }
}

}  // namespace

PROVGATE_FUZZ_TARGET(sigstore_bundle) {
  auto b = ParseSigstoreBundle(input);
  if (b.ok()) {
    CheckBundle(*b, input);
  } else {
    FuzzCheck(b.status().code() == StatusCode::kInvalidArgument || b.status().code() == StatusCode::kResourceExhausted,
              "unexpected status " + b.status().ToString());
  }
  auto rekor = ParseCosignRekorBundle(input);
  if (rekor.ok()) CheckTlogEntry(*rekor, nullptr);
  auto ts = ParseCosignTimestampAnnotation(input);
  if (ts.ok()) {
    CheckStep(VerifyRfc3161Timestamp(*ts, "signature", provgate::fuzz::TestTrustedRoot()->certificate_authorities).status(),
              "timestamp", "VerifyRfc3161Timestamp");
  }
}
