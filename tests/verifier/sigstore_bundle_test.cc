// Sigstore bundles: parsing rules, and VerifyArtifact on bundle referrers —
// real bundles (sigstore-conformance, cosign) must verify with their keys and
// fail when tampered; cosign-v3 signature bundles count as signatures.
#include <doctest/doctest.h>

#include "base/encoding.h"
#include "base/json_util.h"
#include "tests/test_util.h"
#include "verifier/digest.h"
#include "verifier/dsse.h"
#include "verifier/in_toto.h"
#include "verifier/sigstore_bundle.h"
#include "verifier/verified_artifact.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

AttachedLayer BundleLayer(const std::string& json) {
  AttachedLayer l;
  l.descriptor.media_type = "application/vnd.dev.sigstore.bundle.v0.3+json";
  l.descriptor.digest = Sha256Digest(json);
  l.descriptor.size = static_cast<int64_t>(json.size());
  l.blob = json;
  return l;
}

ArtifactMaterial MaterialFor(const std::string& digest, const std::string& manifest = "{}") {
  ArtifactMaterial m;
  m.digest = digest;
  m.reference = *ParseReference("reg.example.com/m@" + digest);
  m.manifest_bytes = manifest;
  return m;
}

std::string SubjectDigestOf(const std::string& bundle_json) {
  Json b = *ParseJson(bundle_json, "bundle");
  Json st = *ParseJson(*Base64Decode(b["dsseEnvelope"]["payload"].get<std::string>()), "statement");
  return "sha256:" + st["subject"][0]["digest"]["sha256"].get<std::string>();
}

std::string KeyBundle(const PrivateKey& key, const std::string& statement) {
  std::string pae = PreAuthEncoding(kInTotoPayloadType, statement);
  Json b = {{"mediaType", "application/vnd.dev.sigstore.bundle.v0.3+json"},
            {"verificationMaterial", {{"publicKey", {{"hint", "k"}}}}},
            {"dsseEnvelope",
             {{"payload", Base64Encode(statement)},
              {"payloadType", kInTotoPayloadType},
              {"signatures", {{{"sig", Base64Encode(*key.Sign(pae))}, {"keyid", ""}}}}}}};
  return b.dump();
}

}  // namespace

TEST_CASE("sigstore bundles: media types and shapes") {
  CHECK(IsSupportedBundleMediaType("application/vnd.dev.sigstore.bundle.v0.3+json"));
  CHECK(IsSupportedBundleMediaType("application/vnd.dev.sigstore.bundle+json;version=0.2"));
  CHECK_FALSE(IsSupportedBundleMediaType("application/vnd.dev.sigstore.bundle.v0.4+json"));
  CHECK_FALSE(IsSupportedBundleMediaType("application/json"));

  std::string env = R"({"payload":"e30=","payloadType":"t","signatures":[{"sig":"AA=="}]})";
  std::string vm = R"("verificationMaterial":{"publicKey":{"hint":"h"}})";
  std::string mt = R"("mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json")";
  auto ok = ParseSigstoreBundle("{" + mt + "," + vm + ",\"dsseEnvelope\":" + env + "}");
  REQUIRE_MESSAGE(ok.ok(), ok.status().ToString());
  CHECK(ok->is_dsse);
  CHECK(ok->public_key_hint == "h");

  struct Row {
    std::string json, reason;
  };
  std::string digest32 = Base64Encode(std::string(32, 'x'));
  Row rows[] = {
      {"not json", "malformed JSON"},
      {"{" + vm + ",\"dsseEnvelope\":" + env + "}", "mediaType is missing"},
      {R"({"mediaType":"application/vnd.dev.sigstore.bundle.v0.9+json",)" + vm + ",\"dsseEnvelope\":" + env + "}",
       "unsupported mediaType"},
      {"{" + mt + ",\"dsseEnvelope\":" + env + "}", "verificationMaterial is missing"},
      {"{" + mt + R"(,"verificationMaterial":{"tlogEntries":[]},"dsseEnvelope":)" + env + "}", "exactly one of publicKey, certificate and x509CertificateChain"},
      {"{" + mt + "," + vm + "}", "exactly one of dsseEnvelope and messageSignature"},
      {"{" + mt + "," + vm + ",\"dsseEnvelope\":" + env + R"(,"messageSignature":{}})",
       "exactly one of dsseEnvelope and messageSignature"},
      {"{" + mt + "," + vm + R"(,"dsseEnvelope":{"payload":"e30=","payloadType":"t","signatures":[{"sig":"AA=="},{"sig":"AA=="}]}})",
       "exactly one signature"},
      {"{" + mt + "," + vm + R"(,"dsseEnvelope":{"payload":"e30=","signatures":[{"sig":"AA=="}]}})", "payloadType"},
      {"{" + mt + "," + vm + R"(,"messageSignature":{"messageDigest":{"algorithm":"SHA2_512","digest":")" + digest32 +
           R"("},"signature":"AA=="}})",
       "must be SHA2_256"},
      {"{" + mt + "," + vm + R"(,"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"AAAA"},"signature":"AA=="}})",
       "not 32 base64 bytes"},
      {"{" + mt + "," + vm + R"(,"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":")" + digest32 + R"("}}})",
       "signature is missing"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.json);
    auto b = ParseSigstoreBundle(r.json);
    REQUIRE_FALSE(b.ok());
    CHECK_MESSAGE(b.status().message().find(r.reason) != std::string::npos, b.status().message());
  }
}

