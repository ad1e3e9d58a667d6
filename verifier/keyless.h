// Keyless Sigstore verification of one bundle (the Sigstore client
// specification's verification order): establish the signing times from
// the transparency log and RFC 3161 timestamps, validate the certificate
// chain at each of them, check the embedded SCT, bind every log entry to
// this signature, certificate and artifact, and check the signature with
// the certificate's key. Who signed (issuer, subject) is the result; whether
// that identity is trusted is the caller's policy (IdentityMatcher). Pure
// (the current time is a parameter), thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "verifier/signer.h"
#include "verifier/sigstore_bundle.h"
#include "verifier/trusted_root.h"

namespace provgate {

// What a verified keyless signature established.
struct KeylessIdentityFacts {
  std::string issuer;   // Fulcio issuer extension
  std::string subject;  // the certificate's SAN
  std::string log;      // base URL of the log whose entry verified, or empty
  int64_t log_index = -1;
  int64_t integrated_time = 0;          // verified Rekor time, 0 when none
  std::vector<int64_t> timestamp_times;  // verified RFC 3161 times
  std::string root;  // the trusted root's source
};

// How far in the future a Rekor integrated time may be (clock skew).
inline constexpr int64_t kMaxFutureSkewSeconds = 300;

// Verifies `b`, whose verification material is a certificate (or chain),
// against `root`. `signed_bytes` is what a message signature signs (the
// bytes whose SHA-256 is b.message_digest; the caller has checked that
// digest binds its artifact); unused for DSSE, whose PAE is built from the
// envelope. `now` is the current Unix time, used only to refuse an
// integrated time in the future.
//
// Every tlog entry present must be by a log of the root, have a valid SET
// (when present) and a valid inclusion proof (when present), and a body
// bound to this bundle; every RFC 3161 timestamp present must verify; at
// least one signing time (a SET-verified integrated time or a timestamp)
// must be established, and the chain must be valid at each. Failures are
// Status messages starting with the step: "certificate", "certificate
// chain", "SCT", "timestamp", "tlog SET", "tlog inclusion", "tlog
// checkpoint", "tlog body does not match", "signature", "signing time".
StatusOr<KeylessIdentityFacts> VerifyKeylessBundle(const SigstoreBundle& b, const TrustedRoot& root,
                                                   std::string_view signed_bytes, int64_t now);

// The certificates of a PEM text (cosign's certificate and chain
// annotations), as DER, in order. Fails with "certificate: ..." when there
// is none, one does not parse, or there are more than `max`.
StatusOr<std::vector<std::string>> CertificatesFromPem(std::string_view pem, size_t max);

// A policy's identity constraint, as the verifier sees it: implemented by
// the policy layer (RE2 whole-value matches).
class IdentityMatcher {
 public:
  virtual ~IdentityMatcher() = default;
  virtual bool Matches(const std::string& issuer, const std::string& subject) const = 0;
  // "issuer <x>, subjectRegExp <y>": for reasons.
  virtual std::string Describe() const = 0;
};

// A keyless authority handed to the verifier: its qualified name, the root
// its signatures must verify under, and who may sign.
struct KeylessAuthorityTrust {
  Signer signer;
  std::shared_ptr<const TrustedRoot> root;
  std::shared_ptr<const IdentityMatcher> identity;
};

}  // namespace provgate
