#include "webhook/admission.h"

#include "base/encoding.h"

namespace provgate {
namespace {

StatusOr<std::string> OptionalString(const Json& obj, const char* key) {
  if (!obj.contains(key) || obj[key].is_null()) return std::string();
  if (!obj[key].is_string()) return InvalidArgument(std::string("request.") + key + " is not a string");
  return obj[key].get<std::string>();
}

}  // namespace

StatusOr<AdmissionRequest> ParseAdmissionReview(std::string_view body) {
  if (body.size() > kMaxAdmissionBodyBytes) return InvalidArgument("request body larger than 3 MiB");
  ASSIGN_OR_RETURN(Json review, ParseJson(body, "AdmissionReview", 100));
  if (!review.is_object()) return InvalidArgument("AdmissionReview is not a JSON object");
  if (review.value("kind", Json()) != "AdmissionReview") return InvalidArgument("kind is not AdmissionReview");
  if (review.value("apiVersion", Json()) != kAdmissionApiVersion) {
    return InvalidArgument("apiVersion is not admission.k8s.io/v1");
  }
  if (!review.contains("request") || !review["request"].is_object()) {
    return InvalidArgument("AdmissionReview has no request object");
  }
  Json& req = review["request"];
  AdmissionRequest r;
  ASSIGN_OR_RETURN(r.uid, OptionalString(req, "uid"));
  if (r.uid.empty()) return InvalidArgument("request.uid is missing");
  if (r.uid.size() > 256) return InvalidArgument("request.uid is longer than 256 characters");
  ASSIGN_OR_RETURN(r.operation, OptionalString(req, "operation"));
  if (r.operation.empty()) return InvalidArgument("request.operation is missing");
  ASSIGN_OR_RETURN(r.namespace_name, OptionalString(req, "namespace"));
  ASSIGN_OR_RETURN(r.name, OptionalString(req, "name"));
  ASSIGN_OR_RETURN(r.sub_resource, OptionalString(req, "subResource"));
  if (req.contains("kind") && req["kind"].is_object() && req["kind"].contains("kind") && req["kind"]["kind"].is_string()) {
    r.kind = req["kind"]["kind"];
  }
  if (req.contains("dryRun") && !req["dryRun"].is_null()) {
    if (!req["dryRun"].is_boolean()) return InvalidArgument("request.dryRun is not a boolean");
    r.dry_run = req["dryRun"];
  }
  if (req.contains("object") && !req["object"].is_null()) {
    if (!req["object"].is_object()) return InvalidArgument("request.object is not an object");
    r.object = std::move(req["object"]);
  }
  return r;
}

std::string AdmissionResponseJson(const AdmissionResponse& r) {
  Json resp = {{"uid", r.uid}, {"allowed", r.allowed}};
  if (!r.allowed) {
    resp["status"] = {{"code", 403}, {"reason", "Forbidden"}, {"message", r.message}};
  }
  if (!r.warnings.empty()) resp["warnings"] = r.warnings;
  if (!r.patch.empty()) {
    resp["patchType"] = "JSONPatch";
    resp["patch"] = Base64Encode(r.patch);
  }
  Json review = {{"apiVersion", kAdmissionApiVersion}, {"kind", "AdmissionReview"}, {"response", resp}};
  return review.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string PinningPatch(const ObjectDecision& d) {
  Json ops = Json::array();
  for (const auto& r : d.references) {
    if (r.digest.empty() || r.decision == Decision::kDeny || !r.ref.parsed) continue;
    if (!r.ref.reference.digest.empty()) continue;  // already pinned, and verified at that digest
    ops.push_back({{"op", "replace"}, {"path", r.ref.json_pointer}, {"value", r.ref.raw + "@" + r.digest}});
  }
  return ops.empty() ? "" : ops.dump();
}

std::string ErrorJson(const std::string& message) {
  return Json{{"error", message}}.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace provgate
