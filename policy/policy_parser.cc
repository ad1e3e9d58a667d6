#include "policy/policy_parser.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "base/encoding.h"
#include "policy/condition_parser.h"
#include "policy/identity_matcher.h"
#include "policy/glob.h"

namespace provgate {
namespace {

constexpr size_t kMaxPolicyName = 253;
constexpr size_t kMaxLocalName = 63;

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Names of policies, authorities and attestations: [a-z0-9]([a-z0-9._-]*[a-z0-9])?
// No '/', so "<policy>/<authority>" is unambiguous.
std::optional<std::string> ReadName(const YamlValue& v, size_t max_len, YamlErrors& errors) {
  auto s = ReadString(v, errors);
  if (!s) return std::nullopt;
  bool ok = !s->empty() && s->size() <= max_len && IsLowerAlnum(s->front()) && IsLowerAlnum(s->back());
  for (char c : *s) ok = ok && (IsLowerAlnum(c) || c == '-' || c == '.' || c == '_');
  if (!ok) {
    errors.Add(v.mark, v.where + ": invalid name " + Quote(*s) + " (lowercase letters, digits, '-', '.', '_', " +
                           "starting and ending with a letter or digit, at most " + std::to_string(max_len) +
                           " characters)");
    return std::nullopt;
  }
  return s;
}

std::optional<std::string> ReadNonEmptyString(const YamlValue& v, YamlErrors& errors) {
  auto s = ReadString(v, errors);
  if (s && s->empty()) {
    errors.Add(v.mark, v.where + ": must not be empty");
    return std::nullopt;
  }
  return s;
}

std::optional<Source> SourceFromName(std::string_view name) {
  for (Source s : kAllSources) {
    if (name == SourceName(s)) return s;
  }
  return std::nullopt;
}

std::shared_ptr<const ReferenceMatcher> ParseMatch(const YamlValue& v, YamlErrors& errors) {
  auto m = YamlMapping::Open(v, {"references", "namespaces", "sources"}, errors);
  if (!m) return nullptr;
  size_t before = errors.count();
  std::vector<Glob> references, namespaces;
  std::vector<Source> sources;
  if (auto refs = m->Require("references", errors)) {
    if (auto items = ReadList(*refs, errors, /*allow_empty=*/false, kMaxListItems)) {
      for (const auto& item : *items) {
        auto s = ReadString(item, errors);
        if (!s) continue;
        auto g = CompileReferenceGlob(*s);
        if (!g.ok()) {
          errors.Add(item.mark, item.where + ": bad reference glob: " + g.status().message());
          continue;
        }
        references.push_back(std::move(*g));
      }
    }
  }
  if (auto ns = m->Get("namespaces")) {
    if (auto items = ReadList(*ns, errors, /*allow_empty=*/false, kMaxListItems)) {
      for (const auto& item : *items) {
        auto s = ReadString(item, errors);
        if (!s) continue;
        auto g = Glob::Compile(*s, Glob::Dialect::kNamespace);
        if (!g.ok()) {
          errors.Add(item.mark, item.where + ": bad namespace glob: " + g.status().message());
          continue;
        }
        namespaces.push_back(std::move(*g));
      }
    }
  }
  if (auto src = m->Get("sources")) {
    if (auto items = ReadList(*src, errors, /*allow_empty=*/false, kMaxListItems)) {
      for (const auto& item : *items) {
        auto s = ReadString(item, errors);
        if (!s) continue;
        auto source = SourceFromName(*s);
        if (!source) {
          errors.Add(item.mark, item.where + ": unknown source " + Quote(*s) +
                                    " (expected container, image-volume, storage-uri, env, csi-volume or init-args)");
          continue;
        }
        sources.push_back(*source);
      }
    }
  }
  if (errors.count() != before) return nullptr;
  return std::make_shared<const ReferenceMatcher>(std::move(references), std::move(namespaces), std::move(sources));
}

std::string ResolveKeyPath(const std::string& path, const std::string& policy_file) {
  // Lexical only: the parser does no I/O.
  std::filesystem::path p(path);
  if (p.is_absolute()) return path;
  return (std::filesystem::path(policy_file).parent_path() / p).lexically_normal().string();
}

// What one file's parse shares between its documents: the key reader, and
// keys already read and parsed (an aliased or repeated key costs OpenSSL
// once, not once per mention).
struct KeySource {
  const FileReader& read_file;
  std::map<std::string, StatusOr<std::string>> files;   // resolved path -> bytes
  std::map<std::string, StatusOr<PublicKey>> parsed;    // PEM text -> key
  // resolved path -> trusted root: authorities naming one file share one
  // root, which the verifier then checks a bundle under once.
  std::map<std::string, StatusOr<std::shared_ptr<const TrustedRoot>>> roots;

