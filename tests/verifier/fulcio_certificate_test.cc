// Fulcio signing certificates: the identity they claim, path validation at
// the signing time, the embedded SCT and RFC 3161 timestamps. Real data: the
// public-good Sigstore bundle recorded by sigstore/model-transparency (OMS
// fixtures) against the public-good trusted root. Synthetic data: CAs and
// leaves built here with OpenSSL's X509 API, for the rules real data cannot
// break (same-DN impostor CAs, missing EKU, SAN and issuer encodings).
#include <doctest/doctest.h>

#include <openssl/evp.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/encoding.h"
#include "tests/test_util.h"
#include "verifier/fulcio_certificate.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

// ---------------------------------------------------------------- real data

// Whole seconds of an RFC 3339 UTC time ("2022-04-13T20:06:15Z", fractions dropped).
int64_t ParseRfc3339(const std::string& s) {
  struct tm tm {};
  REQUIRE_MESSAGE(strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) != nullptr, s);
  return static_cast<int64_t>(timegm(&tm));
}

ValidityWindow Window(const nlohmann::json& valid_for) {
  ValidityWindow w;
  if (valid_for.contains("start")) w.start = ParseRfc3339(valid_for["start"]);
  if (valid_for.contains("end")) w.end = ParseRfc3339(valid_for["end"]);
  return w;
}

std::string B64(const nlohmann::json& v) {
  auto raw = Base64Decode(v.get<std::string>());
  REQUIRE(raw.has_value());
  return *raw;
}

// The v1.1.0-sigstore bundle's material and the public-good trusted root,
// read here directly (not through ParseTrustedRoot).
struct RealData {
  std::string leaf, timestamp, signature;
  int64_t integrated_time = 0;
  std::vector<CertificateAuthority> cas;        // [0]: 2021 root only; [1]: sigstore-intermediate + root
  std::vector<TransparencyLogInstance> ctlogs;  // [0]: ctfe /test; [1]: ctfe /2022
  std::vector<CertificateAuthority> tsas;
};

std::optional<RealData> LoadRealData() {
  const std::string dir = OmsFixtureDir();
  if (dir.empty()) return std::nullopt;
  RealData d;
  auto bundle = nlohmann::json::parse(ReadFile(dir + "/v1.1.0-sigstore/model.sig"));
  const auto& vm = bundle["verificationMaterial"];
  d.leaf = B64(vm["certificate"]["rawBytes"]);
  d.integrated_time = std::stoll(vm["tlogEntries"][0]["integratedTime"].get<std::string>());
  d.timestamp = B64(vm["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"]);
  d.signature = B64(bundle["dsseEnvelope"]["signatures"][0]["sig"]);
  auto root = nlohmann::json::parse(ReadFile(dir + "/public_good_trusted_root.json"));
  auto authority = [](const nlohmann::json& j) {
    CertificateAuthority ca;
    ca.uri = j["uri"];
    for (const auto& c : j["certChain"]["certificates"]) ca.chain_der.push_back(B64(c["rawBytes"]));
    ca.valid_for = Window(j["validFor"]);
    return ca;
  };
  for (const auto& j : root["certificateAuthorities"]) d.cas.push_back(authority(j));
  for (const auto& j : root["timestampAuthorities"]) d.tsas.push_back(authority(j));
  for (const auto& j : root["ctlogs"]) {
    auto key = PublicKey::FromDer(B64(j["publicKey"]["rawBytes"]));
    REQUIRE(key.ok());
    d.ctlogs.push_back(
        TransparencyLogInstance{j["baseUrl"], B64(j["logId"]["keyId"]), "", *key, Window(j["publicKey"]["validFor"])});
  }
  REQUIRE(d.cas.size() == 2);
  REQUIRE(d.cas[1].chain_der.size() == 2);
  REQUIRE(d.ctlogs.size() == 2);
  REQUIRE(d.tsas.size() == 1);
  return d;
}

#define REAL_DATA_OR_SKIP(d)                                         \
  auto d##_loaded = LoadRealData();                                  \
  if (!d##_loaded) {                                                 \
    MESSAGE("skipped: no OMS fixtures (set PROVGATE_OMS_FIXTURES)"); \
    return;                                                          \
  }                                                                  \
  const RealData& d = *d##_loaded

// `s` with the first occurrence of `from` replaced by `to` (same length).
std::string Patch(std::string s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, from);
  s.replace(at, from.size(), to);
  return s;
}

void CheckFails(const Status& st, const std::string& want) {
  REQUIRE_FALSE(st.ok());
  CHECK_MESSAGE(st.message().find(want) != std::string::npos, st.message());
}

// ---------------------------------------------------------------- synthetic

