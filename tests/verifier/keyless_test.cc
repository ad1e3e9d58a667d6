// Keyless verification end to end over whole bundles (VerifyKeylessBundle)
// and through VerifyArtifact's routes, on bundles made by others: real
// public-good output of model_signing (recorded, kept beside the
// repository), and bundles sigstore-js makes at test time against
// @sigstore/mock's Fulcio, CT log, Rekor and TSA
// (tests/tools/make_keyless_fixtures.mjs). The steps themselves are tested
// one by one in transparency_log_test.cc and fulcio_certificate_test.cc;
// here each must-fail row breaks a whole bundle and asserts the step the
// reason names.
#include <doctest/doctest.h>

#include <filesystem>

#include "base/encoding.h"
#include "base/json_util.h"
#include "tests/test_util.h"
#include "verifier/digest.h"
#include "verifier/keyless.h"
#include "verifier/verified_artifact.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

constexpr int64_t kNow = 1800000000;  // 2027-01-15: after every fixture's signing time

std::string Shell(const std::string& s) { return "'" + s + "'"; }

// The sigstore-js fixtures, made once per run.
struct MockFixtures {
  TempDir dir;
  std::string error;
  MockFixtures() {
    const std::string tools = std::string(PROVGATE_SOURCE_DIR) + "/tests/tools";
    if (!std::filesystem::exists(tools + "/node_modules/@sigstore/mock/package.json")) {
      error = tools + "/node_modules/@sigstore/mock is missing: run scripts/install-deps.sh";
      return;
    }
    // @sigstore/verify, checking what the mocks made, now and then refuses
    // the mock TSA's timestamp (TIMESTAMP_ERROR, seen under heavy load):
    // the producer's own check, not provgate's. Made afresh, up to 3 times.
    CommandResult r;
    for (int attempt = 0; attempt < 3; ++attempt) {
      r = RunCommand("node " + Shell(tools + "/make_keyless_fixtures.mjs") + " " + Shell(dir.path()) + " " +
                     std::string(64, 'a') + " 2>&1");
      if (r.exit_code == 0 || r.output.find("TIMESTAMP_ERROR") == std::string::npos) break;
    }
    if (r.exit_code != 0) error = "make_keyless_fixtures.mjs failed:\n" + r.output;
  }
  std::string File(const std::string& name) const { return dir.File(name); }
};

const MockFixtures& Mock() {
  static MockFixtures f;
  REQUIRE_MESSAGE(f.error.empty(), f.error);
  return f;
}

TrustedRoot MustRoot(const std::string& path) {
  auto r = ParseTrustedRoot(ReadFile(path), path);
  REQUIRE_MESSAGE(r.ok(), r.status().message());
  return std::move(*r);
}

SigstoreBundle MustBundle(const std::string& bytes) {
  auto b = ParseSigstoreBundle(bytes);
  REQUIRE_MESSAGE(b.ok(), b.status().message());
  return std::move(*b);
}

// Fails unless `s` failed and its message starts with `step`.
void CheckStep(const StatusOr<KeylessIdentityFacts>& s, const std::string& step) {
  REQUIRE_MESSAGE(!s.ok(), "verified, but should fail at " << step);
  CHECK_MESSAGE(s.status().message().rfind(step, 0) == 0, s.status().message());
}

class ExactIdentity : public IdentityMatcher {
 public:
  ExactIdentity(std::string issuer, std::string subject) : issuer_(std::move(issuer)), subject_(std::move(subject)) {}
  bool Matches(const std::string& i, const std::string& s) const override { return i == issuer_ && s == subject_; }
  std::string Describe() const override { return "issuer " + issuer_ + ", subject " + subject_; }

 private:
  std::string issuer_, subject_;
};

const char kMockIssuer[] = "https://token.actions.githubusercontent.com";
const char kMockSubject[] = "https://github.com/acme/models/.github/workflows/release.yml@refs/heads/main";

}  // namespace

// ============================================================================
// Real public-good output: model_signing v1.1.0 keyless
// ============================================================================

