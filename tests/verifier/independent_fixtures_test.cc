// Signatures, envelopes and keys made by tools other than provgate, checked
// with provgate's verifier: each must be accepted as published, and each
// tampered copy (payload byte, signature byte, payloadType, another key,
// another artifact digest) must be rejected. A signer and a verifier written
// by the same hand can share a mistake; these fixtures cannot.
//
// Fixtures live in tests/testdata/independent/<name>/ with a SOURCE.md each.
// The sigstore-js ones are made at test time by tests/tools/make_fixtures.mjs
// (Node + the npm packages in tests/tools/package.json, installed by
// scripts/install-deps.sh); without them that test fails, it never skips.
#include <doctest/doctest.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "base/json_util.h"
#include "verifier/digest.h"
#include "verifier/dsse.h"
#include "verifier/in_toto.h"
#include "verifier/keys.h"
#include "verifier/oci_manifest.h"
#include "verifier/reference.h"
#include "verifier/simple_signing.h"
#include "verifier/verified_artifact.h"

using namespace provgate;

namespace {

constexpr char kAuthority[] = "independent";

std::string Fixture(const std::string& rel) { return std::string(PROVGATE_TESTDATA) + "/independent/" + rel; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

PublicKey PubFromPem(const std::string& pem, const std::string& what) {
  auto k = PublicKey::FromPem(pem);
  REQUIRE_MESSAGE(k.ok(), what << ": " << k.status().ToString());
  return *k;
}

PublicKey PubFromFile(const std::string& rel) { return PubFromPem(ReadFile(Fixture(rel)), rel); }

std::string B64(const std::string& text, const std::string& what) {
  auto v = Base64Decode(Trim(text));
  REQUIRE_MESSAGE(v.has_value(), what << " is not base64");
  return *v;
}

std::string Flip(std::string s, size_t at) {
  REQUIRE(at < s.size());
  s[at] = static_cast<char>(s[at] ^ 0x01);
  return s;
}

// A key none of the fixtures was made with.
PublicKey StrangerKey() {
  auto k = PrivateKey::GenerateEcdsaP256();
  REQUIRE(k.ok());
  return k->Public();
}

Json ParseJsonOrDie(const std::string& text, const std::string& what) {
  auto j = ParseJson(text, what);
  REQUIRE_MESSAGE(j.ok(), j.status().ToString());
  return *j;
}

// The dsseEnvelope of a Sigstore bundle, serialised as a standalone envelope
// exactly as the bundle holds it (protojson: the same fields and encodings).
std::string EnvelopeFromBundle(const std::string& bundle_json, const std::string& what) {
  Json b = ParseJsonOrDie(bundle_json, what);
  REQUIRE_MESSAGE(b.contains("dsseEnvelope"), what << " has no dsseEnvelope");
  return b["dsseEnvelope"].dump();
}

// base64(SHA-256(SubjectPublicKeyInfo DER)): the publicKey.hint / keyid
// convention of sigstore-conformance's and sigstore-js's key-based bundles.
std::string SpkiHint(const PublicKey& k) { return Base64Encode(Sha256(k.Der())); }

AttachedLayer SignatureLayer(const std::string& payload, const std::string& signature_b64) {
  AttachedLayer l;
  l.descriptor.media_type = kSimpleSigningMediaType;
  l.descriptor.digest = Sha256Digest(payload);
  l.descriptor.size = static_cast<int64_t>(payload.size());
  l.descriptor.annotations["dev.cosignproject.cosign/signature"] = signature_b64;
  l.blob = payload;
  return l;
}

AttachedLayer AttestationLayer(const std::string& envelope_json) {
  AttachedLayer l;
  l.descriptor.media_type = kDsseMediaType;
  l.descriptor.digest = Sha256Digest(envelope_json);
  l.descriptor.size = static_cast<int64_t>(envelope_json.size());
  l.descriptor.annotations["dev.cosignproject.cosign/signature"] = "";
  l.blob = envelope_json;
  return l;
}

ArtifactMaterial Material(const std::string& digest) {
  ArtifactMaterial m;
  m.digest = digest;
  m.reference.registry = "registry.example";
  m.reference.repository = "independent/fixture";
  m.reference.digest = digest;
  return m;
}

std::vector<TrustedKey> Trust(const PublicKey& k) { return {TrustedKey{kAuthority, k}}; }

// ---- DSSE attestations ------------------------------------------------------

struct DsseFixture {
  std::string name;
  std::string envelope_json;  // exactly as the producer wrote it
  PublicKey key;
  std::string subject_digest;  // "sha256:<hex>" the statement is about
  std::string statement_type;
  std::string predicate_type;
};

AttestationFact VerifyAttestation(const std::string& envelope_json, const std::string& digest,
                                  const PublicKey& key) {
  ArtifactMaterial m = Material(digest);
  m.attestation_layers.push_back(AttestationLayer(envelope_json));
  VerifiedArtifact a = VerifyArtifact(m, Trust(key));
  REQUIRE(a.attestations.size() == 1);
  return a.attestations[0];
}

bool AnySignatureVerifies(const DsseEnvelope& env, const PublicKey& key) {
  std::string pae = PreAuthEncoding(env.payload_type, env.payload);
  for (const auto& s : env.signatures) {
    if (key.Verify(pae, s.sig)) return true;
  }
  return false;
}

void CheckDsseAccepted(const DsseFixture& f) {
  CAPTURE(f.name);
  auto env = ParseDsseEnvelope(f.envelope_json);
  REQUIRE_MESSAGE(env.ok(), env.status().ToString());
  CHECK(env->payload_type == kInTotoPayloadType);
  CHECK(AnySignatureVerifies(*env, f.key));

  auto st = ParseStatement(env->payload);
  REQUIRE_MESSAGE(st.ok(), st.status().ToString());
  CHECK(st->type == f.statement_type);
  CHECK(st->predicate_type == f.predicate_type);
  CHECK(StatementCoversDigest(*st, f.subject_digest));

  AttestationFact fact = VerifyAttestation(f.envelope_json, f.subject_digest, f.key);
  CHECK_MESSAGE(fact.verified(), fact.problem);
  CHECK(fact.signers == std::vector<Signer>{Signer(kAuthority)});
  CHECK(fact.statement_type == f.statement_type);
  CHECK(fact.predicate_type == f.predicate_type);
}

// Each tampered copy must not verify. Where the change breaks the signature,
// no key may be credited as signer; a wrong artifact digest keeps the signer
// but fails the subject binding.
void CheckDsseTamperedRejected(const DsseFixture& f) {
  CAPTURE(f.name);
  auto parsed = ParseDsseEnvelope(f.envelope_json);
  REQUIRE(parsed.ok());
  const DsseEnvelope& env = *parsed;

  struct Tamper {
    const char* what;
    std::string envelope_json;
    std::string digest;
    PublicKey key;
    bool signature_breaks;
  };
  std::vector<Tamper> rows;
  {
    DsseEnvelope e = env;
    e.payload = Flip(e.payload, e.payload.size() / 2);
    rows.push_back({"payload byte flipped", SerializeDsseEnvelope(e), f.subject_digest, f.key, true});
  }
  {
    DsseEnvelope e = env;
    e.payload = Flip(e.payload, e.payload.size() - 2);  // inside the closing braces of the JSON
    rows.push_back({"last payload bytes flipped", SerializeDsseEnvelope(e), f.subject_digest, f.key, true});
  }
  {
    DsseEnvelope e = env;
    for (auto& s : e.signatures) s.sig = Flip(s.sig, s.sig.size() / 2);
    rows.push_back({"signature byte flipped", SerializeDsseEnvelope(e), f.subject_digest, f.key, true});
  }
  {
    DsseEnvelope e = env;
    for (auto& s : e.signatures) s.sig = Flip(s.sig, s.sig.size() - 1);
    rows.push_back({"last signature byte flipped", SerializeDsseEnvelope(e), f.subject_digest, f.key, true});
  }
  {
    DsseEnvelope e = env;
    e.payload_type = "application/vnd.in-toto+jsoN";
    rows.push_back({"payloadType changed", SerializeDsseEnvelope(e), f.subject_digest, f.key, true});
  }
  {
    // A valid signature over the same payload under a different payloadType
    // cannot be produced without the key: relabelling must break it even
    // though the statement itself is untouched.
    DsseEnvelope e = env;
    e.payload_type = "application/json";
    rows.push_back({"payloadType relabelled to generic JSON", SerializeDsseEnvelope(e), f.subject_digest, f.key,
                    true});
  }
  rows.push_back({"another key", f.envelope_json, f.subject_digest, StrangerKey(), true});
  rows.push_back({"another artifact digest", f.envelope_json,
                  "sha256:" + HexEncode(Sha256("not the attested artifact")), f.key, false});

  for (const auto& r : rows) {
    CAPTURE(r.what);
    auto e = ParseDsseEnvelope(r.envelope_json);
    if (r.signature_breaks && e.ok()) CHECK_FALSE(AnySignatureVerifies(*e, r.key));
    AttestationFact fact = VerifyAttestation(r.envelope_json, r.digest, r.key);
    CHECK_FALSE(fact.verified());
    CHECK_FALSE(fact.problem.empty());
    if (r.signature_breaks) {
      CHECK(fact.signers.empty());
    } else {
      CHECK(fact.signers == std::vector<Signer>{Signer(kAuthority)});
      CHECK(fact.problem.find("subject") != std::string::npos);
    }
  }
}

// ---- simple signing ---------------------------------------------------------

struct SimpleSigningFixture {
  std::string name;
  std::string payload;        // exact bytes
  std::string signature_b64;  // as in the dev.cosignproject.cosign/signature annotation
  PublicKey key;
  std::string manifest_digest;
};

SignatureFact VerifySignatureLayer(const std::string& payload, const std::string& signature_b64,
                                   const std::string& digest, const PublicKey& key) {
  ArtifactMaterial m = Material(digest);
  m.signature_layers.push_back(SignatureLayer(payload, signature_b64));
  VerifiedArtifact a = VerifyArtifact(m, Trust(key));
  REQUIRE(a.signatures.size() == 1);
  return a.signatures[0];
}

void CheckSimpleSigningAccepted(const SimpleSigningFixture& f) {
  CAPTURE(f.name);
  std::string sig = B64(f.signature_b64, f.name + " signature");
  CHECK(f.key.Verify(f.payload, sig));
  auto p = ParseSimpleSigningPayload(f.payload);
  REQUIRE_MESSAGE(p.ok(), p.status().ToString());
  CHECK(p->manifest_digest == f.manifest_digest);
  SignatureFact fact = VerifySignatureLayer(f.payload, Trim(f.signature_b64), f.manifest_digest, f.key);
  CHECK_MESSAGE(fact.verified(), fact.problem);
  CHECK(fact.signers == std::vector<Signer>{Signer(kAuthority)});
}

void CheckSimpleSigningTamperedRejected(const SimpleSigningFixture& f) {
  CAPTURE(f.name);
  std::string sig = B64(f.signature_b64, f.name + " signature");
  // The hex digit the payload's digest ends with, changed: still a valid
  // payload naming a valid digest, so only the signature can catch it.
  std::string retargeted = f.payload;
  size_t at = retargeted.find(f.manifest_digest);
  REQUIRE(at != std::string::npos);
  size_t last = at + f.manifest_digest.size() - 1;
  retargeted[last] = retargeted[last] == '0' ? '1' : '0';
  std::string other_digest = "sha256:" + HexEncode(Sha256("not the signed artifact"));

  struct Tamper {
    const char* what;
    std::string payload;
    std::string signature;
    std::string digest;
    PublicKey key;
    bool signature_breaks;
  };
  std::string retargeted_digest = retargeted.substr(at, f.manifest_digest.size());
  Tamper rows[] = {
      {"payload byte flipped", Flip(f.payload, f.payload.size() / 2), sig, f.manifest_digest, f.key, true},
      {"payload retargeted to another digest", retargeted, sig, retargeted_digest, f.key, true},
      {"signature byte flipped", f.payload, Flip(sig, sig.size() / 2), f.manifest_digest, f.key, true},
      {"last signature byte flipped", f.payload, Flip(sig, sig.size() - 1), f.manifest_digest, f.key, true},
      {"another key", f.payload, sig, f.manifest_digest, StrangerKey(), true},
      {"another artifact digest", f.payload, sig, other_digest, f.key, false},
  };
  for (const auto& r : rows) {
    CAPTURE(r.what);
    if (r.signature_breaks) CHECK_FALSE(r.key.Verify(r.payload, r.signature));
    SignatureFact fact = VerifySignatureLayer(r.payload, Base64Encode(r.signature), r.digest, r.key);
    CHECK_FALSE(fact.verified());
    CHECK_FALSE(fact.problem.empty());
    if (r.signature_breaks) {
      CHECK(fact.signers.empty());
    } else {
      CHECK(fact.signers == std::vector<Signer>{Signer(kAuthority)});
    }
  }
}

// ---- running the sigstore-js producer ----------------------------------------

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

CommandResult Run(const std::string& command) {
  CommandResult r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  REQUIRE_MESSAGE(p != nullptr, "cannot run: " << command);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "provgate-independent-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Fails the test, with what to do about it, when Node or the npm packages are
// missing: CI installs them, so their absence is a broken setup, not a skip.
void RequireSigstoreJs(const std::string& tools_dir) {
  CommandResult node = Run("node --version");
  REQUIRE_MESSAGE(node.exit_code == 0,
                  "node is not on PATH (" << Trim(node.output)
                                          << "); the sigstore-js fixtures need Node >= 20.17: run scripts/install-deps.sh");
  std::string pkg = tools_dir + "/node_modules/@sigstore/sign/package.json";
  REQUIRE_MESSAGE(std::filesystem::exists(pkg),
                  pkg << " is missing: run scripts/install-deps.sh (npm install in tests/tools)");
}

}  // namespace

// ============================================================================
// cosign encrypted private keys (scrypt + NaCl secretbox), written by cosign
// ============================================================================

TEST_CASE("cosign encrypted private keys from Tekton Chains and Zarf decrypt to their published public keys") {
  struct Row {
    const char* dir;
    const char* label;  // PEM armour the cosign version wrote
  };
  Row rows[] = {{"tekton-chains-cosign-key", "ENCRYPTED COSIGN PRIVATE KEY"},
                {"zarf-cosign-key", "ENCRYPTED SIGSTORE PRIVATE KEY"}};
  for (const auto& r : rows) {
    CAPTURE(r.dir);
    std::string dir = r.dir;
    std::string pem = ReadFile(Fixture(dir + "/cosign.key"));
    std::string password = ReadFile(Fixture(dir + "/cosign.password"));
    PublicKey published = PubFromFile(dir + "/cosign.pub");
    CHECK(pem.find(r.label) != std::string::npos);

    auto key = PrivateKey::FromPem(pem, password);
    REQUIRE_MESSAGE(key.ok(), key.status().ToString());
    CHECK(key->type() == KeyType::kEcdsaP256);
    CHECK(key->Public().Der() == published.Der());

    // The decrypted key signs what the published key verifies.
    auto sig = key->Sign("provgate independent fixture");
    REQUIRE(sig.ok());
    CHECK(published.Verify("provgate independent fixture", *sig));

    // Wrong passwords and a corrupted ciphertext are refused.
    for (const std::string& wrong : {password + "x", std::string(""), std::string("wrongpassword"),
                                     password.substr(0, password.size() - 1)}) {
      if (wrong == password) continue;
      CAPTURE(wrong);
      auto bad = PrivateKey::FromPem(pem, wrong);
      CHECK_FALSE(bad.ok());
      CHECK(bad.status().code() == StatusCode::kInvalidArgument);
    }
    std::string body;
    {
      std::istringstream lines(pem);
      std::string line;
      while (std::getline(lines, line)) {
        if (line.rfind("-----", 0) != 0) body += line;
      }
    }
    Json doc = ParseJsonOrDie(B64(body, "key body"), "key body");
    std::string ct = B64(doc["ciphertext"].get<std::string>(), "ciphertext");
    doc["ciphertext"] = Base64Encode(Flip(ct, ct.size() / 2));
    auto corrupted = DecryptCosignPrivateKey(doc.dump(), password);
    CHECK_FALSE(corrupted.ok());
  }
}

// `openssl ecparam -genkey` writes an "EC PARAMETERS" block before the key;
// PrivateKey::FromPem must skip it.
TEST_CASE("an openssl-made EC key file (EC PARAMETERS block first, from cosign's testdata) opens as a private key") {
  // sigstore/cosign test/testdata/test_blob_{private,public}_key.
  PublicKey pub = PubFromFile("cosign-openssl-ec-key/test_blob_public_key");
  CHECK(pub.type() == KeyType::kEcdsaP256);
  auto priv = PrivateKey::FromPem(ReadFile(Fixture("cosign-openssl-ec-key/test_blob_private_key")), "");
  REQUIRE_MESSAGE(priv.ok(), priv.status().ToString());
  CHECK(priv->Public().Der() == pub.Der());
}

// ============================================================================
// Real cosign signatures and attestations
// ============================================================================

TEST_CASE("a real keyless cosign simple-signing signature (Sigstore public good, 2023) verifies; tampering does not") {
  // From ratify-project/ratify-verifier-go: the .sig layer cosign pushed for
  // wabbitnetworks.azurecr.io/test/cosign-image, its payload, and the Fulcio
  // leaf certificate whose key made the signature.
  std::string payload = ReadFile(Fixture("cosign-keyless-simplesigning/payload.json"));
  // The layer digest cosign recorded proves the payload bytes are exact.
  CHECK(Sha256Digest(payload) == "sha256:d1226e36bc8502978324cb2cb2116c6aa48edb2ea8f15b1c6f6f256ed43388f6");
  SimpleSigningFixture f{"cosign keyless simple signing", payload,
                         ReadFile(Fixture("cosign-keyless-simplesigning/signature.b64")),
                         PubFromFile("cosign-keyless-simplesigning/leaf-key.pub"),
                         "sha256:623621b56649b5e0c2c7cf3ffd987932f8f9a5a01036e00d6f3ae9480087621c"};
  CheckSimpleSigningAccepted(f);
  auto p = ParseSimpleSigningPayload(payload);
  REQUIRE(p.ok());
  CHECK(p->docker_reference == "wabbitnetworks.azurecr.io/test/cosign-image");
  CHECK(p->optional.is_null());
  CheckSimpleSigningTamperedRejected(f);
}

TEST_CASE("a genuine signature annotation wrapped at 76 columns verifies, as Go's decoder reads it") {
  // The cosign keyless fixture above, its signature written the way GNU
  // base64 (and some producers) wrap it: the same bytes to cosign and
  // containers/image, so the same verdict here (it was "not valid base64").
  std::string payload = ReadFile(Fixture("cosign-keyless-simplesigning/payload.json"));
  std::string flat = Trim(ReadFile(Fixture("cosign-keyless-simplesigning/signature.b64")));
  REQUIRE(flat.size() > 76);
  std::string wrapped;
  for (size_t i = 0; i < flat.size(); i += 76) wrapped += flat.substr(i, 76) + "\n";
  SignatureFact fact = VerifySignatureLayer(payload, wrapped,
                                            "sha256:623621b56649b5e0c2c7cf3ffd987932f8f9a5a01036e00d6f3ae9480087621c",
                                            PubFromFile("cosign-keyless-simplesigning/leaf-key.pub"));
  CHECK_MESSAGE(fact.verified(), fact.problem);
}

TEST_CASE("containers/image's cosign-key signatures over non-payloads: the signature is valid, the payload is not") {
  // containers/image signature/internal/sigstore_payload_test.go: valid
  // signatures by its fixture cosign key over "{}" and "&".
  PublicKey key = PubFromFile("containers-image-cosign-raw/cosign.pub");
  struct Row {
    const char* name;
  };
  Row rows[] = {{"empty-object"}, {"ampersand"}};
  for (const auto& r : rows) {
    std::string name = r.name;
    CAPTURE(name);
    std::string n = r.name;
    std::string payload = ReadFile(Fixture("containers-image-cosign-raw/" + n + ".payload"));
    std::string sig_b64 = Trim(ReadFile(Fixture("containers-image-cosign-raw/" + n + ".sig.b64")));
    CHECK(key.Verify(payload, B64(sig_b64, n)));
    CHECK_FALSE(ParseSimpleSigningPayload(payload).ok());
    std::string digest = "sha256:" + HexEncode(Sha256("any artifact"));
    SignatureFact fact = VerifySignatureLayer(payload, sig_b64, digest, key);
    CHECK_FALSE(fact.verified());
    CHECK(fact.signers == std::vector<Signer>{Signer(kAuthority)});  // signed, but not a statement about the artifact
    CHECK_FALSE(fact.problem.empty());
  }
}

TEST_CASE("real DSSE attestations from cosign and sigstore-conformance verify; tampered copies do not") {
  std::vector<DsseFixture> fixtures;
  {
    // `cosign attest` output (sigstore/cosign pkg/cosign/testdata): Statement
    // v0.1, keyless; the key is the Fulcio leaf certificate's.
    std::string bundle = ReadFile(Fixture("cosign-attest-dsse/bundle.sigstore.json"));
    fixtures.push_back({"cosign attest (public good, 2025)", EnvelopeFromBundle(bundle, "cosign attest bundle"),
                        PubFromFile("cosign-attest-dsse/leaf-key.pub"),
                        "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4", kStatementV01,
                        "https://cosign.sigstore.dev/attestation/v1"});
  }
  {
    // sigstore-conformance rekor2-dsse-happy-path: SLSA v1 provenance, keyless
    // (staging), signature without a keyid.
    std::string bundle = ReadFile(Fixture("sigstore-conformance-dsse-slsa/bundle.sigstore.json"));
    fixtures.push_back({"sigstore-conformance SLSA v1 (staging)", EnvelopeFromBundle(bundle, "conformance bundle"),
                        PubFromFile("sigstore-conformance-dsse-slsa/leaf-key.pub"),
                        "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf", kStatementV1,
                        "https://slsa.dev/provenance/v1"});
  }
  {
    // sigstore-conformance intoto-canonical-log-entry: managed key, keyid "".
    std::string bundle = ReadFile(Fixture("sigstore-conformance-dsse-managed-key/bundle.sigstore.json"));
    PublicKey key = PubFromFile("sigstore-conformance-dsse-managed-key/key.pub");
    Json b = ParseJsonOrDie(bundle, "managed-key bundle");
    CHECK(b["verificationMaterial"]["publicKey"]["hint"] == SpkiHint(key));
    fixtures.push_back({"sigstore-conformance managed key", EnvelopeFromBundle(bundle, "managed-key bundle"), key,
                        "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf", kStatementV1,
                        "https://example.com/test"});
  }
  for (const auto& f : fixtures) {
    CheckDsseAccepted(f);
    CheckDsseTamperedRejected(f);
  }
}

TEST_CASE("sigstore-conformance: validly signed statements without _type or with an unknown _type are rejected") {
  struct Row {
    const char* dir;
  };
  Row rows[] = {{"sigstore-conformance-dsse-missing-type"}, {"sigstore-conformance-dsse-unknown-type"}};
  for (const auto& r : rows) {
    CAPTURE(r.dir);
    std::string dir = r.dir;
    PublicKey key = PubFromFile(dir + "/key.pub");
    std::string bundle = ReadFile(Fixture(dir + "/bundle.sigstore.json"));
    CHECK(ParseJsonOrDie(bundle, dir)["verificationMaterial"]["publicKey"]["hint"] == SpkiHint(key));
    std::string envelope = EnvelopeFromBundle(bundle, dir);
    auto env = ParseDsseEnvelope(envelope);
    REQUIRE(env.ok());
    CHECK(AnySignatureVerifies(*env, key));  // the signature is fine ...
    auto st = ParseStatement(env->payload);
    CHECK_FALSE(st.ok());  // ... the statement is not
    CHECK(st.status().message().find("_type") != std::string::npos);
    AttestationFact fact = VerifyAttestation(
        envelope, "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf", key);
    CHECK_FALSE(fact.verified());
    CHECK(fact.problem.find("_type") != std::string::npos);
  }
}

// ============================================================================
// The DSSE specification's own test vectors
// ============================================================================

TEST_CASE("DSSE spec test vectors (secure-systems-lab/dsse testvectors/vectors.json)") {
  Json doc = ParseJsonOrDie(ReadFile(Fixture("dsse-spec-vectors/vectors.json")), "vectors.json");
  // RFC 8032 Ed25519 keys given as raw 32-byte public keys: wrap them in the
  // fixed SubjectPublicKeyInfo prefix for id-Ed25519 (RFC 8410).
  std::map<std::string, PublicKey> keys;
  for (auto it = doc["keys"].begin(); it != doc["keys"].end(); ++it) {
    REQUIRE(it.value()["algorithm"] == "ed25519");
    auto raw = HexDecode(it.value()["public"].get<std::string>());
    REQUIRE(raw.has_value());
    auto prefix = HexDecode("302a300506032b6570032100");
    auto k = PublicKey::FromDer(*prefix + *raw);
    REQUIRE_MESSAGE(k.ok(), k.status().ToString());
    CHECK(k->type() == KeyType::kEd25519);
    keys.emplace(it.key(), *k);
  }
  REQUIRE(doc["vectors"].size() >= 9);
  for (const Json& v : doc["vectors"]) {
    std::string id = v["id"];
    CAPTURE(id);
    auto env = ParseDsseEnvelope(v["envelope"].dump());
    REQUIRE_MESSAGE(env.ok(), env.status().ToString());
    std::string expected_pae = *HexDecode(v["pae"].get<std::string>());
    std::string pae = PreAuthEncoding(env->payload_type, env->payload);
    // Every vector's `pae` is what its signatures cover; only the swapped
    // payloadType vector claims a type other than the one signed.
    CHECK((pae == expected_pae) == (id != "payload-type-swapped"));

    std::set<std::string> accepted;
    for (const auto& s : env->signatures) {
      for (const Json& name : v["trustedKeys"]) {
        if (keys.at(name.get<std::string>()).Verify(pae, s.sig)) accepted.insert(name.get<std::string>());
      }
    }
    bool supported = false;
    for (const Json& t : v["supportedPayloadTypes"]) supported |= t.get<std::string>() == env->payload_type;
    bool accept = accepted.size() >= v["threshold"].get<size_t>() && supported;
    CHECK(accept == (v["expect"] == "accept"));
  }
}

TEST_CASE("DSSE protocol.md example: ECDSA P-256 over the PAE, signature as raw r||s") {
  std::string envelope = ReadFile(Fixture("dsse-protocol-ecdsa-example/envelope.json"));
  PublicKey key = PubFromFile("dsse-protocol-ecdsa-example/key.pub");
  auto env = ParseDsseEnvelope(envelope);
  REQUIRE(env.ok());
  std::string pae = PreAuthEncoding(env->payload_type, env->payload);
  CHECK(pae == "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  REQUIRE(env->signatures.size() == 1);
  const std::string& raw = env->signatures[0].sig;
  REQUIRE(raw.size() == 64);
  // provgate (like cosign and every Sigstore client) reads ECDSA signatures
  // as ASN.1 DER: the spec's raw r||s form must not pass as is ...
  CHECK_FALSE(key.Verify(pae, raw));
  // ... and verifies once re-encoded as DER by OpenSSL.
  ECDSA_SIG* s = ECDSA_SIG_new();
  REQUIRE(s != nullptr);
  BIGNUM* r_bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s_bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  REQUIRE(ECDSA_SIG_set0(s, r_bn, s_bn) == 1);
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(s, &der);
  REQUIRE(len > 0);
  std::string der_sig(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  ECDSA_SIG_free(s);
  CHECK(key.Verify(pae, der_sig));
  CHECK_FALSE(key.Verify(PreAuthEncoding(env->payload_type, "hello world!"), der_sig));
  CHECK_FALSE(key.Verify(PreAuthEncoding("http://example.com/HelloWorlD", env->payload), der_sig));
  CHECK_FALSE(key.Verify(pae, Flip(der_sig, der_sig.size() - 1)));
  CHECK_FALSE(StrangerKey().Verify(pae, der_sig));
}

// ============================================================================
// sigstore-js (@sigstore/sign) as the producer, run now
// ============================================================================

TEST_CASE("sigstore-js-built DSSE envelopes and message signatures verify; tampered copies do not") {
  const std::string tools = std::string(PROVGATE_SOURCE_DIR) + "/tests/tools";
  RequireSigstoreJs(tools);

  // The artifact: a small OCI model manifest; its digest is what is signed.
  const std::string manifest_bytes =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("artifactType":"application/vnd.cncf.model.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.cncf.model.config.v1+json",)"
      R"("digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},)"
      R"("layers":[{"mediaType":"application/vnd.cncf.model.weight.v1.raw",)"
      R"("digest":"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad","size":3}]})";
  const std::string digest = Sha256Digest(manifest_bytes);
  const std::string hex = digest.substr(7);
  const std::string docker_reference = "registry.example/models/sigstore-js";
  auto manifest = ParseManifest(manifest_bytes, kOciManifest, 16);
  REQUIRE_MESSAGE(manifest.ok(), manifest.status().ToString());
  auto reference = ParseReference(docker_reference + "@" + digest);
  REQUIRE_MESSAGE(reference.ok(), reference.status().ToString());

  TempDir out;
  CommandResult made = Run("node " + ShellQuote(tools + "/make_fixtures.mjs") + " " + ShellQuote(out.path()) + " " +
                           hex + " " + ShellQuote(docker_reference));
  REQUIRE_MESSAGE(made.exit_code == 0, "make_fixtures.mjs failed (exit " << made.exit_code << "):\n" << made.output);

  struct Kind {
    const char* dir;
    KeyType type;
  };
  Kind kinds[] = {{"ecdsa-p256", KeyType::kEcdsaP256},
                  {"ecdsa-p384-sha384", KeyType::kEcdsaP384},
                  {"ecdsa-p384-sha256", KeyType::kEcdsaP384},
                  {"ecdsa-p521-sha512", KeyType::kEcdsaP521},
                  {"ed25519", KeyType::kEd25519},
                  {"rsa-2048-pkcs1v15", KeyType::kRsa},
                  {"rsa-3072-pss", KeyType::kRsa}};
  for (const auto& k : kinds) {
    CAPTURE(k.dir);
    auto file = [&](const char* name) { return ReadFile(out.path() + "/" + k.dir + "/" + name); };
    PublicKey key = PubFromPem(file("key.pub"), std::string(k.dir) + "/key.pub");
    CHECK(key.type() == k.type);

    // DSSE: the envelope file and the bundle's dsseEnvelope are the same
    // envelope; the keyid sigstore-js wrote is the SPKI hint of our key.
    std::string envelope = file("dsse.envelope.json");
    std::string statement = file("statement.json");
    Json bundle = ParseJsonOrDie(file("dsse.bundle.json"), "dsse bundle");
    CHECK(bundle["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json");
    CHECK(bundle["verificationMaterial"]["publicKey"]["hint"] == SpkiHint(key));
    auto env = ParseDsseEnvelope(envelope);
    auto from_bundle = ParseDsseEnvelope(bundle["dsseEnvelope"].dump());
    REQUIRE(env.ok());
    REQUIRE(from_bundle.ok());
    CHECK(env->payload == statement);
    CHECK(from_bundle->payload == env->payload);
    REQUIRE(env->signatures.size() == 1);
    CHECK(from_bundle->signatures.at(0).sig == env->signatures[0].sig);
    CHECK(env->signatures[0].keyid == SpkiHint(key));
    DsseFixture dsse{std::string("sigstore-js ") + k.dir, envelope, key, digest, kStatementV1,
                     "https://slsa.dev/provenance/v1"};
    CheckDsseAccepted(dsse);
    CheckDsseTamperedRejected(dsse);

    // Message signature over a cosign simple-signing payload: the bundle's
    // messageDigest is SHA-256 of exactly the payload we verify.
    std::string payload = file("simplesigning.payload.json");
    std::string sig_b64 = Trim(file("simplesigning.sig.b64"));
    Json msg = ParseJsonOrDie(file("simplesigning.bundle.json"), "message bundle");
    CHECK(msg["messageSignature"]["messageDigest"]["algorithm"] == "SHA2_256");
    CHECK(msg["messageSignature"]["messageDigest"]["digest"] == Base64Encode(Sha256(payload)));
    CHECK(msg["messageSignature"]["signature"] == sig_b64);
    SimpleSigningFixture ss{std::string("sigstore-js ") + k.dir, payload, sig_b64, key, digest};
    CheckSimpleSigningAccepted(ss);
    CheckSimpleSigningTamperedRejected(ss);

    // Both layers together on a real manifest, the way the fetcher hands them over.
    ArtifactMaterial m;
    m.reference = *reference;
    m.digest = digest;
    m.manifest_bytes = manifest_bytes;
    m.manifest = *manifest;
    m.signature_layers.push_back(SignatureLayer(payload, sig_b64));
    m.attestation_layers.push_back(AttestationLayer(envelope));
    VerifiedArtifact a = VerifyArtifact(m, {TrustedKey{"other", StrangerKey()}, TrustedKey{kAuthority, key}});
    REQUIRE(a.signatures.size() == 1);
    REQUIRE(a.attestations.size() == 1);
    CHECK_MESSAGE(a.signatures[0].verified(), a.signatures[0].problem);
    CHECK_MESSAGE(a.attestations[0].verified(), a.attestations[0].problem);
    CHECK(a.SignedBy() == std::set<Signer>{Signer(kAuthority)});
    CHECK(a.attestations[0].predicate["runDetails"]["builder"]["id"] == "https://github.com/sigstore/sigstore-js");
  }
}
