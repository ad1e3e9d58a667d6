#include "verifier/fulcio_certificate.h"

#include <openssl/asn1.h>
#include <openssl/ct.h>
#include <openssl/objects.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <map>
#include <memory>
#include <optional>

#include "base/encoding.h"
#include "base/mutex.h"
#include "verifier/digest.h"
#include "verifier/openssl_util.h"

namespace provgate {

namespace {

constexpr size_t kMaxCertificateBytes = 64 * 1024;
constexpr size_t kMaxIntermediates = 10;
constexpr size_t kMaxTimestampBytes = 64 * 1024;
constexpr char kFulcioUsernameOid[] = "1.3.6.1.4.1.57264.1.7";  // otherName SAN (UTF8String)

// Owners for the OpenSSL objects only this file uses.
template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
void FreeX509Stack(STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); }
void FreeBytes(unsigned char* p) { OPENSSL_free(p); }

using X509StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using X509StackPtr = std::unique_ptr<STACK_OF(X509), Deleter<FreeX509Stack>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;
using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, Deleter<ASN1_OBJECT_free>>;
using Asn1StringPtr = std::unique_ptr<ASN1_STRING, Deleter<ASN1_STRING_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, Deleter<ASN1_TIME_free>>;
using SctListPtr = std::unique_ptr<STACK_OF(SCT), Deleter<SCT_LIST_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using TsRespPtr = std::unique_ptr<TS_RESP, Deleter<TS_RESP_free>>;
using Pkcs7Ptr = std::unique_ptr<PKCS7, Deleter<PKCS7_free>>;
using TstInfoPtr = std::unique_ptr<TS_TST_INFO, Deleter<TS_TST_INFO_free>>;
using TsVerifyCtxPtr = std::unique_ptr<TS_VERIFY_CTX, Deleter<TS_VERIFY_CTX_free>>;
using OpensslBytes = std::unique_ptr<unsigned char, Deleter<FreeBytes>>;

const unsigned char* Bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
std::string_view View(const ASN1_STRING* s) {
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<size_t>(ASN1_STRING_length(s))};
}

// Like ossl::DrainErrors, but keeps the text OpenSSL attaches to an error:
// the TS module puts the X.509 reason ("Verify error:certificate has
// expired") there, not in the error code.
std::string DrainErrorsWithData() {
  std::string out;
  const char* data = nullptr;
  int flags = 0;
  while (unsigned long e = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
    if ((flags & ERR_TXT_STRING) && data != nullptr && *data != '\0') out += std::string(" (") + data + ")";
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

// RFC 3339 UTC, for messages.
std::string FormatTime(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm {};
  if (gmtime_r(&tt, &tm) == nullptr) return std::to_string(t);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Seconds since the epoch of an ASN.1 UTCTime / GeneralizedTime, by
// ASN1_TIME_diff against the epoch (no timegm, no local time zone).
StatusOr<int64_t> UnixSeconds(const ASN1_TIME* t) {
  Asn1TimePtr epoch(ASN1_TIME_set(nullptr, 0));
  int days = 0, secs = 0;
  if (!epoch || t == nullptr || ASN1_TIME_diff(&days, &secs, epoch.get(), t) != 1) {
    ERR_clear_error();
    return InvalidArgument("malformed time");
  }
  return static_cast<int64_t>(days) * 86400 + secs;
}

// Text that is well-formed UTF-8 without NUL bytes: identities are compared
// with policy strings, and a NUL is the classic way to make two differ.
bool IsCleanUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0 || s[i] == '\0') return false;
    i += n;
  }
  return true;
}

// One DER X.509 certificate, all of `der` consumed. `what` names it in
// messages ("certificate", "certificate chain: intermediate 2", ...).
StatusOr<ossl::X509Ptr> ParseDer(std::string_view der, const std::string& what) {
  if (der.size() > kMaxCertificateBytes) return ResourceExhausted(what + " is larger than 64 KiB");
  if (der.empty()) return InvalidArgument(what + " is empty");
  const unsigned char* p = Bytes(der);
  ossl::X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x) {
    ERR_clear_error();
    return InvalidArgument(what + " is not DER X.509");
  }
  if (p != Bytes(der) + der.size()) {
    return InvalidArgument(what + " has " + std::to_string(Bytes(der) + der.size() - p) +
                           " trailing bytes after the DER certificate");
  }
  return x;
}

