// OpenSSF model signing (sigstore/model-transparency `model_signing` v1.x):
// the statement a `model.sig` bundle signs, and whether it covers an OCI
// artifact's files exactly, judged from the manifest alone (layer titles and
// digests; no weights are downloaded). The signature itself is checked by
// the bundle path like any other; this is what the verified statement says.
// Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "verifier/oci_manifest.h"

namespace provgate {

inline constexpr char kModelSigningPredicateV1[] = "https://model_signing/signature/v1.0";
inline constexpr char kModelSigningPredicateV01[] = "https://model_signing/Digests/v0.1";
inline constexpr char kModelSigFileName[] = "model.sig";
inline constexpr char kTitleAnnotation[] = "org.opencontainers.image.title";

struct ModelResource {
  std::string name;       // posix relative path (or "path:start:end" for shards)
  std::string algorithm;  // "sha256", "blake2", ...
  std::string digest;     // lowercase hex
};

struct ModelSignatureStatement {
  std::string predicate_type;  // one of the two constants above
  std::string method;          // serialization.method: "files" | "shards" ("files" for v0.1)
  std::string hash_type;       // serialization.hash_type ("sha256" for v0.1)
  std::vector<std::string> ignore_paths;  // serialization.ignore_paths
  std::vector<ModelResource> resources;   // predicate order (v0.1: the subjects)
};

inline constexpr size_t kMaxModelResources = 100000;

// Parses the in-toto statement bytes of a verified OMS signature (ParseStatement's
// rules first: no key twice, v0.1 at most kMaxStatementSubjects subjects).
// For v1.0: _type Statement/v1; exactly one subject whose digest.sha256 must
// equal SHA-256 over the concatenated raw digests of `resources` in order,
// else "manifest is inconsistent"; predicate.serialization with a method
// "files" or "shards", a hash_type, a boolean allow_symlinks, a positive
// shard_size and string ignore_paths when present; resources with a
// non-empty name, an algorithm and a lowercase hex digest (64 characters for
// sha256); no name twice. Other predicate fields are ignored. For v0.1 every
// subject is a resource (its sha256, else its one algorithm). Fails with
// InvalidArgument naming the field; another predicateType is refused;
// ResourceExhausted beyond kMaxModelResources resources or ignore_paths.
StatusOr<ModelSignatureStatement> ParseModelSignatureStatement(std::string_view statement_bytes);

// True when `title` is ignored by `patterns`: equal to one, or under one
// taken as a directory ("dir" and "dir/" both ignore "dir/x", not "dirx").
// An empty pattern, or one of slashes only, ignores nothing.
bool IsIgnoredPath(std::string_view title, const std::vector<std::string>& patterns);

// Checks that `st` covers `manifest`'s files exactly. Every layer with a
// title (kTitleAnnotation), other than the layer whose digest is
// `signature_layer_digest` (may be empty) and titles ignored by
// `ignore_paths` or st.ignore_paths, must be a resource of the same name,
// algorithm sha256, digest equal to the layer digest's hex; every resource
// must be such a layer. Ignoring only excuses layers the statement does not
// name: a signed file is checked, and required, even under an ignored path
// (as upstream's verifier, which fails when a signed file is ignored). OK, or InvalidArgument (base/status.h
// has no FailedPrecondition; every non-OK answer is "not covered", never
// "could not decide") with one reason naming the first problem, statement-
// wide ones first, then in layer order, then in resource order:
// "shards serialization cannot be checked without the weights",
// "hash_type <x> cannot be checked against layer digests", "<name>: signed
// twice", "a layer has no title (<digest>)…", "<title>: layer title is not a
// clean relative path" (empty, "." or ".." segments), "<title>: two layers
// have this title", "<name>: layer is not signed", "<name>: algorithm <x>
// cannot be checked against a layer digest", "<name>: signed digest
// sha256:<a>, layer digest <b>", "<name>: signed but not a layer".
// Names are shown as written, or JSON-quoted when they hold control
// characters, quotes or invalid UTF-8. ResourceExhausted beyond
// kMaxModelResources resources.
Status CheckModelCoverage(const ModelSignatureStatement& st, const Manifest& manifest,
                          std::string_view signature_layer_digest, const std::vector<std::string>& ignore_paths);

}  // namespace provgate
