// OCI image references, parsed and normalised the way container runtimes do
// (distribution/reference "ParseNormalizedNamed"). Pure value type.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace provgate {

// A reference carried structurally: the registry is always in its canonical
// spelling (CanonicalRegistryHost), so two references that name the same
// artifact compare equal and String() re-parses to the same Reference.
struct Reference {
  std::string registry;    // canonical: "docker.io", "ghcr.io", "127.0.0.1:5000", "acme:443"
  std::string repository;  // "library/busybox", "models/mnist"
  std::string tag;         // may be empty when a digest is given
  std::string digest;      // "sha256:<hex>" or empty

  // "registry/repository" — the name policies and tokens are scoped by.
  std::string Name() const {
    std::string s;
    s.reserve(registry.size() + 1 + repository.size());
    return s.append(registry).append(1, '/').append(repository);
  }
  // The fully normalised form: name[:tag][@digest].
  std::string String() const;
  // Appends String() to `out` (a reused buffer needs no allocation).
  void AppendTo(std::string* out) const;
  // The same repository at `digest` with the tag kept: name[:tag]@digest.
  Reference WithDigest(std::string d) const {
    Reference r = *this;
    r.digest = std::move(d);
    return r;
  }
  // The tag or, when there is none, the digest: what a registry URL names.
  const std::string& TagOrDigest() const { return digest.empty() ? tag : digest; }

  bool operator==(const Reference&) const = default;
};

// Parses `text` (with an optional "oci://", "oci+native://" or "oci+fetch://"
// scheme, which is stripped) the way distribution/reference's
// ParseNormalizedNamed does: the first component is the registry when
// IsRegistryHostComponent says so, and is then spelt canonically
// ("Registry.Example.COM:0443/m" -> "registry.example.com/m", "ACME/m" ->
// "acme:443/m", "index.docker.io/m" -> "docker.io/m"); otherwise the
// registry is docker.io ("busybox" -> "docker.io/library/busybox:latest").
// A reference without tag or digest gets ":latest". Fails with
// InvalidArgument and a reason for anything malformed: bad characters,
// uppercase repository, bad tag, an invalid host or port, a digest that is
// not sha256/sha512 lowercase hex of the right length.
StatusOr<Reference> ParseReference(std::string_view text);

// Validates a digest string "sha256:<64 lowercase hex>" or "sha512:<128 ...>".
Status ValidateDigest(std::string_view digest);

}  // namespace provgate
