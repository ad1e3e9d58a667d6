#include "verifier/registry/registry_client.h"

#include <algorithm>
#include <cctype>

#include "base/encoding.h"
#include "base/json_util.h"
#include "verifier/digest.h"
#include "verifier/registry_host.h"
#include "verifier/registry/www_authenticate.h"

namespace provgate {
namespace {


struct UrlParts {
  std::string scheme;  // "http" | "https"
  std::string host;    // host[:port]
  std::string path;    // from the first '/', including query
};

// URLs are printable ASCII without spaces (RFC 3986). Ones a registry hands
// us (Location, Link, realm) that are not are refused: they are never
// requested, and never quoted into messages, which must stay valid UTF-8.
bool IsUrlText(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::optional<UrlParts> SplitUrl(const std::string& url) {
  if (!IsUrlText(url)) return std::nullopt;
  auto sep = url.find("://");
  if (sep == std::string::npos) return std::nullopt;
  UrlParts p;
  p.scheme = url.substr(0, sep);
  for (auto& c : p.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto rest = url.substr(sep + 3);
  auto slash = rest.find('/');
  p.host = slash == std::string::npos ? rest : rest.substr(0, slash);
  p.path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (p.host.empty() || p.host.find('@') != std::string::npos) return std::nullopt;  // no userinfo
  return p;
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

bool IsDigest(std::string_view s) { return ValidateDigest(s).ok(); }

// "host" of "host[:port]" ("[v6]" keeps its brackets).
std::string_view HostName(std::string_view host_port) {
  if (!host_port.empty() && host_port.front() == '[') return host_port.substr(0, host_port.find(']') + 1);
  return host_port.substr(0, host_port.rfind(':'));
}

void SetHeader(HttpRequest& req, const std::string& name, const std::string& value) {
  for (auto it = req.headers.begin(); it != req.headers.end();) {
    if (it->first == name) {
      it = req.headers.erase(it);
    } else {
      ++it;
    }
  }
  if (!value.empty()) req.headers.emplace_back(name, value);
}

// The registry's error code (e.g. "MANIFEST_UNKNOWN") from a JSON error body,
// bounded; never the raw body (it may echo credentials or be hostile).
std::string RegistryErrorCode(const std::string& body) {
  if (body.empty() || body.size() > 64 * 1024) return "";
  auto j = ParseJson(body, "error body", 8);
  if (!j.ok() || !j->is_object() || !j->contains("errors") || !(*j)["errors"].is_array() || (*j)["errors"].empty()) {
    return "";
  }
  const Json& e = (*j)["errors"][0];
  if (!e.is_object() || !e.contains("code") || !e["code"].is_string()) return "";
  std::string code = e["code"];
  if (code.size() > 40) code.resize(40);
  for (char c : code) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return "";
  }
  return code;
}

}  // namespace

std::string PullScope(const Reference& ref) { return "repository:" + ref.repository + ":pull"; }
std::string PushScope(const Reference& ref) { return "repository:" + ref.repository + ":pull,push"; }

RegistryClient::RegistryClient(HttpTransport* transport, std::shared_ptr<const RegistryConfig> config,
                               RegistryLimits limits, RegistryObserver* observer, const Clock* clock)
    : transport_(transport),
      config_(std::move(config)),
      limits_(limits),
      memory_budget_(std::make_unique<ByteBudget>(limits.attachment_bytes_in_flight, limits.small_attachment_bytes)),
      observer_(observer),
      clock_(clock ? clock : &steady_) {
  if (!config_) config_ = std::make_shared<RegistryConfig>();
}

std::string RegistryClient::BaseUrl(const std::string& host) const {
  auto hc = config_->ForHost(host);
  // Docker Hub's API lives on registry-1.docker.io (distribution/reference).
  std::string api_host = host == kDockerHubHost ? std::string(kDockerHubApiHost) : host;
  return std::string(hc.insecure ? "http://" : "https://") + api_host;
}

Status RegistryClient::StatusForResponse(const HttpResponse& r, const std::string& what, const std::string& host) const {
  std::string code = RegistryErrorCode(r.body);
  std::string detail = "HTTP " + std::to_string(r.status) + (code.empty() ? "" : " " + code);
  if (r.status == 404) return NotFound(what + " not found in " + host + " (" + detail + ")");
  if (r.status == 401 || r.status == 403) {
    return PermissionDenied(host + " refused access to " + what + " (" + detail + ")");
  }
  return Unavailable(host + " answered " + detail + " for " + what);
}

StatusOr<HttpResponse> RegistryClient::SendFollowingRedirects(HttpRequest req, const std::string& registry_host,
                                                              std::string* final_url) {
  auto origin = SplitUrl(req.url);
  if (!origin) return InvalidArgument("bad URL " + req.url);
  bool insecure_ok = config_->ForHost(registry_host).insecure;
  for (int hop = 0;; ++hop) {
    auto start = std::chrono::steady_clock::now();
    auto parts = SplitUrl(req.url);
    StatusOr<HttpResponse> resp = transport_->Send(req);
    if (observer_) {
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      observer_->OnRegistryRequest(parts ? parts->host : registry_host, resp.ok() ? resp->status : 0, secs);
    }
    if (!resp.ok()) return resp;
    if (final_url) *final_url = req.url;
    int s = resp->status;
    bool redirect = s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
    std::string location = resp->Header("location");
    if (!redirect || location.empty()) return resp;
    if (hop >= limits_.max_redirects) {
      return Unavailable("more than " + std::to_string(limits_.max_redirects) + " redirects from " + registry_host);
    }
    std::string next;
    if (location.rfind("https://", 0) == 0 || location.rfind("http://", 0) == 0) {
      next = location;
    } else if (location.rfind("//", 0) == 0) {
      next = parts->scheme + ":" + location;
    } else if (location.rfind("/", 0) == 0) {
      next = parts->scheme + "://" + parts->host + location;
    } else {
      return Unavailable("unsupported relative redirect from " + registry_host);
    }
    auto target = SplitUrl(next);
    if (!target) return Unavailable("malformed redirect from " + registry_host);
    // Redirects only to https, or plain http on the configured insecure host.
    if (target->scheme != "https" && !(target->scheme == "http" && insecure_ok && target->host == registry_host)) {
      return Unavailable("refusing redirect from " + registry_host + " to a non-https URL");
    }
    if (target->scheme != origin->scheme || target->host != origin->host) {
      SetHeader(req, "Authorization", "");  // never send credentials to another origin
    }
    req.url = next;
    if (s == 303) req.method = "GET";
  }
}

StatusOr<std::string> RegistryClient::FetchToken(const std::string& host,
                                                 const std::map<std::string, std::string>& params,
                                                 const std::string& scope, Deadline deadline) {
  auto realm_it = params.find("realm");
  if (realm_it == params.end() || realm_it->second.empty()) {
    return PermissionDenied(host + " sent a Bearer challenge without a realm");
  }
  auto realm = SplitUrl(realm_it->second);
  if (!realm || (realm->scheme != "https" && !(realm->scheme == "http" && config_->ForHost(host).insecure))) {
    return PermissionDenied(host + " token realm is not an https URL");
  }
  // Plain HTTP was accepted for this registry (or its loopback address), not
  // for any host its challenge names: the token request carries credentials.
  if (realm->scheme == "http" && HostName(realm->host) != HostName(host) && !config_->ForHost(realm->host).insecure) {
    return PermissionDenied(host + " named a plain-http token realm on " + realm->host +
                            ", which is neither this registry's host nor configured insecure");
  }
  HttpRequest req;
  req.deadline = deadline;
  req.max_response_bytes = limits_.max_token_bytes;
  req.ca_file = config_->ForHost(host).ca_file;
  std::string service = params.count("service") ? params.at("service") : "";
  ASSIGN_OR_RETURN(std::optional<Credentials> creds, config_->LookupCredentials(host));
  if (creds && !creds->identity_token.empty()) {
    // OAuth2 refresh-token grant (distribution token spec, oauth.md).
    req.method = "POST";
    req.url = realm_it->second;
    req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    req.body = "grant_type=refresh_token&client_id=provgate&service=" + UrlEncode(service) +
               "&scope=" + UrlEncode(scope) + "&refresh_token=" + UrlEncode(creds->identity_token);
  } else {
    std::string q = "service=" + UrlEncode(service);
    if (!scope.empty()) q += "&scope=" + UrlEncode(scope);
    req.url = realm_it->second + (realm_it->second.find('?') == std::string::npos ? "?" : "&") + q;
    if (creds) {
      req.headers.emplace_back("Authorization", "Basic " + Base64Encode(creds->username + ":" + creds->password));
    }
  }
  auto sent = SendFollowingRedirects(req, host);
  if (!sent.ok()) {
    // An oversized token response is the token server's failure; passed up
    // as ResourceExhausted it would read as the manifest or blob being too big.
    if (sent.status().code() == StatusCode::kResourceExhausted) {
      return PermissionDenied("token server for " + host + " sent a response larger than " +
                              std::to_string(limits_.max_token_bytes) + " bytes");
    }
    return sent.status();
  }
  HttpResponse resp = std::move(*sent);
  if (resp.status != 200) {
    return PermissionDenied("token server for " + host + " answered HTTP " + std::to_string(resp.status));
  }
  auto j = ParseJson(resp.body, "token response", 8);
  if (!j.ok() || !j->is_object()) return PermissionDenied("token server for " + host + " sent malformed JSON");
  std::string token;
  for (const char* key : {"token", "access_token"}) {
    if (j->contains(key) && (*j)[key].is_string() && !(*j)[key].get_ref<const std::string&>().empty()) {
      token = (*j)[key].get<std::string>();
      break;
    }
  }
  if (token.empty()) return PermissionDenied("token server for " + host + " sent no token");
  for (char c : token) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return PermissionDenied("token server for " + host + " sent a token with invalid characters");
    }
  }
  long long expires = 60;
  if (j->contains("expires_in") && (*j)["expires_in"].is_number_integer()) expires = (*j)["expires_in"];
  if (expires < 5) expires = 5;
  if (expires > 3600) expires = 3600;
  std::lock_guard<std::mutex> l(mu_);
  auth_cache_[host + " " + scope] = {"Bearer " + token, clock_->Now() + std::chrono::seconds(expires - 2)};
  return "Bearer " + token;
}

StatusOr<std::string> RegistryClient::Authorize(const std::string& host, const std::string& scope,
                                                const std::string& header, Deadline deadline) {
  auto challenge = ParseWwwAuthenticate(header);
  if (!challenge) return PermissionDenied(host + " sent an unparsable WWW-Authenticate challenge");
  {
    std::lock_guard<std::mutex> l(mu_);
    host_challenge_[host] = header;
  }
  if (challenge->scheme == "basic") {
    ASSIGN_OR_RETURN(std::optional<Credentials> creds, config_->LookupCredentials(host));
    if (!creds || creds->username.empty()) {
      return PermissionDenied(host + " requires credentials and none are configured");
    }
    std::string value = "Basic " + Base64Encode(creds->username + ":" + creds->password);
    std::lock_guard<std::mutex> l(mu_);
    auth_cache_[host + " " + scope] = {value, clock_->Now() + std::chrono::hours(1)};
    return value;
  }
  if (challenge->scheme == "bearer") {
    // Ask for the scope we need, not the one the challenge names (it may be
    // absent on /v2/ or name a different action).
    return FetchToken(host, challenge->params, scope, deadline);
  }
  return PermissionDenied(host + " asks for unsupported auth scheme " + Quote(challenge->scheme));
}

StatusOr<HttpResponse> RegistryClient::Do(const Reference& ref, HttpRequest req, const std::string& scope) {
  const std::string& host = ref.registry;
  req.ca_file = config_->ForHost(host).ca_file;
  // Credentials go only to the registry's own origin: an upload Location or
  // a redirect to another host (object storage, a CDN) gets none, and a
  // challenge such a host sends is not answered with them.
  const std::string origin = BaseUrl(host);
  auto same_origin = [&](const std::string& url) {
    return url.compare(0, origin.size(), origin) == 0 && (url.size() == origin.size() || url[origin.size()] == '/');
  };
  bool send_auth = same_origin(req.url);
  std::string auth;
  std::string known_challenge;
  if (send_auth) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = auth_cache_.find(host + " " + scope);
    if (it != auth_cache_.end() && it->second.expires > clock_->Now()) auth = it->second.header;
    auto ch = host_challenge_.find(host);
    if (ch != host_challenge_.end()) known_challenge = ch->second;
  }
  if (auth.empty() && !known_challenge.empty()) {
    // This registry wants auth: get it before the request instead of after a 401.
    auto a = Authorize(host, scope, known_challenge, req.deadline);
    if (a.ok()) auth = *a;
  }
  for (int attempt = 0;; ++attempt) {
    SetHeader(req, "Authorization", auth);
    std::string final_url;
    ASSIGN_OR_RETURN(HttpResponse resp, SendFollowingRedirects(req, host, &final_url));
    if (resp.status != 401 || attempt > 0 || !send_auth || !same_origin(final_url)) return resp;
    std::string challenge = resp.Header("www-authenticate");
    if (challenge.empty()) return resp;
    ASSIGN_OR_RETURN(auth, Authorize(host, scope, challenge, req.deadline));
  }
}

