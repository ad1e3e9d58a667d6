#include "verifier/keys.h"

#include <algorithm>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "base/encoding.h"
#include "verifier/digest.h"
#include "verifier/openssl_util.h"

namespace provgate {

struct PublicKey::Impl {
  ossl::PkeyPtr pkey;
  KeyType type;
  std::string der;
  std::string fingerprint;
  std::string identity;
};

struct PrivateKey::Impl {
  ossl::PkeyPtr pkey;
  KeyType type;
};

namespace {

constexpr size_t kMaxPemBytes = 64 * 1024;

StatusOr<KeyType> ClassifyKey(EVP_PKEY* pkey) {
  int id = EVP_PKEY_get_base_id(pkey);
  if (id == EVP_PKEY_ED25519) return KeyType::kEd25519;
  if (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS) {
    int bits = EVP_PKEY_get_bits(pkey);
    if (bits < 2048) return InvalidArgument("RSA key of " + std::to_string(bits) + " bits is too small (minimum 2048)");
    if (bits > 8192) return InvalidArgument("RSA key of " + std::to_string(bits) + " bits is too large (maximum 8192)");
    return KeyType::kRsa;
  }
  if (id == EVP_PKEY_EC) {
    char curve[64] = {0};
    size_t len = 0;
    if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve, &len)) {
      return InvalidArgument("EC key without a named curve");
    }
    std::string name(curve, len);
    if (name == "prime256v1" || name == "P-256") return KeyType::kEcdsaP256;
    if (name == "secp384r1" || name == "P-384") return KeyType::kEcdsaP384;
    if (name == "secp521r1" || name == "P-521") return KeyType::kEcdsaP521;
    return InvalidArgument("EC curve " + name + " is not supported (P-256, P-384, P-521 are)");
  }
  return InvalidArgument(std::string("key algorithm ") + OBJ_nid2sn(id) + " is not supported");
}

// A BIGNUM parameter of `pkey`, big-endian, `width` bytes (0: as short as it goes).
std::optional<std::string> BnParam(EVP_PKEY* pkey, const char* name, int width) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) return std::nullopt;
  std::string out(width > 0 ? width : BN_num_bytes(bn), '\0');
  int n = BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  BN_free(bn);
  if (n < 0) return std::nullopt;
  return out;
}

// What PublicKey::Identity hashes (see keys.h); nullopt when OpenSSL cannot
// say.
std::optional<std::string> PublicValue(EVP_PKEY* pkey, KeyType type) {
  std::string out = std::string(KeyTypeName(type)) + ":";
  if (type == KeyType::kEd25519) {
    unsigned char raw[32];
    size_t len = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1) return std::nullopt;
    return out + HexEncode(std::string_view(reinterpret_cast<char*>(raw), len));
  }
  if (type == KeyType::kRsa) {
    auto n = BnParam(pkey, OSSL_PKEY_PARAM_RSA_N, 0), e = BnParam(pkey, OSSL_PKEY_PARAM_RSA_E, 0);
    if (!n || !e) return std::nullopt;
    return out + HexEncode(*n) + ":" + HexEncode(*e);
  }
  const int width = (EVP_PKEY_get_bits(pkey) + 7) / 8;  // of a field element
  auto x = BnParam(pkey, OSSL_PKEY_PARAM_EC_PUB_X, width), y = BnParam(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, width);
  if (!x || !y) return std::nullopt;
  return out + HexEncode("\x04" + *x + *y);
}

StatusOr<PublicKey::Impl> MakePublicImpl(ossl::PkeyPtr pkey) {
  ASSIGN_OR_RETURN(KeyType type, ClassifyKey(pkey.get()));
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pkey.get(), &der);
  if (len <= 0) return Internal("cannot encode public key: " + ossl::DrainErrors());
  PublicKey::Impl impl{std::move(pkey), type, std::string(reinterpret_cast<char*>(der), len), "", ""};
  OPENSSL_free(der);
  impl.fingerprint = HexEncode(Sha256(impl.der));
  auto value = PublicValue(impl.pkey.get(), type);
  if (!value) return Internal("cannot read the public key's value: " + ossl::DrainErrors());
  impl.identity = HexEncode(Sha256(*value));
  return impl;
}