using Key = std::shared_ptr<EVP_PKEY>;
using Cert = std::shared_ptr<X509>;  // freed by X509_free

Key NewKey(const char* curve = "P-256") {
  Key k(EVP_EC_gen(curve), EVP_PKEY_free);
  REQUIRE(k);
  return k;
}

constexpr int64_t kT0 = 1700000000;  // the synthetic signing time

struct San {
  int type;  // GEN_EMAIL, GEN_URI, GEN_DNS, GEN_OTHERNAME
  std::string value;
  std::string other_oid = "1.3.6.1.4.1.57264.1.7";
};

struct Spec {
  std::string cn;  // empty: empty subject, as Fulcio leaves have
  bool ca = false;
  long serial = 1;
  int64_t not_before = kT0 - 86400 * 365;
  int64_t not_after = kT0 + 86400 * 365;
  std::vector<San> sans;
  std::string eku;                       // e.g. "codeSigning"; empty: no EKU extension
  std::optional<std::string> issuer_v2;  // extnValue bytes of .1.8, as given
  std::optional<std::string> issuer_v1;  // extnValue bytes of .1.1
  int issuer_v2_copies = 1;
};

std::string DerUtf8(const std::string& s) {  // DER UTF8String, short form
  REQUIRE(s.size() < 128);
  return std::string("\x0c", 1) + static_cast<char>(s.size()) + s;
}

void AddConf(X509* x, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, x, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  REQUIRE(ext != nullptr);
  REQUIRE(X509_add_ext(x, ext, -1) == 1);
  X509_EXTENSION_free(ext);
}

void AddRaw(X509* x, const char* oid, const std::string& value) {
  ASN1_OBJECT* obj = OBJ_txt2obj(oid, 1);
  ASN1_OCTET_STRING* os = ASN1_OCTET_STRING_new();
  REQUIRE(
      ASN1_OCTET_STRING_set(os, reinterpret_cast<const unsigned char*>(value.data()), static_cast<int>(value.size())));
  X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, 0, os);
  REQUIRE(ext != nullptr);
  REQUIRE(X509_add_ext(x, ext, -1) == 1);
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(os);
  ASN1_OBJECT_free(obj);
}

void AddSans(X509* x, const std::vector<San>& sans) {
  GENERAL_NAMES* names = sk_GENERAL_NAME_new_null();
  for (const San& s : sans) {
    GENERAL_NAME* gn = GENERAL_NAME_new();
    if (s.type == GEN_OTHERNAME) {
      ASN1_TYPE* value = ASN1_TYPE_new();
      ASN1_UTF8STRING* utf8 = ASN1_UTF8STRING_new();
      ASN1_STRING_set(utf8, s.value.data(), static_cast<int>(s.value.size()));
      ASN1_TYPE_set(value, V_ASN1_UTF8STRING, utf8);
      REQUIRE(GENERAL_NAME_set0_othername(gn, OBJ_txt2obj(s.other_oid.c_str(), 1), value) == 1);
    } else {
      ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
      ASN1_STRING_set(ia5, s.value.data(), static_cast<int>(s.value.size()));
      GENERAL_NAME_set0_value(gn, s.type, ia5);
    }
    sk_GENERAL_NAME_push(names, gn);
  }
  REQUIRE(X509_add1_ext_i2d(x, NID_subject_alt_name, names, 1, X509V3_ADD_DEFAULT) == 1);
  GENERAL_NAMES_free(names);
}

struct Issued {
  Cert cert;
  std::string der;
};

