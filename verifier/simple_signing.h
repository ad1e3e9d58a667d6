// cosign "simple signing" payloads (containers/image signature format, as cosign writes it). Pure, thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "base/json_util.h"
#include "base/status.h"

namespace provgate {

inline constexpr char kSimpleSigningMediaType[] = "application/vnd.dev.cosign.simplesigning.v1+json";
inline constexpr char kSimpleSigningType[] = "cosign container image signature";

// Values a payload may hold (cosign writes about ten, plus the annotations).
inline constexpr size_t kMaxSimpleSigningValues = 4096;

struct SimpleSigningPayload {
  std::string docker_reference;  // critical.identity.docker-reference
  std::string manifest_digest;   // critical.image.docker-manifest-digest
  Json optional;                 // null or an object of user annotations
};

// Parses and validates a payload: critical.type must be the cosign constant,
// critical.image.docker-manifest-digest a valid digest, identity a string.
// Keys are matched exactly (lowercase, as emitters write them); a key given
// twice, or a case variant Go's decoder (cosign's) would read as one of the
// fields above, is refused. Fails with InvalidArgument naming the offending
// field; ResourceExhausted beyond kMaxSimpleSigningValues JSON values.
StatusOr<SimpleSigningPayload> ParseSimpleSigningPayload(std::string_view bytes);

// Builds the payload cosign writes, byte-compatible with Go's encoding/json
// output (keys in struct order, "optional": null when `annotations` is empty).
std::string MakeSimpleSigningPayload(std::string_view docker_reference, std::string_view manifest_digest,
                                     const std::map<std::string, std::string>& annotations);

}  // namespace provgate
