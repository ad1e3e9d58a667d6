#include "verifier/verified_artifact.h"

#include <algorithm>

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
constexpr char kChainAnnotation[] = "dev.sigstore.cosign/chain";
constexpr char kRekorBundleAnnotation[] = "dev.sigstore.cosign/bundle";
constexpr char kTimestampAnnotation[] = "dev.sigstore.cosign/rfc3161timestamp";
// Config blobs are up to 4 MiB; model configs hold hundreds of values, not millions.
constexpr size_t kMaxConfigValues = 1 << 18;

// `message` carries its digests, so many signatures and keys hash it once.
std::vector<Signer> SignersOf(const std::vector<TrustedKey>& keys, const SignedMessage& message,
                              std::string_view signature) {
  std::vector<Signer> out;
  for (const auto& k : keys) {
    if (k.key.Verify(message, signature) && std::find(out.begin(), out.end(), k.signer) == out.end()) {
      out.push_back(k.signer);
    }
  }
  return out;
}

// What the signature of a DSSE envelope says, once its signers are known:
// the in-toto payload type, the statement parsed from the verified bytes,
// its subject. Shared by .att layers and bundles.
void CheckStatement(const DsseEnvelope& env, const std::string& digest, AttestationFact* f) {
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

void AddUnique(std::vector<Signer>* out, const std::vector<Signer>& more) {
  for (const auto& a : more) {
    if (std::find(out->begin(), out->end(), a) == out->end()) out->push_back(a);
  }
}

std::vector<Signer> EnvelopeSigners(const DsseEnvelope& env, const std::vector<TrustedKey>& keys) {
  const std::string pae = PreAuthEncoding(env.payload_type, env.payload);
  const SignedMessage message(pae);
  std::vector<Signer> out;
  for (const auto& s : env.signatures) AddUnique(&out, SignersOf(keys, message, s.sig));
  return out;
}

// An attestation that does not verify decides nothing: drop its predicate
// now, before the next layer is read, so unsigned content is never held in
// bulk (a JSON tree is many times the size of its bytes).
void DropUnverifiedPredicate(AttestationFact* f) {
  if (!f->verified()) f->predicate = Json::object();
}

std::string NoKeySignerProblem(size_t key_count) {
  if (key_count == 0) return "no trusted keys to verify against";
  return "signature does not verify with any trusted key";
}

// Who signed a bundle, whatever route it came by (a referrer, a model.sig
// layer, a cosign layer with certificate annotations): the one
// verification path. A public key in the bundle is a hint and never trust:
// the policies' keys are tried. A certificate is verified under each
// keyless authority's root, once per root, and counts for the authorities
// whose identity it matches.
struct BundleSigners {
  std::vector<Signer> signers;
  std::string problem;  // when there are no signers
  std::optional<KeylessIdentityFacts> keyless;
};

BundleSigners SignersOfBundle(const SigstoreBundle& b, std::string_view signed_bytes, const Trust& trust) {
  BundleSigners out;
  if (!b.has_certificate) {
    if (b.is_dsse) {
      out.signers = EnvelopeSigners(b.dsse, trust.keys);
    } else {
      out.signers = SignersOf(trust.keys, SignedMessage(signed_bytes), b.message_signature);
    }
    if (out.signers.empty()) out.problem = NoKeySignerProblem(trust.keys.size());
    return out;
  }
  if (trust.keyless.empty()) {
    out.problem = "signed with a certificate (keyless), and no keyless authority applies; "
                  "a certificate signature never counts for a key authority";
    return out;
  }
  std::vector<std::pair<const TrustedRoot*, StatusOr<KeylessIdentityFacts>>> by_root;
  std::vector<std::string> mismatched;
  for (const auto& k : trust.keyless) {
    const StatusOr<KeylessIdentityFacts>* result = nullptr;
    for (const auto& [root, r] : by_root) {
      if (root == k.root.get()) result = &r;
    }
    if (!result) {
      by_root.emplace_back(k.root.get(), VerifyKeylessBundle(b, *k.root, signed_bytes, trust.now));
      result = &by_root.back().second;
    }
    if (!result->ok()) continue;
    if (!out.keyless) out.keyless = **result;
    if (k.identity->Matches((*result)->issuer, (*result)->subject)) {
      AddUnique(&out.signers, {k.signer});
    } else {
      mismatched.push_back(k.signer.authority + " wants " + k.identity->Describe());
    }
  }
  if (!out.signers.empty()) return out;
  std::vector<std::string> why;
  for (const auto& [root, r] : by_root) {
    if (!r.ok()) why.push_back("keyless verification failed under " + root->source + ": " + r.status().message());
  }
  if (out.keyless) {
    std::string ids;
    for (const auto& m : mismatched) ids += (ids.empty() ? "" : "; ") + m;
    why.insert(why.begin(), "identity: certificate for issuer " + Quote(out.keyless->issuer) + ", subject " +
                                Quote(out.keyless->subject) + " matches no keyless authority (" + ids + ")");
  }
  for (const auto& w : why) out.problem += (out.problem.empty() ? "" : "; ") + w;
  return out;
}

bool IsModelSigningPredicate(std::string_view t) {
  return t == kModelSigningPredicateV1 || t == kModelSigningPredicateV01;
}

// A model-signing statement whose bundle's signers are known.
ModelSignatureFact CheckModelSignature(const SigstoreBundle& b, const std::string& layer_digest, std::string origin,
                                       BundleSigners who) {
  ModelSignatureFact f;
  f.layer_digest = layer_digest;
  f.origin = std::move(origin);
  f.signers = std::move(who.signers);
  f.keyless = std::move(who.keyless);
  f.problem = std::move(who.problem);
  if (!b.is_dsse) {
    f.problem = "a model signature must be a DSSE envelope, not a message signature";
  } else if (b.dsse.payload_type != kInTotoPayloadType) {
    f.problem = "DSSE payloadType " + Quote(b.dsse.payload_type) + " is not " + kInTotoPayloadType;
  } else if (f.problem.empty()) {
    auto st = ParseModelSignatureStatement(b.dsse.payload);
    if (st.ok()) {
      f.statement = std::make_shared<const ModelSignatureStatement>(std::move(*st));
    } else {
      f.problem = st.status().message();
    }
  }
  return f;
}

void AddBundleFacts(const SigstoreBundle& b, const std::string& layer_digest, const char* origin,
                    const ArtifactMaterial& m, const Trust& trust, VerifiedArtifact* out) {
  auto as_signature = [&](BundleSigners who, const std::string& problem) {
    SignatureFact s;
    s.layer_digest = layer_digest;
    s.origin = origin;
    s.keyless = std::move(who.keyless);
    s.problem = problem.empty() ? who.problem : problem;
    s.signers = std::move(who.signers);
    out->signatures.push_back(std::move(s));
  };
  if (!b.is_dsse) {
    // A message signature binds only when it signs this manifest's bytes:
    // the bytes verified must hash to the artifact digest, and so must the
    // digest the bundle claims.
    const std::string bytes_digest = Sha256Digest(m.manifest_bytes);
    if (bytes_digest != m.digest) {
      as_signature({}, "the manifest bytes at hand hash to " + bytes_digest + ", not the artifact's " + m.digest +
                           "; a message signature over them does not bind it");
      return;
    }
    if ("sha256:" + HexEncode(b.message_digest) != m.digest) {
      as_signature({}, "message signature is over sha256:" + HexEncode(b.message_digest) + ", not the artifact's " +
                           m.digest);
      return;
    }
    as_signature(SignersOfBundle(b, m.manifest_bytes, trust), "");
    return;
  }
  BundleSigners who = SignersOfBundle(b, "", trust);
  if (IsModelSigningPredicate(PeekStatementTypes(b.dsse.payload).predicate_type)) {
    out->model_signatures.push_back(CheckModelSignature(b, layer_digest, origin, std::move(who)));
    return;
  }
  AttestationFact f;
  f.layer_digest = layer_digest;
  f.origin = origin;
  f.predicate = Json::object();
  f.signers = std::move(who.signers);
  f.keyless = std::move(who.keyless);
  CheckStatement(b.dsse, m.digest, &f);
  if (f.problem.empty() && f.signers.empty()) f.problem = who.problem;
  DropUnverifiedPredicate(&f);
  if (f.predicate_type == kCosignSignPredicateType) {
    SignatureFact s;
    s.layer_digest = f.layer_digest;
    s.origin = origin;
    s.signers = std::move(f.signers);
    s.problem = std::move(f.problem);
    s.keyless = std::move(f.keyless);
    out->signatures.push_back(std::move(s));
  } else {
    out->attestations.push_back(std::move(f));
  }
}

// A bundle attached as a referrer becomes a signature fact (cosign v3
// sign, message signatures), a model signature, or an attestation fact.
void CheckBundleLayer(const AttachedLayer& layer, const ArtifactMaterial& m, const Trust& trust,
                      VerifiedArtifact* out) {
  auto failed = [&](const std::string& problem) {
    SignatureFact s;
    s.layer_digest = layer.descriptor.digest;
    s.origin = kOriginBundle;
    s.problem = problem;
    out->signatures.push_back(std::move(s));
  };
  if (Status s = CheckDigest(layer.blob, layer.descriptor.digest, "bundle layer"); !s.ok()) return failed(s.message());
  auto bundle = ParseSigstoreBundle(layer.blob);
  if (!bundle.ok()) return failed(bundle.status().message());
  AddBundleFacts(*bundle, layer.descriptor.digest, kOriginBundle, m, trust, out);
}

// A layer of the artifact titled model.sig: a model-signing bundle.
ModelSignatureFact CheckModelSigLayer(const AttachedLayer& layer, const Trust& trust) {
  ModelSignatureFact f;
  f.layer_digest = layer.descriptor.digest;
  if (Status s = CheckDigest(layer.blob, layer.descriptor.digest, "model.sig layer"); !s.ok()) {
    f.problem = s.message();
    return f;
  }
  auto bundle = ParseSigstoreBundle(layer.blob);
  if (!bundle.ok()) {
    f.problem = "model.sig: " + bundle.status().message();
    return f;
  }
  if (bundle->is_dsse &&
      !IsModelSigningPredicate(PeekStatementTypes(bundle->dsse.payload).predicate_type)) {
    f.problem = "model.sig: the statement's predicateType is not a model-signing one";
    return f;
  }
  return CheckModelSignature(*bundle, layer.descriptor.digest, kOriginModelSigLayer,
                             SignersOfBundle(*bundle, "", trust));
}

// cosign v2 keyless layers carry the certificate, its chain, the Rekor
// entry and RFC 3161 timestamps as annotations: the facts of a Sigstore
// bundle, read into one so they take the one verification path. Legacy
// entries hold inclusion promises (SETs) only.
StatusOr<SigstoreBundle> BundleFromCosignLayer(const AttachedLayer& layer, const std::string& certificate_pem) {
  SigstoreBundle b;
  b.media_type = "cosign layer annotations";
  b.version = "0.1";
  b.has_certificate = true;
  std::string pem = certificate_pem;
  if (auto chain = layer.descriptor.annotations.find(kChainAnnotation); chain != layer.descriptor.annotations.end()) {
    pem += "\n" + chain->second;
  }
  ASSIGN_OR_RETURN(b.certificates_der, CertificatesFromPem(pem, kMaxBundleCertificates));
  if (auto it = layer.descriptor.annotations.find(kRekorBundleAnnotation); it != layer.descriptor.annotations.end()) {
    ASSIGN_OR_RETURN(TlogEntry e, ParseCosignRekorBundle(it->second));
    b.tlog_entries.push_back(std::move(e));
  }
  if (auto it = layer.descriptor.annotations.find(kTimestampAnnotation); it != layer.descriptor.annotations.end()) {
    ASSIGN_OR_RETURN(std::string token, ParseCosignTimestampAnnotation(it->second));
    b.rfc3161_timestamps.push_back(std::move(token));
  }
  return b;
}

SignatureFact CheckSignatureLayer(const AttachedLayer& layer, const std::string& digest, const Trust& trust) {
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
  if (auto cert = layer.descriptor.annotations.find(kCertificateAnnotation);
      cert != layer.descriptor.annotations.end()) {
    auto bundle = BundleFromCosignLayer(layer, cert->second);
    if (!bundle.ok()) {
      f.problem = bundle.status().message();
      return f;
    }
    bundle->message_digest = Sha256(layer.blob);
    bundle->message_signature = std::move(*sig);
    BundleSigners who = SignersOfBundle(*bundle, layer.blob, trust);
    f.signers = std::move(who.signers);
    f.keyless = std::move(who.keyless);
    if (f.signers.empty()) f.problem = std::move(who.problem);
  } else {
    f.signers = SignersOf(trust.keys, SignedMessage(layer.blob), *sig);
    if (f.signers.empty()) f.problem = NoKeySignerProblem(trust.keys.size());
  }
  // What the payload says decides even a valid signature (signers are kept:
  // "signed by X, but for another digest").
  auto payload = ParseSimpleSigningPayload(layer.blob);
  if (!payload.ok()) {
    f.problem = payload.status().message();
  } else if (payload->manifest_digest != digest) {
    f.problem = "payload is for digest " + payload->manifest_digest + ", not the artifact's " + digest;
  }
  return f;
}

AttestationFact CheckAttestationLayer(const AttachedLayer& layer, const std::string& digest, const Trust& trust) {
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
  std::string no_signer;
  if (auto cert = layer.descriptor.annotations.find(kCertificateAnnotation);
      cert != layer.descriptor.annotations.end()) {
    auto bundle = BundleFromCosignLayer(layer, cert->second);
    if (!bundle.ok()) {
      f.problem = bundle.status().message();
      return f;
    }
    if (env->signatures.size() != 1) {
      f.problem = "a certificate-signed envelope must carry exactly one signature";
      return f;
    }
    bundle->is_dsse = true;
    bundle->dsse = *env;
    BundleSigners who = SignersOfBundle(*bundle, "", trust);
    f.signers = std::move(who.signers);
    f.keyless = std::move(who.keyless);
    no_signer = std::move(who.problem);
  } else {
    f.signers = EnvelopeSigners(*env, trust.keys);
    no_signer = NoKeySignerProblem(trust.keys.size());
  }
  CheckStatement(*env, digest, &f);
  if (f.problem.empty() && f.signers.empty()) f.problem = no_signer;
  DropUnverifiedPredicate(&f);
  return f;
}

}  // namespace

