#include "verifier/registry/oci_layout_transport.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "base/encoding.h"
#include "base/file.h"
#include "verifier/digest.h"
#include "verifier/openssl_util.h"
#include "verifier/registry_host.h"

namespace provgate {
namespace {

namespace fs = std::filesystem;

constexpr char kLayoutFile[] = "oci-layout";
constexpr char kIndexFile[] = "index.json";
constexpr char kOciIndexMediaType[] = "application/vnd.oci.image.index.v1+json";
constexpr char kOciManifestMediaType[] = "application/vnd.oci.image.manifest.v1+json";
// index.json lists every manifest of the layout (each ~300 bytes): more
// than the client's manifest bound, still bounded.
constexpr size_t kMaxIndexBytes = 16 << 20;
constexpr size_t kMaxLayoutFileBytes = 4096;
constexpr size_t kMaxIndexEntries = 65536;

HttpResponse ErrorResponse(int status, const std::string& code, const std::string& message) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace("content-type", "application/json");
  Json body = {{"errors", Json::array({{{"code", code}, {"message", message}}})}};
  r.body = body.dump();
  return r;
}

std::string UrlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string QueryParam(const std::string& query, const std::string& name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string part = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    if (part.rfind(name + "=", 0) == 0) return UrlDecode(part.substr(name.size() + 1));
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return "";
}

// A ref.name must be a full reference with an explicit tag: "host/repo:tag".
StatusOr<Reference> ParseRefName(const std::string& name) {
  auto slash = name.rfind('/');
  if (slash == std::string::npos || name.find(':', slash) == std::string::npos || name.find('@') != std::string::npos) {
    return InvalidArgument(Quote(name) + " is not a full reference host/repo:tag (a bare tag, as skopeo and oras " +
                           "write it, would name every repository; write the full reference)");
  }
  auto ref = ParseReference(name);
  if (!ref.ok()) return InvalidArgument(Quote(name) + ": " + ref.status().message());
  return ref;
}

bool SameRepository(const Reference& a, const Reference& b) {
  return a.registry == b.registry && a.repository == b.repository;
}

// Writes `bytes` to `path` through a temporary file and a rename, so a
// reader never sees half a file.
Status WriteFileAtomically(const std::string& path, const std::string& bytes) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Unavailable("cannot write " + tmp);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return Unavailable("cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Unavailable("cannot rename " + tmp + ": " + ec.message());
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::unique_ptr<OciLayoutTransport>> OciLayoutTransport::Open(const std::string& dir, bool create) {
  std::error_code ec;
  if (create && (!fs::exists(dir, ec) || (fs::is_directory(dir, ec) && fs::is_empty(dir, ec)))) {
    fs::create_directories(fs::path(dir) / "blobs" / "sha256", ec);
    if (ec) return InvalidArgument("cannot create OCI layout " + dir + ": " + ec.message());
    RETURN_IF_ERROR(WriteFileAtomically(dir + "/" + kLayoutFile, R"({"imageLayoutVersion":"1.0.0"})"));
    RETURN_IF_ERROR(WriteFileAtomically(
        dir + "/" + kIndexFile, R"({"schemaVersion":2,"mediaType":")" + std::string(kOciIndexMediaType) +
                                    R"(","manifests":[]})"));
  }
  if (!fs::is_directory(dir, ec)) return InvalidArgument("OCI layout " + dir + " is not a directory");
  std::unique_ptr<OciLayoutTransport> t(new OciLayoutTransport(dir));
  RETURN_IF_ERROR(t->Load());
  return t;
}

Status OciLayoutTransport::Load() {
  const std::string layout_path = dir_ + "/" + kLayoutFile;
  auto layout_text = ReadFileBounded(layout_path, kMaxLayoutFileBytes);
  if (!layout_text.ok()) return InvalidArgument(layout_path + ": " + layout_text.status().message());
  auto layout = ParseJson(*layout_text, layout_path);
  if (!layout.ok()) return layout.status();
  if (!layout->is_object() || !layout->contains("imageLayoutVersion") ||
      (*layout)["imageLayoutVersion"] != "1.0.0") {
    return InvalidArgument(layout_path + ": imageLayoutVersion must be \"1.0.0\"");
  }

  const std::string index_path = dir_ + "/" + kIndexFile;
  auto text = ReadFileBounded(index_path, kMaxIndexBytes);
  if (!text.ok()) return InvalidArgument(index_path + ": " + text.status().message());
  auto index = ParseJsonUniqueKeys(*text, index_path);
  if (!index.ok()) return index.status();
  auto bad = [&](const std::string& what) { return InvalidArgument(index_path + ": " + what); };
  if (!index->is_object()) return bad("not a JSON object");
  if (!index->contains("schemaVersion") || (*index)["schemaVersion"] != 2) return bad("schemaVersion must be 2");
  if (index->contains("mediaType") && (*index)["mediaType"] != kOciIndexMediaType) {
    return bad(std::string("mediaType must be ") + kOciIndexMediaType);
  }
  if (!index->contains("manifests") || !(*index)["manifests"].is_array()) return bad("manifests must be an array");
  if ((*index)["manifests"].size() > kMaxIndexEntries) {
    return bad("more than " + std::to_string(kMaxIndexEntries) + " manifests");
  }
  std::set<std::string> names;
  std::vector<Entry> entries;
  size_t i = 0;
  for (const Json& d : (*index)["manifests"]) {
    const std::string where = "manifests[" + std::to_string(i++) + "]";
    if (!d.is_object()) return bad(where + " is not an object");
    if (!d.contains("mediaType") || !d["mediaType"].is_string()) return bad(where + ".mediaType must be a string");
    if (!d.contains("size") || !d["size"].is_number_unsigned()) return bad(where + ".size must be a non-negative integer");
    if (!d.contains("digest") || !d["digest"].is_string() || !ValidateDigest(d["digest"].get<std::string>()).ok()) {
      return bad(where + ".digest must be a digest (sha256:<64 hex>)");
    }
    Entry e;
    e.descriptor = d;
    e.digest = d["digest"];
    if (d.contains("annotations")) {
      if (!d["annotations"].is_object()) return bad(where + ".annotations must be an object");
      for (const auto& [k, v] : d["annotations"].items()) {
        if (!v.is_string()) return bad(where + ".annotations." + k + " must be a string");
      }
      if (d["annotations"].contains(kOciRefNameAnnotation)) {
        std::string name = d["annotations"][kOciRefNameAnnotation];
        auto ref = ParseRefName(name);
        if (!ref.ok()) return bad(where + " " + kOciRefNameAnnotation + ": " + ref.status().message());
        if (!names.insert(ref->String()).second) return bad(where + ": " + Quote(name) + " is named twice");
        e.tagged = true;
        e.ref = std::move(*ref);
      }
    }
    entries.push_back(std::move(e));
  }
  std::lock_guard<std::mutex> l(mu_);
  index_ = std::move(*index);
  entries_ = std::move(entries);
  return Status::Ok();
}

Status OciLayoutTransport::SaveIndexLocked() {
  Json manifests = Json::array();
  for (const auto& e : entries_) manifests.push_back(e.descriptor);
  index_["manifests"] = std::move(manifests);
  if (!index_.contains("mediaType")) index_["mediaType"] = kOciIndexMediaType;
  return WriteFileAtomically(dir_ + "/" + kIndexFile, index_.dump(2) + "\n");
}

std::string OciLayoutTransport::BlobPath(const std::string& digest) const {
  // ValidateDigest ran: "<alg>:<lowercase hex>", no path separators.
  auto colon = digest.find(':');
  return dir_ + "/blobs/" + digest.substr(0, colon) + "/" + digest.substr(colon + 1);
}

StatusOr<std::string> OciLayoutTransport::ReadBlob(const std::string& digest, size_t max_bytes) const {
  const std::string path = BlobPath(digest);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return NotFound("blob " + digest + " is not in the layout");
  if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) > max_bytes) {
    return ResourceExhausted(path + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  auto bytes = ReadFileBounded(path, max_bytes);
  if (!bytes.ok()) {
    // Grown between stat and read, or not a regular file.
    if (bytes.status().message().rfind("larger than", 0) == 0) {
      return ResourceExhausted(path + " is " + bytes.status().message());
    }
    return Unavailable("cannot read " + path + ": " + bytes.status().message());
  }
  return bytes;
}

Status OciLayoutTransport::WriteBlob(const std::string& digest, const std::string& bytes) {
  std::error_code ec;
  fs::create_directories(fs::path(BlobPath(digest)).parent_path(), ec);
  if (ec) return Unavailable("cannot create " + fs::path(BlobPath(digest)).parent_path().string());
  return WriteFileAtomically(BlobPath(digest), bytes);
}

Status OciLayoutTransport::WriteBlobFromFile(const std::string& digest, const std::string& path) {
  // Streamed (model files can be large) and hashed on the way: what lands
  // under the digest's name is what hashes to it.
  const std::string target = BlobPath(digest);
  std::error_code ec;
  fs::create_directories(fs::path(target).parent_path(), ec);
  const std::string tmp = target + ".tmp." + std::to_string(::getpid());
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unavailable("cannot read " + path);
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) return Unavailable("cannot write " + tmp);
  ossl::MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return Internal("SHA-256 unavailable");
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto n = in.gcount();
    if (n <= 0) break;
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(n));
    out.write(buf.data(), n);
  }
  out.close();
  unsigned char md[32];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  if (in.bad() || !out) {
    fs::remove(tmp, ec);
    return Unavailable("cannot copy " + path + " into the layout");
  }
  if ("sha256:" + HexEncode(std::string_view(reinterpret_cast<char*>(md), len)) != digest) {
    fs::remove(tmp, ec);
    return InvalidArgument("upload of " + path + " does not hash to " + digest);
  }
  fs::rename(tmp, target, ec);
  if (ec) return Unavailable("cannot rename " + tmp + ": " + ec.message());
  return Status::Ok();
}

