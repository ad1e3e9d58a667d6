#include "verifier/verified_artifact.h"

#include "base/encoding.h"
#include "verifier/digest.h"
#include "verifier/dsse.h"
#include "verifier/in_toto.h"
#include "verifier/sigstore_bundle.h"
#include "verifier/simple_signing.h"

namespace provgate {
namespace {

constexpr char kSignatureAnnotation[] = "dev.cosignproject.cosign/signature";
constexpr char kCertificateAnnotation[] = "dev.sigstore.cosign/certificate";
// Config blobs are up to 4 MiB; model configs hold hundreds of values, not millions.
constexpr size_t kMaxConfigValues = 1 << 18;

// `message` carries its digests, so many signatures and keys hash it once.
std::vector<std::string> SignersOf(const std::vector<TrustedKey>& keys, const SignedMessage& message,
                                   std::string_view signature) {
  std::vector<std::string> out;
  for (const auto& k : keys) {
    if (k.key.Verify(message, signature)) {
      bool dup = false;
      for (const auto& s : out) dup |= s == k.authority;
      if (!dup) out.push_back(k.authority);
    }
  }
  return out;
}

std::string NoSignerProblem(const AttachedLayer& layer, size_t key_count) {
  if (key_count == 0) return "no trusted keys to verify against";
  if (layer.descriptor.annotations.count(kCertificateAnnotation)) {
    return "signature does not verify with any trusted key (keyless certificate signatures are not trusted by key authorities)";
  }
  return "signature does not verify with any trusted key";
}

SignatureFact CheckSignatureLayer(const AttachedLayer& layer, const std::string& digest,
                                  const std::vector<TrustedKey>& keys) {
  SignatureFact f;
  f.layer_digest = layer.descriptor.digest;
  if (Status s = CheckDigest(layer.blob, layer.descriptor.digest, "signature layer"); !s.ok()) {
    f.problem = s.message();
    return f;
  }
  if (layer.descriptor.media_type != kSimpleSigningMediaType) {
    f.problem = "layer media type " + Quote(layer.descriptor.media_type) + " is not simple signing";
    return f;
  }
  auto it = layer.descriptor.annotations.find(kSignatureAnnotation);
  if (it == layer.descriptor.annotations.end() || it->second.empty()) {
    f.problem = "layer has no dev.cosignproject.cosign/signature annotation";
    return f;
  }
  auto sig = Base64Decode(it->second);
  if (!sig) {
    f.problem = "signature annotation is not valid base64";
    return f;
  }
  f.signers = SignersOf(keys, SignedMessage(layer.blob), *sig);
  auto payload = ParseSimpleSigningPayload(layer.blob);
  if (!payload.ok()) {
    f.problem = payload.status().message();
    return f;
  }
  if (payload->manifest_digest != digest) {
    f.problem = "payload is for digest " + payload->manifest_digest + ", not the artifact's " + digest;
    return f;
  }
  if (f.signers.empty()) f.problem = NoSignerProblem(layer, keys.size());
  return f;
}

// The DSSE checks shared by .att layers and bundles: signature over the PAE,
// in-toto payload type, statement parsed from the verified bytes, subject.
void CheckEnvelope(const DsseEnvelope& env, const std::string& digest, const std::vector<TrustedKey>& keys,
                   AttestationFact* f) {
  const std::string pae = PreAuthEncoding(env.payload_type, env.payload);
  const SignedMessage message(pae);
  for (const auto& s : env.signatures) {
    for (auto& a : SignersOf(keys, message, s.sig)) {
      bool dup = false;
      for (const auto& x : f->signers) dup |= x == a;
      if (!dup) f->signers.push_back(a);
    }
  }
  if (env.payload_type != kInTotoPayloadType) {
    f->problem = "DSSE payloadType " + Quote(env.payload_type) + " is not " + kInTotoPayloadType;
    return;
  }
  if (f->signers.empty()) {
    // Verify, then parse (DSSE protocol): a statement no trusted key signed
    // is only named in reasons (its types, read without building a tree:
    // a hostile 12 MiB statement would be hundreds of MiB as one). The
    // caller records why it does not count.
    StatementTypes types = PeekStatementTypes(env.payload);
    f->statement_type = types.type;
    f->predicate_type = types.predicate_type;
    return;
  }
  // Parse exactly the bytes whose signature was checked.
  auto st = ParseStatement(env.payload);
  if (!st.ok()) {
    f->problem = st.status().message();
    return;
  }
  f->statement_type = st->type;
  f->predicate_type = st->predicate_type;
  f->predicate = std::move(st->predicate);
  if (!StatementCoversDigest(*st, digest)) f->problem = "statement has no subject with digest " + digest;
}

// An attestation that does not verify decides nothing: drop its predicate
// now, before the next layer is read, so unsigned content is never held in
// bulk (a JSON tree is many times the size of its bytes).
void DropUnverifiedPredicate(AttestationFact* f) {
  if (!f->verified()) f->predicate = Json::object();
}

AttestationFact CheckAttestationLayer(const AttachedLayer& layer, const std::string& digest,
                                      const std::vector<TrustedKey>& keys) {
  AttestationFact f;
  f.layer_digest = layer.descriptor.digest;
  f.predicate = Json::object();
  if (Status s = CheckDigest(layer.blob, layer.descriptor.digest, "attestation layer"); !s.ok()) {
    f.problem = s.message();
    return f;
  }
  if (layer.descriptor.media_type != kDsseMediaType) {
    f.problem = "layer media type " + Quote(layer.descriptor.media_type) + " is not a DSSE envelope";
    return f;
  }
  auto env = ParseDsseEnvelope(layer.blob);
  if (!env.ok()) {
    f.problem = env.status().message();
    return f;
  }
  CheckEnvelope(*env, digest, keys, &f);
  if (f.problem.empty() && f.signers.empty()) f.problem = NoSignerProblem(layer, keys.size());
  DropUnverifiedPredicate(&f);
  return f;
}

constexpr char kCertificateBundleProblem[] =
    "bundle is signed with a certificate (keyless); certificate verification is not supported by this build, "
    "and a certificate-signed bundle never counts for a key authority";

std::string NoBundleSignerProblem(size_t key_count) {
  if (key_count == 0) return "no trusted keys to verify against";
  return "signature does not verify with any trusted key";
}

// A bundle becomes a signature fact (cosign v3 sign, message signatures) or
// an attestation fact (any other statement).
void CheckBundleLayer(const AttachedLayer& layer, const ArtifactMaterial& m, const std::vector<TrustedKey>& keys,
                      VerifiedArtifact* out) {
  auto as_signature = [&](const std::vector<std::string>& signers, const std::string& problem) {
    SignatureFact s;
    s.layer_digest = layer.descriptor.digest;
    s.origin = kOriginBundle;
    s.signers = signers;
    s.problem = problem;
    out->signatures.push_back(std::move(s));
  };
  AttestationFact f;
  f.layer_digest = layer.descriptor.digest;
  f.origin = kOriginBundle;
  f.predicate = Json::object();
  if (Status s = CheckDigest(layer.blob, layer.descriptor.digest, "bundle layer"); !s.ok()) {
    as_signature({}, s.message());
    return;
  }
  auto bundle = ParseSigstoreBundle(layer.blob);
  if (!bundle.ok()) {
    as_signature({}, bundle.status().message());
    return;
  }
  // A certificate bundle's signature is not checked against the keys at all:
  // the certificate's identity is what it claims, and that is unverified here.
  const std::vector<TrustedKey> no_keys;
  const std::vector<TrustedKey>& usable_keys = bundle->has_certificate ? no_keys : keys;
  if (!bundle->is_dsse) {
    // A message signature binds only when it signs this manifest's bytes:
    // the bytes verified must hash to the artifact digest, and so must the
    // digest the bundle claims.
    const std::string bytes_digest = Sha256Digest(m.manifest_bytes);
    if (bytes_digest != m.digest) {
      as_signature({}, "the manifest bytes at hand hash to " + bytes_digest + ", not the artifact's " + m.digest +
                           "; a message signature over them does not bind it");
      return;
    }
    if ("sha256:" + HexEncode(bundle->message_digest) != m.digest) {
      as_signature({}, "message signature is over sha256:" + HexEncode(bundle->message_digest) +
                           ", not the artifact's " + m.digest);
      return;
    }
    if (bundle->has_certificate) {
      as_signature({}, kCertificateBundleProblem);
      return;
    }
    std::vector<std::string> signers =
        SignersOf(usable_keys, SignedMessage(m.manifest_bytes), bundle->message_signature);
    as_signature(signers, signers.empty() ? NoBundleSignerProblem(keys.size()) : "");
    return;
  }
  CheckEnvelope(bundle->dsse, m.digest, usable_keys, &f);
  if (bundle->has_certificate) {
    f.signers.clear();
    f.problem = kCertificateBundleProblem;
  } else if (f.problem.empty() && f.signers.empty()) {
    f.problem = NoBundleSignerProblem(keys.size());
  }
  DropUnverifiedPredicate(&f);
  if (f.predicate_type == kCosignSignPredicateType) {
    as_signature(f.signers, f.problem);
  } else {
    out->attestations.push_back(std::move(f));
  }
}

}  // namespace

std::set<std::string> VerifiedArtifact::SignedBy() const {
  std::set<std::string> out;
  for (const auto& s : signatures) {
    if (s.verified()) out.insert(s.signers.begin(), s.signers.end());
  }
  return out;
}

VerifiedArtifact VerifyArtifact(const ArtifactMaterial& m, const std::vector<TrustedKey>& keys) {
  VerifiedArtifact a;
  a.reference = m.reference;
  a.digest = m.digest;
  a.manifest = m.manifest;
  a.annotations = m.manifest.annotations;
  a.notes = m.notes;
  if (m.config_bytes) {
    if (Status s = CheckDigest(*m.config_bytes, m.manifest.config.digest, "config blob"); !s.ok()) {
      a.notes.push_back(s.message());
    } else {
      // Policy metadata facts: a key given twice would be read differently elsewhere.
      auto cfg = ParseJsonUniqueKeys(*m.config_bytes, "config blob", {.max_values = kMaxConfigValues});
      if (cfg.ok()) {
        a.config = std::move(*cfg);
      } else {
        a.notes.push_back("config blob is not usable JSON (" + cfg.status().message() +
                          "); config facts are unavailable");
      }
    }
  }
  for (const auto& layer : m.signature_layers) a.signatures.push_back(CheckSignatureLayer(layer, m.digest, keys));
  for (const auto& layer : m.attestation_layers) {
    a.attestations.push_back(CheckAttestationLayer(layer, m.digest, keys));
  }
  for (const auto& layer : m.bundle_layers) CheckBundleLayer(layer, m, keys, &a);
  return a;
}

Json VerifiedArtifactToJson(const VerifiedArtifact& a) {
  Json j;
  j["reference"] = a.reference.String();
  j["digest"] = a.digest;
  j["mediaType"] = a.manifest.media_type;
  if (!a.manifest.artifact_type.empty()) j["artifactType"] = a.manifest.artifact_type;
  j["signedBy"] = a.SignedBy();
  j["signatures"] = Json::array();
  for (const auto& s : a.signatures) {
    Json e{{"layer", s.layer_digest}, {"origin", s.origin}, {"verified", s.verified()}, {"signers", s.signers}};
    if (!s.problem.empty()) e["problem"] = s.problem;
    j["signatures"].push_back(std::move(e));
  }
  j["attestations"] = Json::array();
  for (const auto& at : a.attestations) {
    Json e{{"layer", at.layer_digest}, {"origin", at.origin}, {"verified", at.verified()}, {"signers", at.signers}};
    if (!at.predicate_type.empty()) e["predicateType"] = at.predicate_type;
    if (!at.problem.empty()) e["problem"] = at.problem;
    j["attestations"].push_back(std::move(e));
  }
  j["annotations"] = a.annotations;
  j["config"] = a.config;
  if (!a.notes.empty()) j["notes"] = a.notes;
  return j;
}

}  // namespace provgate
