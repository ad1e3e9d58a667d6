// ParseManifest over "<content-type>\n<manifest bytes>". Invariants
// (verifier/oci_manifest.h): the kind follows the effective media type, only
// the fields of that kind are filled, every descriptor has a valid digest and
// a size >= 0, and no list is longer than max_entries. The manifest then goes
// through CheckModelCoverage with an empty statement (layer titles from a
// hostile registry).
#include <string>

#include "tests/fuzz/fuzz_target.h"
#include "verifier/model_signing.h"
#include "verifier/oci_manifest.h"
#include "verifier/reference.h"

using namespace provgate;
using provgate::fuzz::FuzzCheck;

namespace {

constexpr size_t kMaxEntries = 16;

void CheckDescriptor(const Descriptor& d, const char* what) {
  FuzzCheck(ValidateDigest(d.digest).ok(), std::string(what) + " has an invalid digest: " + d.digest);
  FuzzCheck(d.size >= 0, std::string(what) + " has a negative size");
}

}  // namespace

PROVGATE_FUZZ_TARGET(oci_manifest) {
  std::string_view content_type;
  std::string_view bytes = input;
  if (auto nl = input.find('\n'); nl != std::string_view::npos && nl <= 200) {
    content_type = input.substr(0, nl);
    bytes = input.substr(nl + 1);
  }
  auto m = ParseManifest(bytes, content_type, kMaxEntries);
  if (!m.ok()) {
    FuzzCheck(m.status().code() == StatusCode::kInvalidArgument || m.status().code() == StatusCode::kResourceExhausted,
              "unexpected status " + m.status().ToString());
    return;
  }
  const bool index = m->media_type == kOciIndex || m->media_type == kDockerManifestList;
  FuzzCheck(m->media_type == kOciIndex || m->media_type == kDockerManifestList || m->media_type == kOciManifest ||
                m->media_type == kDockerManifest,
            "unknown effective media type " + m->media_type);
  FuzzCheck(index == (m->kind == Manifest::Kind::kIndex), "kind does not follow the media type " + m->media_type);
  if (index) {
    FuzzCheck(m->layers.empty() && m->config.digest.empty(), "an index with layers or a config");
  } else {
    FuzzCheck(m->manifests.empty(), "an image manifest with index entries");
    CheckDescriptor(m->config, "config");
  }
  FuzzCheck(m->layers.size() <= kMaxEntries && m->manifests.size() <= kMaxEntries, "more entries than max_entries");
  for (const auto& d : m->layers) CheckDescriptor(d, "layer");
  for (const auto& d : m->manifests) CheckDescriptor(d, "index entry");
  if (m->subject) CheckDescriptor(*m->subject, "subject");

  ModelSignatureStatement empty;
  empty.predicate_type = kModelSigningPredicateV1;
  empty.method = "files";
  empty.hash_type = "sha256";
  const std::vector<std::string> ignore = {"a", "b/"};
  const std::string sig_layer = m->layers.empty() ? "" : m->layers[0].digest;
  Status s = CheckModelCoverage(empty, *m, sig_layer, ignore);
  // Nothing is signed: covered exactly when every other layer has a title
  // that is ignored (ignoring excuses only what the statement does not name).
  bool coverable = true;
  for (const auto& d : m->layers) {
    if (d.digest == sig_layer) continue;
    auto t = d.annotations.find(kTitleAnnotation);
    if (t == d.annotations.end() || t->second.empty() || !IsIgnoredPath(t->second, ignore)) coverable = false;
  }
  if (s.ok()) FuzzCheck(coverable, "an empty statement covers a layer that is neither the signature nor ignored");
  if (!s.ok()) FuzzCheck(s.code() == StatusCode::kInvalidArgument, "CheckModelCoverage: " + s.ToString());
}
