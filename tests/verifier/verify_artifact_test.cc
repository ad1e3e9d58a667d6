// VerifyArtifact over hand-built material: every binding rule has a row that
// must verify and rows that must not.
#include <doctest/doctest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>

#include "base/encoding.h"
#include "verifier/digest.h"
#include "verifier/dsse.h"
#include "verifier/in_toto.h"
#include "verifier/simple_signing.h"
#include "verifier/verified_artifact.h"

using namespace provgate;

namespace {

const std::string kDigest = "sha256:" + std::string(64, 'a');
const std::string kOther = "sha256:" + std::string(64, 'b');

struct Keys {
  PrivateKey a = *PrivateKey::GenerateEcdsaP256();
  PrivateKey b = *PrivateKey::GenerateEcdsaP256();
  PrivateKey untrusted = *PrivateKey::GenerateEcdsaP256();
  std::vector<TrustedKey> trusted() const { return {{"a", a.Public()}, {"b", b.Public()}}; }
};

AttachedLayer Layer(const std::string& media_type, const std::string& blob,
                    std::map<std::string, std::string> annotations) {
  AttachedLayer l;
  l.descriptor.media_type = media_type;
  l.descriptor.digest = Sha256Digest(blob);
  l.descriptor.size = static_cast<int64_t>(blob.size());
  l.descriptor.annotations = std::move(annotations);
  l.blob = blob;
  return l;
}

AttachedLayer SigLayer(const PrivateKey& key, const std::string& digest) {
  std::string payload = MakeSimpleSigningPayload("reg.example.com/m", digest, {});
  return Layer(kSimpleSigningMediaType, payload,
               {{"dev.cosignproject.cosign/signature", Base64Encode(*key.Sign(payload))}});
}

std::string Envelope(const PrivateKey& key, const std::string& payload_type, const std::string& payload) {
  DsseEnvelope env{payload_type, payload, {{"", *key.Sign(PreAuthEncoding(payload_type, payload))}}};
  return SerializeDsseEnvelope(env);
}

AttachedLayer AttLayer(const std::string& envelope) {
  return Layer(kDsseMediaType, envelope, {{"dev.cosignproject.cosign/signature", ""}, {"predicateType", "x"}});
}

std::string MakeStatement(const std::string& digest, const std::string& type = "https://slsa.dev/provenance/v1") {
  return MakeStatementV1("reg.example.com/m", digest, type, Json{{"buildDefinition", {{"buildType", "t"}}}});
}

ArtifactMaterial Material() {
  ArtifactMaterial m;
  m.digest = kDigest;
  m.reference = *ParseReference("reg.example.com/m@" + kDigest);
  return m;
}

}  // namespace

TEST_CASE("signatures: must verify") {
  Keys k;
  auto m = Material();
  m.signature_layers = {SigLayer(k.a, kDigest), SigLayer(k.b, kDigest), SigLayer(k.a, kDigest)};
  VerifiedArtifact v = VerifyArtifact(m, k.trusted());
  REQUIRE(v.signatures.size() == 3);
  for (const auto& s : v.signatures) CHECK(s.verified());
  CHECK(v.signatures[0].signers == std::vector<Signer>{Signer("a")});
  CHECK(v.signatures[1].signers == std::vector<Signer>{Signer("b")});
  CHECK(v.SignedBy() == std::set<Signer>{Signer("a"), Signer("b")});
}

