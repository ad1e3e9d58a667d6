// The server certificate and key, re-read when their files change so that
// cert-manager rotation needs no restart. Installed into an OpenSSL server
// context (TLS 1.2+ only). Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "base/clock.h"
#include "base/status.h"

namespace provgate {

class TlsCertificates {
 public:
  // `clock` (which paces the checks for changed files) must outlive it.
  TlsCertificates(std::string cert_file, std::string key_file, const Clock& clock);
  ~TlsCertificates();

  // Loads both files now. Fails with InvalidArgument when either cannot be
  // read or parsed, or the key does not match the certificate.
  Status Load();

  // Configures `ssl_ctx` (an SSL_CTX*): minimum TLS 1.2, and a certificate
  // callback that serves the current certificate, reloading the files at
  // most once a second when their size, inode or mtime changed. A reload
  // that fails keeps the previous pair.
  bool Configure(void* ssl_ctx);

  // SHA-256 fingerprint (hex) of the certificate now served.
  std::string CurrentFingerprint() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace provgate