// Pure Ed25519 over the whole message (it has no pre-hashed form).
bool VerifyEd25519(EVP_PKEY* pkey, std::string_view msg, std::string_view sig) {
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey) != 1) {
    ERR_clear_error();
    return false;
  }
  int rc = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                            reinterpret_cast<const unsigned char*>(msg.data()), msg.size());
  ERR_clear_error();
  return rc == 1;
}

const EVP_MD* MdForBits(int bits) {
  return bits == 512 ? EVP_sha512() : bits == 384 ? EVP_sha384() : EVP_sha256();
}

// ECDSA or RSA over the message's `bits`-bit SHA-2 digest, computed once per
// message: EVP_PKEY_verify on the digest is what EVP_DigestVerify does after hashing.
bool VerifyDigest(EVP_PKEY* pkey, int bits, int rsa_padding, const SignedMessage& msg, std::string_view sig) {
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new(pkey, nullptr));
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1) {
    ERR_clear_error();
    return false;
  }
  if (rsa_padding != 0 && EVP_PKEY_CTX_set_rsa_padding(ctx.get(), rsa_padding) != 1) {
    ERR_clear_error();
    return false;
  }
  if (EVP_PKEY_CTX_set_signature_md(ctx.get(), MdForBits(bits)) != 1) {
    ERR_clear_error();
    return false;
  }
  if (rsa_padding == RSA_PKCS1_PSS_PADDING && EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_AUTO) != 1) {
    ERR_clear_error();
    return false;
  }
  const std::string& digest = msg.Digest(bits);
  int rc = EVP_PKEY_verify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                           reinterpret_cast<const unsigned char*>(digest.data()), digest.size());
  ERR_clear_error();
  return rc == 1;
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Finds the first PEM block and returns its label and base64-decoded body.
StatusOr<std::pair<std::string, std::string>> FirstPemBlock(std::string_view pem) {
  auto begin = pem.find("-----BEGIN ");
  if (begin == std::string_view::npos) return InvalidArgument("no PEM block found");
  auto label_end = pem.find("-----", begin + 11);
  if (label_end == std::string_view::npos) return InvalidArgument("unterminated PEM header");
  std::string label(pem.substr(begin + 11, label_end - begin - 11));
  // RFC 7468 labels are printable ASCII on the BEGIN line. The label goes
  // into messages: one spanning lines would copy the key text after it into
  // the loader's errors, each line reading as an error of its own.
  if (label.empty() || label.size() > 64 ||
      !std::all_of(label.begin(), label.end(), [](char c) { return c >= 0x20 && c <= 0x7e; })) {
    return InvalidArgument("malformed PEM BEGIN line");
  }
  std::string end_marker = "-----END " + label + "-----";
  auto end = pem.find(end_marker, label_end + 5);
  if (end == std::string_view::npos) return InvalidArgument("PEM block " + label + " has no END line");
  std::string_view body = TrimSpace(pem.substr(label_end + 5, end - label_end - 5));
  std::string b64;
  for (char c : body) {
    if (c != '\n' && c != '\r') b64 += c;
  }
  auto raw = Base64Decode(b64);
  if (!raw) return InvalidArgument("PEM block " + label + " has invalid base64");
  return std::make_pair(label, *raw);
}

}  // namespace

const char* KeyTypeName(KeyType t) {
  switch (t) {
    case KeyType::kEcdsaP256: return "ecdsa-p256";
    case KeyType::kEcdsaP384: return "ecdsa-p384";
    case KeyType::kEcdsaP521: return "ecdsa-p521";
    case KeyType::kRsa: return "rsa";
    case KeyType::kEd25519: return "ed25519";
  }
  return "unknown";
}