StatusOr<HttpResponse> OciLayoutTransport::Send(const HttpRequest& req) {
  if (req.deadline != Deadline() && std::chrono::steady_clock::now() > req.deadline) {
    return DeadlineExceeded("deadline passed before reading the OCI layout");
  }
  // scheme://host/path?query; the host is the registry (Docker Hub's API
  // host stands for docker.io, RegistryClient::BaseUrl).
  auto sep = req.url.find("://");
  if (sep == std::string::npos) return InvalidArgument("bad URL " + req.url);
  std::string rest = req.url.substr(sep + 3);
  auto slash = rest.find('/');
  std::string host = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string query;
  if (auto q = path.find('?'); q != std::string::npos) {
    query = path.substr(q + 1);
    path.resize(q);
  }
  if (host == kDockerHubApiHost) host = std::string(kDockerHubHost);
  if (path == "/v2/" || path == "/v2") {
    HttpResponse r;
    r.status = 200;
    return r;
  }
  if (path.rfind("/v2/", 0) != 0) return ErrorResponse(404, "NAME_UNKNOWN", "not a distribution API path");

  // The repository name may hold slashes: the last API segment decides.
  struct Route {
    const char* segment;
    int kind;
  };
  enum { kManifests, kUploads, kBlobs, kReferrers };
  for (Route route : {Route{"/manifests/", kManifests}, Route{"/blobs/uploads/", kUploads}, Route{"/blobs/", kBlobs},
                      Route{"/referrers/", kReferrers}}) {
    auto at = path.rfind(route.segment);
    if (at == std::string::npos || at <= 4) continue;
    Reference repo;
    repo.registry = host;
    repo.repository = path.substr(4, at - 4);
    const std::string arg = path.substr(at + std::string(route.segment).size());
    switch (route.kind) {
      case kManifests:
        if (req.method == "PUT") return PutManifest(req, repo, arg);
        return Manifest(req, repo, arg);
      case kUploads:
        if (req.method == "POST" && arg.empty()) {
          HttpResponse r;
          r.status = 202;
          std::lock_guard<std::mutex> l(mu_);
          r.headers.emplace("location", "/v2/" + repo.repository + "/blobs/uploads/layout-" +
                                            std::to_string(++upload_counter_));
          return r;
        }
        if (req.method == "PUT") return PutUpload(req, query);
        return ErrorResponse(405, "UNSUPPORTED", "only monolithic uploads (POST then PUT) are supported");
      case kBlobs:
        return Blob(req, arg);
      case kReferrers:
        return Referrers(req, arg);
    }
  }
  return ErrorResponse(404, "NAME_UNKNOWN", "not a distribution API path");
}

