#include <doctest/doctest.h>

#include "base/encoding.h"
#include "tests/test_util.h"
#include "verifier/keys.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

PublicKey Pub(const std::string& name) {
  auto k = PublicKey::FromPem(ReadFile(TestData("keys/" + name)));
  REQUIRE_MESSAGE(k.ok(), name << ": " << k.status().ToString());
  return *k;
}

PrivateKey Priv(const std::string& name) {
  auto k = PrivateKey::FromPem(ReadFile(TestData("keys/" + name)), "");
  REQUIRE_MESSAGE(k.ok(), name << ": " << k.status().ToString());
  return *k;
}

}  // namespace

TEST_CASE("supported public keys parse with their type and fingerprint") {
  struct Row {
    const char* file;
    KeyType type;
  };
  Row rows[] = {{"ec-p256.pub", KeyType::kEcdsaP256}, {"ec-p384.pub", KeyType::kEcdsaP384},
                {"ec-p521.pub", KeyType::kEcdsaP521}, {"rsa-2048.pub", KeyType::kRsa},
                {"ed25519.pub", KeyType::kEd25519}};
  for (const auto& r : rows) {
    CAPTURE(r.file);
    PublicKey k = Pub(r.file);
    CHECK(k.type() == r.type);
    CHECK(k.Fingerprint().size() == 64);
    // PEM round trip keeps the key.
    auto again = PublicKey::FromPem(k.ToPem());
    REQUIRE(again.ok());
    CHECK(again->Fingerprint() == k.Fingerprint());
  }
}

TEST_CASE("unsupported or malformed public keys are refused with a reason") {
  struct Row {
    std::string pem;
    const char* reason;
  };
  std::string good = ReadFile(TestData("keys/ec-p256.pub"));
  std::string body = good.substr(good.find('\n') + 1);
  body = body.substr(0, body.find("-----END"));
  std::string truncated = "-----BEGIN PUBLIC KEY-----\n" + body.substr(0, 40) + "\n-----END PUBLIC KEY-----\n";
  Row rows[] = {
      {ReadFile(TestData("keys/ec-p224.pub")), "is not supported"},
      {ReadFile(TestData("keys/ec-secp256k1.pub")), "is not supported"},
      {ReadFile(TestData("keys/rsa-1024.pub")), "too small"},
      {"", "no PEM block"},
      {"not a pem at all", "no PEM block"},
      {"-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n", "invalid base64"},
      {"-----BEGIN PUBLIC KEY-----\nMFkw\n", "no END line"},
      {truncated, "malformed SubjectPublicKeyInfo"},
      {ReadFile(TestData("keys/ec-p256.key")), "no PUBLIC KEY PEM block"},
      {std::string(70000, 'a'), "larger than 64 KiB"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.reason);
    auto k = PublicKey::FromPem(r.pem);
    REQUIRE_FALSE(k.ok());
    CHECK(k.status().code() == StatusCode::kInvalidArgument);
    CHECK_MESSAGE(k.status().message().find(r.reason) != std::string::npos, k.status().message());
  }
}

TEST_CASE("sign and verify across key types; any change breaks verification") {
  const char* names[][2] = {{"ec-p256.key", "ec-p256.pub"},   {"ec-p384.key", "ec-p384.pub"},
                            {"ec-p521.sec1.key", "ec-p521.pub"}, {"rsa-2048.key", "rsa-2048.pub"},
                            {"ed25519.key", "ed25519.pub"}};
  PublicKey other = Pub("ec-p256.pub");
  for (const auto& n : names) {
    CAPTURE(n[0]);
    PrivateKey priv = Priv(n[0]);
    PublicKey pub = Pub(n[1]);
    CHECK(priv.Public().Fingerprint() == pub.Fingerprint());
    auto sig = priv.Sign("payload bytes");
    REQUIRE(sig.ok());
    CHECK(pub.Verify("payload bytes", *sig));
    CHECK_FALSE(pub.Verify("payload bytez", *sig));
    std::string flipped = *sig;
    flipped[flipped.size() / 2] ^= 0x01;
    CHECK_FALSE(pub.Verify("payload bytes", flipped));
    CHECK_FALSE(pub.Verify("payload bytes", ""));
    if (std::string(n[1]) != "ec-p256.pub") CHECK_FALSE(other.Verify("payload bytes", *sig));
  }
  // Legacy PEM labels parse too.
  CHECK(Priv("rsa-2048.pkcs1.key").type() == KeyType::kRsa);
}

// A signature is checked only with the algorithm and curve of the key it is
// checked with: a P-256 signature is no P-384 signature, an ECDSA one no
// RSA or Ed25519 one, for every pair (over the SHA-2 variants each accepts).
TEST_CASE("a signature made with one key never verifies with a key of another type or curve") {
  const char* names[][2] = {{"ec-p256.key", "ec-p256.pub"},   {"ec-p384.key", "ec-p384.pub"},
                            {"ec-p521.sec1.key", "ec-p521.pub"}, {"rsa-2048.key", "rsa-2048.pub"},
                            {"ed25519.key", "ed25519.pub"}};
  for (const auto& signer : names) {
    auto sig = Priv(signer[0]).Sign("payload bytes");
    REQUIRE(sig.ok());
    for (const auto& checker : names) {
      CAPTURE(signer[0]);
      CAPTURE(checker[1]);
      CHECK(Pub(checker[1]).Verify("payload bytes", *sig) == (std::string(signer[1]) == checker[1]));
    }
  }
}