StatusOr<PublicKey> PublicKey::FromDer(std::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ossl::PkeyPtr pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!pkey) {
    ERR_clear_error();
    return InvalidArgument("malformed SubjectPublicKeyInfo DER");
  }
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return InvalidArgument("trailing bytes after SubjectPublicKeyInfo DER");
  }
  ASSIGN_OR_RETURN(Impl impl, MakePublicImpl(std::move(pkey)));
  return PublicKey(std::make_shared<const Impl>(std::move(impl)));
}

StatusOr<PublicKey> PublicKey::FromPem(std::string_view pem) {
  if (pem.size() > kMaxPemBytes) return InvalidArgument("PEM larger than 64 KiB");
  // Walk the blocks: skip ones that are not public keys (a certificate file may
  // be passed by mistake; say so precisely).
  std::string_view rest = pem;
  std::string seen;
  while (true) {
    auto block = FirstPemBlock(rest);
    if (!block.ok()) {
      if (!seen.empty()) return InvalidArgument("no PUBLIC KEY PEM block (found " + seen + ")");
      return block.status().WithPrefix("public key PEM");
    }
    if (block->first == "PUBLIC KEY") return FromDer(block->second);
    seen += (seen.empty() ? "" : ", ") + block->first;
    auto next = rest.find("-----END " + block->first + "-----");
    rest = rest.substr(next + 14 + block->first.size());
  }
}

KeyType PublicKey::type() const { return impl_->type; }
const std::string& PublicKey::Fingerprint() const { return impl_->fingerprint; }
const std::string& PublicKey::Identity() const { return impl_->identity; }
const std::string& PublicKey::Der() const { return impl_->der; }

std::string PublicKey::ToPem() const {
  std::string b64 = Base64Encode(impl_->der);
  std::string out = "-----BEGIN PUBLIC KEY-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  out += "-----END PUBLIC KEY-----\n";
  return out;
}

const std::string& SignedMessage::Digest(int bits) const {
  std::optional<std::string>& slot = bits == 512 ? sha512_ : bits == 384 ? sha384_ : sha256_;
  if (!slot) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(message_.data(), message_.size(), out, &len, MdForBits(bits), nullptr);
    slot = std::string(reinterpret_cast<char*>(out), len);
  }
  return *slot;
}

bool PublicKey::Verify(std::string_view message, std::string_view signature) const {
  return Verify(SignedMessage(message), signature);
}

bool PublicKey::Verify(const SignedMessage& message, std::string_view signature) const {
  if (signature.empty() || signature.size() > 2048) return false;
  EVP_PKEY* pkey = impl_->pkey.get();
  switch (impl_->type) {
    case KeyType::kEd25519:
      return VerifyEd25519(pkey, message.bytes(), signature);
    case KeyType::kRsa:
      return VerifyDigest(pkey, 256, RSA_PKCS1_PADDING, message, signature) ||
             VerifyDigest(pkey, 256, RSA_PKCS1_PSS_PADDING, message, signature);
    case KeyType::kEcdsaP256:
      return VerifyDigest(pkey, 256, 0, message, signature);
    case KeyType::kEcdsaP384:
      return VerifyDigest(pkey, 256, 0, message, signature) || VerifyDigest(pkey, 384, 0, message, signature);
    case KeyType::kEcdsaP521:
      return VerifyDigest(pkey, 256, 0, message, signature) || VerifyDigest(pkey, 512, 0, message, signature);
  }
  return false;
}