TEST_CASE("a real key-signed bundle (sigstore-conformance) verifies as an attestation; tampering does not") {
  std::string bundle = ReadFile(TestData("independent/sigstore-conformance-dsse-managed-key/bundle.sigstore.json"));
  auto key = PublicKey::FromPem(ReadFile(TestData("independent/sigstore-conformance-dsse-managed-key/key.pub")));
  REQUIRE(key.ok());
  std::string digest = SubjectDigestOf(bundle);
  auto m = MaterialFor(digest);
  m.bundle_layers = {BundleLayer(bundle)};
  auto v = VerifyArtifact(m, {{"managed", *key}});
  REQUIRE(v.attestations.size() == 1);
  CHECK_MESSAGE(v.attestations[0].verified(), v.attestations[0].problem);
  CHECK(v.attestations[0].origin == std::string(kOriginBundle));
  CHECK(v.attestations[0].predicate_type == "https://example.com/test");

  // The same bundle attached to another artifact: the statement names another subject.
  auto other = MaterialFor("sha256:" + std::string(64, 'c'));
  other.bundle_layers = {BundleLayer(bundle)};
  auto vo = VerifyArtifact(other, {{"managed", *key}});
  REQUIRE(vo.attestations.size() == 1);
  CHECK(vo.attestations[0].problem.find("no subject with digest") != std::string::npos);

  // Payload altered (the subject re-pointed): the signature no longer verifies.
  Json b = *ParseJson(bundle, "bundle");
  std::string st = *Base64Decode(b["dsseEnvelope"]["payload"].get<std::string>());
  st.replace(st.find("a.txt"), 5, "b.txt");
  b["dsseEnvelope"]["payload"] = Base64Encode(st);
  auto tm = MaterialFor(digest);
  tm.bundle_layers = {BundleLayer(b.dump())};
  auto vt = VerifyArtifact(tm, {{"managed", *key}});
  REQUIRE(vt.attestations.size() == 1);
  CHECK_FALSE(vt.attestations[0].verified());
  CHECK(vt.attestations[0].problem.find("does not verify") != std::string::npos);

  // Another key: not verified.
  auto stranger = PrivateKey::GenerateEcdsaP256();
  auto vk = VerifyArtifact(m, {{"stranger", stranger->Public()}});
  CHECK_FALSE(vk.attestations[0].verified());
}

TEST_CASE("a real keyless cosign attest bundle is not trusted without certificate verification") {
  std::string bundle = ReadFile(TestData("independent/cosign-attest-dsse/bundle.sigstore.json"));
  auto m = MaterialFor(SubjectDigestOf(bundle));
  m.bundle_layers = {BundleLayer(bundle)};
  auto unrelated = PrivateKey::GenerateEcdsaP256();
  auto v = VerifyArtifact(m, {{"k", unrelated->Public()}});
  REQUIRE(v.attestations.size() == 1);
  CHECK_FALSE(v.attestations[0].verified());
  CHECK(v.attestations[0].problem.find("keyless") != std::string::npos);
}

