// X.509 signing certificates as Fulcio issues them (Fulcio's certificate
// specification): the identity they claim and the checks that make the
// claim trustworthy — path validation to a trusted CA at the signing time,
// the embedded SCT, RFC 3161 timestamps. OpenSSL does the X.509, CT parsing
// and TS work; nothing here is hand-rolled ASN.1 beyond reading the Fulcio
// extensions. Pure (time is a parameter), thread-safe.
// Failures are Status messages that start with the step for users:
// "certificate", "certificate chain", "SCT", "timestamp".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "verifier/keys.h"
#include "verifier/trusted_root.h"

namespace provgate {

inline constexpr char kFulcioIssuerV2Oid[] = "1.3.6.1.4.1.57264.1.8";  // DER UTF8String
inline constexpr char kFulcioIssuerV1Oid[] = "1.3.6.1.4.1.57264.1.1";  // raw bytes (deprecated)

struct SigningCertificate {
  std::string der;
  std::string spki_der;  // SubjectPublicKeyInfo of the certificate's key
  PublicKey key;         // the same key, for verifying the signature
  // OIDC issuer from the Fulcio extension .1.8 (DER UTF8String), else the
  // legacy .1.1 (raw bytes); empty when neither is present.
  std::string issuer;
  // The one SAN: rfc822Name (email), URI, or Fulcio's otherName
  // (1.3.6.1.4.1.57264.1.7, UTF8String username).
  std::string subject;
  int64_t not_before = 0;  // Unix seconds
  int64_t not_after = 0;
};

// Parses a DER certificate (at most 64 KiB, else ResourceExhausted). Fails
// with "certificate: ..." when it is not DER X.509, carries trailing bytes,
// has a key PublicKey does not accept, has no SAN, more than one SAN value,
// a SAN of another kind (DNS, IP, another otherName) or an empty one, or an
// issuer extension that is not a UTF8String (.1.8) or not valid UTF-8
// (.1.1); a SAN or issuer with invalid UTF-8 or a NUL byte, or one of these
// extensions given twice, fails too. Both issuer extensions are checked when
// both are present. Does not check the signature or the chain.
StatusOr<SigningCertificate> ParseSigningCertificate(std::string_view der);

// Path-validates `leaf_der` to a trust anchor of one of `cas` at time `at`
// (Unix seconds; X509_VERIFY_PARAM_set_time, never the wall clock): the
// CA's window must contain `at`, the chain is built from that CA's
// certificates only (the last is the anchor; partial chains allowed when it
// is an intermediate), bundle-supplied `untrusted` intermediates (at most
// 10) are used for building but a bundle-supplied self-signed certificate is
// dropped (never an anchor, never a link); the leaf must have the codeSigning extended key usage, and
// a CA certificate of the chain that lists extended key usages must list
// codeSigning or anyExtendedKeyUsage (Go crypto/x509's rule, which
// sigstore-go inherits). Every CA whose window contains `at` is tried.
// Returns the verified chain, leaf first (the issuer of the leaf is [1]).
// Fails with "certificate chain: <reason>": "... is outside the
// certificate's validity" when `at` is outside the leaf's notBefore..
// notAfter, "no certificate authority ... is valid at" when no CA window
// contains `at`, else OpenSSL's reason with the depth.
StatusOr<std::vector<std::string>> VerifyCertificateChain(std::string_view leaf_der,
                                                          const std::vector<std::string>& untrusted,
                                                          const std::vector<CertificateAuthority>& cas, int64_t at);

// Verifies the leaf's embedded SCT list (extension 1.3.6.1.4.1.11129.2.4.2)
// against `ctlogs`: at least one v1 SCT by a listed log (matched by log id)
// whose window contains the SCT's timestamp (milliseconds, compared in whole
// seconds) verifies, SHA-256 with ECDSA or RSA, over the RFC 6962
// precertificate entry built with `issuer_der` (the certificate that signed
// the leaf, which must be its issuer). OpenSSL's CT module parses the list;
// the signed data is built here, because OpenSSL 3.0's SCT_validate needs a
// CTLOG_STORE that can only be filled from a file. SCTs by unknown logs or
// outside their log's window are skipped; none valid fails with "SCT: ...".
// When `ctlogs` is empty there is nothing to check: OK.
Status VerifyEmbeddedSct(std::string_view leaf_der, std::string_view issuer_der,
                         const std::vector<TransparencyLogInstance>& ctlogs);

// Verifies an RFC 3161 timestamp token (DER TimeStampResp with a granted
// status, or a bare TimeStampToken / CMS ContentInfo; at most 64 KiB) over
// `signature` (its messageImprint hashes the raw signature bytes,
// SHA-256/384/512) with OpenSSL's TS API: the CMS signature, the signer's
// certificate chaining (timeStamping purpose) to one of `tsas` at the
// token's genTime (the TSA window containing it; the TSA chain's last
// certificate is the anchor, partial chains allowed), the token's TSA name
// matching the signer. Returns genTime as Unix seconds. Fails with
// "timestamp: ...".
StatusOr<int64_t> VerifyRfc3161Timestamp(std::string_view token_der, std::string_view signature,
                                         const std::vector<CertificateAuthority>& tsas);

}  // namespace provgate
