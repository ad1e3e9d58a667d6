// ParseDsseEnvelope over arbitrary bytes. Invariants (verifier/dsse.h): an
// accepted envelope has 1..kMaxDsseSignatures signatures and serialises
// (SerializeDsseEnvelope) to an envelope that parses back to the same one;
// the PAE is DSSE v1's. Signatures are then checked with the test keys
// (hostile signature bytes into OpenSSL).
#include <string>

#include "base/encoding.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/fuzz/fuzz_target.h"
#include "verifier/dsse.h"

using namespace provgate;
using provgate::fuzz::FuzzCheck;

PROVGATE_FUZZ_TARGET(dsse) {
  // Base64 is every envelope's codec: decode(encode(x)) is x.
  auto decoded = Base64Decode(input);
  if (decoded) {
    auto round = Base64Decode(Base64Encode(*decoded));
    FuzzCheck(round && *round == *decoded, "Base64Decode(Base64Encode(x)) != x");
  }
  auto env = ParseDsseEnvelope(input);
  if (!env.ok()) {
    FuzzCheck(env.status().code() == StatusCode::kInvalidArgument ||
                  env.status().code() == StatusCode::kResourceExhausted,
              "unexpected status " + env.status().ToString());
    return;
  }
  FuzzCheck(!env->signatures.empty() && env->signatures.size() <= kMaxDsseSignatures, "signature count out of bounds");
  auto again = ParseDsseEnvelope(SerializeDsseEnvelope(*env));
  FuzzCheck(again.ok(), "a serialised envelope does not parse");
  FuzzCheck(again->payload_type == env->payload_type && again->payload == env->payload,
            "payload changed in the round trip");
  FuzzCheck(again->signatures.size() == env->signatures.size(), "signature count changed in the round trip");
  for (size_t i = 0; i < env->signatures.size(); ++i) {
    FuzzCheck(again->signatures[i].sig == env->signatures[i].sig &&
                  again->signatures[i].keyid == env->signatures[i].keyid,
              "a signature changed in the round trip");
  }
  const std::string pae = PreAuthEncoding(env->payload_type, env->payload);
  const std::string head = "DSSEv1 " + std::to_string(env->payload_type.size()) + " " + env->payload_type + " " +
                           std::to_string(env->payload.size()) + " ";
  FuzzCheck(pae.size() == head.size() + env->payload.size() && pae.compare(0, head.size(), head) == 0,
            "PAE is not DSSEv1 SP len SP type SP len SP body");
  SignedMessage message(pae);
  for (const auto& key : provgate::fuzz::TestPublicKeys()) {
    for (const auto& s : env->signatures) (void)key.Verify(message, s.sig);
  }
}
