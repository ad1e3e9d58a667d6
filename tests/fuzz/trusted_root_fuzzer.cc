// ParseTrustedRoot over arbitrary bytes. Invariants (verifier/trusted_root.h):
// every log's logId is the SHA-256 of its key's SubjectPublicKeyInfo DER (as
// the key re-encodes it, not only as written), windows do not end before
// they start, certificate authorities have certificates, the content hash is
// the file's, FindTlog finds every log by its id, and something can verify.
#include <string>

#include "base/encoding.h"
#include "tests/fuzz/fuzz_target.h"
#include "verifier/digest.h"
#include "verifier/trusted_root.h"

using namespace provgate;
using provgate::fuzz::FuzzCheck;

namespace {

void CheckLogs(const TrustedRoot& root, const std::vector<TransparencyLogInstance>& logs, bool tlogs) {
  for (const auto& l : logs) {
    FuzzCheck(l.log_id == Sha256(l.key.Der()), "accepted a logId that is not the SHA-256 of its key's DER: " +
                                                   HexEncode(l.log_id) + " for key " + l.key.Fingerprint());
    FuzzCheck(l.valid_for.start <= l.valid_for.end, "a log window ends before it starts");
    FuzzCheck(!l.base_url.empty(), "a log without baseUrl");
    if (tlogs) {
      const TransparencyLogInstance* found = root.FindTlog(l.log_id);
      FuzzCheck(found != nullptr && found->log_id == l.log_id, "FindTlog does not find a log by its id");
    }
  }
}

void CheckAuthorities(const std::vector<CertificateAuthority>& cas) {
  for (const auto& ca : cas) {
    FuzzCheck(!ca.chain_der.empty(), "a certificate authority without certificates");
    for (const auto& der : ca.chain_der) FuzzCheck(!der.empty(), "an empty certificate");
    FuzzCheck(ca.valid_for.start <= ca.valid_for.end, "an authority window ends before it starts");
  }
}

}  // namespace

PROVGATE_FUZZ_TARGET(trusted_root) {
  auto root = ParseTrustedRoot(input, "fuzz.json");
  if (!root.ok()) {
    FuzzCheck(root.status().code() == StatusCode::kInvalidArgument ||
                  root.status().code() == StatusCode::kResourceExhausted,
              "unexpected status " + root.status().ToString());
    return;
  }
  FuzzCheck(root->content_hash == HexEncode(Sha256(input)), "content_hash is not the file's SHA-256");
  FuzzCheck(!root->tlogs.empty() || !root->certificate_authorities.empty(), "a root that can verify nothing");
  CheckLogs(*root, root->tlogs, true);
  CheckLogs(*root, root->ctlogs, false);
  CheckAuthorities(root->certificate_authorities);
  CheckAuthorities(root->timestamp_authorities);
  FuzzCheck(root->FindTlog(std::string(32, '\0')) == nullptr ||
                root->FindTlog(std::string(32, '\0'))->log_id == std::string(32, '\0'),
            "FindTlog returns another log");
}