std::set<Signer> VerifiedArtifact::SignedBy() const {
  std::set<Signer> out;
  for (const auto& s : signatures) {
    if (s.verified()) out.insert(s.signers.begin(), s.signers.end());
  }
  return out;
}

VerifiedArtifact VerifyArtifact(const ArtifactMaterial& m, const std::vector<TrustedKey>& keys) {
  Trust trust;
  trust.keys = keys;
  return VerifyArtifact(m, trust);
}

VerifiedArtifact VerifyArtifact(const ArtifactMaterial& m, const Trust& trust) {
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
  for (const auto& layer : m.signature_layers) a.signatures.push_back(CheckSignatureLayer(layer, m.digest, trust));
  for (const auto& layer : m.attestation_layers) {
    a.attestations.push_back(CheckAttestationLayer(layer, m.digest, trust));
  }
  for (const auto& layer : m.bundle_layers) CheckBundleLayer(layer, m, trust, &a);
  for (const auto& layer : m.model_signature_layers) a.model_signatures.push_back(CheckModelSigLayer(layer, trust));
  return a;
}

Json SignersToJson(const std::vector<Signer>& signers) {
  Json j = Json::array();
  for (const auto& s : signers) j.push_back(s.String());
  return j;
}

Json KeylessToJson(const KeylessIdentityFacts& k) {
  Json j{{"issuer", k.issuer}, {"subject", k.subject}};
  if (!k.log.empty()) {
    j["log"] = k.log;
    j["logIndex"] = k.log_index;
  }
  if (k.integrated_time != 0) j["integratedTime"] = k.integrated_time;
  if (!k.timestamp_times.empty()) j["timestamps"] = k.timestamp_times;
  return j;
}