StatusOr<FetchedManifest> RegistryClient::GetManifest(const Reference& ref, std::string_view tod, Deadline deadline,
                                                      size_t max_entries) {
  HttpRequest req;
  req.url = BaseUrl(ref.registry) + "/v2/" + ref.repository + "/manifests/" + std::string(tod);
  req.headers.emplace_back("Accept", kManifestAccept);
  req.max_response_bytes = limits_.max_manifest_bytes;
  req.deadline = deadline;
  std::string what = "manifest " + ref.Name() + (IsDigest(tod) ? "@" : ":") + std::string(tod);
  auto resp = Do(ref, req, PullScope(ref));
  if (!resp.ok()) {
    if (resp.status().code() == StatusCode::kResourceExhausted) {
      return ResourceExhausted(what + " exceeds the manifest size limit of " +
                               std::to_string(limits_.max_manifest_bytes) + " bytes");
    }
    return resp.status();
  }
  if (resp->status != 200) return StatusForResponse(*resp, what, ref.registry);
  FetchedManifest m;
  m.bytes = std::move(resp->body);
  m.content_type = resp->Header("content-type");
  if (IsDigest(tod)) {
    RETURN_IF_ERROR(CheckDigest(m.bytes, tod, what));
    m.digest = std::string(tod);
  } else {
    m.digest = Sha256Digest(m.bytes);
    std::string header = resp->Header("docker-content-digest");
    if (!header.empty() && header.rfind("sha256:", 0) == 0 && header != m.digest) {
      return DataLoss(what + " content has digest " + m.digest + " but the registry says " + Quote(header));
    }
  }
  auto parsed = ParseManifest(m.bytes, m.content_type, max_entries ? max_entries : limits_.max_manifest_entries);
  if (!parsed.ok()) return parsed.status().WithPrefix(what);
  m.manifest = std::move(*parsed);
  return m;
}

