// ParseSimpleSigningPayload over arbitrary bytes. Invariants
// (verifier/simple_signing.h): an accepted payload has a valid digest and a
// null-or-object `optional`; rebuilding it with MakeSimpleSigningPayload
// (when its annotations are strings, as cosign writes them) parses back to
// the same payload.
#include <map>
#include <string>

#include "tests/fuzz/fuzz_target.h"
#include "verifier/reference.h"
#include "verifier/simple_signing.h"

using namespace provgate;
using provgate::fuzz::FuzzCheck;

PROVGATE_FUZZ_TARGET(simple_signing) {
  auto p = ParseSimpleSigningPayload(input);
  if (!p.ok()) {
    FuzzCheck(p.status().code() == StatusCode::kInvalidArgument || p.status().code() == StatusCode::kResourceExhausted,
              "unexpected status " + p.status().ToString());
    return;
  }
  FuzzCheck(ValidateDigest(p->manifest_digest).ok(), "accepted an invalid digest");
  FuzzCheck(p->optional.is_null() || p->optional.is_object(), "optional is neither null nor an object");
  std::map<std::string, std::string> annotations;
  if (p->optional.is_object()) {
    for (auto it = p->optional.begin(); it != p->optional.end(); ++it) {
      if (!it.value().is_string()) return;  // MakeSimpleSigningPayload writes string annotations only
      annotations[it.key()] = it.value().get<std::string>();
    }
  }
  std::string rebuilt = MakeSimpleSigningPayload(p->docker_reference, p->manifest_digest, annotations);
  auto again = ParseSimpleSigningPayload(rebuilt);
  FuzzCheck(again.ok(), "MakeSimpleSigningPayload output does not parse: " +
                            (again.ok() ? std::string() : again.status().ToString()));
  FuzzCheck(again->docker_reference == p->docker_reference, "docker-reference changed in the round trip");
  FuzzCheck(again->manifest_digest == p->manifest_digest, "digest changed in the round trip");
  if (annotations.empty()) {
    FuzzCheck(again->optional.is_null(), "empty annotations are not written as null");
  } else {
    FuzzCheck(again->optional == p->optional, "annotations changed in the round trip");
  }
}