StatusOr<std::string> ToDer(X509* x) {
  unsigned char* out = nullptr;
  int len = i2d_X509(x, &out);
  if (len <= 0) return Internal("cannot encode a certificate: " + ossl::DrainErrors());
  OpensslBytes owner(out);
  return std::string(reinterpret_cast<char*>(out), len);
}

StatusOr<std::string> SpkiDer(X509* x) {
  unsigned char* out = nullptr;
  int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &out);
  if (len <= 0) return Internal("cannot encode a certificate's public key: " + ossl::DrainErrors());
  OpensslBytes owner(out);
  return std::string(reinterpret_cast<char*>(out), len);
}

StatusOr<Asn1ObjectPtr> Oid(const char* dotted) {
  Asn1ObjectPtr obj(OBJ_txt2obj(dotted, /*no_name=*/1));
  if (!obj) return Internal(std::string("cannot make OID ") + dotted);
  return obj;
}

// The extnValue of the one extension `oid` of `x`; nullopt when absent.
// Fails when it appears more than once (RFC 5280 §4.2).
StatusOr<std::optional<std::string_view>> ExtensionValue(X509* x, const char* dotted) {
  ASSIGN_OR_RETURN(Asn1ObjectPtr oid, Oid(dotted));
  int idx = X509_get_ext_by_OBJ(x, oid.get(), -1);
  if (idx < 0) return std::optional<std::string_view>();
  if (X509_get_ext_by_OBJ(x, oid.get(), idx) >= 0) {
    return InvalidArgument(std::string("certificate: extension ") + dotted + " appears more than once");
  }
  return std::optional<std::string_view>(View(X509_EXTENSION_get_data(X509_get_ext(x, idx))));
}

// The OIDC issuer (Fulcio certificate specification): .1.8 holds a DER
// UTF8String inside extnValue, the deprecated .1.1 the raw bytes. Both are
// checked when both are present; .1.8 wins.
StatusOr<std::string> FulcioIssuer(X509* x) {
  ASSIGN_OR_RETURN(auto v2, ExtensionValue(x, kFulcioIssuerV2Oid));
  ASSIGN_OR_RETURN(auto v1, ExtensionValue(x, kFulcioIssuerV1Oid));
  std::string issuer;
  if (v1) {
    if (!IsCleanUtf8(*v1)) {
      return InvalidArgument(std::string("certificate: issuer extension ") + kFulcioIssuerV1Oid +
                             " is not UTF-8 text: " + Quote(*v1, 80));
    }
    issuer = std::string(*v1);
  }
  if (v2) {
    const unsigned char* p = Bytes(*v2);
    Asn1StringPtr s(d2i_ASN1_UTF8STRING(nullptr, &p, static_cast<long>(v2->size())));
    if (!s || p != Bytes(*v2) + v2->size()) {
      ERR_clear_error();
      return InvalidArgument(std::string("certificate: issuer extension ") + kFulcioIssuerV2Oid +
                             " is not a DER UTF8String");
    }
    if (!IsCleanUtf8(View(s.get()))) {
      return InvalidArgument(std::string("certificate: issuer extension ") + kFulcioIssuerV2Oid +
                             " is not UTF-8 text: " + Quote(View(s.get()), 80));
    }
    issuer = std::string(View(s.get()));
  }
  return issuer;
}