StatusOr<std::string> RegistryClient::ResolveDigest(const Reference& ref, Deadline deadline) {
  if (!ref.digest.empty()) return ref.digest;
  HttpRequest req;
  req.method = "HEAD";
  req.url = BaseUrl(ref.registry) + "/v2/" + ref.repository + "/manifests/" + ref.tag;
  req.headers.emplace_back("Accept", kManifestAccept);
  req.deadline = deadline;
  ASSIGN_OR_RETURN(HttpResponse resp, Do(ref, req, PullScope(ref)));
  if (resp.status == 200) {
    std::string d = resp.Header("docker-content-digest");
    if (ValidateDigest(d).ok()) return d;
  } else if (resp.status != 405) {  // some registries refuse HEAD: fall back to GET
    return StatusForResponse(resp, "tag " + ref.Name() + ":" + ref.tag, ref.registry);
  }
  ASSIGN_OR_RETURN(FetchedManifest m, GetManifest(ref, ref.tag, deadline));
  return m.digest;
}

StatusOr<std::vector<Descriptor>> RegistryClient::GetReferrers(const Reference& ref, std::string_view digest,
                                                               Deadline deadline, size_t max_entries) {
  RETURN_IF_ERROR(ValidateDigest(digest));
  std::vector<Descriptor> out;
  std::string url = BaseUrl(ref.registry) + "/v2/" + ref.repository + "/referrers/" + std::string(digest);
  bool api_known_absent = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = no_referrers_api_.find(ref.registry);
    api_known_absent = it != no_referrers_api_.end() && it->second > clock_->Now();
  }
  for (int page = 0; page < 8 && !url.empty(); ++page) {
    HttpResponse resp;
    resp.status = 404;
    if (!api_known_absent || page > 0) {
      HttpRequest req;
      req.url = url;
      req.headers.emplace_back("Accept", kOciIndex);
      req.max_response_bytes = limits_.max_manifest_bytes;
      req.deadline = deadline;
      ASSIGN_OR_RETURN(resp, Do(ref, req, PullScope(ref)));
    }
    if (resp.status == 404 && page == 0) {
      if (!api_known_absent) {
        std::lock_guard<std::mutex> l(mu_);
        no_referrers_api_[ref.registry] = clock_->Now() + std::chrono::minutes(10);
      }
      // No referrers API: the referrers tag schema (the OCI distribution spec).
      std::string tag(digest);
      tag[tag.find(':')] = '-';
      auto index = GetManifest(ref, tag, deadline, max_entries);
      if (!index.ok()) {
        if (index.status().code() == StatusCode::kNotFound) return out;
        return index.status();
      }
      if (index->manifest.kind != Manifest::Kind::kIndex) return out;  // not a referrers index
      return std::move(index->manifest.manifests);
    }
    if (resp.status != 200) return StatusForResponse(resp, "referrers of " + std::string(digest), ref.registry);
    auto index = ParseManifest(resp.body, kOciIndex, max_entries);
    if (!index.ok()) return index.status().WithPrefix("referrers of " + std::string(digest));
    for (auto& d : index->manifests) {
      if (out.size() >= max_entries) {
        return ResourceExhausted("more than " + std::to_string(max_entries) + " referrers of " + std::string(digest));
      }
      out.push_back(std::move(d));
    }
    // Link: </v2/...?n=..&last=..>; rel="next"
    url.clear();
    std::string link = resp.Header("link");
    auto lt = link.find('<'), gt = link.find('>');
    if (lt != std::string::npos && gt != std::string::npos && gt > lt && link.find("rel=\"next\"") != std::string::npos) {
      std::string next = link.substr(lt + 1, gt - lt - 1);
      if (next.rfind("/v2/", 0) != 0 || !IsUrlText(next)) {
        return Unavailable(ref.registry + " sent a referrers page link outside /v2/ or not a URL path");
      }
      url = BaseUrl(ref.registry) + next;
    }
  }
  return out;
}

