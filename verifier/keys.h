// Public and private keys for cosign-style signatures: ECDSA P-256/P-384/P-521,
// RSA (>= 2048 bits) and Ed25519. Immutable after construction; Verify and
// Sign are safe to call from many threads at once.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace provgate {

enum class KeyType { kEcdsaP256, kEcdsaP384, kEcdsaP521, kRsa, kEd25519 };

// "ecdsa-p256", "rsa", ... for messages and output.
const char* KeyTypeName(KeyType t);

// A message to check signatures over, with each of its SHA-256 / SHA-384 /
// SHA-512 digests computed once, on first use: checking S signatures with K
// keys hashes the message once per algorithm, not S x K times. Views the
// message, which must outlive it. Not thread-safe (digests are cached).
class SignedMessage {
 public:
  explicit SignedMessage(std::string_view message) : message_(message) {}
  std::string_view bytes() const { return message_; }
  // The raw digest; `bits` is 256, 384 or 512.
  const std::string& Digest(int bits) const;

 private:
  std::string_view message_;
  mutable std::optional<std::string> sha256_, sha384_, sha512_;
};

class PublicKey {
 public:
  // Parses the first "PUBLIC KEY" (SubjectPublicKeyInfo) PEM block. Fails with
  // InvalidArgument when there is none, it is malformed, or the key is of an
  // unsupported kind (EC curve other than P-256/384/521, RSA under 2048 bits).
  static StatusOr<PublicKey> FromPem(std::string_view pem);
  // Same, from SubjectPublicKeyInfo DER.
  static StatusOr<PublicKey> FromDer(std::string_view der);

  KeyType type() const;
  // Lowercase hex SHA-256 of the SubjectPublicKeyInfo DER.
  const std::string& Fingerprint() const;
  // Lowercase hex SHA-256 of the public value, whatever its encoding: one
  // for every SubjectPublicKeyInfo of one key (an EC point compressed or
  // not; an RSA key as rsaEncryption or RSASSA-PSS), where Fingerprint
  // differs. Hashes "<KeyTypeName>:" and the uncompressed point (EC), the
  // hex modulus ":" hex exponent (RSA) or the raw key (Ed25519). Keys with
  // one Identity are one signer.
  const std::string& Identity() const;
  std::string ToPem() const;
  const std::string& Der() const;

  // True when `signature` is a valid signature of `message` under this key.
  // ECDSA: ASN.1 DER (r,s) over SHA-256 of the message (cosign's key path),
  // or over the curve's own hash (SHA-384 for P-384, SHA-512 for P-521: the
  // Sigstore bundle convention). RSA: PKCS#1 v1.5 or PSS, SHA-256. Ed25519:
  // pure Ed25519 over the message.
  bool Verify(std::string_view message, std::string_view signature) const;
  // Same, over a message whose digests are shared between calls.
  bool Verify(const SignedMessage& message, std::string_view signature) const;

  struct Impl;

 private:
  explicit PublicKey(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
  friend class PrivateKey;
};

class PrivateKey {
 public:
  // Parses a PEM private key: "PRIVATE KEY" (PKCS#8), "EC PRIVATE KEY",
  // "RSA PRIVATE KEY", or cosign's "ENCRYPTED SIGSTORE PRIVATE KEY" /
  // "ENCRYPTED COSIGN PRIVATE KEY" (scrypt + NaCl secretbox, decrypted with
  // `password`). Fails with InvalidArgument on anything else or a wrong password.
  static StatusOr<PrivateKey> FromPem(std::string_view pem, std::string_view password);
  // A fresh ECDSA P-256 key.
  static StatusOr<PrivateKey> GenerateEcdsaP256();

  KeyType type() const;
  PublicKey Public() const;
  // Unencrypted PKCS#8 PEM ("PRIVATE KEY").
  std::string ToPkcs8Pem() const;

  // Signs `message`: ECDSA DER over SHA-256, RSA PKCS#1 v1.5 SHA-256, or
  // pure Ed25519 — the formats cosign writes and Verify accepts.
  StatusOr<std::string> Sign(std::string_view message) const;

  struct Impl;

 private:
  explicit PrivateKey(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Decrypts the JSON body of a cosign encrypted private key PEM (the bytes
// between the PEM armour, base64-decoded) with `password`, returning the
// PKCS#8 DER it protects. Only the parameter sets cosign writes are
// accepted: scrypt with N in {32768, 65536, 131072}, r=8, p=1, and
// nacl/secretbox with a 24-byte nonce.
StatusOr<std::string> DecryptCosignPrivateKey(std::string_view json_body, std::string_view password);

}  // namespace provgate
