#include "verifier/keyless.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>

#include "verifier/dsse.h"
#include "verifier/fulcio_certificate.h"
#include "verifier/transparency_log.h"

namespace provgate {
namespace {

Status Step(const char* step, const std::string& what) { return InvalidArgument(std::string(step) + ": " + what); }

// The transparency-log half: every entry by a log of the root, its SET and
// inclusion proof (each when present, at least one of them) valid, its body
// this bundle's. Returns the verified integrated times.
StatusOr<std::vector<int64_t>> VerifyTlogEntries(const SigstoreBundle& b, const TrustedRoot& root,
                                                 const ExpectedEntry& expected, int64_t now,
                                                 KeylessIdentityFacts* facts) {
  std::vector<int64_t> times;
  for (const TlogEntry& e : b.tlog_entries) {
    const TransparencyLogInstance* log = root.FindTlog(e.log_id);
    if (!log) return Step("tlog SET", "entry " + std::to_string(e.log_index) + " is by a log the trusted root does not list");
    RETURN_IF_ERROR(VerifyEntryBody(e, expected));
    if (e.signed_entry_timestamp.empty() && !e.inclusion_proof) {
      return Step("tlog inclusion", "entry " + std::to_string(e.log_index) + " has neither a SET nor an inclusion proof");
    }
    if (e.inclusion_proof) RETURN_IF_ERROR(VerifyInclusionProof(e, *log));
    if (!e.signed_entry_timestamp.empty()) {
      RETURN_IF_ERROR(VerifySignedEntryTimestamp(e, *log));
      if (e.integrated_time > now + kMaxFutureSkewSeconds) {
        return Step("signing time", "integrated time " + std::to_string(e.integrated_time) + " is in the future");
      }
      times.push_back(e.integrated_time);
      if (facts->log.empty()) {
        facts->log = log->base_url;
        facts->log_index = e.log_index;
        facts->integrated_time = e.integrated_time;
      }
    } else if (facts->log.empty()) {
      facts->log = log->base_url;
      facts->log_index = e.log_index;
    }
  }
  return times;
}

}  // namespace

StatusOr<std::vector<std::string>> CertificatesFromPem(std::string_view pem, size_t max) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return Internal("certificate: out of memory");
  std::vector<std::string> out;
  while (true) {
    std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr),
                                                     X509_free);
    if (!cert) break;
    if (out.size() == max) return Step("certificate", "more than " + std::to_string(max) + " certificates in PEM");
    unsigned char* der = nullptr;
    int len = i2d_X509(cert.get(), &der);
    if (len <= 0) return Step("certificate", "cannot be encoded as DER");
    out.emplace_back(reinterpret_cast<char*>(der), static_cast<size_t>(len));
    OPENSSL_free(der);
  }
  ERR_clear_error();
  if (out.empty()) return Step("certificate", "no PEM CERTIFICATE block");
  return out;
}

StatusOr<KeylessIdentityFacts> VerifyKeylessBundle(const SigstoreBundle& b, const TrustedRoot& root,
                                                   std::string_view signed_bytes, int64_t now) {
  if (!b.has_certificate || b.certificates_der.empty()) {
    return Step("certificate", "the bundle carries no certificate");
  }
  ASSIGN_OR_RETURN(SigningCertificate leaf, ParseSigningCertificate(b.certificates_der[0]));
  KeylessIdentityFacts facts;
  facts.issuer = leaf.issuer;
  facts.subject = leaf.subject;
  facts.root = root.source;

  // The signature first: everything else vouches for who made it.
  const std::string pae = b.is_dsse ? PreAuthEncoding(b.dsse.payload_type, b.dsse.payload) : std::string();
  if (!leaf.key.Verify(b.is_dsse ? std::string_view(pae) : signed_bytes, b.Signature())) {
    return Step("signature", "does not verify with the certificate's key");
  }

  ExpectedEntry expected;
  expected.signature = b.Signature();
  expected.verifier_der = leaf.der;
  expected.verifier_is_certificate = true;
  if (b.is_dsse) {
    expected.dsse = &b.dsse;
  } else {
    expected.message_sha256 = b.message_digest;
  }
  ASSIGN_OR_RETURN(std::vector<int64_t> times, VerifyTlogEntries(b, root, expected, now, &facts));
  for (const std::string& token : b.rfc3161_timestamps) {
    ASSIGN_OR_RETURN(int64_t t, VerifyRfc3161Timestamp(token, b.Signature(), root.timestamp_authorities));
    facts.timestamp_times.push_back(t);
    times.push_back(t);
  }
  if (times.empty()) {
    return Step("signing time", "no verified signing time: the bundle has no tlog entry with a SET and no RFC 3161 timestamp");
  }

  std::vector<std::string> untrusted(b.certificates_der.begin() + 1, b.certificates_der.end());
  std::vector<std::string> chain;
  // Valid at every signing time; a time given twice (the log and a TSA in
  // the same second) is checked once.
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  for (int64_t t : times) {
    ASSIGN_OR_RETURN(chain, VerifyCertificateChain(leaf.der, untrusted, root.certificate_authorities, t));
  }
  if (!root.ctlogs.empty()) {
    if (chain.size() < 2) return Step("SCT", "the certificate has no issuer in its chain to check the SCT with");
    RETURN_IF_ERROR(VerifyEmbeddedSct(leaf.der, chain[1], root.ctlogs));
  }
  return facts;
}

}  // namespace provgate
