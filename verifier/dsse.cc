#include "verifier/dsse.h"

#include "base/encoding.h"
#include "base/json_util.h"

namespace provgate {

StatusOr<DsseEnvelope> ParseDsseEnvelope(std::string_view bytes) {
  // Read into Go structs by go-securesystemslib: no duplicate keys, no case variants.
  ASSIGN_OR_RETURN(Json j, ParseJsonUniqueKeys(bytes, "DSSE envelope", {.max_values = kMaxDsseValues}));
  if (!j.is_object()) return InvalidArgument("DSSE envelope is not a JSON object");
  RETURN_IF_ERROR(RejectGoFoldedKeys(j, {"payloadType", "payload", "signatures"}, "DSSE envelope"));
  DsseEnvelope env;
  if (!j.contains("payloadType") || !j["payloadType"].is_string()) {
    return InvalidArgument("DSSE envelope: payloadType is missing or not a string");
  }
  env.payload_type = j["payloadType"].get<std::string>();
  if (!j.contains("payload") || !j["payload"].is_string()) {
    return InvalidArgument("DSSE envelope: payload is missing or not a string");
  }
  auto payload = Base64Decode(j["payload"].get_ref<const std::string&>());
  if (!payload) return InvalidArgument("DSSE envelope: payload is not valid base64");
  env.payload = std::move(*payload);
  if (!j.contains("signatures") || !j["signatures"].is_array()) {
    return InvalidArgument("DSSE envelope: signatures is missing or not an array");
  }
  const Json& sigs = j["signatures"];
  if (sigs.empty()) return InvalidArgument("DSSE envelope: signatures is empty");
  if (sigs.size() > kMaxDsseSignatures) {
    return ResourceExhausted("DSSE envelope: more than " + std::to_string(kMaxDsseSignatures) + " signatures");
  }
  for (size_t i = 0; i < sigs.size(); ++i) {
    const Json& s = sigs[i];
    std::string where = "DSSE envelope: signatures[" + std::to_string(i) + "]";
    if (!s.is_object()) return InvalidArgument(where + " is not an object");
    RETURN_IF_ERROR(RejectGoFoldedKeys(s, {"keyid", "sig"}, where));
    if (!s.contains("sig") || !s["sig"].is_string()) return InvalidArgument(where + ".sig is missing or not a string");
    auto sig = Base64Decode(s["sig"].get_ref<const std::string&>());
    if (!sig) return InvalidArgument(where + ".sig is not valid base64");
    DsseSignature ds;
    ds.sig = std::move(*sig);
    // model_signing v1.0.x writes "keyid": null; Go and protojson read a
    // null string as empty, and the keyid is an unsigned hint anyway.
    if (s.contains("keyid") && !s["keyid"].is_null()) {
      if (!s["keyid"].is_string()) return InvalidArgument(where + ".keyid is not a string");
      ds.keyid = s["keyid"].get<std::string>();
    }
    env.signatures.push_back(std::move(ds));
  }
  return env;
}

std::string PreAuthEncoding(std::string_view payload_type, std::string_view payload) {
  std::string out = "DSSEv1 ";
  out += std::to_string(payload_type.size());
  out += ' ';
  out += payload_type;
  out += ' ';
  out += std::to_string(payload.size());
  out += ' ';
  out += payload;
  return out;
}

std::string SerializeDsseEnvelope(const DsseEnvelope& env) {
  Json j;
  j["payloadType"] = env.payload_type;
  j["payload"] = Base64Encode(env.payload);
  j["signatures"] = Json::array();
  for (const auto& s : env.signatures) {
    j["signatures"].push_back({{"keyid", s.keyid}, {"sig", Base64Encode(s.sig)}});
  }
  return j.dump();
}

}  // namespace provgate
