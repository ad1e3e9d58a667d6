#include "verifier/model_signing.h"

#include <map>
#include <set>
#include <utility>

#include "base/encoding.h"
#include "base/json_util.h"
#include "verifier/digest.h"
#include "verifier/in_toto.h"

namespace provgate {
namespace {

constexpr char kWhat[] = "model signature statement";
constexpr size_t kSha256HexSize = 64;

Status Bad(const std::string& m) { return InvalidArgument(std::string(kWhat) + ": " + m); }

// A name from a signed statement or a layer title, for a reason: as written
// when it is plain text, else quoted (control characters, invalid UTF-8), so
// a crafted title cannot forge the rest of the reason.
std::string Shown(std::string_view name) {
  bool plain = !name.empty();
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') plain = false;
  }
  if (plain && EscapeInvalidUtf8(name) == name) return TruncateUtf8(std::string(name), 200);
  return Quote(name);
}

StatusOr<std::string> StringField(const Json& object, const char* key, const std::string& where) {
  if (!object.contains(key) || !object[key].is_string()) {
    return Bad(where + "." + key + " is missing or not a string");
  }
  return object[key].get<std::string>();
}

// Lowercase hex of whole bytes; sha256 digests are also exactly 32 bytes.
Status CheckHexDigest(const std::string& hex, const std::string& algorithm, const std::string& where) {
  if (hex.empty() || hex.size() % 2 != 0 || !IsLowerHex(hex)) {
    return Bad(where + " is not lowercase hex of whole bytes");
  }
  if (algorithm == "sha256" && hex.size() != kSha256HexSize) {
    return Bad(where + " is not a sha256 digest (64 hex characters)");
  }
  return Status::Ok();
}

Status AddResource(ModelSignatureStatement& out, std::set<std::string>& names, ModelResource r,
                   const std::string& where) {
  if (!names.insert(r.name).second) return Bad(where + ".name " + Shown(r.name) + " is given twice");
  out.resources.push_back(std::move(r));
  return Status::Ok();
}

// The v1.0 predicate (model_signing's docs/model_signing_format.md): a
// serialization description and the resources. Other predicate fields are
// ignored, as the format asks of verifiers.
Status ParsePredicateV1(const Json& predicate, ModelSignatureStatement& out) {
  if (!predicate.contains("serialization") || !predicate["serialization"].is_object()) {
    return Bad("predicate.serialization is missing or not an object");
  }
  const Json& ser = predicate["serialization"];
  ASSIGN_OR_RETURN(out.method, StringField(ser, "method", "predicate.serialization"));
  if (out.method != "files" && out.method != "shards") {
    return Bad("predicate.serialization.method " + Shown(out.method) + " is neither files nor shards");
  }
  ASSIGN_OR_RETURN(out.hash_type, StringField(ser, "hash_type", "predicate.serialization"));
  if (out.hash_type.empty()) return Bad("predicate.serialization.hash_type is empty");
  // model_signing's own verifier reads allow_symlinks unconditionally.
  if (!ser.contains("allow_symlinks") || !ser["allow_symlinks"].is_boolean()) {
    return Bad("predicate.serialization.allow_symlinks is missing or not a boolean");
  }
  if (ser.contains("shard_size") &&
      (!ser["shard_size"].is_number_integer() || ser["shard_size"].get<int64_t>() <= 0)) {
    return Bad("predicate.serialization.shard_size is not a positive integer");
  }
  if (ser.contains("ignore_paths")) {
    const Json& ignore = ser["ignore_paths"];
    if (!ignore.is_array()) return Bad("predicate.serialization.ignore_paths is not an array");
    if (ignore.size() > kMaxModelResources) {
      return ResourceExhausted(std::string(kWhat) + ": more than " + std::to_string(kMaxModelResources) +
                               " ignore_paths");
    }
    for (size_t i = 0; i < ignore.size(); ++i) {
      if (!ignore[i].is_string()) {
        return Bad("predicate.serialization.ignore_paths[" + std::to_string(i) + "] is not a string");
      }
      out.ignore_paths.push_back(ignore[i].get<std::string>());
    }
  }

  if (!predicate.contains("resources") || !predicate["resources"].is_array()) {
    return Bad("predicate.resources is missing or not an array");
  }
  const Json& resources = predicate["resources"];
  if (resources.size() > kMaxModelResources) {
    return ResourceExhausted(std::string(kWhat) + ": more than " + std::to_string(kMaxModelResources) + " resources");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < resources.size(); ++i) {
    std::string where = "predicate.resources[" + std::to_string(i) + "]";
    const Json& r = resources[i];
    if (!r.is_object()) return Bad(where + " is not an object");
    ModelResource res;
    ASSIGN_OR_RETURN(res.name, StringField(r, "name", where));
    ASSIGN_OR_RETURN(res.algorithm, StringField(r, "algorithm", where));
    ASSIGN_OR_RETURN(res.digest, StringField(r, "digest", where));
    if (res.name.empty()) return Bad(where + ".name is empty");
    if (res.algorithm.empty()) return Bad(where + ".algorithm is empty");
    RETURN_IF_ERROR(CheckHexDigest(res.digest, res.algorithm, where + ".digest"));
    RETURN_IF_ERROR(AddResource(out, names, std::move(res), where));
  }
  return Status::Ok();
}

// The one subject's digest is the "root" of the manifest: SHA-256 over the
// raw resource digests concatenated in predicate order (model_signing's
// manifest.py). A mismatch means the statement contradicts itself; upstream
// calls it "Manifest is inconsistent".
Status CheckRootDigest(const StatementSubject& subject, const ModelSignatureStatement& st) {
  auto it = subject.digest.find("sha256");
  if (it == subject.digest.end()) return Bad("subject[0].digest.sha256 is missing");
  if (it->second.size() != kSha256HexSize || !IsLowerHex(it->second)) {
    return Bad("subject[0].digest.sha256 is not a sha256 digest (64 lowercase hex characters)");
  }
  std::string concatenated;
  for (const auto& r : st.resources) concatenated += *HexDecode(r.digest);  // checked hex above
  std::string recomputed = HexEncode(Sha256(concatenated));
  if (recomputed != it->second) {
    return Bad("manifest is inconsistent: the subject digest is sha256:" + it->second +
               ", the resources hash to sha256:" + recomputed);
  }
  return Status::Ok();
}

// Legacy Digests v0.1: every subject is one file. A digest set without
// sha256 keeps its one algorithm, so that coverage can say which.
Status ParseSubjectsV01(const Statement& in, ModelSignatureStatement& out) {
  out.method = "files";
  out.hash_type = "sha256";
  if (in.subjects.size() > kMaxModelResources) {
    return ResourceExhausted(std::string(kWhat) + ": more than " + std::to_string(kMaxModelResources) + " resources");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < in.subjects.size(); ++i) {
    const StatementSubject& s = in.subjects[i];
    std::string where = "subject[" + std::to_string(i) + "]";
    if (s.name.empty()) return Bad(where + ".name is missing or empty");
    ModelResource res;
    res.name = s.name;
    auto it = s.digest.find("sha256");
    if (it == s.digest.end()) {
      if (s.digest.size() != 1) return Bad(where + ".digest has no sha256 and more than one algorithm");
      it = s.digest.begin();
    }
    res.algorithm = it->first;
    res.digest = it->second;
    RETURN_IF_ERROR(CheckHexDigest(res.digest, res.algorithm, where + ".digest." + Shown(res.algorithm)));
    RETURN_IF_ERROR(AddResource(out, names, std::move(res), where));
  }
  return Status::Ok();
}

// Titles come from layer annotations anyone can write; a title with "." or
// ".." segments or empty ones names a different file once extracted
// ("ignored/../weights.bin" would pass as ignored under "ignored").
bool IsCleanRelativePath(std::string_view path) {
  if (path.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string_view seg = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

Status NotCovered(const std::string& reason) { return InvalidArgument(reason); }

}  // namespace

StatusOr<ModelSignatureStatement> ParseModelSignatureStatement(std::string_view statement_bytes) {
  ASSIGN_OR_RETURN(Statement in, ParseStatement(statement_bytes));
  ModelSignatureStatement out;
  out.predicate_type = in.predicate_type;
  if (in.predicate_type == kModelSigningPredicateV1) {
    if (in.type != kStatementV1) return Bad("_type " + Quote(in.type) + " is not " + kStatementV1);
    if (in.subjects.size() != 1) {
      return Bad("has " + std::to_string(in.subjects.size()) + " subjects; a v1.0 signature has exactly one");
    }
    RETURN_IF_ERROR(ParsePredicateV1(in.predicate, out));
    RETURN_IF_ERROR(CheckRootDigest(in.subjects[0], out));
    return out;
  }
  if (in.predicate_type == kModelSigningPredicateV01) {
    RETURN_IF_ERROR(ParseSubjectsV01(in, out));
    return out;
  }
  return Bad("predicateType " + Quote(in.predicate_type) + " is neither " + kModelSigningPredicateV1 + " nor " +
             kModelSigningPredicateV01);
}

bool IsIgnoredPath(std::string_view title, const std::vector<std::string>& patterns) {
  for (const auto& p : patterns) {
    std::string_view dir = p;
    while (!dir.empty() && dir.back() == '/') dir.remove_suffix(1);
    if (dir.empty()) continue;  // "" or "/" would ignore everything: it ignores nothing
    if (title == dir) return true;
    if (title.size() > dir.size() && title.substr(0, dir.size()) == dir && title[dir.size()] == '/') return true;
  }
  return false;
}

Status CheckModelCoverage(const ModelSignatureStatement& st, const Manifest& manifest,
                          std::string_view signature_layer_digest, const std::vector<std::string>& ignore_paths) {
  if (st.resources.size() > kMaxModelResources) {
    return ResourceExhausted("more than " + std::to_string(kMaxModelResources) + " signed resources");
  }
  // Statement-wide reasons first: no layer could be checked at all.
  if (st.method == "shards") return NotCovered("shards serialization cannot be checked without the weights");
  if (st.hash_type != "sha256") {
    return NotCovered("hash_type " + Shown(st.hash_type) + " cannot be checked against layer digests");
  }
  auto ignored = [&](std::string_view title) {
    return IsIgnoredPath(title, ignore_paths) || IsIgnoredPath(title, st.ignore_paths);
  };

  std::map<std::string_view, size_t> by_name;
  for (size_t i = 0; i < st.resources.size(); ++i) {
    if (!by_name.emplace(st.resources[i].name, i).second) {
      return NotCovered(Shown(st.resources[i].name) + ": signed twice");
    }
  }
  std::vector<bool> seen(st.resources.size(), false);
  std::set<std::string_view> titles;

  // Layer order, then resource order: the first problem is always the same one.
  for (const Descriptor& layer : manifest.layers) {
    if (!signature_layer_digest.empty() && layer.digest == signature_layer_digest) continue;
    auto t = layer.annotations.find(kTitleAnnotation);
    if (t == layer.annotations.end() || t->second.empty()) {
      return NotCovered("a layer has no title (" + Shown(layer.digest) +
                        "): which file it is cannot be known without the weights");
    }
    const std::string& title = t->second;
    if (!IsCleanRelativePath(title)) {
      return NotCovered(Shown(title) + ": layer title is not a clean relative path");
    }
    if (!titles.insert(title).second) return NotCovered(Shown(title) + ": two layers have this title");
    // Ignoring excuses a layer the signature does not name; a file it does
    // name is always checked (docs/policy-language.md#modelsigning: every signed resource is present as a
    // layer), else "ignorePaths: [weights.bin]" would let any weights pass.
    auto r = by_name.find(title);
    if (r == by_name.end()) {
      if (ignored(title)) continue;
      return NotCovered(Shown(title) + ": layer is not signed");
    }
    const ModelResource& res = st.resources[r->second];
    if (res.algorithm != "sha256") {
      return NotCovered(Shown(title) + ": algorithm " + Shown(res.algorithm) +
                        " cannot be checked against a layer digest");
    }
    if (layer.digest != "sha256:" + res.digest) {
      return NotCovered(Shown(title) + ": signed digest sha256:" + res.digest + ", layer digest " +
                        Shown(layer.digest));
    }
    seen[r->second] = true;
  }
  for (size_t i = 0; i < st.resources.size(); ++i) {
    if (!seen[i]) return NotCovered(Shown(st.resources[i].name) + ": signed but not a layer");
  }
  return Status::Ok();
}

}  // namespace provgate