TEST_CASE("cosign v3 signature bundles and message signatures count as signatures, bound to the digest") {
  auto key = *PrivateKey::GenerateEcdsaP256();
  std::string manifest = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"})";
  std::string digest = Sha256Digest(manifest);
  std::vector<TrustedKey> keys = {{"release", key.Public()}};

  auto m = MaterialFor(digest, manifest);
  m.bundle_layers = {BundleLayer(KeyBundle(key, MakeStatementV1("reg/m", digest, kCosignSignPredicateType, Json::object())))};
  auto v = VerifyArtifact(m, keys);
  REQUIRE(v.signatures.size() == 1);
  CHECK(v.attestations.empty());
  CHECK_MESSAGE(v.signatures[0].verified(), v.signatures[0].problem);
  CHECK(v.SignedBy() == std::set<Signer>{Signer("release")});

  // A signature bundle for another digest does not sign this one.
  auto wrong = MaterialFor(digest, manifest);
  wrong.bundle_layers = {BundleLayer(
      KeyBundle(key, MakeStatementV1("reg/m", "sha256:" + std::string(64, 'd'), kCosignSignPredicateType, Json::object())))};
  auto vw = VerifyArtifact(wrong, keys);
  REQUIRE(vw.signatures.size() == 1);
  CHECK_FALSE(vw.signatures[0].verified());
  CHECK(vw.SignedBy().empty());

  // messageSignature over the manifest bytes.
  auto msg_bundle = [&](const std::string& signed_bytes) {
    Json b = {{"mediaType", "application/vnd.dev.sigstore.bundle.v0.3+json"},
              {"verificationMaterial", {{"publicKey", {{"hint", "k"}}}}},
              {"messageSignature",
               {{"messageDigest", {{"algorithm", "SHA2_256"}, {"digest", Base64Encode(Sha256(signed_bytes))}}},
                {"signature", Base64Encode(*key.Sign(signed_bytes))}}}};
    return b.dump();
  };
  auto mm = MaterialFor(digest, manifest);
  mm.bundle_layers = {BundleLayer(msg_bundle(manifest))};
  auto vm = VerifyArtifact(mm, keys);
  REQUIRE(vm.signatures.size() == 1);
  CHECK_MESSAGE(vm.signatures[0].verified(), vm.signatures[0].problem);
  auto mo = MaterialFor(digest, manifest);
  mo.bundle_layers = {BundleLayer(msg_bundle("some other bytes"))};
  auto vmo = VerifyArtifact(mo, keys);
  REQUIRE(vmo.signatures.size() == 1);
  CHECK_FALSE(vmo.signatures[0].verified());
  CHECK(vmo.signatures[0].problem.find("not the artifact's") != std::string::npos);
  // A malformed bundle is a failed signature fact, not an error.
  auto bad = MaterialFor(digest, manifest);
  bad.bundle_layers = {BundleLayer("{\"mediaType\":1}")};
  auto vb = VerifyArtifact(bad, keys);
  REQUIRE(vb.signatures.size() == 1);
  CHECK(vb.signatures[0].problem.find("mediaType") != std::string::npos);
}

// A bundle carries exactly one kind of verification material (a protobuf
// oneof). One whose material is a certificate claims a keyless or PKI
// identity: it is verified as such (chain, validity, transparency log) or
// not at all, and never counts for a key authority, even when its signature
// happens to verify with a trusted key (sigstore-go binds keys to publicKey
// material only).
TEST_CASE("certificate-signed bundles never count as key signatures; mixed material is refused") {
  auto key = *PrivateKey::GenerateEcdsaP256();
  std::string manifest = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"})";
  std::string digest = Sha256Digest(manifest);
  std::vector<TrustedKey> keys = {{"release", key.Public()}};
  std::string statement = MakeStatementV1("reg/m", digest, kCosignSignPredicateType, Json::object());
  std::string attestation = MakeStatementV1("reg/m", digest, "https://slsa.dev/provenance/v1", Json::object());
  Json cert = {{"rawBytes", Base64Encode("not checked")}};
  Json chain = {{"certificates", Json::array({cert})}};

  // A chain is a v0.1 / v0.2 form (v0.3 carries the leaf alone).
  auto media_type = [](const Json& material) {
    return material.contains("x509CertificateChain") ? "application/vnd.dev.sigstore.bundle+json;version=0.2"
                                                     : "application/vnd.dev.sigstore.bundle.v0.3+json";
  };
  auto with_material = [&](const std::string& bundle, const Json& material) {
    Json b = *ParseJson(bundle, "bundle");
    b["verificationMaterial"] = material;
    b["mediaType"] = media_type(material);
    return b.dump();
  };
  auto message_bundle = [&](const Json& material) {
    Json b = {{"mediaType", media_type(material)},
              {"verificationMaterial", material},
              {"messageSignature",
               {{"messageDigest", {{"algorithm", "SHA2_256"}, {"digest", Base64Encode(Sha256(manifest))}}},
                {"signature", Base64Encode(*key.Sign(manifest))}}}};
    return b.dump();
  };
  struct Row {
    const char* name;
    std::string bundle;
  };
  const Row not_key_signatures[] = {
      {"DSSE signature bundle, certificate", with_material(KeyBundle(key, statement), {{"certificate", cert}})},
      {"DSSE signature bundle, certificate chain",
       with_material(KeyBundle(key, statement), {{"x509CertificateChain", chain}})},
      {"message signature, certificate", message_bundle({{"certificate", cert}})},
      {"message signature, certificate chain", message_bundle({{"x509CertificateChain", chain}})},
  };
  for (const auto& r : not_key_signatures) {
    std::string name = r.name;
    CAPTURE(name);
    auto m = MaterialFor(digest, manifest);
    m.bundle_layers = {BundleLayer(r.bundle)};
    auto v = VerifyArtifact(m, keys);
    REQUIRE(v.signatures.size() == 1);
    CHECK_FALSE(v.signatures[0].verified());
    CHECK(v.SignedBy().empty());
    CHECK_MESSAGE(v.signatures[0].problem.find("certificate") != std::string::npos, v.signatures[0].problem);
  }
  // An attestation bundle with a certificate is not a key-verified attestation either.
  auto am = MaterialFor(digest, manifest);
  am.bundle_layers = {BundleLayer(with_material(KeyBundle(key, attestation), {{"certificate", cert}}))};
  auto av = VerifyArtifact(am, keys);
  REQUIRE(av.attestations.size() == 1);
  CHECK_FALSE(av.attestations[0].verified());

  // Both a public key and a certificate: not a valid bundle (oneof), refused at parse.
  const Json mixed[] = {
      {{"publicKey", {{"hint", "k"}}}, {"certificate", cert}},
      {{"publicKey", {{"hint", "k"}}}, {"x509CertificateChain", chain}},
      {{"certificate", cert}, {"x509CertificateChain", chain}},
  };
  for (const auto& material : mixed) {
    std::string bundle = with_material(KeyBundle(key, statement), material);
    CAPTURE(bundle);
    auto parsed = ParseSigstoreBundle(bundle);
    REQUIRE_FALSE(parsed.ok());
    CHECK_MESSAGE(parsed.status().message().find("exactly one of publicKey") != std::string::npos,
                  parsed.status().message());
    auto m = MaterialFor(digest, manifest);
    m.bundle_layers = {BundleLayer(bundle)};
    CHECK(VerifyArtifact(m, keys).SignedBy().empty());
  }
  // The key-signed bundles themselves still count.
  auto ok = MaterialFor(digest, manifest);
  ok.bundle_layers = {BundleLayer(KeyBundle(key, statement)), BundleLayer(message_bundle({{"publicKey", {{"hint", "k"}}}}))};
  auto vok = VerifyArtifact(ok, keys);
  REQUIRE(vok.signatures.size() == 2);
  CHECK_MESSAGE(vok.signatures[0].verified(), vok.signatures[0].problem);
  CHECK_MESSAGE(vok.signatures[1].verified(), vok.signatures[1].problem);
}