StatusOr<std::string> RegistryClient::GetBlob(const Reference& ref, std::string_view digest, size_t max_bytes,
                                              Deadline deadline) {
  RETURN_IF_ERROR(ValidateDigest(digest));
  HttpRequest req;
  req.url = BaseUrl(ref.registry) + "/v2/" + ref.repository + "/blobs/" + std::string(digest);
  req.max_response_bytes = max_bytes;
  req.deadline = deadline;
  std::string what = "blob " + ref.Name() + "@" + std::string(digest);
  auto resp = Do(ref, req, PullScope(ref));
  if (!resp.ok()) {
    if (resp.status().code() == StatusCode::kResourceExhausted) {
      return ResourceExhausted(what + " exceeds the size limit of " + std::to_string(max_bytes) + " bytes");
    }
    return resp.status();
  }
  if (resp->status != 200) return StatusForResponse(*resp, what, ref.registry);
  RETURN_IF_ERROR(CheckDigest(resp->body, digest, what));
  return std::move(resp->body);
}

StatusOr<bool> RegistryClient::BlobExists(const Reference& ref, std::string_view digest, Deadline deadline) {
  HttpRequest req;
  req.method = "HEAD";
  req.url = BaseUrl(ref.registry) + "/v2/" + ref.repository + "/blobs/" + std::string(digest);
  req.deadline = deadline;
  ASSIGN_OR_RETURN(HttpResponse resp, Do(ref, req, PushScope(ref)));
  if (resp.status == 200) return true;
  if (resp.status == 404) return false;
  return StatusForResponse(resp, "blob " + std::string(digest), ref.registry);
}