// A certificate for `key` per `spec`, signed by `issuer_key` as `issuer`
// (self-signed when `issuer` is null).
Issued MakeCert(const Spec& spec, const Key& key, const Issued* issuer, const Key& issuer_key) {
  Cert x(X509_new(), X509_free);
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), spec.serial);
  X509_NAME* name = X509_get_subject_name(x.get());
  if (!spec.cn.empty()) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("example.test"), -1, -1,
                               0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1,
                               -1, 0);
  }
  X509_set_issuer_name(x.get(), issuer ? X509_get_subject_name(issuer->cert.get()) : name);
  ASN1_TIME_set(X509_getm_notBefore(x.get()), static_cast<time_t>(spec.not_before));
  ASN1_TIME_set(X509_getm_notAfter(x.get()), static_cast<time_t>(spec.not_after));
  X509_set_pubkey(x.get(), key.get());
  X509* signer = issuer ? issuer->cert.get() : x.get();
  if (spec.ca) {
    AddConf(x.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    AddConf(x.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddConf(x.get(), signer, NID_key_usage, "critical,digitalSignature");
  }
  if (!spec.eku.empty()) AddConf(x.get(), signer, NID_ext_key_usage, spec.eku);
  if (!spec.sans.empty()) AddSans(x.get(), spec.sans);
  if (spec.issuer_v1) AddRaw(x.get(), kFulcioIssuerV1Oid, *spec.issuer_v1);
  for (int i = 0; spec.issuer_v2 && i < spec.issuer_v2_copies; ++i)
    AddRaw(x.get(), kFulcioIssuerV2Oid, *spec.issuer_v2);
  REQUIRE(X509_sign(x.get(), issuer_key.get(), EVP_sha256()) > 0);
  unsigned char* der = nullptr;
  int len = i2d_X509(x.get(), &der);
  REQUIRE(len > 0);
  Issued out{x, std::string(reinterpret_cast<char*>(der), len)};
  OPENSSL_free(der);
  return out;
}

Spec CaSpec(std::string cn, long serial = 1, std::string eku = "") {
  Spec s;
  s.cn = std::move(cn);
  s.ca = true;
  s.serial = serial;
  s.eku = std::move(eku);
  return s;
}

Spec LeafSpec() {
  Spec s;
  s.serial = 42;
  s.not_before = kT0 - 300;
  s.not_after = kT0 + 300;
  s.sans = {{GEN_URI, "https://github.com/example/repo/.github/workflows/release.yml@refs/heads/main"}};
  s.eku = "codeSigning";
  s.issuer_v2 = DerUtf8("https://token.actions.githubusercontent.com");
  return s;
}

// A private PKI: root -> intermediate -> leaf, plus an impostor root with the
// root's subject DN and another key.
struct Pki {
  Key root_key = NewKey(), intermediate_key = NewKey(), leaf_key = NewKey(), impostor_key = NewKey();
  Issued root = MakeCert(CaSpec("test-root"), root_key, nullptr, root_key);
  Issued impostor = MakeCert(CaSpec("test-root"), impostor_key, nullptr, impostor_key);
  Issued intermediate = MakeCert(CaSpec("test-intermediate", 2, "codeSigning"), intermediate_key, &root, root_key);
  Issued leaf = MakeCert(LeafSpec(), leaf_key, &intermediate, intermediate_key);

  CertificateAuthority Ca(std::vector<std::string> chain) const {
    CertificateAuthority ca;
    ca.uri = "https://fulcio.example.test";
    ca.chain_der = std::move(chain);
    return ca;
  }
  CertificateAuthority Full() const { return Ca({intermediate.der, root.der}); }
};

}  // namespace

// ==================================================================== real

