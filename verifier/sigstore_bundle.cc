#include "verifier/sigstore_bundle.h"

#include "base/encoding.h"
#include "base/json_util.h"
#include "verifier/dsse.h"

namespace provgate {

bool IsSupportedBundleMediaType(std::string_view t) {
  return t == "application/vnd.dev.sigstore.bundle.v0.3+json" ||
         t == "application/vnd.dev.sigstore.bundle+json;version=0.1" ||
         t == "application/vnd.dev.sigstore.bundle+json;version=0.2" ||
         t == "application/vnd.dev.sigstore.bundle+json;version=0.3";
}

namespace {

Status BundleError(const std::string& where, const std::string& what) {
  return InvalidArgument("sigstore bundle: " + where + " " + what);
}

// protojson writes int64 as a decimal string; accept an integer too.
StatusOr<int64_t> Int64Field(const Json& parent, const char* field, const std::string& where, bool required) {
  if (!parent.contains(field)) {
    if (required) return BundleError(where + "." + field, "is missing");
    return int64_t{0};
  }
  const Json& v = parent[field];
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    int64_t out = 0;
    bool ok = !s.empty() && s.size() <= 19;
    for (char c : s) ok = ok && c >= '0' && c <= '9';
    if (ok) {
      for (char c : s) out = out * 10 + (c - '0');
      return out;
    }
  }
  return BundleError(where + "." + field, "is not a non-negative int64");
}

StatusOr<std::string> BytesField(const Json& parent, const char* field, const std::string& where) {
  const Json& v = parent.is_object() ? parent.value(field, Json()) : Json();
  if (!v.is_string()) return BundleError(where + "." + field, "is missing or not a string");
  auto b = Base64Decode(v.get<std::string>());
  if (!b) return BundleError(where + "." + field, "is not base64");
  return *b;
}

// The version a supported media type names: "0.1", "0.2" or "0.3".
std::string BundleVersion(std::string_view media_type) {
  if (media_type == "application/vnd.dev.sigstore.bundle.v0.3+json") return "0.3";
  return std::string(media_type.substr(media_type.size() - 3));
}

Status ParseCertificates(const Json& vm, SigstoreBundle* b) {
  if (vm.contains("certificate")) {
    ASSIGN_OR_RETURN(std::string der, BytesField(vm["certificate"], "rawBytes", "verificationMaterial.certificate"));
    b->certificates_der.push_back(std::move(der));
    return Status::Ok();
  }
  const Json& chain = vm["x509CertificateChain"];
  const Json& certs = chain.is_object() ? chain.value("certificates", Json()) : Json();
  if (!certs.is_array() || certs.empty()) {
    return BundleError("verificationMaterial.x509CertificateChain.certificates", "is missing or empty");
  }
  if (certs.size() > kMaxBundleCertificates) {
    return ResourceExhausted("sigstore bundle: more than " + std::to_string(kMaxBundleCertificates) +
                             " certificates in x509CertificateChain");
  }
  if (b->version == "0.3") {
    return BundleError("verificationMaterial", "is an x509CertificateChain, which a v0.3 bundle may not carry");
  }
  b->certificate_chain_form = true;
  for (size_t i = 0; i < certs.size(); ++i) {
    ASSIGN_OR_RETURN(std::string der,
                     BytesField(certs[i], "rawBytes",
                                "verificationMaterial.x509CertificateChain.certificates[" + std::to_string(i) + "]"));
    b->certificates_der.push_back(std::move(der));
  }
  return Status::Ok();
}

StatusOr<TlogEntry> ParseTlogEntry(const Json& e, const std::string& where) {
  if (!e.is_object()) return BundleError(where, "is not an object");
  TlogEntry t;
  ASSIGN_OR_RETURN(t.log_index, Int64Field(e, "logIndex", where, false));
  ASSIGN_OR_RETURN(t.log_id, BytesField(e.value("logId", Json()), "keyId", where + ".logId"));
  const Json& kv = e.value("kindVersion", Json());
  if (!kv.is_object() || !kv.value("kind", Json()).is_string() || !kv.value("version", Json()).is_string()) {
    return BundleError(where + ".kindVersion", "needs a kind and a version");
  }
  t.kind = kv["kind"].get<std::string>();
  t.version = kv["version"].get<std::string>();
  ASSIGN_OR_RETURN(t.integrated_time, Int64Field(e, "integratedTime", where, false));
  if (e.contains("inclusionPromise")) {
    ASSIGN_OR_RETURN(t.signed_entry_timestamp,
                     BytesField(e["inclusionPromise"], "signedEntryTimestamp", where + ".inclusionPromise"));
  }
  if (e.contains("inclusionProof")) {
    const Json& p = e["inclusionProof"];
    const std::string pw = where + ".inclusionProof";
    if (!p.is_object()) return BundleError(pw, "is not an object");
    InclusionProof proof;
    ASSIGN_OR_RETURN(proof.log_index, Int64Field(p, "logIndex", pw, false));
    ASSIGN_OR_RETURN(proof.tree_size, Int64Field(p, "treeSize", pw, true));
    ASSIGN_OR_RETURN(proof.root_hash, BytesField(p, "rootHash", pw));
    const Json& hashes = p.value("hashes", Json::array());
    if (!hashes.is_array() || hashes.size() > 64) return BundleError(pw + ".hashes", "is not an array of at most 64 hashes");
    for (const auto& h : hashes) {
      auto raw = h.is_string() ? Base64Decode(h.get<std::string>()) : std::nullopt;
      if (!raw) return BundleError(pw + ".hashes", "holds a value that is not base64");
      proof.hashes.push_back(std::move(*raw));
    }
    const Json& cp = p.value("checkpoint", Json());
    if (!cp.is_object() || !cp.value("envelope", Json()).is_string()) {
      return BundleError(pw + ".checkpoint.envelope", "is missing");
    }
    proof.checkpoint = cp["envelope"].get<std::string>();
    t.inclusion_proof = std::move(proof);
  }
  ASSIGN_OR_RETURN(t.canonicalized_body, BytesField(e, "canonicalizedBody", where));
  return t;
}

Status ParseLogEntriesAndTimestamps(const Json& vm, SigstoreBundle* b) {
  const Json& entries = vm.value("tlogEntries", Json::array());
  if (!entries.is_array()) return BundleError("verificationMaterial.tlogEntries", "is not an array");
  if (entries.size() > kMaxBundleTlogEntries) {
    return ResourceExhausted("sigstore bundle: " + std::to_string(entries.size()) + " tlog entries, more than the " +
                             std::to_string(kMaxBundleTlogEntries) + " allowed");
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string where = "verificationMaterial.tlogEntries[" + std::to_string(i) + "]";
    ASSIGN_OR_RETURN(TlogEntry t, ParseTlogEntry(entries[i], where));
    // sigstore-go: a v0.1 bundle's entries carry inclusion promises, later
    // versions' inclusion proofs.
    if (b->version == "0.1" && t.signed_entry_timestamp.empty()) {
      return BundleError(where, "has no inclusion promise, which a v0.1 bundle needs");
    }
    if (b->version != "0.1" && !t.inclusion_proof) {
      return BundleError(where, "has no inclusion proof, which a v" + b->version + " bundle needs");
    }
    b->tlog_entries.push_back(std::move(t));
  }
  const Json& tvd = vm.value("timestampVerificationData", Json::object());
  if (!tvd.is_object()) return BundleError("verificationMaterial.timestampVerificationData", "is not an object");
  const Json& ts = tvd.value("rfc3161Timestamps", Json::array());
  if (!ts.is_array()) return BundleError("timestampVerificationData.rfc3161Timestamps", "is not an array");
  if (ts.size() > kMaxBundleTimestamps) {
    return ResourceExhausted("sigstore bundle: " + std::to_string(ts.size()) + " RFC 3161 timestamps, more than the " +
                             std::to_string(kMaxBundleTimestamps) + " allowed");
  }
  for (size_t i = 0; i < ts.size(); ++i) {
    ASSIGN_OR_RETURN(std::string der, BytesField(ts[i], "signedTimestamp",
                                                 "timestampVerificationData.rfc3161Timestamps[" + std::to_string(i) + "]"));
    b->rfc3161_timestamps.push_back(std::move(der));
  }
  return Status::Ok();
}

}  // namespace

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
  b.version = BundleVersion(b.media_type);
  const Json& vm = j.value("verificationMaterial", Json());
  if (!vm.is_object()) return InvalidArgument("sigstore bundle: verificationMaterial is missing or not an object");
  if (vm.contains("publicKey")) {
    if (!vm["publicKey"].is_object()) return InvalidArgument("sigstore bundle: verificationMaterial.publicKey is not an object");
    b.has_public_key = true;
    if (vm["publicKey"].contains("hint") && vm["publicKey"]["hint"].is_string()) b.public_key_hint = vm["publicKey"]["hint"];
    // model_signing v1.0.x wrote the PEM as publicKey.rawBytes: a hint like any other.
    if (vm["publicKey"].contains("rawBytes")) {
      ASSIGN_OR_RETURN(b.public_key_raw_bytes, BytesField(vm["publicKey"], "rawBytes", "verificationMaterial.publicKey"));
    }
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
  if (b.has_certificate) RETURN_IF_ERROR(ParseCertificates(vm, &b));
  RETURN_IF_ERROR(ParseLogEntriesAndTimestamps(vm, &b));
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

StatusOr<TlogEntry> ParseCosignRekorBundle(std::string_view json) {
  ASSIGN_OR_RETURN(Json j, ParseJsonUniqueKeys(json, "cosign bundle annotation", {.max_values = 64}));
  const std::string where = "cosign bundle annotation";
  if (!j.is_object()) return InvalidArgument(where + " is not a JSON object");
  TlogEntry t;
  ASSIGN_OR_RETURN(t.signed_entry_timestamp, BytesField(j, "SignedEntryTimestamp", where));
  const Json& p = j.value("Payload", Json());
  if (!p.is_object()) return InvalidArgument(where + ": Payload is missing");
  ASSIGN_OR_RETURN(t.canonicalized_body, BytesField(p, "body", where + ".Payload"));
  ASSIGN_OR_RETURN(t.integrated_time, Int64Field(p, "integratedTime", where + ".Payload", true));
  ASSIGN_OR_RETURN(t.log_index, Int64Field(p, "logIndex", where + ".Payload", true));
  const Json& id = p.value("logID", Json());
  auto raw_id = id.is_string() ? HexDecode(id.get<std::string>()) : std::nullopt;
  if (!raw_id) return InvalidArgument(where + ": Payload.logID is not hex");
  t.log_id = std::move(*raw_id);
  auto body = ParseJson(t.canonicalized_body, "cosign bundle annotation body");
  if (!body.ok() || !body->is_object() || !body->value("kind", Json()).is_string() ||
      !body->value("apiVersion", Json()).is_string()) {
    return InvalidArgument(where + ": Payload.body is not a Rekor entry with a kind and an apiVersion");
  }
  t.kind = (*body)["kind"].get<std::string>();
  t.version = (*body)["apiVersion"].get<std::string>();
  return t;
}

StatusOr<std::string> ParseCosignTimestampAnnotation(std::string_view json) {
  ASSIGN_OR_RETURN(Json j, ParseJsonUniqueKeys(json, "cosign rfc3161timestamp annotation", {.max_values = 8}));
  return BytesField(j, "SignedRFC3161Timestamp", "cosign rfc3161timestamp annotation");
}

}  // namespace provgate
