// An HttpTransport that answers the OCI distribution API from an OCI
// image-layout directory instead of the network (`--oci-layout DIR`,
// docs/cli.md#offline-registry---oci-layout): policies can be tested without
// a registry, and push / sign / attest can write into the layout. Thread-safe
// (one mutex); one process at a time may write a layout.
//
// Layout conventions (the OCI image-layout spec, plus one choice of ours):
//   DIR/oci-layout        {"imageLayoutVersion":"1.0.0"}
//   DIR/index.json        an OCI index; each tagged manifest is annotated
//                         org.opencontainers.image.ref.name with the FULL
//                         reference "host/repo:tag", so one layout holds
//                         several repositories of several registries.
//   DIR/blobs/<alg>/<hex> every blob and manifest, content-addressed.
// A ref.name that is a bare tag ("v1", as skopeo and oras write it) is
// refused when the layout is opened: it would name that manifest in every
// repository, and a test could pass against the wrong model. Content by
// digest (manifests, blobs, referrers) is layout-wide, not per repository.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/json_util.h"
#include "verifier/reference.h"
#include "verifier/registry/http_transport.h"

namespace provgate {

inline constexpr char kOciRefNameAnnotation[] = "org.opencontainers.image.ref.name";

class OciLayoutTransport : public HttpTransport {
 public:
  // Opens the layout at `dir`. With `create`, a missing or empty directory
  // becomes a new empty layout. Fails with InvalidArgument naming the file
  // and what is wrong: no oci-layout file or another imageLayoutVersion, an
  // unreadable or malformed index.json (not an index, a descriptor without a
  // valid digest, mediaType or size, a ref.name that is not a full
  // "host/repo:tag" reference, the same ref.name twice).
  static StatusOr<std::unique_ptr<OciLayoutTransport>> Open(const std::string& dir, bool create);

  // Answers GET/HEAD /v2/, .../manifests/<tag|digest>, .../blobs/<digest>,
  // GET .../referrers/<digest> (an index of the layout's manifests whose
  // subject is that digest), POST .../blobs/uploads/ and PUT of the upload
  // URL (?digest=, verified) and of .../manifests/<tag|digest> (tags update
  // index.json). Unknown content is a 404 with a distribution error code.
  // Fails like any transport: ResourceExhausted for content larger than
  // max_response_bytes, DeadlineExceeded past the deadline, Unavailable
  // when the layout's files cannot be read or written (a manifest index.json
  // names whose blob is missing).
  StatusOr<HttpResponse> Send(const HttpRequest& request) override;

  const std::string& dir() const { return dir_; }

 private:
  struct Entry {
    Json descriptor;      // as in index.json
    std::string digest;   // descriptor["digest"]
    bool tagged = false;  // has a ref.name
    Reference ref;        // registry, repository, tag of the ref.name
  };

  explicit OciLayoutTransport(std::string dir) : dir_(std::move(dir)) {}
  Status Load();
  Status SaveIndexLocked();
  std::string BlobPath(const std::string& digest) const;
  // The blob's bytes, or NotFound; ResourceExhausted past `max_bytes`.
  StatusOr<std::string> ReadBlob(const std::string& digest, size_t max_bytes) const;
  Status WriteBlob(const std::string& digest, const std::string& bytes);
  Status WriteBlobFromFile(const std::string& digest, const std::string& path);

  StatusOr<HttpResponse> Manifest(const HttpRequest& req, const Reference& repo, const std::string& tag_or_digest);
  StatusOr<HttpResponse> PutManifest(const HttpRequest& req, const Reference& repo, const std::string& tag_or_digest);
  StatusOr<HttpResponse> Blob(const HttpRequest& req, const std::string& digest);
  StatusOr<HttpResponse> PutUpload(const HttpRequest& req, const std::string& query);
  StatusOr<HttpResponse> Referrers(const HttpRequest& req, const std::string& digest);

  const std::string dir_;
  std::mutex mu_;
  Json index_;                 // index.json as read, manifests kept in step with entries_
  std::vector<Entry> entries_;
  // Manifest digest -> its referrers descriptor (mediaType, digest, size,
  // artifactType, annotations) and subject digest; content-addressed, so
  // never stale.
  struct ManifestSummary {
    std::string subject;
    Json descriptor;
  };
  std::map<std::string, ManifestSummary> summaries_;
  unsigned long upload_counter_ = 0;
};

}  // namespace provgate
