#include "webhook/server/tls_certificates.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <chrono>
#include <mutex>
#include <vector>

#include "base/encoding.h"

namespace provgate {

namespace {

struct X509Free { void operator()(X509* p) const { X509_free(p); } };
struct PkeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };

struct Pair {
  std::shared_ptr<X509> cert;
  std::vector<std::shared_ptr<X509>> chain;
  std::shared_ptr<EVP_PKEY> key;
  std::string fingerprint;
};

std::string FileStamp(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return "missing";
  return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) +
         "." + std::to_string(st.st_mtim.tv_nsec);
}

StatusOr<Pair> ReadPair(const std::string& cert_file, const std::string& key_file) {
  Pair p;
  FILE* f = std::fopen(cert_file.c_str(), "r");
  if (!f) return InvalidArgument("cannot read TLS certificate " + cert_file);
  X509* leaf = PEM_read_X509(f, nullptr, nullptr, nullptr);
  if (!leaf) {
    std::fclose(f);
    ERR_clear_error();
    return InvalidArgument("no PEM certificate in " + cert_file);
  }
  p.cert.reset(leaf, X509Free());
  while (X509* extra = PEM_read_X509(f, nullptr, nullptr, nullptr)) p.chain.emplace_back(extra, X509Free());
  ERR_clear_error();
  std::fclose(f);
  FILE* k = std::fopen(key_file.c_str(), "r");
  if (!k) return InvalidArgument("cannot read TLS key " + key_file);
  EVP_PKEY* key = PEM_read_PrivateKey(k, nullptr, nullptr, nullptr);
  std::fclose(k);
  if (!key) {
    ERR_clear_error();
    return InvalidArgument("no PEM private key in " + key_file);
  }
  p.key.reset(key, PkeyFree());
  if (X509_check_private_key(p.cert.get(), p.key.get()) != 1) {
    ERR_clear_error();
    return InvalidArgument("TLS key " + key_file + " does not match certificate " + cert_file);
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(p.cert.get(), EVP_sha256(), md, &len);
  p.fingerprint = HexEncode(std::string_view(reinterpret_cast<char*>(md), len));
  return p;
}

}  // namespace

struct TlsCertificates::Impl {
  explicit Impl(const Clock& c) : clock(c) {}
  const Clock& clock;
  std::string cert_file, key_file;
  std::mutex mu;
  Pair current;
  std::string stamp;
  Clock::TimePoint next_check;

  Pair Get() {
    std::lock_guard<std::mutex> l(mu);
    auto now = clock.Now();
    if (now >= next_check) {
      next_check = now + std::chrono::seconds(1);
      std::string s = FileStamp(cert_file) + "|" + FileStamp(key_file);
      if (s != stamp) {
        auto p = ReadPair(cert_file, key_file);
        if (p.ok()) {  // a half-written rotation is retried on the next check
          current = std::move(*p);
          stamp = s;
        }
      }
    }
    return current;
  }

  static int OnCertificate(SSL* ssl, void* arg) {
    Pair p = static_cast<Impl*>(arg)->Get();
    if (!p.cert || SSL_use_certificate(ssl, p.cert.get()) != 1 || SSL_use_PrivateKey(ssl, p.key.get()) != 1) {
      return 0;
    }
    SSL_clear_chain_certs(ssl);
    for (const auto& c : p.chain) SSL_add1_chain_cert(ssl, c.get());
    return 1;
  }
};

TlsCertificates::TlsCertificates(std::string cert_file, std::string key_file, const Clock& clock)
    : impl_(std::make_unique<Impl>(clock)) {
  impl_->cert_file = std::move(cert_file);
  impl_->key_file = std::move(key_file);
}

TlsCertificates::~TlsCertificates() = default;

Status TlsCertificates::Load() {
  std::string s = FileStamp(impl_->cert_file) + "|" + FileStamp(impl_->key_file);
  ASSIGN_OR_RETURN(Pair p, ReadPair(impl_->cert_file, impl_->key_file));
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->current = std::move(p);
  impl_->stamp = s;
  impl_->next_check = impl_->clock.Now() + std::chrono::seconds(1);
  return Status::Ok();
}

bool TlsCertificates::Configure(void* ctx_ptr) {
  SSL_CTX* ctx = static_cast<SSL_CTX*>(ctx_ptr);
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!MD5:!DSS");
  SSL_CTX_set_cert_cb(ctx, &Impl::OnCertificate, impl_.get());
  return true;
}

std::string TlsCertificates::CurrentFingerprint() const { return impl_->Get().fingerprint; }

}  // namespace provgate
