#include "policy/glob.h"

#include <algorithm>

#include "base/encoding.h"
#include "policy/policy.h"

namespace provgate {
namespace {

bool AllowedInReferenceGlob(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-' || c == '/' || c == ':' || c == '@' || c == '*';
}

bool AllowedInNamespaceGlob(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '*'; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The registry host as a runtime reaches it: DNS names are case-insensitive
// and 443 is the HTTPS default port, so REGISTRY.EXAMPLE.COM:443 is
// registry.example.com.
constexpr std::string_view kDefaultPort = ":443";

std::string CanonicalHost(std::string_view host) {
  std::string h = Lower(host);
  if (h.size() > kDefaultPort.size() && h.ends_with(kDefaultPort)) h.resize(h.size() - kDefaultPort.size());
  return h;
}

// CanonicalHost(host) == host, without building it.
bool IsCanonicalHost(std::string_view host) {
  bool upper = std::any_of(host.begin(), host.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  return !upper && !(host.size() > kDefaultPort.size() && host.ends_with(kDefaultPort));
}

}  // namespace

StatusOr<Glob> Glob::Compile(std::string_view pattern, Dialect dialect) {
  if (pattern.empty()) return InvalidArgument("glob is empty");
  if (pattern.size() > kMaxGlobLength) {
    return InvalidArgument("glob is longer than " + std::to_string(kMaxGlobLength) + " characters");
  }
  std::vector<Token> tokens;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    bool allowed = dialect == Dialect::kReference ? AllowedInReferenceGlob(c) : AllowedInNamespaceGlob(c);
    if (!allowed) {
      std::string what = dialect == Dialect::kReference ? "a reference" : "a namespace name";
      std::string shown = (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == ' ')
                              ? "whitespace or control character"
                              : "character " + Quote(std::string_view(&c, 1));
      return InvalidArgument("glob " + Quote(pattern) + ": " + shown + " at position " + std::to_string(i + 1) +
                             " can never occur in " + what +
                             (c == '?' || c == '[' ? " (only * and ** are wildcards)" : ""));
    }
    if (c != '*') {
      tokens.push_back({TokenKind::kLiteral, c});
      continue;
    }
    size_t run = 1;
    while (i + run < pattern.size() && pattern[i + run] == '*') ++run;
    if (run > 2) {
      return InvalidArgument("glob " + Quote(pattern) + ": " + std::to_string(run) + " consecutive '*' at position " +
                             std::to_string(i + 1) + " (use * or **)");
    }
    // In the namespace dialect there is no '/', so ** is the same as *.
    bool dbl = run == 2 || dialect == Dialect::kNamespace;
    tokens.push_back({dbl ? TokenKind::kDoubleStar : TokenKind::kStar});
    i += run - 1;
  }
  size_t prefix = 0;
  while (prefix < tokens.size() && tokens[prefix].kind == TokenKind::kLiteral) ++prefix;
  return Glob(std::string(pattern), std::move(tokens), prefix);
}

bool Glob::Matches(std::string_view text) const {
  // The leading literal run is compared first: most patterns are a literal
  // registry/repository prefix and a wildcard, and most texts that do not
  // match differ within it.
  if (text.size() < prefix_ || text.compare(0, prefix_, pattern_, 0, prefix_) != 0) return false;
  text.remove_prefix(prefix_);
  // NFA simulation over the remaining tokens: state i means "tokens_[prefix_..
  // prefix_+i) matched the text so far". Patterns are at most kMaxGlobLength
  // long, so the state sets live on the stack.
  const Token* tokens = tokens_.data() + prefix_;
  const size_t m = tokens_.size() - prefix_;
  if (m == 0) return text.empty();
  char a[kMaxGlobLength + 1], b[kMaxGlobLength + 1];
  char* cur = a;
  char* next = b;
  auto close = [&](char* set) {
    // A star can match nothing: reaching i also reaches i+1.
    for (size_t i = 0; i < m; ++i) {
      if (set[i] && tokens[i].kind != TokenKind::kLiteral) set[i + 1] = 1;
    }
  };
  std::fill(cur, cur + m + 1, 0);
  cur[0] = 1;
  close(cur);
  for (char c : text) {
    std::fill(next, next + m + 1, 0);
    bool any = false;
    for (size_t i = 0; i < m; ++i) {
      if (!cur[i]) continue;
      const Token& t = tokens[i];
      switch (t.kind) {
        case TokenKind::kLiteral:
          if (t.c == c) next[i + 1] = any = 1;
          break;
        case TokenKind::kStar:
          if (c != '/') next[i] = any = 1;
          break;
        case TokenKind::kDoubleStar:
          next[i] = any = 1;
          break;
      }
    }
    if (!any) return false;
    close(next);
    std::swap(cur, next);
  }
  return cur[m] != 0;
}

std::string NormalizeReferenceGlob(std::string_view pattern) {
  std::string p(pattern);
  if (p.empty()) return p;  // refused by Glob::Compile
  if (auto slash = p.find('/'); slash != std::string::npos) {
    std::string_view first = std::string_view(p).substr(0, slash);
    if (first.find_first_of(".:*") != std::string_view::npos || Lower(first) == "localhost") {
      p = CanonicalHost(first) + p.substr(slash);
    }
  }
  constexpr std::string_view kIndex = "index.docker.io/";
  constexpr std::string_view kHub = "docker.io/";
  if (p.compare(0, kIndex.size(), kIndex) == 0) p = std::string(kHub) + p.substr(kIndex.size());
  if (p.compare(0, kHub.size(), kHub) == 0) {
    // "docker.io/busybox" is "docker.io/library/busybox", as for references.
    std::string rest = p.substr(kHub.size());
    if (rest.find('/') == std::string::npos && rest != "**") return std::string(kHub) + "library/" + rest;
    return p;
  }
  if (p == "**") return p;
  auto slash = p.find('/');
  if (slash == std::string::npos) return "docker.io/library/" + p;
  std::string_view first = std::string_view(p).substr(0, slash);
  bool is_host = first.find_first_of(".:*") != std::string_view::npos || first == "localhost";
  if (!is_host) return "docker.io/" + p;
  return p;
}

StatusOr<Glob> CompileReferenceGlob(std::string_view pattern) {
  if (pattern.empty()) return InvalidArgument("glob is empty");
  if (pattern.back() == '/') {
    std::string meant(pattern);
    meant += "**";
    return InvalidArgument("glob " + Quote(pattern) + " ends in '/' and can never match a reference (" + meant +
                           " selects everything under it)");
  }
  if (pattern.find('/') == std::string_view::npos) {
    std::string_view name = pattern.substr(0, pattern.find_first_of(":@"));
    if (name.find('.') != std::string_view::npos || Lower(name) == "localhost") {
      return InvalidArgument("glob " + Quote(pattern) + " names the Docker Hub repository docker.io/library/" +
                             std::string(pattern) + "; write " + std::string(pattern) +
                             "/** for everything in that registry");
    }
  }
  return Glob::Compile(NormalizeReferenceGlob(pattern), Glob::Dialect::kReference);
}

bool ReferenceMatcher::MatchesReference(const Reference& ref) const {
  auto any_glob = [&](std::string_view text) {
    for (const auto& g : references_) {
      if (g.Matches(text)) return true;
    }
    return false;
  };
  // The spellings of the class comment, built one after another and only
  // until one matches (admission's hot path: no list of strings).
  auto any_form = [&](const Reference& r) {
    thread_local std::string form;  // its buffer reused: no allocation per admission
    form.clear();
    form.reserve(r.registry.size() + r.repository.size() + std::max(r.tag.size(), r.digest.size()) + 2);
    form.append(r.registry).append(1, '/').append(r.repository);
    if (any_glob(form)) return true;
    const size_t name_size = form.size();
    if (!r.tag.empty()) {
      form += ':';
      form += r.tag;
      if (any_glob(form)) return true;
    }
    if (!r.digest.empty()) {
      form.resize(name_size);
      form += '@';
      form += r.digest;
      if (any_glob(form)) return true;
      if (!r.tag.empty() && any_glob(r.String())) return true;
    }
    return false;
  };
  if (any_form(ref)) return true;
  // The same repository spelt with the canonical host (globs are normalised
  // the same way): matching more spellings can only apply more policies.
  // Usually there is none (a canonical host, not Docker Hub): say so without
  // building one.
  const std::string& reg = ref.registry;
  if (IsCanonicalHost(reg) && reg != "index.docker.io" && reg != "registry-1.docker.io" && reg != "docker.io") {
    return false;
  }
  std::string host = CanonicalHost(reg);
  if (host == "index.docker.io" || host == "registry-1.docker.io") host = "docker.io";
  bool library = host == "docker.io" && ref.repository.find('/') == std::string::npos;
  if (host == ref.registry && !library) return false;
  Reference canonical = ref;
  canonical.registry = std::move(host);
  if (library) canonical.repository = "library/" + canonical.repository;
  return any_form(canonical);
}

bool ReferenceMatcher::MatchesNamespace(std::string_view namespace_name) const {
  if (namespaces_.empty()) return true;
  for (const auto& g : namespaces_) {
    if (g.Matches(namespace_name)) return true;
  }
  return false;
}

bool ReferenceMatcher::MatchesSource(Source source) const {
  if (sources_.empty()) return true;
  for (Source s : sources_) {
    if (s == source) return true;
  }
  return false;
}

bool ReferenceMatcher::Matches(const Reference& ref, std::string_view namespace_name, Source source) const {
  return MatchesSource(source) && MatchesNamespace(namespace_name) && MatchesReference(ref);
}

Json ReferenceMatcher::ToJson() const {
  Json j = Json::object();
  j["references"] = Json::array();
  for (const auto& g : references_) j["references"].push_back(g.pattern());
  j["namespaces"] = Json::array();
  for (const auto& g : namespaces_) j["namespaces"].push_back(g.pattern());
  j["sources"] = Json::array();
  for (Source s : sources_) j["sources"].push_back(SourceName(s));
  return j;
}

}  // namespace provgate