// The one subjectAltName value: rfc822Name, URI, or Fulcio's username
// otherName. Fulcio issues exactly one; more would make "the" identity a
// choice.
StatusOr<std::string> FulcioSubject(X509* x) {
  int crit = 0;
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, &crit, nullptr)));
  if (!names) {
    ERR_clear_error();
    if (crit == -1) return InvalidArgument("certificate: no subjectAltName extension");
    if (crit == -2) return InvalidArgument("certificate: subjectAltName extension appears more than once");
    return InvalidArgument("certificate: malformed subjectAltName extension");
  }
  int n = sk_GENERAL_NAME_num(names.get());
  if (n != 1) {
    return InvalidArgument("certificate: subjectAltName holds " + std::to_string(n) + " values, expected exactly one");
  }
  const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), 0);
  std::string value;
  if (gn->type == GEN_EMAIL) {
    value = std::string(View(gn->d.rfc822Name));
  } else if (gn->type == GEN_URI) {
    value = std::string(View(gn->d.uniformResourceIdentifier));
  } else if (gn->type == GEN_OTHERNAME) {
    ASSIGN_OR_RETURN(Asn1ObjectPtr username, Oid(kFulcioUsernameOid));
    const OTHERNAME* other = gn->d.otherName;
    if (OBJ_cmp(other->type_id, username.get()) != 0) {
      char oid[80];
      OBJ_obj2txt(oid, sizeof oid, other->type_id, 1);
      return InvalidArgument(std::string("certificate: subjectAltName otherName of type ") + oid +
                             " is not supported (" + kFulcioUsernameOid + " is)");
    }
    if (other->value == nullptr || other->value->type != V_ASN1_UTF8STRING) {
      return InvalidArgument("certificate: subjectAltName otherName value is not a UTF8String");
    }
    value = std::string(View(other->value->value.utf8string));
  } else {
    return InvalidArgument("certificate: subjectAltName of type " + std::to_string(gn->type) +
                           " is not supported (email, URI and the Fulcio username otherName are)");
  }
  if (value.empty()) return InvalidArgument("certificate: subjectAltName value is empty");
  if (!IsCleanUtf8(value)) return InvalidArgument("certificate: subjectAltName is not UTF-8 text: " + Quote(value, 80));
  return value;
}

// A certificate of a trusted root (Fulcio CA or TSA chain), decoded once per
// process: OpenSSL 3.0 spends longer decoding a certificate than verifying
// a signature (bench/README.md, issue 10), and every keyless verification
// decodes the same few. Trusted roots are files the operator delivers, so
// the cache holds a handful; it stops growing at kMaxCachedTrustedCerts.
// Bundle certificates (untrusted input) are never cached. The X509 objects
// are shared read-only (X509_up_ref), which OpenSSL allows across threads.
constexpr size_t kMaxCachedTrustedCerts = 256;

StatusOr<ossl::X509Ptr> TrustedCertificate(const std::string& der, const std::string& what) {
  static Mutex mu;
  static auto* cache = new std::map<std::string, ossl::X509Ptr>();  // never destroyed: used until exit
  {
    MutexLock l(&mu);
    if (auto it = cache->find(der); it != cache->end()) {
      X509_up_ref(it->second.get());
      return ossl::X509Ptr(it->second.get());
    }
  }
  ASSIGN_OR_RETURN(ossl::X509Ptr x, ParseDer(der, what));
  MutexLock l(&mu);
  if (cache->size() < kMaxCachedTrustedCerts && cache->find(der) == cache->end()) {
    X509_up_ref(x.get());
    cache->emplace(der, ossl::X509Ptr(x.get()));
  }
  return x;
}

// A trust store for one CA of the trusted root (Fulcio or TSA): the last
// certificate of its chain as the anchor, the others as untrusted helpers,
// verification at `at`, partial chains when the anchor is not self-signed.
struct Trust {
  X509StorePtr store;
  X509StackPtr intermediates;
};

