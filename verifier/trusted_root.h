// A Sigstore trusted root (sigstore protobuf-specs TrustedRoot, the
// `trusted_root.json` file): the certificate authorities, transparency logs,
// CT logs and timestamp authorities a keyless signature may rely on, each
// with the window in which it may be relied on. Loaded from a file only:
// nothing is fetched. Immutable after parsing; safe to share between threads.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "verifier/keys.h"

namespace provgate {

// [start, end], Unix seconds, both inclusive (protobuf-specs TimeRange);
// an absent end is open.
struct ValidityWindow {
  int64_t start = std::numeric_limits<int64_t>::min();
  int64_t end = std::numeric_limits<int64_t>::max();
  bool Contains(int64_t t) const { return start <= t && t <= end; }
};

// A Rekor log or a CT log.
struct TransparencyLogInstance {
  std::string base_url;
  std::string log_id;             // raw 32 bytes: logId.keyId (SHA-256 of the key's SPKI DER)
  std::string checkpoint_key_id;  // raw checkpointKeyId.keyId, or empty
  PublicKey key;
  ValidityWindow valid_for;
};

// A Fulcio CA or a timestamp authority.
struct CertificateAuthority {
  std::string uri;
  std::vector<std::string> chain_der;  // certChain, leaf-most first; the last one is the trust anchor
  ValidityWindow valid_for;
};

inline constexpr size_t kMaxTrustedRootBytes = 1 << 20;
inline constexpr size_t kMaxTrustedRootValues = 1 << 16;

struct TrustedRoot {
  std::string source;        // the file it was read from, for messages
  std::string content_hash;  // lowercase hex SHA-256 of the file's bytes: part of every cache key
  std::vector<TransparencyLogInstance> tlogs;
  std::vector<TransparencyLogInstance> ctlogs;
  std::vector<CertificateAuthority> certificate_authorities;
  std::vector<CertificateAuthority> timestamp_authorities;

  // The Rekor log whose logId is `raw_log_id`, or null.
  const TransparencyLogInstance* FindTlog(std::string_view raw_log_id) const;
};

// Parses trusted_root.json bytes (media types
// application/vnd.dev.sigstore.trustedroot.v0.1+json / v0.2+json and
// …trustedroot+json;version=0.1). Keys are publicKey.rawBytes (base64 SPKI
// DER); certificates certChain.certificates[].rawBytes (base64 DER);
// validFor.start / end RFC 3339 times. Fails with InvalidArgument naming
// `source` and the field (and line:column for malformed JSON): a key or
// certificate that does not parse, a log without a key or logId, a logId
// that is not the SHA-256 of its key, a CA without certificates, a window
// whose end precedes its start, a key given twice.
StatusOr<TrustedRoot> ParseTrustedRoot(std::string_view bytes, std::string_view source);

}  // namespace provgate
