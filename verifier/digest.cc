#include "verifier/digest.h"

#include <openssl/evp.h>

#include "base/encoding.h"
#include "verifier/reference.h"

namespace provgate {
namespace {

std::string Hash(const EVP_MD* md, std::string_view bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), out, &len, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace

std::string Sha256(std::string_view bytes) { return Hash(EVP_sha256(), bytes); }

std::string Sha256Digest(std::string_view bytes) { return "sha256:" + HexEncode(Sha256(bytes)); }

Status CheckDigest(std::string_view bytes, std::string_view expected, std::string_view what) {
  RETURN_IF_ERROR(ValidateDigest(expected));
  std::string computed;
  if (expected.substr(0, 7) == "sha256:") {
    computed = "sha256:" + HexEncode(Hash(EVP_sha256(), bytes));
  } else {
    computed = "sha512:" + HexEncode(Hash(EVP_sha512(), bytes));
  }
  if (computed != expected) {
    return DataLoss(std::string(what) + " content has digest " + computed + ", expected " +
                    std::string(expected));
  }
  return Status::Ok();
}

}  // namespace provgate