StatusOr<Trust> MakeTrust(const CertificateAuthority& ca, int64_t at, const std::string& step) {
  Trust t{X509StorePtr(X509_STORE_new()), X509StackPtr(sk_X509_new_null())};
  if (!t.store || !t.intermediates) return Internal(step + ": out of memory");
  if (ca.chain_der.empty()) return InvalidArgument(step + ": authority " + Quote(ca.uri, 80) + " has no certificates");
  for (size_t i = 0; i < ca.chain_der.size(); ++i) {
    ASSIGN_OR_RETURN(ossl::X509Ptr x,
                     TrustedCertificate(ca.chain_der[i], step + ": certificate " + std::to_string(i) +
                                                             " of authority " + Quote(ca.uri, 80)));
    if (i + 1 == ca.chain_der.size()) {
      if (X509_self_signed(x.get(), 0) != 1) X509_STORE_set_flags(t.store.get(), X509_V_FLAG_PARTIAL_CHAIN);
      if (X509_STORE_add_cert(t.store.get(), x.get()) != 1) return Internal(step + ": " + ossl::DrainErrors());
    } else {
      if (sk_X509_push(t.intermediates.get(), x.get()) <= 0) return Internal(step + ": out of memory");
      x.release();
    }
  }
  ERR_clear_error();
  X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(t.store.get()), static_cast<time_t>(at));
  return t;
}

// Go's crypto/x509 (what sigstore-go uses) applies the requested EKU to the
// whole chain: a certificate that lists extended key usages must list
// codeSigning or anyExtendedKeyUsage. The leaf must list codeSigning.
// Returns the reason, without the step, or nullopt.
std::optional<std::string> CodeSigningProblem(X509* x, int depth) {
  bool has_eku = (X509_get_extension_flags(x) & EXFLAG_XKUSAGE) != 0;
  uint32_t eku = X509_get_extended_key_usage(x);
  if (depth == 0 && (!has_eku || (eku & XKU_CODE_SIGN) == 0)) {
    return "the certificate lacks the codeSigning extended key usage";
  }
  if (has_eku && (eku & (XKU_CODE_SIGN | XKU_ANYEKU)) == 0) {
    return "the CA certificate at depth " + std::to_string(depth) +
           " restricts extended key usage and excludes codeSigning";
  }
  return std::nullopt;
}

// X509_verify_cert against one CA. Returns the chain, or InvalidArgument
// with the reason (no step prefix); a broken CA or a library failure comes
// back prefixed, or with another code.
StatusOr<std::vector<std::string>> VerifyWithCa(X509* leaf, const std::vector<X509*>& untrusted,
                                                const CertificateAuthority& ca, int64_t at) {
  ASSIGN_OR_RETURN(Trust trust, MakeTrust(ca, at, "certificate chain"));
  for (X509* x : untrusted) {
    if (sk_X509_push(trust.intermediates.get(), x) <= 0) return Internal("certificate chain: out of memory");
    X509_up_ref(x);
  }
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), trust.store.get(), leaf, trust.intermediates.get()) != 1) {
    return Internal("certificate chain: " + ossl::DrainErrors());
  }
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()), static_cast<time_t>(at));
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    ERR_clear_error();
    return InvalidArgument(std::string(X509_verify_cert_error_string(err)) + " (depth " + std::to_string(depth) +
                           ", at " + FormatTime(at) + ")");
  }
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
  std::vector<std::string> out;
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    X509* x = sk_X509_value(chain, i);
    if (auto problem = CodeSigningProblem(x, i)) return InvalidArgument(*problem);
    ASSIGN_OR_RETURN(std::string der, ToDer(x));
    out.push_back(std::move(der));
  }
  return out;
}

// RFC 6962 §3.3: the precertificate's TBSCertificate is the final
// certificate's with the SCT list extension removed, re-encoded by OpenSSL
// (as its own CT code does: X509_dup, X509_delete_ext, i2d_re_X509_tbs).
StatusOr<std::string> PrecertTbs(X509* leaf) {
  ossl::X509Ptr precert(X509_dup(leaf));
  if (!precert) return Internal("SCT: " + ossl::DrainErrors());
  int idx = X509_get_ext_by_NID(precert.get(), NID_ct_precert_scts, -1);
  if (idx < 0) return Internal("SCT: the SCT list extension vanished");
  X509ExtensionPtr removed(X509_delete_ext(precert.get(), idx));
  unsigned char* tbs = nullptr;
  int len = i2d_re_X509_tbs(precert.get(), &tbs);
  if (len <= 0) return Internal("SCT: cannot encode the TBSCertificate: " + ossl::DrainErrors());
  OpensslBytes owner(tbs);
  if (len >= (1 << 24)) return InvalidArgument("SCT: the TBSCertificate is too large");
  return std::string(reinterpret_cast<char*>(tbs), len);
}