StatusOr<HttpResponse> OciLayoutTransport::Manifest(const HttpRequest& req, const Reference& repo,
                                                    const std::string& tag_or_digest) {
  if (req.method != "GET" && req.method != "HEAD") return ErrorResponse(405, "UNSUPPORTED", "method not allowed");
  std::string digest, media_type;
  const bool by_digest = ValidateDigest(tag_or_digest).ok();
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& e : entries_) {
      if (by_digest ? e.digest == tag_or_digest : (e.tagged && SameRepository(e.ref, repo) && e.ref.tag == tag_or_digest)) {
        digest = e.digest;
        media_type = e.descriptor["mediaType"];
        break;
      }
    }
  }
  if (digest.empty() && by_digest) digest = tag_or_digest;  // a child of an index, say
  if (digest.empty()) {
    return ErrorResponse(404, "MANIFEST_UNKNOWN", "no manifest named " + repo.Name() + ":" + tag_or_digest);
  }
  auto bytes = ReadBlob(digest, req.max_response_bytes);
  if (!bytes.ok()) {
    if (bytes.status().code() != StatusCode::kNotFound) return bytes.status();
    if (!media_type.empty()) {
      return Unavailable("OCI layout " + dir_ + ": index.json names manifest " + digest + " but its blob is missing");
    }
    return ErrorResponse(404, "MANIFEST_UNKNOWN", "no manifest " + digest);
  }
  if (media_type.empty()) {
    auto j = ParseJsonTopLevelMembers(*bytes, "manifest", {"mediaType"});
    media_type = j.ok() && j->is_object() && j->contains("mediaType") && (*j)["mediaType"].is_string()
                     ? (*j)["mediaType"].get<std::string>()
                     : std::string(kOciManifestMediaType);
  }
  HttpResponse r;
  r.status = 200;
  r.headers.emplace("content-type", media_type);
  // The digest the layout names it by, not the hash of what is on disk: a
  // tampered file must fail the client's check, not be renamed by us.
  r.headers.emplace("docker-content-digest", digest);
  r.headers.emplace("content-length", std::to_string(bytes->size()));
  if (req.method == "GET") r.body = std::move(*bytes);
  return r;
}

