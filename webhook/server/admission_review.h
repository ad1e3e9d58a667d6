// AdmissionReview v1 (Kubernetes admission.k8s.io/v1): parsing requests, building
// responses, and the JSONPatch that pins verified digests. Pure, thread-safe.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <utility>
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
  // response.auditAnnotations, in order: key (unprefixed: the API server
  // prefixes "<webhook name>/") -> value. Empty = none.
  std::vector<std::pair<std::string, std::string>> audit_annotations;
};

// The AdmissionReview v1 JSON carrying `r`: status.code 403 on denial,
// patch base64-encoded with patchType JSONPatch, auditAnnotations as an
// object of strings.
std::string AdmissionResponseJson(const AdmissionResponse& r);

// Each audit annotation value is at most this many bytes.
inline constexpr size_t kMaxAuditAnnotationBytes = 1024;

// The audit annotations for a decided object (docs/server.md, "Audit
// annotations"), which the API server records in the request's audit event
// as "<webhook name>/<key>":
//   decision: d.Overall()'s name (allow, deny, warn, audit, unmatched);
//   digest:   "reference@digest" for each distinct reference a policy
//             matched whose digest is known, comma-separated (absent when none);
//   policy:   "name=passed" or "name=failed" for each policy that decided a
//             reference (failed when it failed any), comma-separated, in the
//             order first seen (absent when none).
// A list longer than kMaxAuditAnnotationBytes keeps its first entries and
// ends ",+N more"; one entry alone longer is cut at a UTF-8 boundary.
std::vector<std::pair<std::string, std::string>> AuditAnnotations(const ObjectDecision& d);

// The JSONPatch (RFC 6902) that replaces every reference of `d` that
// PinnedReference (webhook/decide/decide_object.h, the pin rule) pins, for
// `pin_kinds` (DefaultPinKinds() there). Returns "" when nothing is pinned.
std::string PinningPatch(const ObjectDecision& d, const std::set<std::string>& pin_kinds);

// {"error": message} for HTTP 400 answers.
std::string ErrorJson(const std::string& message);

}  // namespace provgate