// RFC 6962 §3.2 digitally-signed struct of a precert_entry SCT.
std::string PrecertSignedData(std::string_view tbs, std::string_view issuer_key_hash, const SCT* sct) {
  unsigned char* ext = nullptr;
  size_t ext_len = SCT_get0_extensions(sct, &ext);  // < 64 KiB: it came from a uint16 length
  std::string d;
  d.reserve(48 + tbs.size() + ext_len);
  d.push_back('\0');  // sct_version v1
  d.push_back('\0');  // signature_type certificate_timestamp
  uint64_t ts = SCT_get_timestamp(sct);
  for (int shift = 56; shift >= 0; shift -= 8) d.push_back(static_cast<char>((ts >> shift) & 0xff));
  d.push_back('\0');  // entry_type precert_entry (1), uint16
  d.push_back('\1');
  d.append(issuer_key_hash);  // SHA-256 of the issuer's SubjectPublicKeyInfo
  d.push_back(static_cast<char>((tbs.size() >> 16) & 0xff));
  d.push_back(static_cast<char>((tbs.size() >> 8) & 0xff));
  d.push_back(static_cast<char>(tbs.size() & 0xff));
  d.append(tbs);
  d.push_back(static_cast<char>((ext_len >> 8) & 0xff));
  d.push_back(static_cast<char>(ext_len & 0xff));
  if (ext_len > 0) d.append(reinterpret_cast<char*>(ext), ext_len);
  return d;
}

// RFC 6962 §2.1.4: SHA-256 with ECDSA (or RSA PKCS#1 v1.5), and the key
// must be of the kind the SCT says.
bool VerifySctSignature(const PublicKey& key, int sig_nid, std::string_view data, std::string_view sig) {
  int want_key = sig_nid == NID_ecdsa_with_SHA256         ? EVP_PKEY_EC
                 : sig_nid == NID_sha256WithRSAEncryption ? EVP_PKEY_RSA
                                                          : 0;
  if (want_key == 0) return false;
  const unsigned char* p = Bytes(key.Der());
  ossl::PkeyPtr pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(key.Der().size())));
  if (!pkey || EVP_PKEY_get_base_id(pkey.get()) != want_key) {
    ERR_clear_error();
    return false;
  }
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), Bytes(sig), sig.size(), Bytes(data), data.size()) == 1;
  ERR_clear_error();
  return ok;
}

const EVP_MD* ImprintDigest(const TS_MSG_IMPRINT* imprint) {
  const X509_ALGOR* algo = TS_MSG_IMPRINT_get_algo(const_cast<TS_MSG_IMPRINT*>(imprint));
  const ASN1_OBJECT* obj = nullptr;
  X509_ALGOR_get0(&obj, nullptr, nullptr, algo);
  switch (OBJ_obj2nid(obj)) {
    case NID_sha256:
      return EVP_sha256();
    case NID_sha384:
      return EVP_sha384();
    case NID_sha512:
      return EVP_sha512();
    default:
      return nullptr;
  }
}