TEST_CASE("a real public-good model_signing bundle verifies: chain, SCT, SET, inclusion proof, timestamp, body") {
  const std::string oms = OmsFixtureDir();
  if (oms.empty()) {
    MESSAGE("skipped: the recorded model_signing fixtures are not beside this checkout");
    return;
  }
  TrustedRoot root = MustRoot(oms + "/public_good_trusted_root.json");
  SigstoreBundle b = MustBundle(ReadFile(oms + "/v1.1.0-sigstore/model.sig"));
  auto facts = VerifyKeylessBundle(b, root, "", kNow);
  REQUIRE_MESSAGE(facts.ok(), facts.status().message());
  CHECK(facts->issuer == "https://sigstore.verify.ibm.com/oauth2");
  CHECK(facts->subject == "stefanb@us.ibm.com");
  CHECK(facts->log == "https://rekor.sigstore.dev");
  CHECK(facts->log_index == 598151086);
  CHECK(facts->integrated_time == 1760062340);
  CHECK(facts->timestamp_times.size() == 1);

  SUBCASE("payload altered after signing") {
    b.dsse.payload[b.dsse.payload.size() / 2] ^= 1;
    CheckStep(VerifyKeylessBundle(b, root, "", kNow), "signature");
  }
  SUBCASE("a root without the CA that issued the certificate (same subject DN chains elsewhere)") {
    TrustedRoot other = root;
    other.certificate_authorities.erase(other.certificate_authorities.begin() + 1);
    CheckStep(VerifyKeylessBundle(b, other, "", kNow), "certificate chain");
  }
  SUBCASE("SET by a log the root does not list") {
    TrustedRoot other = root;
    other.tlogs.clear();
    CheckStep(VerifyKeylessBundle(b, other, "", kNow), "tlog");
  }
  SUBCASE("an inclusion proof that does not reach the checkpoint fails beside a valid SET") {
    b.tlog_entries[0].inclusion_proof->hashes[3][0] ^= 1;
    CheckStep(VerifyKeylessBundle(b, root, "", kNow), "tlog inclusion");
  }
  SUBCASE("a checkpoint signed by another key") {
    std::string& note = b.tlog_entries[0].inclusion_proof->checkpoint;
    size_t dash = note.rfind("\xE2\x80\x94 ");
    REQUIRE(dash != std::string::npos);
    size_t sig = note.find(' ', dash + 4) + 1;
    note[sig + 10] = note[sig + 10] == 'A' ? 'B' : 'A';  // inside the signature, after the key hint
    CheckStep(VerifyKeylessBundle(b, root, "", kNow), "tlog checkpoint");
  }
  SUBCASE("every timestamp present must verify: a timestamp over other bytes") {
    b.rfc3161_timestamps.push_back(b.rfc3161_timestamps[0]);
    b.rfc3161_timestamps[1][b.rfc3161_timestamps[1].size() - 5] ^= 1;
    CheckStep(VerifyKeylessBundle(b, root, "", kNow), "timestamp");
  }
  SUBCASE("no timestamp authority in the root") {
    TrustedRoot other = root;
    other.timestamp_authorities.clear();
    CheckStep(VerifyKeylessBundle(b, other, "", kNow), "timestamp");
  }
  SUBCASE("an integrated time in the future") {
    CheckStep(VerifyKeylessBundle(b, root, "", 1760062340 - kMaxFutureSkewSeconds - 10), "signing time");
  }
  SUBCASE("no signing time at all") {
    b.tlog_entries.clear();
    b.rfc3161_timestamps.clear();
    CheckStep(VerifyKeylessBundle(b, root, "", kNow), "signing time");
  }
  SUBCASE("the SCT's CT log is not in the root") {
    TrustedRoot other = root;
    std::erase_if(other.ctlogs, [](const TransparencyLogInstance& l) { return l.base_url.find("2022") != std::string::npos; });
    REQUIRE(other.ctlogs.size() == root.ctlogs.size() - 1);
    CheckStep(VerifyKeylessBundle(b, other, "", kNow), "SCT");
  }
}

// ============================================================================
// sigstore-js against @sigstore/mock: every bundle shape
// ============================================================================

