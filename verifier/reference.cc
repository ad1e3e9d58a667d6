#include "verifier/reference.h"

#include "base/encoding.h"
#include "verifier/registry_host.h"

namespace provgate {
namespace {

constexpr size_t kMaxReferenceLength = 4096;
constexpr size_t kMaxNameLength = 255;  // distribution/reference NameTotalLengthMax

bool IsAlnumLower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsAlnumLower(c) || (c >= 'A' && c <= 'Z'); }

// One repository path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
bool IsValidPathComponent(std::string_view c) {
  if (c.empty() || !IsAlnumLower(c.front()) || !IsAlnumLower(c.back())) return false;
  for (size_t i = 0; i < c.size(); ++i) {
    char ch = c[i];
    if (IsAlnumLower(ch)) continue;
    if (ch == '.') {
      if (!IsAlnumLower(c[i + 1])) return false;  // a single dot between alnums
    } else if (ch == '_') {
      if (c[i + 1] == '_') {
        ++i;  // "__" allowed
        if (!IsAlnumLower(c[i + 1])) return false;
      } else if (!IsAlnumLower(c[i + 1])) {
        return false;
      }
    } else if (ch == '-') {
      while (c[i + 1] == '-') ++i;  // "-+" allowed
      if (!IsAlnumLower(c[i + 1])) return false;
    } else {
      return false;
    }
  }
  return true;
}

// [\w][\w.-]{0,127}
bool IsValidTag(std::string_view t) {
  if (t.empty() || t.size() > 128) return false;
  auto word = [](char c) { return IsAlnum(c) || c == '_'; };
  if (!word(t.front())) return false;
  for (char c : t) {
    if (!word(c) && c != '.' && c != '-') return false;
  }
  return true;
}

std::string_view StripScheme(std::string_view text) {
  for (std::string_view scheme : {"oci://", "oci+native://", "oci+fetch://"}) {
    if (text.substr(0, scheme.size()) == scheme) return text.substr(scheme.size());
  }
  return text;
}

}  // namespace

Status ValidateDigest(std::string_view digest) {
  auto colon = digest.find(':');
  if (colon == std::string_view::npos) return InvalidArgument("digest " + Quote(digest) + " has no algorithm");
  std::string_view alg = digest.substr(0, colon), hex = digest.substr(colon + 1);
  size_t want;
  if (alg == "sha256") {
    want = 64;
  } else if (alg == "sha512") {
    want = 128;
  } else {
    return InvalidArgument("digest " + Quote(digest) + " uses unsupported algorithm " + Quote(alg));
  }
  if (hex.size() != want || !IsLowerHex(hex)) {
    return InvalidArgument("digest " + Quote(digest) + " is not " + std::to_string(want) +
                           " lowercase hex characters");
  }
  return Status::Ok();
}

void Reference::AppendTo(std::string* out) const {
  out->reserve(out->size() + registry.size() + repository.size() + tag.size() + digest.size() + 3);
  out->append(registry).append(1, '/').append(repository);
  if (!tag.empty()) out->append(1, ':').append(tag);
  if (!digest.empty()) out->append(1, '@').append(digest);
}

std::string Reference::String() const {
  std::string s;  // one allocation: this runs several times per admission
  AppendTo(&s);
  return s;
}

StatusOr<Reference> ParseReference(std::string_view input) {
  if (input.size() > kMaxReferenceLength) return InvalidArgument("reference is longer than 4096 bytes");
  std::string_view text = StripScheme(input);
  auto fail = [&](const std::string& why) {
    return InvalidArgument("invalid reference " + Quote(input) + ": " + why);
  };
  if (text.empty()) return fail("empty");
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return fail("contains whitespace or a non-ASCII character");
    }
  }

  // A bare 64-hex string is an image ID, not a name (distribution refuses it).
  if (text.size() == 64 && IsLowerHex(text)) return fail("a 64-character hexadecimal string is an image ID, not a name");

  Reference ref;
  std::string_view rest = text;
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    if (Status s = ValidateDigest(ref.digest); !s.ok()) return fail(s.message());
  }
  // A tag follows the last ':' that comes after the last '/'.
  auto last_slash = rest.rfind('/');
  auto last_colon = rest.rfind(':');
  if (last_colon != std::string_view::npos &&
      (last_slash == std::string_view::npos || last_colon > last_slash)) {
    ref.tag = std::string(rest.substr(last_colon + 1));
    rest = rest.substr(0, last_colon);
    if (!IsValidTag(ref.tag)) return fail("tag " + Quote(ref.tag) + " is not a valid tag");
  }
  if (rest.empty()) return fail("missing repository name");

  // Decide what the host is first, exactly as the runtime does, then spell
  // it canonically: "ACME/model" is pulled from host ACME, not Docker Hub.
  std::string_view path = rest;
  ref.registry = std::string(kDockerHubHost);
  if (auto slash = rest.find('/'); slash != std::string_view::npos && IsRegistryHostComponent(rest.substr(0, slash))) {
    auto host = CanonicalRegistryHost(rest.substr(0, slash));
    if (!host.ok()) return fail(host.status().message());
    ref.registry = std::move(*host);
    path = rest.substr(slash + 1);
  }
  if (path.empty()) return fail("missing repository path");
  ref.repository = std::string(path);
  if (ref.registry == kDockerHubHost && ref.repository.find('/') == std::string::npos) {
    ref.repository = "library/" + ref.repository;
  }
  size_t start = 0;
  while (true) {
    size_t next = ref.repository.find('/', start);
    std::string_view comp = std::string_view(ref.repository).substr(start, next == std::string::npos ? std::string::npos : next - start);
    if (!IsValidPathComponent(comp)) {
      return fail("repository path component " + Quote(comp) +
                  " must be lowercase letters, digits and single separators");
    }
    if (next == std::string::npos) break;
    start = next + 1;
  }
  if (ref.registry.size() + 1 + ref.repository.size() > kMaxNameLength) return fail("name longer than 255 characters");
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

}  // namespace provgate