// The token of a DER TimeStampResp (granted) or a bare TimeStampToken.
// `resp` keeps the response alive when the token is inside it.
StatusOr<PKCS7*> ParseTimestampToken(std::string_view der, TsRespPtr& resp, Pkcs7Ptr& bare) {
  const unsigned char* end = Bytes(der) + der.size();
  const unsigned char* p = Bytes(der);
  resp.reset(d2i_TS_RESP(nullptr, &p, static_cast<long>(der.size())));
  if (resp && p == end) {
    long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp.get())));
    // PKIStatus granted (0) or grantedWithMods (1) (RFC 3161 §2.4.2).
    if (status != 0 && status != 1) {
      return InvalidArgument("timestamp: the response's status is " + std::to_string(status) + ", not granted");
    }
    if (TS_RESP_get_token(resp.get()) == nullptr) return InvalidArgument("timestamp: the response carries no token");
    return TS_RESP_get_token(resp.get());
  }
  resp.reset();
  ERR_clear_error();
  p = Bytes(der);
  bare.reset(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
  if (bare && p == end) return bare.get();
  ERR_clear_error();
  return InvalidArgument("timestamp: not a DER TimeStampResp or TimeStampToken (or trailing bytes after it)");
}

}  // namespace

StatusOr<SigningCertificate> ParseSigningCertificate(std::string_view der) {
  ASSIGN_OR_RETURN(ossl::X509Ptr x, ParseDer(der, "certificate"));
  ASSIGN_OR_RETURN(std::string spki, SpkiDer(x.get()));
  auto key = PublicKey::FromDer(spki);
  if (!key.ok()) return key.status().WithPrefix("certificate");
  ASSIGN_OR_RETURN(std::string issuer, FulcioIssuer(x.get()));
  ASSIGN_OR_RETURN(std::string subject, FulcioSubject(x.get()));
  auto nb = UnixSeconds(X509_get0_notBefore(x.get()));
  auto na = UnixSeconds(X509_get0_notAfter(x.get()));
  if (!nb.ok() || !na.ok()) return InvalidArgument("certificate: malformed validity");
  return SigningCertificate{
      std::string(der), std::move(spki), std::move(*key), std::move(issuer), std::move(subject), *nb, *na};
}

StatusOr<std::vector<std::string>> VerifyCertificateChain(std::string_view leaf_der,
                                                          const std::vector<std::string>& untrusted,
                                                          const std::vector<CertificateAuthority>& cas, int64_t at) {
  ASSIGN_OR_RETURN(ossl::X509Ptr leaf, ParseDer(leaf_der, "certificate chain: the certificate"));
  if (untrusted.size() > kMaxIntermediates) {
    return ResourceExhausted("certificate chain: more than " + std::to_string(kMaxIntermediates) +
                             " intermediate certificates");
  }
  // A self-signed certificate from the bundle is a root the signer chose:
  // never a trust anchor, not even a link (bundle-with-root-cert_fail).
  std::vector<ossl::X509Ptr> owned;
  std::vector<X509*> intermediates;
  for (size_t i = 0; i < untrusted.size(); ++i) {
    ASSIGN_OR_RETURN(ossl::X509Ptr x,
                     ParseDer(untrusted[i], "certificate chain: intermediate certificate " + std::to_string(i)));
    if (X509_self_signed(x.get(), 0) != 0) continue;
    intermediates.push_back(x.get());
    owned.push_back(std::move(x));
  }
  ERR_clear_error();

  // Fulcio leaves live ten minutes; say so plainly rather than "expired".
  auto nb = UnixSeconds(X509_get0_notBefore(leaf.get()));
  auto na = UnixSeconds(X509_get0_notAfter(leaf.get()));
  if (!nb.ok() || !na.ok()) return InvalidArgument("certificate chain: the certificate has a malformed validity");
  if (at < *nb || at > *na) {
    return InvalidArgument("certificate chain: " + FormatTime(at) + " is outside the certificate's validity (" +
                           FormatTime(*nb) + " to " + FormatTime(*na) + ")");
  }
  if (auto problem = CodeSigningProblem(leaf.get(), 0)) return InvalidArgument("certificate chain: " + *problem);

  std::string reasons;
  size_t tried = 0;
  for (size_t i = 0; i < cas.size(); ++i) {
    const CertificateAuthority& ca = cas[i];
    if (!ca.valid_for.Contains(at)) continue;
    ++tried;
    auto chain = VerifyWithCa(leaf.get(), intermediates, ca, at);
    if (chain.ok()) return chain;
    if (chain.status().code() != StatusCode::kInvalidArgument ||
        chain.status().message().rfind("certificate chain", 0) == 0) {
      return chain.status();  // a broken trusted root or a library failure, not a verdict on this leaf
    }
    if (!reasons.empty()) reasons += "; ";
    // Public-good CAs share one URI: the index tells them apart.
    reasons += (cas.size() > 1 ? "certificate authority " + std::to_string(i) + " (" + Quote(ca.uri, 80) + "): " : "") +
               chain.status().message();
  }
  if (tried == 0) {
    return InvalidArgument("certificate chain: no certificate authority of the trusted root is valid at " +
                           FormatTime(at));
  }
  return InvalidArgument("certificate chain: " + reasons);
}