StatusOr<std::string> RegistryClient::StartUpload(const Reference& ref, Deadline deadline) {
  HttpRequest req;
  req.method = "POST";
  req.url = BaseUrl(ref.registry) + "/v2/" + ref.repository + "/blobs/uploads/";
  req.deadline = deadline;
  ASSIGN_OR_RETURN(HttpResponse resp, Do(ref, req, PushScope(ref)));
  if (resp.status != 202) return StatusForResponse(resp, "blob upload to " + ref.Name(), ref.registry);
  std::string loc = resp.Header("location");
  if (loc.empty()) return Unavailable(ref.registry + " started an upload without a Location");
  if (loc.rfind("/", 0) == 0) loc = BaseUrl(ref.registry) + loc;
  auto parts = SplitUrl(loc);
  if (!parts) return Unavailable(ref.registry + " sent a malformed upload Location");
  // The upload URL receives the blob and our Authorization: the redirect rule
  // applies (https, or plain http only on the configured insecure host).
  if (parts->scheme != "https" &&
      !(parts->scheme == "http" && config_->ForHost(ref.registry).insecure && parts->host == ref.registry)) {
    return Unavailable(ref.registry + " sent a non-https upload Location");
  }
  return loc;
}

Status RegistryClient::Upload(const Reference& ref, const std::string& digest, HttpRequest put, Deadline deadline) {
  ASSIGN_OR_RETURN(bool exists, BlobExists(ref, digest, deadline));
  if (exists) return Status::Ok();
  ASSIGN_OR_RETURN(std::string loc, StartUpload(ref, deadline));
  put.method = "PUT";
  put.url = loc + (loc.find('?') == std::string::npos ? "?" : "&") + "digest=" + UrlEncode(digest);
  put.headers.emplace_back("Content-Type", "application/octet-stream");
  put.deadline = deadline;
  ASSIGN_OR_RETURN(HttpResponse resp, Do(ref, put, PushScope(ref)));
  if (resp.status != 201) return StatusForResponse(resp, "blob upload " + digest, ref.registry);
  return Status::Ok();
}

