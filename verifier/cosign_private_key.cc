// Decryption of cosign's encrypted private keys (cosign's encrypted key format):
// go-securesystemslib "encrypted" JSON: scrypt KDF, then NaCl secretbox
// (XSalsa20-Poly1305). OpenSSL 3 provides scrypt; libsodium the secretbox.
#include <openssl/evp.h>
#include <sodium.h>

#include "base/encoding.h"
#include "base/json_util.h"
#include "verifier/keys.h"

namespace provgate {
namespace {

constexpr size_t kMaxCiphertext = 16 * 1024;

StatusOr<std::string> B64Field(const Json& obj, const char* key, const char* where) {
  if (!obj.is_object() || !obj.contains(key) || !obj[key].is_string()) {
    return InvalidArgument(std::string("encrypted key: ") + where + "." + key + " missing or not a string");
  }
  auto v = Base64Decode(obj[key].get<std::string>());
  if (!v) return InvalidArgument(std::string("encrypted key: ") + where + "." + key + " is not base64");
  return *v;
}

}  // namespace

StatusOr<std::string> DecryptCosignPrivateKey(std::string_view json_body, std::string_view password) {
  ASSIGN_OR_RETURN(Json doc, ParseJson(json_body, "encrypted key"));
  if (!doc.is_object()) return InvalidArgument("encrypted key: body is not a JSON object");
  const Json& kdf = doc.value("kdf", Json());
  const Json& cipher = doc.value("cipher", Json());
  if (!kdf.is_object() || kdf.value("name", "") != "scrypt") {
    return InvalidArgument("encrypted key: kdf.name must be \"scrypt\"");
  }
  if (!cipher.is_object() || cipher.value("name", "") != "nacl/secretbox") {
    return InvalidArgument("encrypted key: cipher.name must be \"nacl/secretbox\"");
  }
  const Json& params = kdf.value("params", Json());
  if (!params.is_object() || !params.value("N", Json()).is_number_unsigned() ||
      !params.value("r", Json()).is_number_unsigned() || !params.value("p", Json()).is_number_unsigned()) {
    return InvalidArgument("encrypted key: kdf.params must hold unsigned N, r, p");
  }
  uint64_t n = params["N"], r = params["r"], p = params["p"];
  if ((n != 32768 && n != 65536 && n != 131072) || r != 8 || p != 1) {
    return InvalidArgument("encrypted key: unsupported scrypt parameters N=" + std::to_string(n) +
                           " r=" + std::to_string(r) + " p=" + std::to_string(p));
  }
  ASSIGN_OR_RETURN(std::string salt, B64Field(kdf, "salt", "kdf"));
  ASSIGN_OR_RETURN(std::string nonce, B64Field(cipher, "nonce", "cipher"));
  ASSIGN_OR_RETURN(std::string ciphertext, B64Field(doc, "ciphertext", ""));
  if (nonce.size() != crypto_secretbox_NONCEBYTES) {
    return InvalidArgument("encrypted key: nonce must be 24 bytes");
  }
  if (ciphertext.size() < crypto_secretbox_MACBYTES || ciphertext.size() > kMaxCiphertext) {
    return InvalidArgument("encrypted key: ciphertext length out of range");
  }

  unsigned char key[crypto_secretbox_KEYBYTES];
  // scrypt needs 128*r*N bytes; allow the largest parameter set (128 MiB) plus slack.
  const uint64_t maxmem = 256ull * 1024 * 1024;
  if (EVP_PBE_scrypt(password.data(), password.size(), reinterpret_cast<const unsigned char*>(salt.data()),
                     salt.size(), n, r, p, maxmem, key, sizeof key) != 1) {
    return Internal("encrypted key: scrypt failed");
  }
  if (sodium_init() < 0) return Internal("libsodium initialisation failed");
  std::string plain(ciphertext.size() - crypto_secretbox_MACBYTES, '\0');
  int rc = crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()),
                                      reinterpret_cast<const unsigned char*>(ciphertext.data()),
                                      ciphertext.size(), reinterpret_cast<const unsigned char*>(nonce.data()),
                                      key);
  sodium_memzero(key, sizeof key);
  if (rc != 0) return InvalidArgument("encrypted key: wrong password or corrupted ciphertext");
  return plain;
}

}  // namespace provgate