Json VerifiedArtifactToJson(const VerifiedArtifact& a) {
  Json j;
  j["reference"] = a.reference.String();
  j["digest"] = a.digest;
  j["mediaType"] = a.manifest.media_type;
  if (!a.manifest.artifact_type.empty()) j["artifactType"] = a.manifest.artifact_type;
  const std::set<Signer> signed_by = a.SignedBy();
  j["signedBy"] = SignersToJson({signed_by.begin(), signed_by.end()});
  j["signatures"] = Json::array();
  for (const auto& s : a.signatures) {
    Json e{{"layer", s.layer_digest}, {"origin", s.origin}, {"verified", s.verified()}, {"signers", SignersToJson(s.signers)}};
    if (s.keyless) e["keyless"] = KeylessToJson(*s.keyless);
    if (!s.problem.empty()) e["problem"] = s.problem;
    j["signatures"].push_back(std::move(e));
  }
  j["attestations"] = Json::array();
  for (const auto& at : a.attestations) {
    Json e{{"layer", at.layer_digest}, {"origin", at.origin}, {"verified", at.verified()}, {"signers", SignersToJson(at.signers)}};
    if (!at.predicate_type.empty()) e["predicateType"] = at.predicate_type;
    if (at.keyless) e["keyless"] = KeylessToJson(*at.keyless);
    if (!at.problem.empty()) e["problem"] = at.problem;
    j["attestations"].push_back(std::move(e));
  }
  if (!a.model_signatures.empty()) {
    j["modelSignatures"] = Json::array();
    for (const auto& m : a.model_signatures) {
      Json e{{"layer", m.layer_digest}, {"origin", m.origin}, {"verified", m.verified()}, {"signers", SignersToJson(m.signers)}};
      if (m.statement) {
        e["predicateType"] = m.statement->predicate_type;
        e["resources"] = m.statement->resources.size();
      }
      if (m.keyless) e["keyless"] = KeylessToJson(*m.keyless);
      if (!m.problem.empty()) e["problem"] = m.problem;
      j["modelSignatures"].push_back(std::move(e));
    }
  }
  j["annotations"] = a.annotations;
  j["config"] = a.config;
  if (!a.notes.empty()) j["notes"] = a.notes;
  return j;
}

}  // namespace provgate