TEST_CASE("signatures: must not verify, each with its reason") {
  Keys k;
  struct Row {
    const char* name;
    std::function<AttachedLayer()> layer;
    const char* reason;
  };
  Row rows[] = {
      {"untrusted key", [&] { return SigLayer(k.untrusted, kDigest); }, "does not verify with any trusted key"},
      {"payload names another digest", [&] { return SigLayer(k.a, kOther); }, "payload is for digest " },
      {"signature byte flipped",
       [&] {
         auto l = SigLayer(k.a, kDigest);
         auto sig = *Base64Decode(l.descriptor.annotations["dev.cosignproject.cosign/signature"]);
         sig[10] ^= 1;
         l.descriptor.annotations["dev.cosignproject.cosign/signature"] = Base64Encode(sig);
         return l;
       },
       "does not verify"},
      {"payload altered after signing",
       [&] {
         auto l = SigLayer(k.a, kDigest);
         l.blob.insert(l.blob.size() - 1, " ");
         l.descriptor.digest = Sha256Digest(l.blob);
         return l;
       },
       "does not verify"},
      {"blob does not match its descriptor",
       [&] {
         auto l = SigLayer(k.a, kDigest);
         l.blob += " ";
         return l;
       },
       "content has digest"},
      {"signature annotation not base64",
       [&] {
         auto l = SigLayer(k.a, kDigest);
         l.descriptor.annotations["dev.cosignproject.cosign/signature"] = "***";
         return l;
       },
       "not valid base64"},
      {"no signature annotation",
       [&] {
         auto l = SigLayer(k.a, kDigest);
         l.descriptor.annotations.clear();
         return l;
       },
       "no dev.cosignproject.cosign/signature"},
      {"wrong layer media type",
       [&] {
         auto l = SigLayer(k.a, kDigest);
         l.descriptor.media_type = "application/json";
         return l;
       },
       "is not simple signing"},
      {"payload that cosign reads as naming another digest (Go matches keys case-insensitively)",
       [&] {
         std::string p = R"({"critical":{"identity":{"docker-reference":"reg.example.com/m"},"image":{"docker-manifest-digest":")" +
                         kDigest + R"(","Docker-Manifest-Digest":")" + kOther +
                         R"("},"type":"cosign container image signature"},"optional":null})";
         return Layer(kSimpleSigningMediaType, p,
                      {{"dev.cosignproject.cosign/signature", Base64Encode(*k.a.Sign(p))}});
       },
       "would be read as \"docker-manifest-digest\""},
      {"payload with the digest twice",
       [&] {
         std::string p = R"({"critical":{"identity":{"docker-reference":"reg.example.com/m"},"image":{"docker-manifest-digest":")" +
                         kOther + R"(","docker-manifest-digest":")" + kDigest +
                         R"("},"type":"cosign container image signature"},"optional":null})";
         return Layer(kSimpleSigningMediaType, p,
                      {{"dev.cosignproject.cosign/signature", Base64Encode(*k.a.Sign(p))}});
       },
       "appears twice"},
      {"payload not JSON",
       [&] {
         std::string p = "not json";
         return Layer(kSimpleSigningMediaType, p,
                      {{"dev.cosignproject.cosign/signature", Base64Encode(*k.a.Sign(p))}});
       },
       "malformed JSON"},
  };
  for (const auto& r : rows) {
    std::string name = r.name;
    CAPTURE(name);
    auto m = Material();
    m.signature_layers = {r.layer()};
    VerifiedArtifact v = VerifyArtifact(m, k.trusted());
    REQUIRE(v.signatures.size() == 1);
    CHECK_FALSE(v.signatures[0].verified());
    CHECK_MESSAGE(v.signatures[0].problem.find(r.reason) != std::string::npos, v.signatures[0].problem);
    CHECK(v.SignedBy().empty());
  }
  auto m = Material();
  m.signature_layers = {SigLayer(k.a, kDigest)};
  auto none = VerifyArtifact(m, std::vector<TrustedKey>{});
  CHECK(none.signatures[0].problem == "no trusted keys to verify against");
}

TEST_CASE("attestations: must verify, predicateType from the statement") {
  Keys k;
  auto m = Material();
  m.attestation_layers = {AttLayer(Envelope(k.b, kInTotoPayloadType, MakeStatement(kDigest)))};
  auto v = VerifyArtifact(m, k.trusted());
  REQUIRE(v.attestations.size() == 1);
  const auto& a = v.attestations[0];
  CHECK_MESSAGE(a.verified(), a.problem);
  CHECK(a.signers == std::vector<Signer>{Signer("b")});
  CHECK(a.predicate_type == "https://slsa.dev/provenance/v1");  // not the layer annotation "x"
  CHECK(a.predicate["buildDefinition"]["buildType"] == "t");
  CHECK(a.statement_type == kStatementV1);
}