Status VerifyEmbeddedSct(std::string_view leaf_der, std::string_view issuer_der,
                         const std::vector<TransparencyLogInstance>& ctlogs) {
  if (ctlogs.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(ossl::X509Ptr leaf, ParseDer(leaf_der, "SCT: the certificate"));
  ASSIGN_OR_RETURN(ossl::X509Ptr issuer, ParseDer(issuer_der, "SCT: the issuer certificate"));
  if (X509_check_issued(issuer.get(), leaf.get()) != X509_V_OK) {
    ERR_clear_error();
    return InvalidArgument("SCT: the issuer certificate did not issue the certificate");
  }
  int crit = 0;
  SctListPtr scts(static_cast<STACK_OF(SCT)*>(X509_get_ext_d2i(leaf.get(), NID_ct_precert_scts, &crit, nullptr)));
  if (!scts) {
    ERR_clear_error();
    if (crit == -1) return InvalidArgument("SCT: the certificate has no embedded SCT list");
    if (crit == -2) return InvalidArgument("SCT: the SCT list extension appears more than once");
    return InvalidArgument("SCT: malformed SCT list extension");
  }
  if (sk_SCT_num(scts.get()) == 0) return InvalidArgument("SCT: the embedded SCT list is empty");

  ASSIGN_OR_RETURN(std::string issuer_spki, SpkiDer(issuer.get()));
  const std::string issuer_key_hash = Sha256(issuer_spki);
  ASSIGN_OR_RETURN(const std::string tbs, PrecertTbs(leaf.get()));
  // OpenSSL's SCT_validate needs a CTLOG_STORE, which OpenSSL 3.0 fills
  // only from a file (CTLOG_STORE_load_file; no public add function), and
  // nothing here reads files. So OpenSSL parses the list and we build the
  // signed data (RFC 6962 §3.2) and verify it with EVP.
  std::string reasons;
  auto note = [&reasons](const std::string& r) {
    if (!reasons.empty()) reasons += "; ";
    reasons += r;
  };
  for (int i = 0; i < sk_SCT_num(scts.get()); ++i) {
    const SCT* sct = sk_SCT_value(scts.get(), i);
    if (SCT_get_version(sct) != SCT_VERSION_V1) {
      note("SCT " + std::to_string(i) + " is not version 1");
      continue;
    }
    unsigned char* id = nullptr;
    size_t id_len = SCT_get0_log_id(sct, &id);
    std::string log_id(reinterpret_cast<char*>(id), id_len);
    const TransparencyLogInstance* log = nullptr;
    for (const TransparencyLogInstance& l : ctlogs) {
      if (l.log_id == log_id) log = &l;
    }
    if (log == nullptr) {
      note("SCT " + std::to_string(i) + " is from unknown log " + HexEncode(log_id));
      continue;
    }
    const uint64_t ms = SCT_get_timestamp(sct);
    const int64_t seconds = static_cast<int64_t>(ms / 1000);
    if (!log->valid_for.Contains(seconds)) {
      note("SCT " + std::to_string(i) + " time " + FormatTime(seconds) + " is outside the validity of log " +
           Quote(log->base_url, 80));
      continue;
    }
    const std::string data = PrecertSignedData(tbs, issuer_key_hash, sct);
    unsigned char* sig = nullptr;
    size_t sig_len = SCT_get0_signature(sct, &sig);
    if (VerifySctSignature(log->key, SCT_get_signature_nid(sct), data,
                           std::string_view(reinterpret_cast<char*>(sig), sig_len))) {
      return Status::Ok();
    }
    note("SCT " + std::to_string(i) + " signature by log " + Quote(log->base_url, 80) + " does not verify");
  }
  return InvalidArgument("SCT: no valid SCT from a trusted CT log (" + reasons + ")");
}

StatusOr<int64_t> VerifyRfc3161Timestamp(std::string_view token_der, std::string_view signature,
                                         const std::vector<CertificateAuthority>& tsas) {
  if (token_der.size() > kMaxTimestampBytes) return ResourceExhausted("timestamp: token is larger than 64 KiB");
  if (tsas.empty()) return InvalidArgument("timestamp: the trusted root lists no timestamp authority");
  TsRespPtr resp;
  Pkcs7Ptr bare;
  ASSIGN_OR_RETURN(PKCS7 * token, ParseTimestampToken(token_der, resp, bare));
  TstInfoPtr info(PKCS7_to_TS_TST_INFO(token));
  if (!info) {
    ERR_clear_error();
    return InvalidArgument("timestamp: the token holds no TSTInfo");
  }
  auto gen_time = UnixSeconds(TS_TST_INFO_get_time(info.get()));
  if (!gen_time.ok()) return InvalidArgument("timestamp: malformed genTime");

  // The imprint is over the raw signature bytes (client-spec §4), with the
  // token's own SHA-2 algorithm; TS_VFY_IMPRINT compares it.
  const EVP_MD* md = ImprintDigest(TS_TST_INFO_get_msg_imprint(info.get()));
  if (md == nullptr) return InvalidArgument("timestamp: the message imprint's hash is not SHA-256, SHA-384 or SHA-512");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (EVP_Digest(signature.data(), signature.size(), digest, &digest_len, md, nullptr) != 1) {
    return Internal("timestamp: " + ossl::DrainErrors());
  }

  std::string reasons;
  size_t tried = 0;
  for (size_t i = 0; i < tsas.size(); ++i) {
    const CertificateAuthority& tsa = tsas[i];
    if (!tsa.valid_for.Contains(*gen_time)) continue;
    ++tried;
    // The store's time is the token's genTime: OpenSSL's TS code builds its
    // own X509_STORE_CTX from the store, inheriting its parameters.
    ASSIGN_OR_RETURN(Trust trust, MakeTrust(tsa, *gen_time, "timestamp"));
    TsVerifyCtxPtr ctx(TS_VERIFY_CTX_new());
    if (!ctx) return Internal("timestamp: out of memory");
    TS_VERIFY_CTX_set_flags(ctx.get(), TS_VFY_VERSION | TS_VFY_IMPRINT | TS_VFY_SIGNATURE | TS_VFY_SIGNER);
    unsigned char* imprint = static_cast<unsigned char*>(OPENSSL_memdup(digest, digest_len));
    if (imprint == nullptr) return Internal("timestamp: out of memory");
    TS_VERIFY_CTX_set_imprint(ctx.get(), imprint, digest_len);          // the context owns it now
    TS_VERIFY_CTX_set_store(ctx.get(), trust.store.release());          // and the store
    TS_VERIFY_CTX_set_certs(ctx.get(), trust.intermediates.release());  // and the TSA's intermediates
    if (TS_RESP_verify_token(ctx.get(), token) == 1) {
      ERR_clear_error();
      return *gen_time;
    }
    if (!reasons.empty()) reasons += "; ";
    reasons += (tsas.size() > 1 ? "timestamp authority " + std::to_string(i) + " (" + Quote(tsa.uri, 80) + "): " : "") +
               DrainErrorsWithData();
  }
  if (tried == 0) {
    return InvalidArgument("timestamp: no timestamp authority of the trusted root is valid at the token's time " +
                           FormatTime(*gen_time));
  }
  return InvalidArgument("timestamp: " + reasons);
}

}  // namespace provgate
