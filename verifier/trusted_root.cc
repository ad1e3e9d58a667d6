#include "verifier/trusted_root.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "base/encoding.h"
#include "base/json_util.h"
#include "verifier/digest.h"

namespace provgate {
namespace {

bool IsSupportedTrustedRootMediaType(std::string_view t) {
  return t == "application/vnd.dev.sigstore.trustedroot.v0.1+json" ||
         t == "application/vnd.dev.sigstore.trustedroot.v0.2+json" ||
         t == "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
}

// Reads `n` decimal digits at s[*i].
bool Digits(std::string_view s, size_t* i, int n, int* out) {
  int v = 0;
  for (int k = 0; k < n; ++k, ++*i) {
    if (*i >= s.size() || s[*i] < '0' || s[*i] > '9') return false;
    v = v * 10 + (s[*i] - '0');
  }
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* i, char c) {
  if (*i >= s.size() || (s[*i] != c && !(c == 'T' && s[*i] == 't'))) return false;
  ++*i;
  return true;
}

// RFC 3339 date-time (protobuf Timestamp JSON): "2021-03-07T03:20:29Z",
// with optional fractional seconds (truncated) and a Z or ±hh:mm offset.
std::optional<int64_t> ParseRfc3339(std::string_view s) {
  using namespace std::chrono;
  size_t i = 0;
  int y, mo, d, h, mi, sec;
  if (!Digits(s, &i, 4, &y) || !Expect(s, &i, '-') || !Digits(s, &i, 2, &mo) || !Expect(s, &i, '-') ||
      !Digits(s, &i, 2, &d) || !Expect(s, &i, 'T') || !Digits(s, &i, 2, &h) || !Expect(s, &i, ':') ||
      !Digits(s, &i, 2, &mi) || !Expect(s, &i, ':') || !Digits(s, &i, 2, &sec)) {
    return std::nullopt;
  }
  if (i < s.size() && s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start || i - start > 9) return std::nullopt;
  }
  int offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int sign = s[i++] == '-' ? -1 : 1, oh, om;
    if (!Digits(s, &i, 2, &oh) || !Expect(s, &i, ':') || !Digits(s, &i, 2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = sign * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  int64_t days = sys_days{ymd}.time_since_epoch().count();
  return days * 86400 + h * 3600 + mi * 60 + std::min(sec, 59) - offset;
}

class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  Status Error(const std::string& where, const std::string& what) const {
    return InvalidArgument(std::string(source_) + ": " + where + ": " + what);
  }

  StatusOr<std::string> Bytes(const Json& j, const std::string& where) const {
    if (!j.is_string()) return Error(where, "is missing or not a base64 string");
    auto b = Base64Decode(j.get<std::string>());
    if (!b || b->empty()) return Error(where, "is not base64");
    return *b;
  }

  StatusOr<ValidityWindow> Window(const Json& parent, const std::string& where) const {
    ValidityWindow w;
    if (!parent.contains("validFor")) return w;
    const Json& v = parent["validFor"];
    if (!v.is_object()) return Error(where + ".validFor", "is not an object");
    for (const char* field : {"start", "end"}) {
      if (!v.contains(field)) continue;
      if (!v[field].is_string()) return Error(where + ".validFor." + field, "is not an RFC 3339 time");
      auto t = ParseRfc3339(v[field].get<std::string>());
      if (!t) return Error(where + ".validFor." + field, Quote(v[field].get<std::string>()) + " is not an RFC 3339 time");
      (field[0] == 's' ? w.start : w.end) = *t;
    }
    if (w.end < w.start) return Error(where + ".validFor", "end precedes start");
    return w;
  }

  StatusOr<std::vector<TransparencyLogInstance>> Logs(const Json& root, const char* field) const {
    std::vector<TransparencyLogInstance> out;
    if (!root.contains(field)) return out;
    if (!root[field].is_array()) return Error(field, "is not an array");
    for (size_t i = 0; i < root[field].size(); ++i) {
      const Json& l = root[field][i];
      const std::string where = std::string(field) + "[" + std::to_string(i) + "]";
      if (!l.is_object()) return Error(where, "is not an object");
      const Json& pk = l.value("publicKey", Json());
      if (!pk.is_object()) return Error(where + ".publicKey", "is missing");
      ASSIGN_OR_RETURN(std::string der, Bytes(pk.value("rawBytes", Json()), where + ".publicKey.rawBytes"));
      auto key = PublicKey::FromDer(der);
      if (!key.ok()) return Error(where + ".publicKey.rawBytes", key.status().message());
      const Json& id = l.value("logId", Json());
      if (!id.is_object()) return Error(where + ".logId", "is missing");
      ASSIGN_OR_RETURN(std::string log_id, Bytes(id.value("keyId", Json()), where + ".logId.keyId"));
      if (log_id != Sha256(der)) return Error(where + ".logId.keyId", "is not the SHA-256 of the log's key");
      std::string checkpoint_key_id;
      if (l.contains("checkpointKeyId")) {
        const Json& c = l["checkpointKeyId"];
        if (!c.is_object()) return Error(where + ".checkpointKeyId", "is not an object");
        ASSIGN_OR_RETURN(checkpoint_key_id, Bytes(c.value("keyId", Json()), where + ".checkpointKeyId.keyId"));
      }
      ASSIGN_OR_RETURN(ValidityWindow w, Window(pk, where + ".publicKey"));
      const Json& url = l.value("baseUrl", Json());
      if (!url.is_string() || url.get<std::string>().empty()) return Error(where + ".baseUrl", "is missing");
      out.push_back(TransparencyLogInstance{url.get<std::string>(), std::move(log_id), std::move(checkpoint_key_id),
                                            std::move(*key), w});
    }
    return out;
  }

  StatusOr<std::vector<CertificateAuthority>> Authorities(const Json& root, const char* field) const {
    std::vector<CertificateAuthority> out;
    if (!root.contains(field)) return out;
    if (!root[field].is_array()) return Error(field, "is not an array");
    for (size_t i = 0; i < root[field].size(); ++i) {
      const Json& a = root[field][i];
      const std::string where = std::string(field) + "[" + std::to_string(i) + "]";
      if (!a.is_object()) return Error(where, "is not an object");
      const Json& chain = a.value("certChain", Json());
      const Json& certs = chain.is_object() ? chain.value("certificates", Json()) : Json();
      if (!certs.is_array() || certs.empty()) return Error(where + ".certChain.certificates", "is missing or empty");
      CertificateAuthority ca;
      for (size_t k = 0; k < certs.size(); ++k) {
        const std::string cw = where + ".certChain.certificates[" + std::to_string(k) + "]";
        if (!certs[k].is_object()) return Error(cw, "is not an object");
        ASSIGN_OR_RETURN(std::string der, Bytes(certs[k].value("rawBytes", Json()), cw + ".rawBytes"));
        ca.chain_der.push_back(std::move(der));
      }
      if (a.contains("uri") && a["uri"].is_string()) ca.uri = a["uri"].get<std::string>();
      ASSIGN_OR_RETURN(ca.valid_for, Window(a, where));
      out.push_back(std::move(ca));
    }
    return out;
  }

 private:
  std::string_view source_;
};

}  // namespace

const TransparencyLogInstance* TrustedRoot::FindTlog(std::string_view raw_log_id) const {
  for (const auto& l : tlogs) {
    if (l.log_id == raw_log_id) return &l;
  }
  return nullptr;
}

StatusOr<TrustedRoot> ParseTrustedRoot(std::string_view bytes, std::string_view source) {
  const Reader r(source);
  if (bytes.size() > kMaxTrustedRootBytes) {
    return InvalidArgument(std::string(source) + ": a trusted root is at most " +
                           std::to_string(kMaxTrustedRootBytes) + " bytes");
  }
  auto parsed = ParseJsonUniqueKeys(bytes, source, {.max_values = kMaxTrustedRootValues});
  if (!parsed.ok()) return parsed.status();
  const Json& j = *parsed;
  if (!j.is_object()) return r.Error("document", "is not a JSON object");
  const Json& mt = j.value("mediaType", Json());
  if (!mt.is_string() || !IsSupportedTrustedRootMediaType(mt.get<std::string>())) {
    return r.Error("mediaType", (mt.is_string() ? Quote(mt.get<std::string>()) : std::string("missing")) +
                                    " is not a Sigstore trusted root media type");
  }
  TrustedRoot root;
  root.source = std::string(source);
  root.content_hash = HexEncode(Sha256(bytes));
  ASSIGN_OR_RETURN(root.tlogs, r.Logs(j, "tlogs"));
  ASSIGN_OR_RETURN(root.ctlogs, r.Logs(j, "ctlogs"));
  ASSIGN_OR_RETURN(root.certificate_authorities, r.Authorities(j, "certificateAuthorities"));
  ASSIGN_OR_RETURN(root.timestamp_authorities, r.Authorities(j, "timestampAuthorities"));
  if (root.certificate_authorities.empty() && root.tlogs.empty()) {
    return r.Error("document", "lists no certificate authority and no transparency log: it can verify nothing");
  }
  return root;
}

}  // namespace provgate
