// ParseModelSignatureStatement over arbitrary statement bytes, then
// CheckModelCoverage against manifests built from the statement. Invariants
// (verifier/model_signing.h): a statement of sha256 files with clean names
// covers exactly the manifest whose layers are its resources (plus the
// signature layer); dropping a signed layer or adding an unsigned one that
// is not ignored is never covered; names are unique and non-empty.
#include <set>
#include <string>

#include "base/encoding.h"
#include "tests/fuzz/fuzz_target.h"
#include "verifier/model_signing.h"

using namespace provgate;
using provgate::fuzz::FuzzCheck;

namespace {

bool CleanRelativePath(const std::string& path) {
  if (path.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string seg = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

Descriptor Layer(const std::string& title, const std::string& digest) {
  Descriptor d;
  d.media_type = "application/octet-stream";
  d.digest = digest;
  d.size = 1;
  if (!title.empty()) d.annotations[kTitleAnnotation] = title;
  return d;
}

}  // namespace

PROVGATE_FUZZ_TARGET(model_signing_statement) {
  auto st = ParseModelSignatureStatement(input);
  if (!st.ok()) {
    FuzzCheck(st.status().code() == StatusCode::kInvalidArgument || st.status().code() == StatusCode::kResourceExhausted,
              "unexpected status " + st.status().ToString());
    return;
  }
  FuzzCheck(st->predicate_type == kModelSigningPredicateV1 || st->predicate_type == kModelSigningPredicateV01,
            "accepted another predicate type");
  FuzzCheck(st->method == "files" || st->method == "shards", "accepted another method");
  std::set<std::string> names;
  bool checkable = st->method == "files" && st->hash_type == "sha256";
  for (const auto& r : st->resources) {
    FuzzCheck(!r.name.empty() && !r.algorithm.empty(), "a resource without name or algorithm");
    FuzzCheck(names.insert(r.name).second, "a name signed twice was accepted");
    FuzzCheck(!r.digest.empty() && r.digest.size() % 2 == 0 && IsLowerHex(r.digest), "a digest that is not hex");
    if (r.algorithm == "sha256") FuzzCheck(r.digest.size() == 64, "a sha256 digest of another length");
    if (r.algorithm != "sha256" || !CleanRelativePath(r.name)) checkable = false;
    if (r.digest == std::string(64, 'f')) checkable = false;  // the signature layer's digest below
  }

  const std::string sig_digest = "sha256:" + std::string(64, 'f');
  Manifest m;
  m.layers.push_back(Layer("model.sig", sig_digest));
  for (const auto& r : st->resources) m.layers.push_back(Layer(r.name, "sha256:" + r.digest));
  Status covered = CheckModelCoverage(*st, m, sig_digest, {});
  if (checkable) FuzzCheck(covered.ok(), "a statement does not cover the layers it names: " + covered.ToString());
  if (!covered.ok()) return;
  FuzzCheck(checkable, "covered although some resource cannot be checked against a layer digest");
  if (m.layers.size() > 1) {
    Manifest dropped = m;
    dropped.layers.pop_back();
    FuzzCheck(!CheckModelCoverage(*st, dropped, sig_digest, {}).ok(), "covered with a signed layer missing");
  }
  Manifest extra = m;
  const std::string unsigned_name = "unsigned-" + HexEncode(std::string(1, static_cast<char>(names.size())));
  if (!names.count(unsigned_name)) {
    extra.layers.push_back(Layer(unsigned_name, "sha256:" + std::string(64, '0')));
    Status s = CheckModelCoverage(*st, extra, sig_digest, {});
    bool ignored = IsIgnoredPath(unsigned_name, st->ignore_paths);
    FuzzCheck(s.ok() == ignored, "an unsigned layer is covered (or an ignored one is not)");
    FuzzCheck(CheckModelCoverage(*st, extra, sig_digest, {unsigned_name}).ok(), "ignorePaths does not excuse a layer");
  }
}