// VerifyArtifact is a pure function over what it is given: a message
// signature binds the artifact only when the bytes it verifies over are the
// artifact's (they hash to material.digest), whatever the bundle's
// messageDigest claims.
TEST_CASE("a message signature counts only over bytes that hash to the artifact digest") {
  auto key = *PrivateKey::GenerateEcdsaP256();
  std::vector<TrustedKey> keys = {{"release", key.Public()}};
  std::string manifest = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"})";
  std::string other = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","x":1})";
  std::string digest = Sha256Digest(manifest);
  // Signed bytes are `other`; the bundle claims the artifact's digest.
  Json b = {{"mediaType", "application/vnd.dev.sigstore.bundle.v0.3+json"},
            {"verificationMaterial", {{"publicKey", {{"hint", "k"}}}}},
            {"messageSignature",
             {{"messageDigest", {{"algorithm", "SHA2_256"}, {"digest", Base64Encode(Sha256(manifest))}}},
              {"signature", Base64Encode(*key.Sign(other))}}}};
  auto m = MaterialFor(digest, other);  // material whose bytes are not the digest's
  m.bundle_layers = {BundleLayer(b.dump())};
  auto v = VerifyArtifact(m, keys);
  REQUIRE(v.signatures.size() == 1);
  CHECK_FALSE(v.signatures[0].verified());
  CHECK(v.SignedBy().empty());
  CHECK_MESSAGE(v.signatures[0].problem.find("manifest bytes") != std::string::npos, v.signatures[0].problem);
}

TEST_CASE("a bundle's number of JSON values is bounded before it is parsed") {
  std::string env = R"({"payload":"e30=","payloadType":"t","signatures":[{"sig":"AA=="}]})";
  auto bundle = [&](size_t junk_values) {
    std::string junk = "[0";
    for (size_t i = 1; i < junk_values; ++i) junk += ",0";
    return R"({"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"h"}},"dsseEnvelope":)" +
           env + R"(,"extra":)" + junk + "]}";
  };
  CHECK(ParseSigstoreBundle(bundle(8000)).ok());
  auto over = ParseSigstoreBundle(bundle(16385));
  REQUIRE_FALSE(over.ok());
  CHECK(over.status().code() == StatusCode::kResourceExhausted);
  CHECK_MESSAGE(over.status().message().find("more than 16384 JSON values") != std::string::npos, over.status().message());
}