TEST_CASE("sigstore-js keyless bundles verify: DSSE, cosign v3 sign, message signature (v0.2 chain and v0.3), OMS") {
  const MockFixtures& f = Mock();
  TrustedRoot root = MustRoot(f.File("trusted_root.json"));
  const std::string message = ReadFile(f.File("message.bin"));
  struct Row {
    const char* file;
    std::string signed_bytes;
  };
  Row rows[] = {{"provenance.bundle.json", ""},
                {"sign.bundle.json", ""},
                {"oms.bundle.json", ""},
                {"message.bundle.json", message},
                {"message.v03.bundle.json", message}};
  for (const auto& r : rows) {
    CAPTURE(r.file);
    SigstoreBundle b = MustBundle(ReadFile(f.File(r.file)));
    auto facts = VerifyKeylessBundle(b, root, r.signed_bytes, kNow);
    REQUIRE_MESSAGE(facts.ok(), facts.status().message());
    CHECK(facts->issuer == kMockIssuer);
    CHECK(facts->subject == kMockSubject);
    CHECK(facts->integrated_time > 0);
  }
}

TEST_CASE("sigstore-js keyless bundles: must-fail rows name the step") {
  const MockFixtures& f = Mock();
  TrustedRoot root = MustRoot(f.File("trusted_root.json"));
  SigstoreBundle provenance = MustBundle(ReadFile(f.File("provenance.bundle.json")));
  SigstoreBundle sign = MustBundle(ReadFile(f.File("sign.bundle.json")));
  const std::string message = ReadFile(f.File("message.bin"));

  SUBCASE("a genuine tlog entry swapped in from another bundle") {
    sign.tlog_entries = provenance.tlog_entries;
    CheckStep(VerifyKeylessBundle(sign, root, "", kNow), "tlog body does not match");
  }
  SUBCASE("a message signature checked against other bytes") {
    SigstoreBundle m = MustBundle(ReadFile(f.File("message.v03.bundle.json")));
    CheckStep(VerifyKeylessBundle(m, root, message + "x", kNow), "signature");
  }
  SUBCASE("the public-good root does not trust the mock's CA") {
    const std::string oms = OmsFixtureDir();
    if (oms.empty()) return;
    TrustedRoot public_good = MustRoot(oms + "/public_good_trusted_root.json");
    CHECK_FALSE(VerifyKeylessBundle(provenance, public_good, "", kNow).ok());
  }
  SUBCASE("an integrated time moved outside the certificate's validity is caught by the SET") {
    // The SET signs integratedTime: a claimed time an hour later (when the
    // ten-minute certificate has expired) no longer verifies. Chain
    // validation at a time outside the certificate is fulcio_certificate_test's.
    provenance.tlog_entries[0].integrated_time += 3600;
    CheckStep(VerifyKeylessBundle(provenance, root, "", kNow), "tlog SET");
  }
  SUBCASE("over-limit tlog entries are refused when the bundle is read") {
    Json j = Json::parse(ReadFile(f.File("provenance.bundle.json")));
    Json entry = j["verificationMaterial"]["tlogEntries"][0];
    for (int i = 0; i < 32; ++i) j["verificationMaterial"]["tlogEntries"].push_back(entry);
    auto b = ParseSigstoreBundle(j.dump());
    REQUIRE_FALSE(b.ok());
    CHECK(b.status().message().find("more than the 32 allowed") != std::string::npos);
  }
  SUBCASE("over-limit RFC 3161 timestamps are refused when the bundle is read") {
    Json j = Json::parse(ReadFile(f.File("provenance.bundle.json")));
    Json& ts = j["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"];
    ts = Json::array();
    for (int i = 0; i < 32; ++i) ts.push_back({{"signedTimestamp", "MAA="}});
    auto at_bound = ParseSigstoreBundle(j.dump());
    CHECK_MESSAGE(at_bound.ok(), at_bound.status().message());  // read; each is checked when verifying
    ts.push_back({{"signedTimestamp", "MAA="}});
    auto b = ParseSigstoreBundle(j.dump());
    REQUIRE_FALSE(b.ok());
    CHECK(b.status().message() == "sigstore bundle: 33 RFC 3161 timestamps, more than the 32 allowed");
  }
}

