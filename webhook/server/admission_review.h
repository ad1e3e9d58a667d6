// AdmissionReview v1 (Kubernetes admission.k8s.io/v1): parsing requests, building
// responses, and the JSONPatch that pins verified digests. Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "base/json_util.h"
#include "base/status.h"
#include "webhook/decide/decide_object.h"

namespace provgate {

inline constexpr char kAdmissionApiVersion[] = "admission.k8s.io/v1";
inline constexpr size_t kMaxAdmissionBodyBytes = 3 << 20;  // the API server's own request limit
inline constexpr size_t kMaxAdmissionDepth = 100;

struct AdmissionRequest {
  std::string uid;
  std::string operation;  // CREATE, UPDATE, DELETE, CONNECT
  std::string namespace_name;
  std::string name;
  std::string kind;  // request.kind.kind
  std::string sub_resource;
  bool dry_run = false;
  // request.object; absent (null) for DELETE. Points into the parser's
  // document: valid until that parser parses again.
  std::optional<simdjson::dom::element> object;
};

// Parses an AdmissionReview with `parser` (simdjson: the server's hot path;
// the parser's buffers are reused between calls on one thread). Fails with
// InvalidArgument (-> HTTP 400) for a body that is not JSON, nested deeper
// than kMaxAdmissionDepth, not an AdmissionReview of admission.k8s.io/v1,
// or has no request / request.uid / request.operation, or whose object is
// present but not a JSON object; and for CREATE and UPDATE, when the object
// or request.kind is missing or the object's kind (or API group, when
// request.kind names one) is not request.kind's.
StatusOr<AdmissionRequest> ParseAdmissionReview(std::string_view body, simdjson::dom::parser& parser);

struct AdmissionResponse {
  std::string uid;
  bool allowed = true;
  std::string message;  // for denials: status.message
  std::vector<std::string> warnings;
  std::string patch;  // JSONPatch JSON text; empty = none
};

// The AdmissionReview v1 JSON carrying `r`: status.code 403 on denial,
// patch base64-encoded with patchType JSONPatch.
std::string AdmissionResponseJson(const AdmissionResponse& r);

// The JSONPatch (RFC 6902) that pins every reference of `d` decided
// `allow` (every matching policy passed at its verified digest):
// `repo:tag` -> `repo:tag@sha256:..`, keeping the text as written (and any
// oci:// scheme). Unmatched references, and ones a warn- or audit-mode
// policy failed, are admitted but not verified, so never pinned. References
// already carrying a digest are left alone. Returns "" when nothing is pinned.
std::string PinningPatch(const ObjectDecision& d);

// {"error": message} for HTTP 400 answers.
std::string ErrorJson(const std::string& message);

}  // namespace provgate
