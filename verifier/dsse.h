// DSSE envelopes v1 (the DSSE v1 protocol): parsing, pre-authentication encoding,
// and building. Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace provgate {

inline constexpr char kDsseMediaType[] = "application/vnd.dsse.envelope.v1+json";
inline constexpr char kInTotoPayloadType[] = "application/vnd.in-toto+json";

struct DsseSignature {
  std::string keyid;  // unauthenticated hint; never used for trust
  std::string sig;    // decoded signature bytes
};

struct DsseEnvelope {
  std::string payload_type;
  std::string payload;  // decoded payload bytes: what is signed, and what is parsed
  std::vector<DsseSignature> signatures;
};

inline constexpr size_t kMaxDsseSignatures = 16;
// JSON values an envelope may hold: a handful per signature; the payload is one string.
inline constexpr size_t kMaxDsseValues = 4096;

// Parses an envelope. payload and sig accept standard and URL-safe base64.
// Fails with InvalidArgument naming the field for malformed JSON, missing or
// mistyped fields, bad base64, no signatures, or more than kMaxDsseSignatures;
// also for a key given twice or a case variant of a field (Go reads those);
// ResourceExhausted beyond kMaxDsseValues JSON values (checked before parsing).
StatusOr<DsseEnvelope> ParseDsseEnvelope(std::string_view bytes);

// PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body.
std::string PreAuthEncoding(std::string_view payload_type, std::string_view payload);

// Serialises an envelope with standard base64: {"payloadType","payload","signatures"}.
std::string SerializeDsseEnvelope(const DsseEnvelope& env);

}  // namespace provgate