// ============================================================================
// Through VerifyArtifact: referrer bundles and model.sig layers, identities
// ============================================================================

namespace {

AttachedLayer BundleLayer(const std::string& bytes, const std::string& title = "") {
  AttachedLayer l;
  l.descriptor.media_type = "application/vnd.dev.sigstore.bundle.v0.3+json";
  l.descriptor.digest = Sha256Digest(bytes);
  l.descriptor.size = static_cast<int64_t>(bytes.size());
  if (!title.empty()) l.descriptor.annotations["org.opencontainers.image.title"] = title;
  l.blob = bytes;
  return l;
}

Trust KeylessTrust(const TrustedRoot& root, const std::string& issuer, const std::string& subject) {
  Trust t;
  t.keyless.push_back({Signer("p", "release"), std::make_shared<const TrustedRoot>(root),
                       std::make_shared<const ExactIdentity>(issuer, subject)});
  t.now = kNow;
  return t;
}

}  // namespace

TEST_CASE("VerifyArtifact: a keyless provenance referrer counts for the authority whose identity matches") {
  const MockFixtures& f = Mock();
  TrustedRoot root = MustRoot(f.File("trusted_root.json"));
  ArtifactMaterial m;
  m.digest = "sha256:" + std::string(64, 'a');
  m.bundle_layers.push_back(BundleLayer(ReadFile(f.File("provenance.bundle.json"))));
  m.bundle_layers.push_back(BundleLayer(ReadFile(f.File("sign.bundle.json"))));

  VerifiedArtifact a = VerifyArtifact(m, KeylessTrust(root, kMockIssuer, kMockSubject));
  REQUIRE(a.attestations.size() == 1);
  CHECK_MESSAGE(a.attestations[0].verified(), a.attestations[0].problem);
  CHECK(a.attestations[0].signers == std::vector<Signer>{Signer("p", "release")});
  CHECK(a.attestations[0].predicate_type == "https://slsa.dev/provenance/v1");
  REQUIRE(a.attestations[0].keyless);
  CHECK(a.attestations[0].keyless->subject == kMockSubject);
  REQUIRE(a.signatures.size() == 1);  // cosign v3 sign: a signature
  CHECK_MESSAGE(a.signatures[0].verified(), a.signatures[0].problem);

  SUBCASE("identity not matching: the reason names the identity found and the one wanted") {
    VerifiedArtifact other = VerifyArtifact(m, KeylessTrust(root, kMockIssuer, "https://github.com/acme/other"));
    REQUIRE(other.attestations.size() == 1);
    CHECK_FALSE(other.attestations[0].verified());
    CHECK_MESSAGE(other.attestations[0].problem.rfind("identity: certificate for issuer \"" + std::string(kMockIssuer) +
                                                          "\", subject \"" + kMockSubject + "\" matches no keyless",
                                                      0) == 0,
                  other.attestations[0].problem);
  }
  SUBCASE("issuer not matching") {
    VerifiedArtifact other = VerifyArtifact(m, KeylessTrust(root, "https://accounts.google.com", kMockSubject));
    CHECK_FALSE(other.attestations[0].verified());
    CHECK(other.attestations[0].problem.rfind("identity:", 0) == 0);
  }
  SUBCASE("a referrer whose bundle is for another digest vouches for nothing") {
    m.digest = "sha256:" + std::string(64, 'b');
    VerifiedArtifact other = VerifyArtifact(m, KeylessTrust(root, kMockIssuer, kMockSubject));
    CHECK_FALSE(other.attestations[0].verified());
    CHECK(other.attestations[0].problem.find("no subject with digest") != std::string::npos);
    CHECK_FALSE(other.signatures[0].verified());
  }
  SUBCASE("a forged referrer (a bundle whose signature was altered) vouches for nothing") {
    Json j = Json::parse(ReadFile(f.File("provenance.bundle.json")));
    std::string sig = *Base64Decode(j["dsseEnvelope"]["signatures"][0]["sig"].get<std::string>());
    sig[sig.size() / 2] ^= 1;
    j["dsseEnvelope"]["signatures"][0]["sig"] = Base64Encode(sig);
    m.bundle_layers = {BundleLayer(j.dump())};
    VerifiedArtifact other = VerifyArtifact(m, KeylessTrust(root, kMockIssuer, kMockSubject));
    REQUIRE(other.attestations.size() == 1);
    CHECK_FALSE(other.attestations[0].verified());
    CHECK_MESSAGE(other.attestations[0].problem.find("signature: does not verify") != std::string::npos,
                  other.attestations[0].problem);
    CHECK(other.attestations[0].predicate.empty());  // unverified content is not kept
  }
  SUBCASE("a key authority never accepts a certificate bundle") {
    auto key = PrivateKey::GenerateEcdsaP256();
    REQUIRE(key.ok());
    VerifiedArtifact other = VerifyArtifact(m, std::vector<TrustedKey>{{Signer("p", "ci"), key->Public()}});
    CHECK_FALSE(other.attestations[0].verified());
    CHECK(other.attestations[0].problem.find("a certificate signature never counts for a key authority") !=
          std::string::npos);
  }
}