Status RegistryClient::PushBlob(const Reference& ref, std::string_view bytes, Deadline deadline) {
  HttpRequest put;
  put.body = std::string(bytes);
  return Upload(ref, Sha256Digest(bytes), std::move(put), deadline);
}

Status RegistryClient::PushBlobFile(const Reference& ref, const std::string& path, const std::string& digest,
                                    uint64_t size, Deadline deadline) {
  HttpRequest put;
  put.body_file = path;
  put.body_file_size = size;
  put.show_progress = size > (8u << 20);
  return Upload(ref, digest, std::move(put), deadline);
}

StatusOr<std::string> RegistryClient::PushManifest(const Reference& ref, std::string_view tag,
                                                   std::string_view media_type, std::string_view bytes,
                                                   Deadline deadline) {
  std::string digest = Sha256Digest(bytes);
  HttpRequest req;
  req.method = "PUT";
  req.url = BaseUrl(ref.registry) + "/v2/" + ref.repository + "/manifests/" +
            (tag.empty() ? digest : std::string(tag));
  req.headers.emplace_back("Content-Type", std::string(media_type));
  req.body = std::string(bytes);
  req.deadline = deadline;
  ASSIGN_OR_RETURN(HttpResponse resp, Do(ref, req, PushScope(ref)));
  if (resp.status != 201 && resp.status != 200) {
    return StatusForResponse(resp, "manifest upload to " + ref.Name(), ref.registry);
  }
  std::string header = resp.Header("docker-content-digest");
  if (!header.empty() && header != digest) {
    return DataLoss(ref.registry + " stored the manifest as " + Quote(header) + ", expected " + digest);
  }
  return digest;
}

}  // namespace provgate
