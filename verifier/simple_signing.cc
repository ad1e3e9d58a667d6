#include "verifier/simple_signing.h"

#include "base/encoding.h"
#include "verifier/reference.h"

namespace provgate {

StatusOr<SimpleSigningPayload> ParseSimpleSigningPayload(std::string_view bytes) {
  // cosign reads the payload into Go structs: no duplicate keys, and no key
  // its case-insensitive decoding would take for a field we read differently.
  ASSIGN_OR_RETURN(Json j,
                   ParseJsonUniqueKeys(bytes, "simple-signing payload", {.max_values = kMaxSimpleSigningValues}));
  if (!j.is_object()) return InvalidArgument("simple-signing payload is not a JSON object");
  RETURN_IF_ERROR(RejectGoFoldedKeys(j, {"critical", "optional"}, "simple-signing payload"));
  if (!j.contains("critical") || !j["critical"].is_object()) {
    return InvalidArgument("simple-signing payload: critical is missing or not an object");
  }
  const Json& c = j["critical"];
  RETURN_IF_ERROR(RejectGoFoldedKeys(c, {"identity", "image", "type"}, "simple-signing payload: critical"));
  if (c.contains("image")) {
    RETURN_IF_ERROR(
        RejectGoFoldedKeys(c["image"], {"docker-manifest-digest"}, "simple-signing payload: critical.image"));
  }
  if (c.contains("identity")) {
    RETURN_IF_ERROR(
        RejectGoFoldedKeys(c["identity"], {"docker-reference"}, "simple-signing payload: critical.identity"));
  }
  if (!c.contains("type") || !c["type"].is_string() || c["type"] != kSimpleSigningType) {
    return InvalidArgument("simple-signing payload: critical.type is not \"cosign container image signature\"");
  }
  if (!c.contains("image") || !c["image"].is_object() || !c["image"].contains("docker-manifest-digest") ||
      !c["image"]["docker-manifest-digest"].is_string()) {
    return InvalidArgument("simple-signing payload: critical.image.docker-manifest-digest is missing");
  }
  SimpleSigningPayload p;
  p.manifest_digest = c["image"]["docker-manifest-digest"].get<std::string>();
  if (Status s = ValidateDigest(p.manifest_digest); !s.ok()) {
    return InvalidArgument("simple-signing payload: " + s.message());
  }
  if (c.contains("identity")) {
    const Json& id = c["identity"];
    if (!id.is_object()) return InvalidArgument("simple-signing payload: critical.identity is not an object");
    if (id.contains("docker-reference")) {
      if (!id["docker-reference"].is_string()) {
        return InvalidArgument("simple-signing payload: critical.identity.docker-reference is not a string");
      }
      p.docker_reference = id["docker-reference"].get<std::string>();
    }
  }
  if (j.contains("optional")) {
    if (!j["optional"].is_null() && !j["optional"].is_object()) {
      return InvalidArgument("simple-signing payload: optional is neither null nor an object");
    }
    p.optional = j["optional"];
  }
  return p;
}

std::string MakeSimpleSigningPayload(std::string_view docker_reference, std::string_view manifest_digest,
                                     const std::map<std::string, std::string>& annotations) {
  // Built by hand to fix the key order to cosign's (Go struct order).
  Json ref = std::string(docker_reference);
  Json digest = std::string(manifest_digest);
  std::string out = "{\"critical\":{\"identity\":{\"docker-reference\":" + ref.dump() +
                    "},\"image\":{\"docker-manifest-digest\":" + digest.dump() +
                    "},\"type\":\"cosign container image signature\"},\"optional\":";
  if (annotations.empty()) {
    out += "null";
  } else {
    Json opt = Json::object();
    for (const auto& [k, v] : annotations) opt[k] = v;
    out += opt.dump();
  }
  out += "}";
  return out;
}

}  // namespace provgate