StatusOr<HttpResponse> OciLayoutTransport::PutManifest(const HttpRequest& req, const Reference& repo,
                                                       const std::string& tag_or_digest) {
  const std::string digest = Sha256Digest(req.body);
  const bool by_digest = ValidateDigest(tag_or_digest).ok();
  if (by_digest && tag_or_digest != digest) {
    return ErrorResponse(400, "DIGEST_INVALID", "the manifest does not hash to " + tag_or_digest);
  }
  Reference tagged = repo;
  if (!by_digest) {
    auto parsed = ParseRefName(repo.Name() + ":" + tag_or_digest);
    if (!parsed.ok()) return ErrorResponse(400, "TAG_INVALID", parsed.status().message());
    tagged = std::move(*parsed);
  }
  std::string media_type;
  for (const auto& [k, v] : req.headers) {
    std::string lower = k;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "content-type") media_type = v;
  }
  if (media_type.empty()) media_type = kOciManifestMediaType;
  RETURN_IF_ERROR(WriteBlob(digest, req.body));

  std::lock_guard<std::mutex> l(mu_);
  Json d = {{"mediaType", media_type}, {"digest", digest}, {"size", req.body.size()}};
  if (by_digest) {
    bool present = false;
    for (const auto& e : entries_) present = present || e.digest == digest;
    if (!present) entries_.push_back({d, digest, false, {}});
  } else {
    std::erase_if(entries_, [&](const Entry& e) { return e.tagged && e.ref == tagged; });
    d["annotations"] = {{kOciRefNameAnnotation, tagged.String()}};
    entries_.push_back({d, digest, true, tagged});
  }
  RETURN_IF_ERROR(SaveIndexLocked());
  HttpResponse r;
  r.status = 201;
  r.headers.emplace("docker-content-digest", digest);
  return r;
}