  StatusOr<std::string> Read(const std::string& path) {
    auto it = files.find(path);
    if (it == files.end()) {
      it = files.emplace(path, read_file ? read_file(path) : StatusOr<std::string>(InvalidArgument("no file reader")))
               .first;
    }
    return it->second;
  }
  StatusOr<std::shared_ptr<const TrustedRoot>> Root(const std::string& path) {
    auto it = roots.find(path);
    if (it != roots.end()) return it->second;
    StatusOr<std::shared_ptr<const TrustedRoot>> result = InvalidArgument("unread");
    if (auto bytes = Read(path); !bytes.ok()) {
      result = Status(bytes.status().code(), "cannot read trusted root " + Quote(path) + ": " + bytes.status().message());
    } else if (auto root = ParseTrustedRoot(*bytes, path); !root.ok()) {
      result = Status(root.status().code(), "unusable trusted root: " + root.status().message());
    } else {
      result = std::shared_ptr<const TrustedRoot>(std::make_shared<const TrustedRoot>(std::move(*root)));
    }
    return roots.emplace(path, std::move(result)).first->second;
  }
  StatusOr<PublicKey> Parse(const std::string& pem) {
    auto it = parsed.find(pem);
    if (it == parsed.end()) it = parsed.emplace(pem, PublicKey::FromPem(pem)).first;
    return it->second;
  }
};

std::optional<PublicKey> ParseKey(const YamlValue& v, KeySource& keys, YamlErrors& errors) {
  auto m = YamlMapping::Open(v, {"pem", "file"}, errors);
  if (!m) return std::nullopt;
  if (m->Has("pem") == m->Has("file")) {
    if (m->had_bad_fields()) return std::nullopt;
    errors.Add(v.mark, v.where + ": give exactly one of pem or file");
    return std::nullopt;
  }
  if (auto pem = m->Get("pem")) {
    auto text = ReadNonEmptyString(*pem, errors);
    if (!text) return std::nullopt;
    auto key = keys.Parse(*text);
    if (!key.ok()) {
      errors.Add(pem->mark, pem->where + ": unusable public key: " + key.status().message());
      return std::nullopt;
    }
    return std::move(*key);
  }
  auto file = m->Get("file");
  auto path = ReadNonEmptyString(*file, errors);
  if (!path) return std::nullopt;
  std::string resolved = ResolveKeyPath(*path, errors.file());
  StatusOr<std::string> bytes = keys.Read(resolved);
  if (!bytes.ok()) {
    errors.Add(file->mark, file->where + ": cannot read key file " + Quote(resolved) + ": " + bytes.status().message());
    return std::nullopt;
  }
  auto key = keys.Parse(*bytes);
  if (!key.ok()) {
    errors.Add(file->mark, file->where + ": unusable public key in " + Quote(resolved) + ": " + key.status().message());
    return std::nullopt;
  }
  return std::move(*key);
}

std::optional<KeylessIdentity> ParseKeyless(const YamlValue& v, KeySource& keys, YamlErrors& errors) {
  auto m = YamlMapping::Open(v, {"issuer", "issuerRegExp", "subject", "subjectRegExp", "trustedRoot"}, errors);
  if (!m) return std::nullopt;
  size_t before = errors.count();
  KeylessIdentity id;
  auto read = [&](const char* key, std::string* out, bool regex) {
    auto f = m->Get(key);
    if (!f) return;
    auto s = ReadNonEmptyString(*f, errors);
    if (!s) return;
    if (regex) {
      if (auto re = CompileRegex(*s); !re.ok()) {
        errors.Add(f->mark, f->where + ": " + re.status().message());
        return;
      }
    }
    *out = *s;
  };
  read("issuer", &id.issuer, false);
  read("issuerRegExp", &id.issuer_regexp, true);
  read("subject", &id.subject, false);
  read("subjectRegExp", &id.subject_regexp, true);
  read("trustedRoot", &id.trusted_root, false);
  for (auto [exact, re] : {std::pair{"issuer", "issuerRegExp"}, std::pair{"subject", "subjectRegExp"}}) {
    if (m->Has(exact) && m->Has(re)) {
      errors.Add(m->KeyMark(re), v.where + ": give " + exact + " or " + re + ", not both");
    } else if (!m->Has(exact) && !m->Has(re)) {
      errors.Add(v.mark, v.where + ": a keyless authority needs " + (exact[0] == 'i' ? "an " : "a ") + exact +
                             " constraint (" + exact + " or " + re +
                             "): without one any Sigstore identity would be trusted");
    }
  }
  if (errors.count() != before) return std::nullopt;
  auto matcher = CompileIdentityMatcher(id);
  if (!matcher.ok()) {
    errors.Add(v.mark, v.where + ": " + matcher.status().message());
    return std::nullopt;
  }
  id.matcher = std::move(*matcher);
  if (auto root = m->Get("trustedRoot"); root && !id.trusted_root.empty()) {
    // Relative to the policy file, like key files; read now, so a missing
    // or malformed root is a load (and lint) error, not a denial later.
    auto loaded = keys.Root(ResolveKeyPath(id.trusted_root, errors.file()));
    if (!loaded.ok()) {
      errors.Add(root->mark, root->where + ": " + loaded.status().message());
      return std::nullopt;
    }
    id.root = std::move(*loaded);
  }
  return id;
}

// `trust_mark` receives the position of the key or keyless field's value.
std::optional<Authority> ParseAuthority(const YamlValue& v, KeySource& keys, YamlErrors& errors,
                                        YAML::Mark* trust_mark) {
  auto m = YamlMapping::Open(v, {"name", "key", "keyless"}, errors);
  if (!m) return std::nullopt;
  *trust_mark = v.mark;
  size_t before = errors.count();
  Authority a;
  if (auto name = m->Require("name", errors)) {
    if (auto s = ReadName(*name, kMaxLocalName, errors)) a.name = *s;
  }
  if (m->Has("key") == m->Has("keyless")) {
    if (!m->had_bad_fields())
      errors.Add(v.mark, v.where + ": an authority needs exactly one of key or keyless" +
                             std::string(m->Has("key") ? ", not both" : ""));
  } else if (auto key = m->Get("key")) {
    *trust_mark = key->mark;
    a.key = ParseKey(*key, keys, errors);
  } else {
    auto keyless = m->Get("keyless");
    *trust_mark = keyless->mark;
    a.keyless = ParseKeyless(*keyless, keys, errors);
  }
  if (errors.count() != before) return std::nullopt;
  return a;
}

// Names in `list` that are authorities of the policy (each once); unknown
// names are errors naming the policy's authorities.
std::vector<std::string> ReadAuthorityNames(const YamlValue& list, const std::vector<Authority>& authorities,
                                            YamlErrors& errors) {
  std::vector<std::string> out;
  auto items = ReadList(list, errors, /*allow_empty=*/false, kMaxAuthoritiesPerPolicy);
  if (!items) return out;
  for (const auto& item : *items) {
    auto s = ReadString(item, errors);
    if (!s) continue;
    bool known = false;
    std::string names;
    for (const auto& a : authorities) {
      known |= a.name == *s;
      names += (names.empty() ? "" : ", ") + a.name;
    }
    if (!known) {
      errors.Add(item.mark, item.where + ": unknown authority " + Quote(*s) + " (this policy's authorities: " +
                                (names.empty() ? "none" : names) + ")");
      continue;
    }
    if (std::find(out.begin(), out.end(), *s) == out.end()) out.push_back(*s);
  }
  return out;
}

// predicateType: one URI, or a list of distinct ones (a rule that accepts
// SLSA v0.2 and v1 provenance alike).
std::vector<std::string> ReadPredicateTypes(const YamlValue& v, YamlErrors& errors) {
  std::vector<std::string> out;
  if (!v.node.IsSequence()) {
    if (auto s = ReadNonEmptyString(v, errors)) out.push_back(*s);
    return out;
  }
  auto items = ReadList(v, errors, /*allow_empty=*/false, kMaxPredicateTypesPerRule);
  if (!items) return out;
  for (const auto& item : *items) {
    auto s = ReadNonEmptyString(item, errors);
    if (!s) continue;
    if (std::find(out.begin(), out.end(), *s) != out.end()) {
      errors.Add(item.mark, item.where + ": predicateType " + Quote(*s) + " is listed twice");
      continue;
    }
    out.push_back(*s);
  }
  return out;
}

std::optional<AttestationRule> ParseAttestation(const YamlValue& v, const std::vector<Authority>& authorities,
                                                YamlErrors& errors) {
  auto m = YamlMapping::Open(v, {"name", "predicateType", "authorities", "conditions"}, errors);
  if (!m) return std::nullopt;
  size_t before = errors.count();
  AttestationRule r;
  if (auto name = m->Require("name", errors)) {
    if (auto s = ReadName(*name, kMaxLocalName, errors)) r.name = *s;
  }
  if (auto type = m->Require("predicateType", errors)) r.predicate_types = ReadPredicateTypes(*type, errors);
  if (auto list = m->Get("authorities")) r.authorities = ReadAuthorityNames(*list, authorities, errors);
  if (auto cond = m->Get("conditions")) r.conditions = ParseCondition(*cond, errors);
  if (errors.count() != before) return std::nullopt;
  return r;
}

inline constexpr size_t kMaxIgnorePaths = 256;

std::optional<ModelSigningRule> ParseModelSigning(const YamlValue& v, const std::vector<Authority>& authorities,
                                                  YamlErrors& errors) {
  auto m = YamlMapping::Open(v, {"authorities", "ignorePaths"}, errors);
  if (!m) return std::nullopt;
  size_t before = errors.count();
  ModelSigningRule r;
  if (auto list = m->Get("authorities")) r.authorities = ReadAuthorityNames(*list, authorities, errors);
  if (auto list = m->Get("ignorePaths")) {
    if (auto items = ReadList(*list, errors, /*allow_empty=*/true, kMaxIgnorePaths)) {
      for (const auto& item : *items) {
        auto s = ReadNonEmptyString(item, errors);
        if (!s) continue;
        if (s->front() == '/' || s->find('\\') != std::string::npos) {
          errors.Add(item.mark, item.where + ": " + Quote(*s) +
                                    " is not a relative path with / separators (layer titles are relative)");
          continue;
        }
        r.ignore_paths.push_back(*s);
      }
    }
  }
  if (errors.count() != before) return std::nullopt;
  return r;
}

struct DocumentName {
  std::string name;
  YAML::Mark mark;
};

std::optional<Policy> ParseDocument(const YamlValue& doc, KeySource& keys, YamlErrors& errors,
                                    std::optional<DocumentName>* name_out) {
  size_t before = errors.count();
  auto top = YamlMapping::Open(doc, {"apiVersion", "kind", "metadata", "spec"}, errors);
  if (!top) return std::nullopt;
  // A document of another kind gets one error, not one per unknown field.
  size_t before_kind = errors.count();
  if (auto api = top->Require("apiVersion", errors)) {
    auto s = ReadString(*api, errors);
    if (s && *s != kPolicyApiVersion) {
      errors.Add(api->mark, "apiVersion: expected " + Quote(kPolicyApiVersion) + ", got " + Quote(*s));
    }
  }
  if (auto kind = top->Require("kind", errors)) {
    auto s = ReadString(*kind, errors);
    if (s && *s != kPolicyKind) errors.Add(kind->mark, "kind: expected " + Quote(kPolicyKind) + ", got " + Quote(*s));
  }
  if (errors.count() != before_kind) return std::nullopt;

  Policy p;
  p.file = errors.file() + ":" + std::to_string(doc.mark.line + 1);
  if (auto meta = top->Require("metadata", errors)) {
    if (auto mm = YamlMapping::Open(*meta, {"name", "labels", "annotations"}, errors)) {
      if (auto name = mm->Require("name", errors)) {
        if (auto s = ReadName(*name, kMaxPolicyName, errors)) {
          p.name = *s;
          *name_out = DocumentName{*s, name->mark};
        }
      }
      for (const char* key : {"labels", "annotations"}) {
        if (auto f = mm->Get(key); f && !f->node.IsMap()) {
          errors.Add(f->mark, f->where + ": expected a mapping");
        }
      }
    }
  }
  auto spec_value = top->Require("spec", errors);
  if (!spec_value) return std::nullopt;
  auto spec = YamlMapping::Open(
      *spec_value,
      {"mode", "match", "authorities", "signatures", "attestations", "modelSigning", "metadata", "requireDigest"},
      errors);
  if (!spec) return std::nullopt;

  if (auto mode = spec->Get("mode")) {
    if (auto s = ReadString(*mode, errors)) {
      if (*s == "enforce") {
        p.mode = Mode::kEnforce;
      } else if (*s == "warn") {
        p.mode = Mode::kWarn;
      } else if (*s == "audit") {
        p.mode = Mode::kAudit;
      } else {
        errors.Add(mode->mark, mode->where + ": unknown mode " + Quote(*s) + " (expected enforce, warn or audit)");
      }
    }
  }
  if (auto match = spec->Require("match", errors)) p.match = ParseMatch(*match, errors);
  if (auto require_digest = spec->Get("requireDigest")) {
    if (auto b = ReadBool(*require_digest, errors)) p.require_digest = *b;
  }

  bool authorities_ok = false;
  if (auto list = spec->Require("authorities", errors)) {
    if (auto items = ReadList(*list, errors, /*allow_empty=*/false, kMaxAuthoritiesPerPolicy)) {
      authorities_ok = true;
      std::map<std::string, std::string> seen;  // name -> location
      // One key (or keyless identity) held by two authorities would count
      // twice towards signatures.require.
      struct Holder {
        std::string name, location, fingerprint;
      };
      std::map<std::string, Holder> identities;  // SignerIdentity -> first authority
      for (const auto& item : *items) {
        YAML::Mark trust_mark;
        auto a = ParseAuthority(item, keys, errors, &trust_mark);
        if (!a) {
          authorities_ok = false;
          continue;
        }
        auto [it, inserted] = seen.emplace(a->name, errors.Location(item.mark));
        if (!inserted) {
          errors.Add(item.mark,
                     item.where + ": duplicate authority name " + Quote(a->name) + " (first at " + it->second + ")");
          authorities_ok = false;
          continue;
        }
        const std::string fingerprint = a->key ? a->key->Fingerprint() : "";
        auto [id, fresh] =
            identities.emplace(SignerIdentity(*a), Holder{a->name, errors.Location(trust_mark), fingerprint});
        if (!fresh) {
          const std::string what =
              a->key ? ".key: the same key as authority " : ".keyless: the same identity as authority ";
          // One public key in two encodings (an EC point compressed and not,
          // RSA as rsaEncryption and as RSASSA-PSS) is still one key.
          const bool recoded = id->second.fingerprint != fingerprint;
          errors.Add(trust_mark, item.where + what + Quote(id->second.name) + " (at " + id->second.location +
                                     (recoded ? ", encoded differently" : "") +
                                     "): one signer is one authority, and signatures.require counts distinct signers");
          authorities_ok = false;
          continue;
        }
        p.authorities.push_back(std::move(*a));
      }
    }
  }

  std::optional<YamlValue> require_value;
  if (auto sig = spec->Get("signatures")) {
    if (auto sm = YamlMapping::Open(*sig, {"require"}, errors)) {
      if ((require_value = sm->Require("require", errors))) {
        if (auto n = ReadInteger(*require_value, errors)) {
          if (*n < 0) {
            errors.Add(require_value->mark, require_value->where + ": must not be negative, got " + std::to_string(*n));
          } else if (authorities_ok && *n > static_cast<int64_t>(p.authorities.size())) {
            errors.Add(require_value->mark, require_value->where + ": " + std::to_string(*n) +
                                                " is more than the number of authorities (" +
                                                std::to_string(p.authorities.size()) + ")");
          } else {
            p.signatures_require = static_cast<int>(*n);
          }
        }
      }
    }
  }

  if (auto list = spec->Get("attestations")) {
    if (auto items = ReadList(*list, errors, /*allow_empty=*/false, kMaxAttestationsPerPolicy)) {
      std::set<std::string> seen;
      for (const auto& item : *items) {
        auto r = ParseAttestation(item, p.authorities, errors);
        if (!r) continue;
        if (!seen.insert(r->name).second) {
          errors.Add(item.mark, item.where + ": duplicate attestation name " + Quote(r->name));
          continue;
        }
        p.attestations.push_back(std::move(*r));
      }
    }
  }
  if (auto meta = spec->Get("metadata")) {
    if (auto mm = YamlMapping::Open(*meta, {"conditions"}, errors)) {
      if (auto cond = mm->Require("conditions", errors)) p.metadata = ParseCondition(*cond, errors);
    }
  }
  if (auto ms = spec->Get("modelSigning")) p.model_signing = ParseModelSigning(*ms, p.authorities, errors);
  // A signature over the digest, or an attestation naming it as subject,
  // is what makes manifest facts trustworthy: an OMS signature covers the
  // files, not the manifest.
  if (p.metadata && p.signatures_require == 0 && p.attestations.empty()) {
    const YamlValue& at = require_value ? *require_value : *spec->Get("metadata");
    errors.Add(at.mark, at.where + ": metadata conditions need signatures.require of at least 1 or an attestation "
                                   "rule: manifest facts are only trusted through a signature or an attestation "
                                   "over the artifact digest");
  }
  if (errors.count() != before) return std::nullopt;
  return p;
}

}  // namespace

std::vector<ParsedPolicy> ParsePolicyText(std::string_view yaml, const FileReader& read_file, YamlErrors& errors) {
  std::vector<ParsedPolicy> out;
  if (yaml.size() > kMaxPolicyFileBytes) {
    errors.Add(YAML::Mark::null_mark(), "file is larger than " + std::to_string(kMaxPolicyFileBytes) + " bytes");
    return out;
  }
  auto docs = LoadYamlDocuments(yaml, kMaxDocumentsPerFile, errors);
  if (!docs) return out;
  std::map<std::string, std::string> names;  // name -> location
  KeySource keys{read_file, {}, {}, {}};
  for (const auto& node : *docs) {
    if (node.IsNull()) continue;  // an empty document ("---" and nothing)
    std::optional<DocumentName> name;
    std::optional<Policy> policy;
    try {
      policy = ParseDocument(YamlValue{node, "", node.Mark()}, keys, errors, &name);
    } catch (const YAML::Exception& e) {
      errors.Add(e.mark, "YAML error: " + e.msg);
      policy.reset();
    } catch (const std::exception& e) {
      errors.Add(node.Mark(), std::string("error: ") + e.what());
      policy.reset();
    }
    if (name) {
      auto [it, inserted] = names.emplace(name->name, errors.Location(name->mark));
      if (!inserted) {
        errors.Add(name->mark, "metadata.name: duplicate policy name " + Quote(name->name) + " (first defined at " +
                                   it->second + ")");
        continue;
      }
    }
    if (policy && name) out.push_back({std::move(*policy), errors.Location(name->mark)});
  }
  return out;
}

}  // namespace provgate
