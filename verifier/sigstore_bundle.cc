#include "verifier/sigstore_bundle.h"

#include "base/encoding.h"
#include "base/json_util.h"

namespace provgate {

bool IsSupportedBundleMediaType(std::string_view t) {
  return t == "application/vnd.dev.sigstore.bundle.v0.3+json" ||
         t == "application/vnd.dev.sigstore.bundle+json;version=0.1" ||
         t == "application/vnd.dev.sigstore.bundle+json;version=0.2" ||
         t == "application/vnd.dev.sigstore.bundle+json;version=0.3";
}

StatusOr<SigstoreBundle> ParseSigstoreBundle(std::string_view bytes) {
  // protojson (sigstore-go) refuses a field given twice; so do we.
  ASSIGN_OR_RETURN(Json j, ParseJsonUniqueKeys(bytes, "sigstore bundle", {.max_values = kMaxBundleValues}));
  if (!j.is_object()) return InvalidArgument("sigstore bundle is not a JSON object");
  SigstoreBundle b;
  if (!j.contains("mediaType") || !j["mediaType"].is_string()) {
    return InvalidArgument("sigstore bundle: mediaType is missing or not a string");
  }
  b.media_type = j["mediaType"].get<std::string>();
  if (!IsSupportedBundleMediaType(b.media_type)) {
    return InvalidArgument("sigstore bundle: unsupported mediaType " + Quote(b.media_type));
  }
  const Json& vm = j.value("verificationMaterial", Json());
  if (!vm.is_object()) return InvalidArgument("sigstore bundle: verificationMaterial is missing or not an object");
  if (vm.contains("publicKey")) {
    if (!vm["publicKey"].is_object()) return InvalidArgument("sigstore bundle: verificationMaterial.publicKey is not an object");
    b.has_public_key = true;
    if (vm["publicKey"].contains("hint") && vm["publicKey"]["hint"].is_string()) b.public_key_hint = vm["publicKey"]["hint"];
  }
  // A oneof in the protobuf: exactly one kind of material. A bundle with a
  // certificate beside a public key would otherwise pass for key-signed.
  int materials = (vm.contains("publicKey") ? 1 : 0) + (vm.contains("certificate") ? 1 : 0) +
                  (vm.contains("x509CertificateChain") ? 1 : 0);
  if (materials != 1) {
    return InvalidArgument(
        "sigstore bundle: verificationMaterial needs exactly one of publicKey, certificate and x509CertificateChain");
  }
  b.has_certificate = !b.has_public_key;
  bool dsse = j.contains("dsseEnvelope"), msg = j.contains("messageSignature");
  if (dsse == msg) return InvalidArgument("sigstore bundle: needs exactly one of dsseEnvelope and messageSignature");
  if (dsse) {
    if (!j["dsseEnvelope"].is_object()) return InvalidArgument("sigstore bundle: dsseEnvelope is not an object");
    auto env = ParseDsseEnvelope(j["dsseEnvelope"].dump());
    if (!env.ok()) return env.status().WithPrefix("sigstore bundle");
    if (env->signatures.size() != 1) {
      return InvalidArgument("sigstore bundle: dsseEnvelope must carry exactly one signature");
    }
    b.is_dsse = true;
    b.dsse = std::move(*env);
    return b;
  }
  const Json& ms = j["messageSignature"];
  if (!ms.is_object()) return InvalidArgument("sigstore bundle: messageSignature is not an object");
  const Json& md = ms.value("messageDigest", Json());
  if (!md.is_object() || md.value("algorithm", Json()) != "SHA2_256" || !md.contains("digest") ||
      !md["digest"].is_string()) {
    return InvalidArgument("sigstore bundle: messageSignature.messageDigest must be SHA2_256 with a digest");
  }
  auto digest = Base64Decode(md["digest"].get<std::string>());
  if (!digest || digest->size() != 32) {
    return InvalidArgument("sigstore bundle: messageSignature.messageDigest.digest is not 32 base64 bytes");
  }
  if (!ms.contains("signature") || !ms["signature"].is_string()) {
    return InvalidArgument("sigstore bundle: messageSignature.signature is missing");
  }
  auto sig = Base64Decode(ms["signature"].get<std::string>());
  if (!sig) return InvalidArgument("sigstore bundle: messageSignature.signature is not base64");
  b.message_digest = std::move(*digest);
  b.message_signature = std::move(*sig);
  return b;
}

}  // namespace provgate