StatusOr<HttpResponse> OciLayoutTransport::Blob(const HttpRequest& req, const std::string& digest) {
  if (req.method != "GET" && req.method != "HEAD") return ErrorResponse(405, "UNSUPPORTED", "method not allowed");
  if (!ValidateDigest(digest).ok()) return ErrorResponse(400, "DIGEST_INVALID", "not a digest");
  HttpResponse r;
  if (req.method == "HEAD") {
    struct stat st;
    if (::stat(BlobPath(digest).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return ErrorResponse(404, "BLOB_UNKNOWN", "no blob " + digest);
    }
    r.status = 200;
    r.headers.emplace("content-length", std::to_string(st.st_size));
    r.headers.emplace("docker-content-digest", digest);
    return r;
  }
  auto bytes = ReadBlob(digest, req.max_response_bytes);
  if (!bytes.ok()) {
    if (bytes.status().code() == StatusCode::kNotFound) return ErrorResponse(404, "BLOB_UNKNOWN", "no blob " + digest);
    return bytes.status();
  }
  r.status = 200;
  r.headers.emplace("content-type", "application/octet-stream");
  r.headers.emplace("docker-content-digest", digest);
  r.body = std::move(*bytes);
  return r;
}

StatusOr<HttpResponse> OciLayoutTransport::PutUpload(const HttpRequest& req, const std::string& query) {
  const std::string digest = QueryParam(query, "digest");
  if (digest.rfind("sha256:", 0) != 0 || !ValidateDigest(digest).ok()) {
    return ErrorResponse(400, "DIGEST_INVALID", "uploads need ?digest=sha256:<hex>");
  }
  if (!req.body_file.empty()) {
    Status s = WriteBlobFromFile(digest, req.body_file);
    if (s.code() == StatusCode::kInvalidArgument) return ErrorResponse(400, "DIGEST_INVALID", s.message());
    RETURN_IF_ERROR(s);
  } else {
    if (Sha256Digest(req.body) != digest) {
      return ErrorResponse(400, "DIGEST_INVALID", "the upload does not hash to " + digest);
    }
    RETURN_IF_ERROR(WriteBlob(digest, req.body));
  }
  HttpResponse r;
  r.status = 201;
  r.headers.emplace("docker-content-digest", digest);
  return r;
}

StatusOr<HttpResponse> OciLayoutTransport::Referrers(const HttpRequest& req, const std::string& digest) {
  if (req.method != "GET") return ErrorResponse(405, "UNSUPPORTED", "method not allowed");
  if (!ValidateDigest(digest).ok()) return ErrorResponse(400, "DIGEST_INVALID", "not a digest");
  std::vector<std::string> digests;
  {
    std::lock_guard<std::mutex> l(mu_);
    std::set<std::string> seen;
    for (const auto& e : entries_) {
      if (seen.insert(e.digest).second) digests.push_back(e.digest);
    }
  }
  Json manifests = Json::array();
  for (const auto& d : digests) {
    ManifestSummary summary;
    bool known = false;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = summaries_.find(d);
      if (it != summaries_.end()) {
        summary = it->second;
        known = true;
      }
    }
    if (!known) {
      // A manifest larger than the bound of this response cannot be listed
      // in it either; a missing or unparsable one has no subject.
      auto bytes = ReadBlob(d, req.max_response_bytes);
      if (bytes.ok() && CheckDigest(*bytes, d, "manifest").ok()) {
        auto j = ParseJson(*bytes, "manifest");
        if (j.ok() && j->is_object()) {
          const Json& m = *j;
          if (m.contains("subject") && m["subject"].is_object() && m["subject"].contains("digest") &&
              m["subject"]["digest"].is_string()) {
            summary.subject = m["subject"]["digest"];
          }
          std::string media_type = m.contains("mediaType") && m["mediaType"].is_string()
                                       ? m["mediaType"].get<std::string>() : std::string(kOciManifestMediaType);
          summary.descriptor = {{"mediaType", media_type}, {"digest", d}, {"size", bytes->size()}};
          // The referrers API's artifactType: the manifest's, else its config's media type.
          if (m.contains("artifactType") && m["artifactType"].is_string()) {
            summary.descriptor["artifactType"] = m["artifactType"];
          } else if (m.contains("config") && m["config"].is_object() && m["config"].contains("mediaType")) {
            summary.descriptor["artifactType"] = m["config"]["mediaType"];
          }
          if (m.contains("annotations") && m["annotations"].is_object()) {
            summary.descriptor["annotations"] = m["annotations"];
          }
        }
        std::lock_guard<std::mutex> l(mu_);
        summaries_[d] = summary;
      }
    }
    if (summary.subject == digest) manifests.push_back(summary.descriptor);
  }
  Json index = {{"schemaVersion", 2}, {"mediaType", kOciIndexMediaType}, {"manifests", std::move(manifests)}};
  HttpResponse r;
  r.status = 200;
  r.headers.emplace("content-type", kOciIndexMediaType);
  r.body = index.dump();
  if (r.body.size() > req.max_response_bytes) {
    return ResourceExhausted("referrers of " + digest + " exceed " + std::to_string(req.max_response_bytes) + " bytes");
  }
  return r;
}

}  // namespace provgate