TEST_CASE("real public-good certificate: identity, chain, SCT and timestamp verify") {
  REAL_DATA_OR_SKIP(d);
  auto cert = ParseSigningCertificate(d.leaf);
  REQUIRE_MESSAGE(cert.ok(), cert.status().ToString());
  CHECK(cert->subject == "stefanb@us.ibm.com");
  CHECK(cert->issuer == "https://sigstore.verify.ibm.com/oauth2");
  CHECK(cert->key.type() == KeyType::kEcdsaP256);
  CHECK(cert->key.Der() == cert->spki_der);
  CHECK(cert->der == d.leaf);
  CHECK(cert->not_after - cert->not_before == 600);  // Fulcio's ten minutes
  CHECK(cert->not_before <= d.integrated_time);
  CHECK(d.integrated_time <= cert->not_after);

  // Every CA of the root is offered; the 2021 one is out of its window.
  auto chain = VerifyCertificateChain(d.leaf, {}, d.cas, d.integrated_time);
  REQUIRE_MESSAGE(chain.ok(), chain.status().ToString());
  REQUIRE(chain->size() == 3);
  CHECK((*chain)[0] == d.leaf);
  CHECK((*chain)[1] == d.cas[1].chain_der[0]);  // sigstore-intermediate
  CHECK((*chain)[2] == d.cas[1].chain_der[1]);  // sigstore root

  struct Pass {
    std::string name;
    std::vector<std::string> untrusted;
    std::vector<CertificateAuthority> cas;
    size_t chain_size;
  };
  CertificateAuthority intermediate_only = d.cas[1], root_only = d.cas[1];
  intermediate_only.chain_der = {d.cas[1].chain_der[0]};
  root_only.chain_der = {d.cas[1].chain_der[1]};
  Pass passes[] = {
      {"the intermediate as anchor (partial chain)", {}, {intermediate_only}, 2},
      {"the root as anchor, the intermediate from the bundle", {d.cas[1].chain_der[0]}, {root_only}, 3},
  };
  for (const Pass& p : passes) {
    INFO(p.name);
    auto c = VerifyCertificateChain(d.leaf, p.untrusted, p.cas, d.integrated_time);
    REQUIRE_MESSAGE(c.ok(), c.status().ToString());
    CHECK(c->size() == p.chain_size);
  }

  Status sct = VerifyEmbeddedSct(d.leaf, (*chain)[1], d.ctlogs);
  CHECK_MESSAGE(sct.ok(), sct.ToString());
  CHECK(VerifyEmbeddedSct(d.leaf, (*chain)[1], {d.ctlogs[1]}).ok());
  CHECK(VerifyEmbeddedSct(d.leaf, (*chain)[1], {}).ok());  // no CT logs: nothing to check

  auto gen_time = VerifyRfc3161Timestamp(d.timestamp, d.signature, d.tsas);
  REQUIRE_MESSAGE(gen_time.ok(), gen_time.status().ToString());
  CHECK(*gen_time >= d.integrated_time - 60);
  CHECK(*gen_time <= d.integrated_time + 60);
  CHECK(*gen_time >= cert->not_before);
  CHECK(*gen_time <= cert->not_after);
  // The chain verifies at the TSA's time as well (client-spec: every time).
  CHECK(VerifyCertificateChain(d.leaf, {}, d.cas, *gen_time).ok());

  // The bare TimeStampToken inside the response; the TSA leaf as the anchor.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(d.timestamp.data());
  TS_RESP* resp = d2i_TS_RESP(nullptr, &p, static_cast<long>(d.timestamp.size()));
  REQUIRE(resp != nullptr);
  unsigned char* der = nullptr;
  int len = i2d_PKCS7(TS_RESP_get_token(resp), &der);
  REQUIRE(len > 0);
  std::string bare(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  TS_RESP_free(resp);
  auto bare_time = VerifyRfc3161Timestamp(bare, d.signature, d.tsas);
  REQUIRE_MESSAGE(bare_time.ok(), bare_time.status().ToString());
  CHECK(*bare_time == *gen_time);
  CertificateAuthority tsa_leaf_only = d.tsas[0];
  tsa_leaf_only.chain_der.resize(1);
  auto partial = VerifyRfc3161Timestamp(d.timestamp, d.signature, {tsa_leaf_only});
  CHECK_MESSAGE(partial.ok(), partial.status().ToString());
}

TEST_CASE("real public-good certificate: the chain must fail outside its windows and CAs") {
  REAL_DATA_OR_SKIP(d);
  auto cert = ParseSigningCertificate(d.leaf);
  REQUIRE(cert.ok());
  CertificateAuthority ca2021_any_time = d.cas[0], ca2022_ended = d.cas[1], ca2022_not_yet = d.cas[1];
  ca2021_any_time.valid_for = ValidityWindow{};
  ca2022_ended.valid_for.end = d.integrated_time - 1;
  ca2022_not_yet.valid_for.start = d.integrated_time + 1;
  std::vector<std::string> eleven(11, d.cas[1].chain_der[0]);
  struct Fail {
    std::string name;
    std::string leaf;
    std::vector<std::string> untrusted;
    std::vector<CertificateAuthority> cas;
    int64_t at;
    const char* reason;
  };
  const char* outside = "is outside the certificate's validity";
  const char* no_ca = "no certificate authority of the trusted root is valid";
  const char* no_issuer = "unable to get local issuer certificate";
  const std::vector<std::string> bundle_2022 = {d.cas[1].chain_der[0], d.cas[1].chain_der[1]};
  const int64_t t = d.integrated_time;
  Fail fails[] = {
      {"an hour after notAfter", d.leaf, {}, d.cas, cert->not_after + 3600, outside},
      {"an hour before notBefore", d.leaf, {}, d.cas, cert->not_before - 3600, outside},
      {"one second after notAfter", d.leaf, {}, d.cas, cert->not_after + 1, outside},
      {"the 2021 CA only (its window)", d.leaf, {}, {d.cas[0]}, t, no_ca},
      {"the 2021 CA only (any time)", d.leaf, {}, {ca2021_any_time}, t, no_issuer},
      // The 2022 root is self-signed and dropped; the 2021 root has its DN, not its key.
      {"the 2021 CA, the bundle carrying the 2022 chain", d.leaf, bundle_2022, {ca2021_any_time}, t, no_issuer},
      {"the CA window ended before", d.leaf, {}, {ca2022_ended}, t, no_ca},
      {"the CA window starts after", d.leaf, {}, {ca2022_not_yet}, t, no_ca},
      {"no CA at all", d.leaf, {}, {}, t, "no certificate authority"},
      {"a trailing byte", d.leaf + std::string(1, '\0'), {}, d.cas, t, "1 trailing bytes"},
      {"garbage", "not a certificate", {}, d.cas, t, "is not DER X.509"},
      {"empty", "", {}, d.cas, t, "is empty"},
      {"larger than 64 KiB", std::string(70000, '0'), {}, d.cas, t, "larger than 64 KiB"},
      {"eleven intermediates", d.leaf, eleven, d.cas, t, "more than 10 intermediate"},
      {"a garbage intermediate", d.leaf, {"junk"}, d.cas, t, "intermediate certificate 0 is not DER"},
  };

  for (const Fail& f : fails) {
    INFO(f.name);
    auto c = VerifyCertificateChain(f.leaf, f.untrusted, f.cas, f.at);
    CheckFails(c.status(), f.reason);
    CHECK(c.status().message().rfind("certificate chain: ", 0) == 0);
  }
}

TEST_CASE("real public-good certificate: the SCT must fail with other logs, issuers or bytes") {
  REAL_DATA_OR_SKIP(d);
  const std::string& intermediate = d.cas[1].chain_der[0];
  TransparencyLogInstance ended = d.ctlogs[1], not_yet = d.ctlogs[1], wrong_key = d.ctlogs[1];
  ended.valid_for.end = d.integrated_time - 3600;
  not_yet.valid_for.start = d.integrated_time + 3600;
  wrong_key.key = d.ctlogs[0].key;  // the 2022 log id with the /test key
  // The SAN is inside the TBSCertificate the SCT signs; the SCT signature
  // ends the extension (see `openssl x509 -text`).
  std::string other_san = Patch(d.leaf, "stefanb@us.ibm.com", "stefanc@us.ibm.com");
  std::string sct_sig_tail("\x4e\xf4\x50\x20\xc5\x6b\x5b", 7);
  std::string bad_sct_sig = Patch(d.leaf, sct_sig_tail, std::string("\x4e\xf4\x50\x20\xc5\x6b\x5c", 7));
  struct Fail {
    std::string name;
    std::string leaf, issuer;
    std::vector<TransparencyLogInstance> ctlogs;
    const char* reason;
  };
  Fail fails[] = {
      {"only the /test log", d.leaf, intermediate, {d.ctlogs[0]}, "is from unknown log dd3d306a"},
      {"the 2022 log's window ended before", d.leaf, intermediate, {ended}, "is outside the validity of log"},
      {"the 2022 log's window starts after", d.leaf, intermediate, {not_yet}, "is outside the validity of log"},
      {"another key under the 2022 log id", d.leaf, intermediate, {wrong_key}, "does not verify"},
      {"the root as issuer", d.leaf, d.cas[1].chain_der[1], d.ctlogs, "did not issue"},
      {"the 2021 root as issuer", d.leaf, d.cas[0].chain_der[0], d.ctlogs, "did not issue"},
      {"another SAN in the certificate", other_san, intermediate, d.ctlogs, "does not verify"},
      {"a changed SCT signature", bad_sct_sig, intermediate, d.ctlogs, "does not verify"},
      {"a certificate without SCTs", intermediate, d.cas[1].chain_der[1], d.ctlogs, "no embedded SCT list"},
      {"garbage certificate", "junk", intermediate, d.ctlogs, "is not DER X.509"},
      {"garbage issuer", d.leaf, "junk", d.ctlogs, "issuer certificate is not DER X.509"},
  };
  for (const Fail& f : fails) {
    INFO(f.name);
    Status st = VerifyEmbeddedSct(f.leaf, f.issuer, f.ctlogs);
    CheckFails(st, f.reason);
    CHECK(st.message().rfind("SCT: ", 0) == 0);
  }
}

TEST_CASE("real public-good timestamp: must fail over other bytes, TSAs or encodings") {
  REAL_DATA_OR_SKIP(d);
  std::string other_sig = d.signature;
  other_sig[10] ^= 1;
  CertificateAuthority tsa_ended = d.tsas[0], fulcio_as_tsa = d.cas[1];
  tsa_ended.valid_for.end = d.integrated_time - 3600;
  struct Fail {
    std::string name;
    std::string token, signature;
    std::vector<CertificateAuthority> tsas;
    const char* reason;
  };
  Fail fails[] = {
      {"other signature bytes", d.timestamp, other_sig, d.tsas, "message imprint mismatch"},
      {"an empty signature", d.timestamp, "", d.tsas, "message imprint mismatch"},
      {"no TSA", d.timestamp, d.signature, {}, "lists no timestamp authority"},
      {"the TSA window ended before", d.timestamp, d.signature, {tsa_ended}, "no timestamp authority of the trusted"},
      {"the Fulcio CA as TSA", d.timestamp, d.signature, {fulcio_as_tsa}, "certificate verify error"},
      {"a trailing byte", d.timestamp + std::string(1, '\0'), d.signature, d.tsas, "not a DER TimeStampResp"},
      {"garbage", "junk", d.signature, d.tsas, "not a DER TimeStampResp"},
      {"larger than 64 KiB", std::string(70000, '0'), d.signature, d.tsas, "larger than 64 KiB"},
  };
  for (const Fail& f : fails) {
    INFO(f.name);
    auto t = VerifyRfc3161Timestamp(f.token, f.signature, f.tsas);
    CheckFails(t.status(), f.reason);
    CHECK(t.status().message().rfind("timestamp: ", 0) == 0);
  }
}

TEST_CASE("real public-good certificate: parse refuses trailing and missing bytes") {
  REAL_DATA_OR_SKIP(d);
  struct Fail {
    std::string name;
    std::string der;
    const char* reason;
  };
  Fail fails[] = {
      {"a trailing byte", d.leaf + "x", "certificate has 1 trailing bytes"},
      {"truncated", d.leaf.substr(0, d.leaf.size() - 1), "certificate is not DER X.509"},
  };
  for (const Fail& f : fails) {
    INFO(f.name);
    CheckFails(ParseSigningCertificate(f.der).status(), f.reason);
  }
}

// =============================================================== synthetic

TEST_CASE("synthetic certificates: SAN kinds and the Fulcio issuer extensions") {
  Key root_key = NewKey();
  Issued root = MakeCert(CaSpec("r"), root_key, nullptr, root_key);
  Key key = NewKey();
  auto leaf = [&](Spec s) { return MakeCert(s, key, &root, root_key).der; };
  struct Pass {
    std::string name;
    Spec spec;
    std::string subject, issuer;
  };
  Spec email = LeafSpec(), other = LeafSpec(), legacy = LeafSpec(), both = LeafSpec(), none = LeafSpec();
  email.sans = {{GEN_EMAIL, "dev@example.test"}};
  other.sans = {{GEN_OTHERNAME, "octocat"}};
  legacy.issuer_v2.reset();
  legacy.issuer_v1 = "https://accounts.google.com";
  both.issuer_v1 = "https://legacy.example.test";
  none.issuer_v2.reset();
  Pass passes[] = {
      {"URI SAN, .1.8 issuer", LeafSpec(), LeafSpec().sans[0].value, "https://token.actions.githubusercontent.com"},
      {"email SAN", email, "dev@example.test", "https://token.actions.githubusercontent.com"},
      {"otherName username SAN", other, "octocat", "https://token.actions.githubusercontent.com"},
      {"legacy .1.1 raw issuer when .1.8 is absent", legacy, LeafSpec().sans[0].value, "https://accounts.google.com"},
      {".1.8 preferred when both are present", both, LeafSpec().sans[0].value,
       "https://token.actions.githubusercontent.com"},
      {"no issuer extension", none, LeafSpec().sans[0].value, ""},
  };
  for (const Pass& p : passes) {
    INFO(p.name);
    auto c = ParseSigningCertificate(leaf(p.spec));
    REQUIRE_MESSAGE(c.ok(), c.status().ToString());
    CHECK(c->subject == p.subject);
    CHECK(c->issuer == p.issuer);
    CHECK(c->not_before == kT0 - 300);
    CHECK(c->not_after == kT0 + 300);
  }

  struct Fail {
    std::string name;
    Spec spec;
    const char* reason;
  };
  Spec two = LeafSpec(), no_san = LeafSpec(), dns = LeafSpec(), other_oid = LeafSpec(), nul = LeafSpec(),
       empty_san = LeafSpec();
  two.sans.push_back({GEN_EMAIL, "dev@example.test"});
  no_san.sans.clear();
  dns.sans = {{GEN_DNS, "example.test"}};
  other_oid.sans = {{GEN_OTHERNAME, "octocat", "1.2.3.4"}};
  nul.sans = {{GEN_EMAIL, std::string("dev@example.test\0.evil", 22)}};
  empty_san.sans = {{GEN_URI, ""}};
  Spec v2_raw = LeafSpec(), v2_ia5 = LeafSpec(), v2_trailing = LeafSpec(), v2_twice = LeafSpec(),
       v2_bad_utf8 = LeafSpec(), v1_bad_utf8 = LeafSpec();
  v2_raw.issuer_v2 = "https://token.actions.githubusercontent.com";  // raw, as .1.1 would be
  v2_ia5.issuer_v2 = std::string("\x16\x05hello", 7);
  v2_trailing.issuer_v2 = DerUtf8("https://issuer.example.test") + "x";
  v2_twice.issuer_v2_copies = 2;
  v2_bad_utf8.issuer_v2 = DerUtf8("https://\xff.example.test");
  v1_bad_utf8.issuer_v1 = "https://\xc3\x28.example.test";
  Fail fails[] = {
      {"two SAN values", two, "subjectAltName holds 2 values, expected exactly one"},
      {"no SAN", no_san, "no subjectAltName extension"},
      {"a DNS SAN", dns, "subjectAltName of type 2 is not supported"},
      {"an otherName of another type", other_oid, "otherName of type 1.2.3.4 is not supported"},
      {"a NUL inside the SAN", nul, "subjectAltName is not UTF-8 text"},
      {"an empty SAN", empty_san, "subjectAltName value is empty"},
      {".1.8 holding raw bytes", v2_raw, "1.3.6.1.4.1.57264.1.8 is not a DER UTF8String"},
      {".1.8 holding an IA5String", v2_ia5, "1.3.6.1.4.1.57264.1.8 is not a DER UTF8String"},
      {".1.8 with a trailing byte", v2_trailing, "1.3.6.1.4.1.57264.1.8 is not a DER UTF8String"},
      {".1.8 twice", v2_twice, "extension 1.3.6.1.4.1.57264.1.8 appears more than once"},
      {".1.8 not UTF-8", v2_bad_utf8, "1.3.6.1.4.1.57264.1.8 is not UTF-8 text"},
      {".1.1 not UTF-8 (beside a good .1.8)", v1_bad_utf8, "1.3.6.1.4.1.57264.1.1 is not UTF-8 text"},
  };
  for (const Fail& f : fails) {
    INFO(f.name);
    auto c = ParseSigningCertificate(leaf(f.spec));
    CheckFails(c.status(), f.reason);
    CHECK(c.status().message().rfind("certificate: ", 0) == 0);
  }
  // Bytes that are not one DER certificate.
  std::string good = leaf(LeafSpec());
  struct Malformed {
    std::string name, der;
    const char* reason;
  };
  Malformed malformed[] = {
      {"a trailing byte", good + '\0', "certificate has 1 trailing bytes"},
      {"two certificates", good + good, "trailing bytes"},
      {"truncated", good.substr(0, good.size() - 1), "certificate is not DER X.509"},
      {"garbage", "\x30\x03\x02\x01\x01", "certificate is not DER X.509"},
      {"empty", "", "certificate is empty"},
      {"larger than 64 KiB", std::string(65537, '\x30'), "certificate is larger than 64 KiB"},
  };
  for (const Malformed& m : malformed) {
    INFO(m.name);
    CheckFails(ParseSigningCertificate(m.der).status(), m.reason);
  }
  CHECK(ParseSigningCertificate(std::string(65537, '\x30')).status().code() == StatusCode::kResourceExhausted);
  // A key kind the verifier does not accept.
  Issued p224 = MakeCert(LeafSpec(), NewKey("P-224"), &root, root_key);
  CheckFails(ParseSigningCertificate(p224.der).status(), "certificate: EC curve secp224r1 is not supported");
}

TEST_CASE("synthetic chains: a private PKI verifies; impostors, missing EKU and bundle roots do not") {
  Pki pki;
  struct Pass {
    std::string name;
    std::vector<std::string> untrusted;
    std::vector<CertificateAuthority> cas;
    size_t chain_size;
  };
  Pass passes[] = {
      {"intermediate and root from the CA", {}, {pki.Full()}, 3},
      {"the intermediate alone as anchor", {}, {pki.Ca({pki.intermediate.der})}, 2},
      {"the root as anchor, the intermediate from the bundle", {pki.intermediate.der}, {pki.Ca({pki.root.der})}, 3},
      {"a self-signed root in the bundle is dropped",
       {pki.intermediate.der, pki.root.der},
       {pki.Ca({pki.root.der})},
       3},
  };
  for (const Pass& p : passes) {
    INFO(p.name);
    auto c = VerifyCertificateChain(pki.leaf.der, p.untrusted, p.cas, kT0);
    REQUIRE_MESSAGE(c.ok(), c.status().ToString());
    REQUIRE(c->size() == p.chain_size);
    CHECK((*c)[0] == pki.leaf.der);
    CHECK(c->back() == p.cas[0].chain_der.back());
  }

  // The impostor root (same DN, other key) signs an otherwise identical leaf,
  // and an intermediate with the trusted intermediate's DN.
  Issued impostor_leaf = MakeCert(LeafSpec(), pki.leaf_key, &pki.impostor, pki.impostor_key);
  Key evil_key = NewKey();
  Issued evil_intermediate =
      MakeCert(CaSpec("test-intermediate", 2, "codeSigning"), evil_key, &pki.impostor, pki.impostor_key);
  Issued evil_leaf = MakeCert(LeafSpec(), pki.leaf_key, &evil_intermediate, evil_key);
  Spec no_code_signing = LeafSpec(), no_eku = LeafSpec();
  no_code_signing.eku = "serverAuth";
  no_eku.eku = "";
  Issued server_leaf = MakeCert(no_code_signing, pki.leaf_key, &pki.intermediate, pki.intermediate_key);
  Issued no_eku_leaf = MakeCert(no_eku, pki.leaf_key, &pki.intermediate, pki.intermediate_key);
  // CAs that may not issue code-signing leaves.
  Issued tls_intermediate =
      MakeCert(CaSpec("tls-intermediate", 3, "serverAuth"), pki.intermediate_key, &pki.root, pki.root_key);
  Issued tls_leaf = MakeCert(LeafSpec(), pki.leaf_key, &tls_intermediate, pki.intermediate_key);
  Spec not_ca_spec = CaSpec("not-a-ca", 4);
  not_ca_spec.ca = false;
  Issued not_ca = MakeCert(not_ca_spec, pki.intermediate_key, &pki.root, pki.root_key);
  Issued under_not_ca = MakeCert(LeafSpec(), pki.leaf_key, &not_ca, pki.intermediate_key);
  Spec short_spec = CaSpec("short", 5);
  short_spec.not_after = kT0 - 1;
  Issued short_intermediate = MakeCert(short_spec, pki.intermediate_key, &pki.root, pki.root_key);
  Issued under_short = MakeCert(LeafSpec(), pki.leaf_key, &short_intermediate, pki.intermediate_key);
  Issued root_signed_leaf = MakeCert(LeafSpec(), pki.leaf_key, &pki.root, pki.root_key);

  struct Fail {
    std::string name;
    std::string leaf;
    std::vector<std::string> untrusted;
    std::vector<CertificateAuthority> cas;
    const char* reason;
  };
  const std::vector<CertificateAuthority> root_ca = {pki.Ca({pki.root.der})}, full = {pki.Full()};
  const char* bad_signature = "certificate signature failure";
  const char* no_code_signing_eku = "lacks the codeSigning extended key usage";
  Fail fails[] = {
      {"certificate from an untrusted CA with the same subject DN", impostor_leaf.der, {}, root_ca, bad_signature},
      {"same-DN impostor root beside the real chain", impostor_leaf.der, {}, full, bad_signature},
      {"same-DN impostor intermediate from the bundle", evil_leaf.der, {evil_intermediate.der}, root_ca, bad_signature},
      {"bundle-supplied self-signed root is not trusted",
       impostor_leaf.der,
       {pki.impostor.der},
       root_ca,
       bad_signature},
      {"bundle-supplied self-signed root, nothing else",
       root_signed_leaf.der,
       {pki.root.der},
       {pki.Ca({pki.intermediate.der})},
       "unable to get local issuer certificate"},
      {"leaf with serverAuth instead of codeSigning", server_leaf.der, {}, full, no_code_signing_eku},
      {"leaf without extended key usage", no_eku_leaf.der, {}, full, no_code_signing_eku},
      {"intermediate restricted to serverAuth",
       tls_leaf.der,
       {tls_intermediate.der},
       root_ca,
       "depth 1 restricts extended key usage and excludes codeSigning"},
      {"issuer that is not a CA", under_not_ca.der, {not_ca.der}, root_ca, "invalid CA certificate"},
      {"intermediate expired at the signing time",
       under_short.der,
       {short_intermediate.der},
       root_ca,
       "certificate has expired"},
  };

  for (const Fail& f : fails) {
    INFO(f.name);
    auto c = VerifyCertificateChain(f.leaf, f.untrusted, f.cas, kT0);
    CheckFails(c.status(), f.reason);
    CHECK(c.status().message().rfind("certificate chain: ", 0) == 0);
  }
  // A synthetic leaf has no SCT list: with a CT log listed that is a failure.
  Key log_key = NewKey();
  unsigned char* spki = nullptr;
  int spki_len = i2d_PUBKEY(log_key.get(), &spki);
  REQUIRE(spki_len > 0);
  auto log_public = PublicKey::FromDer(std::string(reinterpret_cast<char*>(spki), spki_len));
  OPENSSL_free(spki);
  REQUIRE(log_public.ok());
  TransparencyLogInstance log{"https://ct.example.test", std::string(32, 'L'), "", *log_public, ValidityWindow{}};
  CheckFails(VerifyEmbeddedSct(pki.leaf.der, pki.intermediate.der, {log}),
             "SCT: the certificate has no embedded SCT list");
  CHECK(VerifyEmbeddedSct(pki.leaf.der, pki.intermediate.der, {}).ok());
  CheckFails(VerifyEmbeddedSct(pki.leaf.der, pki.root.der, {log}), "SCT: the issuer certificate did not issue");
}