TEST_CASE("signatures made by the openssl command line verify (independent producer)") {
  TempDir dir;
  WriteFile(dir.File("msg"), "{\"critical\":{}}");
  struct Row {
    const char* what;
    const char* pub;
    std::string cmd;  // signs dir/msg into dir/sig
  };
  std::string k = TestData("keys/");
  std::string io = " -out " + dir.File("sig") + " " + dir.File("msg");
  Row rows[] = {
      {"ecdsa p256", "ec-p256.pub", "openssl dgst -sha256 -sign " + k + "ec-p256.key" + io},
      {"ecdsa p384 sha256", "ec-p384.pub", "openssl dgst -sha256 -sign " + k + "ec-p384.key" + io},
      {"ecdsa p384 sha384", "ec-p384.pub", "openssl dgst -sha384 -sign " + k + "ec-p384.key" + io},
      {"rsa pkcs1", "rsa-2048.pub", "openssl dgst -sha256 -sign " + k + "rsa-2048.key" + io},
      {"rsa pss", "rsa-2048.pub",
       "openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest -sign " + k +
           "rsa-2048.key" + io},
      // The same keys in their other encodings: the same signers.
      {"ecdsa p256, compressed point", "ec-p256.compressed.pub",
       "openssl dgst -sha256 -sign " + k + "ec-p256.key" + io},
      {"rsa pss, RSASSA-PSS key", "rsa-2048.pss.pub",
       "openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest -sign " + k +
           "rsa-2048.key" + io},
      {"ed25519", "ed25519.pub",
       "openssl pkeyutl -sign -rawin -inkey " + k + "ed25519.key -in " + dir.File("msg") + " -out " + dir.File("sig")},
  };
  for (const auto& r : rows) {
    CAPTURE(r.what);
    REQUIRE(RunCommand(r.cmd).exit_code == 0);
    std::string sig = ReadFile(dir.File("sig"));
    PublicKey pub = Pub(r.pub);
    CHECK(pub.Verify("{\"critical\":{}}", sig));
    CHECK_FALSE(pub.Verify("{\"critical\":{ }}", sig));
  }
  // A P-256 signature over SHA-512 is not what cosign produces: refused.
  REQUIRE(RunCommand("openssl dgst -sha512 -sign " + k + "ec-p256.key -out " + dir.File("sig") + " " +
                     dir.File("msg")).exit_code == 0);
  CHECK_FALSE(Pub("ec-p256.pub").Verify("{\"critical\":{}}", ReadFile(dir.File("sig"))));
}

// Fingerprint hashes the encoding, Identity the key: a policy listing one
// key twice, encoded two ways, had one signature count for two signers.
TEST_CASE("Identity is one for every encoding of a key, and differs between keys") {
  struct Row {
    const char* name;
    PublicKey a, b;
  };
  const Row one_key[] = {
      {"EC point uncompressed and compressed", Pub("ec-p256.pub"), Pub("ec-p256.compressed.pub")},
      {"RSA as rsaEncryption and as RSASSA-PSS", Pub("rsa-2048.pub"), Pub("rsa-2048.pss.pub")},
  };
  for (const auto& r : one_key) {
    const std::string name = r.name;
    CAPTURE(name);
    CHECK(r.a.Identity() == r.b.Identity());
    CHECK(r.a.Fingerprint() != r.b.Fingerprint());
    CHECK(r.a.type() == r.b.type());
  }
  auto generated = PrivateKey::GenerateEcdsaP256();
  REQUIRE(generated.ok());
  const Row two_keys[] = {
      {"two P-256 keys", Pub("ec-p256.pub"), generated->Public()},
      {"P-256 and P-384", Pub("ec-p256.pub"), Pub("ec-p384.pub")},
      {"two RSA keys", Pub("rsa-2048.pss.pub"), Priv("rsa-2048.pkcs1.key").Public()},
      {"RSA and Ed25519", Pub("rsa-2048.pub"), Pub("ed25519.pub")},
  };
  for (const auto& r : two_keys) {
    const std::string name = r.name;
    CAPTURE(name);
    CHECK(r.a.Identity() != r.b.Identity());
  }
  // A private key's public half is the key its PUBLIC KEY file holds.
  for (const char* name : {"ec-p256", "ec-p384", "rsa-2048", "ed25519"}) {
    CAPTURE(name);
    CHECK(Priv(std::string(name) + ".key").Public().Identity() == Pub(std::string(name) + ".pub").Identity());
  }
  CHECK(Priv("ec-p521.sec1.key").Public().Identity() == Pub("ec-p521.pub").Identity());
  CHECK(Pub("ec-p256.pub").Identity().size() == 64);
}

TEST_CASE("generated keys round trip through PKCS#8 PEM") {
  auto k = PrivateKey::GenerateEcdsaP256();
  REQUIRE(k.ok());
  auto again = PrivateKey::FromPem(k->ToPkcs8Pem(), "");
  REQUIRE(again.ok());
  CHECK(again->Public().Fingerprint() == k->Public().Fingerprint());
  CHECK(k->ToPkcs8Pem().find("-----BEGIN PRIVATE KEY-----") == 0);
}

TEST_CASE("private key PEMs that are not keys are refused") {
  CHECK_FALSE(PrivateKey::FromPem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "").ok());
  CHECK_FALSE(PrivateKey::FromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "").ok());
  // An encrypted cosign key whose JSON is garbage.
  std::string bad = "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n" + Base64Encode("{not json") +
                    "\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n";
  auto r = PrivateKey::FromPem(bad, "pw");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("encrypted key") != std::string::npos);
}