TEST_CASE("attestations: must not verify, each with its reason") {
  Keys k;
  struct Row {
    const char* name;
    std::function<std::string()> envelope;
    const char* reason;
  };
  Row rows[] = {
      {"untrusted key", [&] { return Envelope(k.untrusted, kInTotoPayloadType, MakeStatement(kDigest)); },
       "does not verify with any trusted key"},
      {"statement subject is another digest", [&] { return Envelope(k.a, kInTotoPayloadType, MakeStatement(kOther)); },
       "no subject with digest"},
      {"wrong payloadType", [&] { return Envelope(k.a, "application/json", MakeStatement(kDigest)); },
       "payloadType \"application/json\" is not"},
      {"unknown _type",
       [&] {
         std::string st = MakeStatement(kDigest);
         st.replace(st.find("Statement/v1"), 12, "Statement/v9");
         return Envelope(k.a, kInTotoPayloadType, st);
       },
       "unknown _type"},
      {"payload not JSON", [&] { return Envelope(k.a, kInTotoPayloadType, "{{"); }, "malformed JSON"},
      {"payload altered after signing",
       [&] {
         auto env = *ParseDsseEnvelope(Envelope(k.a, kInTotoPayloadType, MakeStatement(kDigest)));
         env.payload = MakeStatement(kDigest, "https://slsa.dev/provenance/v0.2");
         return SerializeDsseEnvelope(env);
       },
       "does not verify"},
      {"payloadType altered after signing",
       [&] {
         auto env = *ParseDsseEnvelope(Envelope(k.a, "application/vnd.other+json", MakeStatement(kDigest)));
         env.payload_type = kInTotoPayloadType;
         return SerializeDsseEnvelope(env);
       },
       "does not verify"},
      {"signature over the payload instead of the PAE",
       [&] {
         std::string st = MakeStatement(kDigest);
         DsseEnvelope env{kInTotoPayloadType, st, {{"", *k.a.Sign(st)}}};
         return SerializeDsseEnvelope(env);
       },
       "does not verify"},
      {"envelope not JSON", [&] { return std::string("{\"payload\":"); }, "malformed JSON"},
  };
  for (const auto& r : rows) {
    std::string name = r.name;
    CAPTURE(name);
    auto m = Material();
    m.attestation_layers = {AttLayer(r.envelope())};
    auto v = VerifyArtifact(m, k.trusted());
    REQUIRE(v.attestations.size() == 1);
    CHECK_FALSE(v.attestations[0].verified());
    CHECK_MESSAGE(v.attestations[0].problem.find(r.reason) != std::string::npos, v.attestations[0].problem);
  }
}

TEST_CASE("config blob is hashed before it is trusted") {
  Keys k;
  auto m = Material();
  std::string config = R"({"customProperties":{"accuracy":0.97}})";
  m.manifest.config.digest = Sha256Digest(config);
  m.config_bytes = config;
  auto v = VerifyArtifact(m, k.trusted());
  CHECK(v.config["customProperties"]["accuracy"] == 0.97);

  m.config_bytes = R"({"customProperties":{"accuracy":0.99}})";
  auto tampered = VerifyArtifact(m, k.trusted());
  CHECK(tampered.config.is_null());
  REQUIRE(tampered.notes.size() == 1);
  CHECK(tampered.notes[0].find("config blob content has digest") != std::string::npos);
}

// A hostile registry controls how many signatures an envelope carries (up to
// kMaxDsseSignatures) and how large it is (up to the attachment bound); the
// policies control how many keys are trusted. Checking every signature with
// every key must not hash the message once per pair: 16 junk signatures
// checked with 16 keys over a 12 MiB statement cost 3 GiB of SHA-256 (4 s
// here) before the message was hashed once per algorithm.
TEST_CASE("verification work does not grow with signatures x keys x message size") {
  std::vector<TrustedKey> many_keys;
  for (int i = 0; i < 16; ++i) many_keys.push_back({"k" + std::to_string(i), PrivateKey::GenerateEcdsaP256()->Public()});
  std::vector<TrustedKey> one_key(many_keys.begin(), many_keys.begin() + 1);
  auto stranger = *PrivateKey::GenerateEcdsaP256();
  const std::string statement(12 << 20, 'x');
  auto layer_with = [&](size_t signatures) {
    DsseEnvelope env{kInTotoPayloadType, statement, {}};
    for (size_t i = 0; i < signatures; ++i) env.signatures.push_back({"", *stranger.Sign("junk" + std::to_string(i))});
    return AttLayer(SerializeDsseEnvelope(env));
  };
  auto seconds = [&](const AttachedLayer& layer, const std::vector<TrustedKey>& keys) {
    auto m = Material();
    m.attestation_layers = {layer};
    auto start = std::chrono::steady_clock::now();
    auto v = VerifyArtifact(m, keys);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    REQUIRE(v.attestations.size() == 1);
    CHECK_FALSE(v.attestations[0].verified());
    return s;
  };
  const AttachedLayer one_signature = layer_with(1);
  const AttachedLayer sixteen_signatures = layer_with(kMaxDsseSignatures);
  seconds(one_signature, one_key);  // warm up
  double baseline = seconds(one_signature, one_key);
  double worst = seconds(sixteen_signatures, many_keys);
  // 256 signature checks over one digest are milliseconds; 256 hashes of 12 MiB are not.
  CHECK_MESSAGE(worst < 3 * baseline + 0.25, "1 signature x 1 key: " << baseline << " s; 16 x 16: " << worst << " s");
}