TEST_CASE("VerifyArtifact: a real keyless model.sig layer is a verified model signature for its signer") {
  const std::string oms = OmsFixtureDir();
  if (oms.empty()) {
    MESSAGE("skipped: the recorded model_signing fixtures are not beside this checkout");
    return;
  }
  TrustedRoot root = MustRoot(oms + "/public_good_trusted_root.json");
  ArtifactMaterial m;
  m.digest = "sha256:" + std::string(64, 'c');
  m.model_signature_layers.push_back(BundleLayer(ReadFile(oms + "/v1.1.0-sigstore/model.sig"), "model.sig"));
  VerifiedArtifact a =
      VerifyArtifact(m, KeylessTrust(root, "https://sigstore.verify.ibm.com/oauth2", "stefanb@us.ibm.com"));
  REQUIRE(a.model_signatures.size() == 1);
  CHECK_MESSAGE(a.model_signatures[0].verified(), a.model_signatures[0].problem);
  REQUIRE(a.model_signatures[0].statement);
  CHECK(a.model_signatures[0].statement->resources.size() == 2);

  VerifiedArtifact wrong = VerifyArtifact(m, KeylessTrust(root, "https://sigstore.verify.ibm.com/oauth2", "someone@us.ibm.com"));
  CHECK_FALSE(wrong.model_signatures[0].verified());
  CHECK(wrong.model_signatures[0].problem.rfind("identity:", 0) == 0);
}

TEST_CASE("VerifyArtifact: key-signed model.sig layers (v1.0 rawBytes and v1.1 hint shapes) verify with the key") {
  const std::string oms = OmsFixtureDir();
  if (oms.empty()) {
    MESSAGE("skipped: the recorded model_signing fixtures are not beside this checkout");
    return;
  }
  auto key = PublicKey::FromPem(ReadFile(oms + "/keys/signing-key-pub.pem"));
  REQUIRE_MESSAGE(key.ok(), key.status().message());
  for (const char* dir : {"v1.0.1-elliptic-key", "v1.1.0-elliptic-key"}) {
    CAPTURE(dir);
    ArtifactMaterial m;
    m.digest = "sha256:" + std::string(64, 'c');
    m.model_signature_layers.push_back(BundleLayer(ReadFile(oms + "/" + dir + "/model.sig"), "model.sig"));
    VerifiedArtifact a = VerifyArtifact(m, std::vector<TrustedKey>{{Signer("p", "oms"), *key}});
    REQUIRE(a.model_signatures.size() == 1);
    CHECK_MESSAGE(a.model_signatures[0].verified(), a.model_signatures[0].problem);
    // The embedded key is a hint, never trust: another key does not verify it.
    auto other = PrivateKey::GenerateEcdsaP256();
    REQUIRE(other.ok());
    VerifiedArtifact b = VerifyArtifact(m, std::vector<TrustedKey>{{Signer("p", "oms"), other->Public()}});
    CHECK_FALSE(b.model_signatures[0].verified());
    CHECK(b.model_signatures[0].problem == "signature does not verify with any trusted key");
  }
}