StatusOr<PrivateKey> PrivateKey::FromPem(std::string_view pem, std::string_view password) {
  if (pem.size() > kMaxPemBytes) return InvalidArgument("PEM larger than 64 KiB");
  // `openssl ecparam -genkey` writes an "EC PARAMETERS" block before the key: skip it.
  std::string_view rest = pem;
  ASSIGN_OR_RETURN(auto block, FirstPemBlock(rest));
  while (block.first == "EC PARAMETERS") {
    rest = rest.substr(rest.find("-----END EC PARAMETERS-----") + 27);
    ASSIGN_OR_RETURN(block, FirstPemBlock(rest));
  }
  std::string der;
  if (block.first == "ENCRYPTED SIGSTORE PRIVATE KEY" || block.first == "ENCRYPTED COSIGN PRIVATE KEY") {
    ASSIGN_OR_RETURN(der, DecryptCosignPrivateKey(block.second, password));
  } else if (block.first == "PRIVATE KEY" || block.first == "EC PRIVATE KEY" ||
             block.first == "RSA PRIVATE KEY") {
    der = block.second;
  } else {
    return InvalidArgument("unsupported private key PEM type " + Quote(block.first));
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ossl::PkeyPtr pkey;
  if (block.first == "EC PRIVATE KEY") {
    pkey.reset(d2i_PrivateKey(EVP_PKEY_EC, nullptr, &p, static_cast<long>(der.size())));
  } else if (block.first == "RSA PRIVATE KEY") {
    pkey.reset(d2i_PrivateKey(EVP_PKEY_RSA, nullptr, &p, static_cast<long>(der.size())));
  } else {
    pkey.reset(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size())));
  }
  if (!pkey) {
    ERR_clear_error();
    return InvalidArgument("malformed " + block.first + " DER");
  }
  ASSIGN_OR_RETURN(KeyType type, ClassifyKey(pkey.get()));
  return PrivateKey(std::make_shared<const Impl>(Impl{std::move(pkey), type}));
}

StatusOr<PrivateKey> PrivateKey::GenerateEcdsaP256() {
  ossl::PkeyPtr pkey(EVP_EC_gen("P-256"));
  if (!pkey) return Internal("EC key generation failed: " + ossl::DrainErrors());
  return PrivateKey(std::make_shared<const Impl>(Impl{std::move(pkey), KeyType::kEcdsaP256}));
}

KeyType PrivateKey::type() const { return impl_->type; }

PublicKey PrivateKey::Public() const {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(impl_->pkey.get(), &der);
  std::string bytes(reinterpret_cast<char*>(der), len > 0 ? len : 0);
  OPENSSL_free(der);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(bytes.data());
  ossl::PkeyPtr pub(d2i_PUBKEY(nullptr, &p, static_cast<long>(bytes.size())));
  // A key OpenSSL cannot describe is the one key "" (counts once, not twice).
  std::optional<std::string> value = pub ? PublicValue(pub.get(), impl_->type) : std::nullopt;
  std::string identity = HexEncode(Sha256(value.value_or("")));
  PublicKey::Impl impl{std::move(pub), impl_->type, bytes, HexEncode(Sha256(bytes)), std::move(identity)};
  return PublicKey(std::make_shared<const PublicKey::Impl>(std::move(impl)));
}

std::string PrivateKey::ToPkcs8Pem() const {
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), impl_->pkey.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, len);
}

StatusOr<std::string> PrivateKey::Sign(std::string_view message) const {
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  const EVP_MD* md = impl_->type == KeyType::kEd25519 ? nullptr : EVP_sha256();
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, impl_->pkey.get()) != 1) {
    return Internal("signing init failed: " + ossl::DrainErrors());
  }
  if (impl_->type == KeyType::kRsa) EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING);
  size_t len = 0;
  const auto* m = reinterpret_cast<const unsigned char*>(message.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, m, message.size()) != 1) {
    return Internal("signing failed: " + ossl::DrainErrors());
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, m, message.size()) != 1) {
    return Internal("signing failed: " + ossl::DrainErrors());
  }
  sig.resize(len);
  return sig;
}

}  // namespace provgate