// An attestation that does not verify contributes nothing to a decision, so
// its predicate (up to the attachment bound, about twenty times that as a
// JSON tree) is not kept: a hostile registry must not make one verification
// hold every unsigned predicate it serves at once.
TEST_CASE("predicates are kept only for verified attestations") {
  Keys k;
  struct Row {
    const char* name;
    std::string envelope;
    bool verified;
  };
  const Row rows[] = {
      {"verified", Envelope(k.a, kInTotoPayloadType, MakeStatement(kDigest)), true},
      {"untrusted key", Envelope(k.untrusted, kInTotoPayloadType, MakeStatement(kDigest)), false},
      {"trusted key, another subject", Envelope(k.a, kInTotoPayloadType, MakeStatement(kOther)), false},
  };
  for (const auto& r : rows) {
    std::string name = r.name;
    CAPTURE(name);
    auto m = Material();
    m.attestation_layers = {AttLayer(r.envelope)};
    auto v = VerifyArtifact(m, k.trusted());
    REQUIRE(v.attestations.size() == 1);
    CHECK(v.attestations[0].verified() == r.verified);
    CHECK(v.attestations[0].predicate.is_object());
    CHECK(v.attestations[0].predicate.empty() == !r.verified);
  }
}

namespace {
bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += n;
  }
  return true;
}
}  // namespace

// Problems quote what the registry sent; they end up in JSON (check -o json,
// verify -o json, admission responses, logs). They must stay valid UTF-8, or
// serialising them throws: a quote cut inside a multi-byte character, or a
// parser message echoing an invalid byte, must not get through.
TEST_CASE("problems are valid UTF-8 whatever the registry sends") {
  Keys k;
  std::string euros;
  for (int i = 0; i < 100; ++i) euros += "\xe2\x82\xac";  // 300 bytes: a 200-byte cut splits one
  std::string bad_payload = std::string(R"({"critical":{"type":"cosign container image signature","x":")") + "\xff\xfe" + R"("}})";
  auto m = Material();
  auto sig = SigLayer(k.a, kDigest);
  sig.descriptor.media_type = "application/" + euros;
  m.signature_layers = {
      sig,
      Layer(kSimpleSigningMediaType, bad_payload, {{"dev.cosignproject.cosign/signature", Base64Encode(*k.a.Sign(bad_payload))}}),
  };
  m.attestation_layers = {AttLayer(Envelope(k.a, "application/" + euros, MakeStatement(kDigest))),
                          AttLayer(Envelope(k.a, kInTotoPayloadType, "{\"_type\":\"\xc3\x28\"}")),
                          AttLayer(Envelope(k.a, kInTotoPayloadType,
                                            R"({"_type":")" + euros + R"(","subject":[],"predicateType":"p"})"))};
  auto v = VerifyArtifact(m, k.trusted());
  REQUIRE(v.signatures.size() == 2);
  REQUIRE(v.attestations.size() == 3);
  for (const auto& s : v.signatures) {
    CHECK_FALSE(s.verified());
    CHECK_MESSAGE(IsValidUtf8(s.problem), s.problem);
  }
  for (const auto& a : v.attestations) {
    CHECK_FALSE(a.verified());
    CHECK_MESSAGE(IsValidUtf8(a.problem), a.problem);
  }
  CHECK_NOTHROW(VerifiedArtifactToJson(v).dump(2));
}

// The binding is the exact digest string: cosign compares
// docker-manifest-digest with digest.String(), in-toto subjects compare the
// lowercase hex under the algorithm's lowercase name. Every other spelling of
// the artifact's digest, signed by a trusted key, binds nothing.
TEST_CASE("only the exact digest binds: case, algorithm prefix and whitespace variants do not") {
  Keys k;
  const std::string hex(64, 'a');
  const std::string upper(64, 'A');
  for (std::string spelled : {"sha256:" + upper, "SHA256:" + hex, "sha256:" + hex + " ", " sha256:" + hex, hex,
                              "sha256:" + hex + "\n", "sha256 :" + hex, "sha512:" + hex}) {
    CAPTURE(spelled);
    auto m = Material();
    std::string p = MakeSimpleSigningPayload("reg.example.com/m", spelled, {});
    m.signature_layers = {Layer(kSimpleSigningMediaType, p, {{"dev.cosignproject.cosign/signature", Base64Encode(*k.a.Sign(p))}})};
    auto v = VerifyArtifact(m, k.trusted());
    REQUIRE(v.signatures.size() == 1);
    CHECK_FALSE(v.signatures[0].verified());
    CHECK(v.SignedBy().empty());
  }
  struct Subject {
    std::string algorithm, value;
  };
  const Subject subjects[] = {{"sha256", upper}, {"SHA256", hex}, {"sha256", "sha256:" + hex}, {"sha256", hex + " "},
                              {"sha256 ", hex},  {"sha-256", hex}, {"sha256", hex.substr(1)}, {"sha512", hex}};
  for (const auto& s : subjects) {
    CAPTURE(s.algorithm);
    CAPTURE(s.value);
    Json st = {{"_type", kStatementV1},
               {"subject", {{{"name", "m"}, {"digest", {{s.algorithm, s.value}}}}}},
               {"predicateType", "https://slsa.dev/provenance/v1"},
               {"predicate", Json::object()}};
    auto m = Material();
    m.attestation_layers = {AttLayer(Envelope(k.a, kInTotoPayloadType, st.dump()))};
    auto v = VerifyArtifact(m, k.trusted());
    REQUIRE(v.attestations.size() == 1);
    CHECK_FALSE(v.attestations[0].verified());
    CHECK_MESSAGE(v.attestations[0].problem.find("no subject with digest") != std::string::npos, v.attestations[0].problem);
  }
}

namespace {
// How much `work` grows the peak resident set, in MiB, measured in a forked
// child (so what this process allocated before does not hide it); -1 when
// `work` returns false.
long PeakGrowthMiB(const std::function<bool()>& work) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    rusage before{}, after{};
    getrusage(RUSAGE_SELF, &before);
    bool ok = work();
    getrusage(RUSAGE_SELF, &after);
    long grown = ok ? (after.ru_maxrss - before.ru_maxrss) / 1024 : -1;
    (void)!write(fds[1], &grown, sizeof grown);
    _exit(0);
  }
  close(fds[1]);
  long grown = -1;
  REQUIRE(read(fds[0], &grown, sizeof grown) == static_cast<ssize_t>(sizeof grown));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  return grown;
}

