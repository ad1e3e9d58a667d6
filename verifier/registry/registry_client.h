// A client for the OCI distribution API (docs/registries.md, the OCI distribution spec): manifests
// and blobs by tag or digest, every byte hashed against the digest it was
// fetched by, bounded sizes, anonymous / basic / bearer-token auth with a
// token cache per scope, redirects only to https (or the configured insecure
// host) with credentials stripped across origins. Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <map>
#include <string>
#include <string_view>

#include "base/byte_budget.h"
#include "verifier/oci_manifest.h"
#include "verifier/reference.h"
#include "verifier/registry/http_transport.h"
#include "verifier/registry/registry_config.h"

namespace provgate {

struct RegistryLimits {
  size_t max_manifest_bytes = 4 << 20;     // manifests and indexes
  size_t max_attachment_bytes = 16 << 20;  // signature and attestation layer blobs
  // All layers of one kind of attachment (.sig, .att, Sigstore bundle
  // referrers) together: what one artifact can make us hold in memory.
  size_t max_attachment_total_bytes = 64 << 20;
  size_t max_config_bytes = 4 << 20;       // config blobs read for metadata
  size_t max_attached_layers = 64;         // layers of a .sig / .att manifest
  // Attachment bytes held at once by every verification of this client
  // together (ByteBudget): reserved before download, released when the
  // material is destroyed. Up to `small_attachment_bytes` per kind of one
  // artifact need no reservation (the verification pool bounds how many
  // such artifacts are in flight). 0 = unlimited.
  size_t attachment_bytes_in_flight = 64 << 20;
  size_t small_attachment_bytes = 1 << 20;
  size_t max_manifest_entries = 1024;      // layers / index entries of other manifests
  size_t max_token_bytes = 64 << 10;
  int max_redirects = 5;
  // How the requests of one artifact's attachments run: the kinds
  // (signatures, attestations, bundles) side by side, and each kind's layers
  // up to this many at a time, each on a thread of its own. 1 (or 0): every
  // request one after another on the calling thread.
  size_t parallel_fetches = 8;
};

// Receives one call per HTTP exchange with a registry or token server, for
// metrics. `code` is the HTTP status, or 0 when no response arrived.
class RegistryObserver {
 public:
  virtual ~RegistryObserver() = default;
  virtual void OnRegistryRequest(const std::string& host, int code, double seconds) = 0;
};

struct FetchedManifest {
  std::string digest;        // of the exact bytes
  std::string content_type;  // as served
  std::string bytes;
  Manifest manifest;
};

class RegistryClient {
 public:
  // `transport`, `observer` and `clock` must outlive the client; `observer`
  // may be null; `clock` (null: the steady clock) times the token cache and
  // the memory of registries without a referrers API.
  RegistryClient(HttpTransport* transport, std::shared_ptr<const RegistryConfig> config,
                 RegistryLimits limits = {}, RegistryObserver* observer = nullptr, const Clock* clock = nullptr);

  const RegistryLimits& limits() const { return limits_; }
  // The budget of attachment bytes in flight (limits().attachment_bytes_in_flight).
  ByteBudget& memory_budget() const { return *memory_budget_; }

  // The digest a tag points to (HEAD, falling back to GET and hashing when
  // the registry omits Docker-Content-Digest). A reference with a digest
  // returns it unchanged. Fails NotFound for an unknown tag; Unavailable,
  // DeadlineExceeded, PermissionDenied on transport and auth failures.
  StatusOr<std::string> ResolveDigest(const Reference& ref, Deadline deadline);

  // GETs the manifest `tag_or_digest` of ref's repository, bounded by
  // `max_bytes` (default limits().max_manifest_bytes). By digest, the bytes
  // must hash to it (DataLoss otherwise); by tag, a Docker-Content-Digest
  // header must agree with the hash. `max_entries` bounds layers/index
  // entries (ResourceExhausted naming the bound).
  StatusOr<FetchedManifest> GetManifest(const Reference& ref, std::string_view tag_or_digest, Deadline deadline,
                                        size_t max_entries = 0);

  // The referrers of `digest` (OCI 1.1): the referrers API, following
  // `Link: rel="next"` pages (at most 8), falling back to the
  // "sha256-<hex>" tag when the API answers 404 (docker-registry 2.8 has no
  // API). No referrers anywhere is an empty list. More than `max_entries`
  // descriptors fail with ResourceExhausted.
  StatusOr<std::vector<Descriptor>> GetReferrers(const Reference& ref, std::string_view digest, Deadline deadline,
                                                 size_t max_entries);

  // GETs a blob of ref's repository, bounded by `max_bytes`, and checks its digest.
  StatusOr<std::string> GetBlob(const Reference& ref, std::string_view digest, size_t max_bytes, Deadline deadline);

  // Uploads a blob (monolithic POST+PUT) unless the registry already has it.
  Status PushBlob(const Reference& ref, std::string_view bytes, Deadline deadline);
  // Same, streaming a file whose digest and size the caller computed.
  Status PushBlobFile(const Reference& ref, const std::string& path, const std::string& digest, uint64_t size,
                      Deadline deadline);
  // PUTs a manifest under `tag` (or its digest when `tag` is empty); returns its digest.
  StatusOr<std::string> PushManifest(const Reference& ref, std::string_view tag, std::string_view media_type,
                                     std::string_view bytes, Deadline deadline);

 private:
  struct CachedAuth {
    std::string header;  // full Authorization value
    Clock::TimePoint expires;
  };

  // Sends `req` to ref's registry with auth for `scope`; follows redirects
  // per the rules above; answers one 401 by obtaining credentials.
  StatusOr<HttpResponse> Do(const Reference& ref, HttpRequest req, const std::string& scope);
  // `final_url`, when given, receives the URL that produced the response.
  StatusOr<HttpResponse> SendFollowingRedirects(HttpRequest req, const std::string& host,
                                                std::string* final_url = nullptr);
  StatusOr<std::string> Authorize(const std::string& host, const std::string& scope, const std::string& challenge,
                                  Deadline deadline);
  StatusOr<std::string> FetchToken(const std::string& host, const std::map<std::string, std::string>& params,
                                   const std::string& scope, Deadline deadline);
  std::string BaseUrl(const std::string& host) const;
  Status StatusForResponse(const HttpResponse& r, const std::string& what, const std::string& host) const;
  StatusOr<std::string> StartUpload(const Reference& ref, Deadline deadline);
  StatusOr<bool> BlobExists(const Reference& ref, std::string_view digest, Deadline deadline);
  // Monolithic upload of `put`'s body unless the blob exists.
  Status Upload(const Reference& ref, const std::string& digest, HttpRequest put, Deadline deadline);

  HttpTransport* transport_;
  std::shared_ptr<const RegistryConfig> config_;
  RegistryLimits limits_;
  std::unique_ptr<ByteBudget> memory_budget_;
  RegistryObserver* observer_;
  SteadyClock steady_;
  const Clock* clock_;  // `steady_` unless one was given

  std::mutex mu_;
  std::map<std::string, CachedAuth> auth_cache_;       // "host scope" -> header
  std::map<std::string, std::string> host_challenge_;  // host -> last WWW-Authenticate
  // Hosts whose referrers API answered 404, until when: their referrers are
  // read from the fallback tag directly (one round trip less per artifact).
  std::map<std::string, Clock::TimePoint> no_referrers_api_;
};

// The scope strings used for token requests.
std::string PullScope(const Reference& ref);
std::string PushScope(const Reference& ref);

}  // namespace provgate
