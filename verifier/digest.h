// Content digests ("sha256:<hex>") computed over exact bytes. Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace provgate {

// Raw 32-byte SHA-256 of `bytes`.
std::string Sha256(std::string_view bytes);
// "sha256:<lowercase hex>" of `bytes`.
std::string Sha256Digest(std::string_view bytes);

// Computes the digest of `bytes` with the algorithm named by `expected`
// ("sha256:..." or "sha512:...") and compares it. Returns DataLoss naming
// `what`, the expected and the computed digest on mismatch; InvalidArgument
// when `expected` is not a valid digest.
Status CheckDigest(std::string_view bytes, std::string_view expected, std::string_view what);

}  // namespace provgate