std::string JunkObjects(size_t bytes) {
  std::string s = "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"digest\":{\"sha256\":\"aa\"}}],"
                  "\"predicateType\":\"https://slsa.dev/provenance/v1\",\"predicate\":{\"x\":[{}";
  while (s.size() < bytes) s += ",{}";
  return s + "]}}";
}
}  // namespace

// A registry needs no key to serve an 8 MiB attestation whose statement, or
// whose envelope, is "{},{},..." (230 MiB as a JSON tree). Neither may become
// a tree: the envelope's values are bounded, and a statement whose signature
// did not verify is only read for its _type and predicateType.
TEST_CASE("unsigned attestations cost memory in proportion to their bytes, not to their JSON values") {
  Keys k;
  const std::string statement = JunkObjects(8 << 20);
  auto unsigned_statement = Material();
  unsigned_statement.attestation_layers = {AttLayer(Envelope(k.untrusted, kInTotoPayloadType, statement))};
  auto bloated_envelope = Material();
  std::string envelope = Envelope(k.untrusted, kInTotoPayloadType, MakeStatement(kDigest));
  envelope.insert(envelope.size() - 1, ",\"junk\":" + JunkObjects(8 << 20));
  bloated_envelope.attestation_layers = {AttLayer(envelope)};

  long statement_mib = PeakGrowthMiB([&] {
    auto v = VerifyArtifact(unsigned_statement, k.trusted());
    // Read for reasons, never trusted.
    return v.attestations.size() == 1 && !v.attestations[0].verified() &&
           v.attestations[0].predicate_type == "https://slsa.dev/provenance/v1";
  });
  long envelope_mib = PeakGrowthMiB([&] {
    auto v = VerifyArtifact(bloated_envelope, k.trusted());
    return v.attestations.size() == 1 && !v.attestations[0].verified() &&
           v.attestations[0].problem.find("JSON values") != std::string::npos;
  });
  CHECK_MESSAGE(statement_mib >= 0, "unsigned statement: not reported as unverified with its predicateType");
  CHECK_MESSAGE(envelope_mib >= 0, "bloated envelope: not refused for its number of values");
  // The bytes themselves are decoded and copied a few times (base64, PAE):
  // tens of MiB, about 115 under AddressSanitizer, whose quarantine keeps
  // freed temporaries resident. Built as a tree, the statement took 400.
  CHECK_MESSAGE(statement_mib < 200, "unsigned 8 MiB statement: peak grew " << statement_mib << " MiB");
  CHECK_MESSAGE(envelope_mib < 200, "8 MiB envelope: peak grew " << envelope_mib << " MiB");
}
