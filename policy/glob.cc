#include "policy/glob.h"

#include <algorithm>

#include "base/encoding.h"
#include "policy/policy.h"
#include "verifier/registry_host.h"

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

namespace {

// A host glob with a '*' cannot be spelt canonically, but it can be written
// so that it never matches a canonical host: refuse those spellings, naming
// the one that works.
Status CheckWildcardHost(std::string_view pattern, std::string_view host) {
  if (std::any_of(host.begin(), host.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return InvalidArgument("glob " + Quote(pattern) + ": registry host " + Quote(host) +
                           " has upper case and can never match: references spell hosts in lower case (write " +
                           Quote(Lower(host)) + ")");
  }
  size_t colon = host.rfind(':');
  if (colon == std::string_view::npos || host.find(']', colon) != std::string_view::npos) return Status::Ok();
  std::string_view port = host.substr(colon + 1);
  if (port.find('*') != std::string_view::npos) {
    // "registry.example.com:*" would govern every port but the default one,
    // which references omit: the host's plain spelling would walk past it.
    return InvalidArgument("glob " + Quote(pattern) + ": the port wildcard in " + Quote(host) +
                           " never matches the default port 443, which references omit; write the host without a "
                           "port as well, in a second glob");
  }
  if (port.size() > 1 && port.front() == '0') {
    return InvalidArgument("glob " + Quote(pattern) + ": port " + Quote(port) +
                           " with a leading zero can never match: references spell ports without one");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::string> NormalizeReferenceGlob(std::string_view pattern) {
  std::string p(pattern);
  if (p.empty() || p == "**") return p;  // "" is refused by Glob::Compile
  size_t slash = p.find('/');
  if (slash == std::string::npos) return "docker.io/library/" + p;  // an official image: "busybox*"
  std::string_view first = std::string_view(p).substr(0, slash);
  std::string rest = p.substr(slash);  // "/..."
  if (first.find('*') != std::string_view::npos) {
    RETURN_IF_ERROR(CheckWildcardHost(pattern, first));
    return p;  // "*/models/**" still means any registry
  }
  if (!IsRegistryHostComponent(first)) return std::string(kDockerHubHost) + "/" + p;  // "acme/*" is Docker Hub's acme
  auto host = CanonicalRegistryHost(first);
  if (!host.ok()) return InvalidArgument("glob " + Quote(pattern) + ": " + host.status().message());
  // "docker.io/busybox" is "docker.io/library/busybox", as for references.
  if (*host == kDockerHubHost && rest.find('/', 1) == std::string::npos && rest != "/**") {
    return *host + "/library" + rest;
  }
  return *host + rest;
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
      // The suggestion repeats the glob unquoted only when it is printable
      // ASCII: a newline in it would start a line of its own in the loader's errors.
      bool printable = std::all_of(pattern.begin(), pattern.end(), [](char c) { return c > 0x20 && c < 0x7f; });
      std::string shown = printable ? std::string(pattern) : Quote(pattern);
      return InvalidArgument("glob " + Quote(pattern) + " names the Docker Hub repository docker.io/library/" + shown +
                             "; write " + shown + "/** for everything in that registry");
    }
  }
  ASSIGN_OR_RETURN(std::string normalized, NormalizeReferenceGlob(pattern));
  return Glob::Compile(normalized, Glob::Dialect::kReference);
}

bool ReferenceMatcher::MatchesReference(const Reference& ref) const {
  auto any_glob = [&](std::string_view text) {
    for (const auto& g : references_) {
      if (g.Matches(text)) return true;
    }
    return false;
  };
  // The spellings of the class comment, one after another until one matches.
  // References are parsed with their host spelt canonically, and globs are
  // normalised the same way: one spelling of the host suffices.
  std::string form = ref.Name();
  if (any_glob(form)) return true;
  const size_t name_size = form.size();
  if (!ref.tag.empty()) {
    form.append(1, ':').append(ref.tag);
    if (any_glob(form)) return true;
  }
  if (!ref.digest.empty()) {
    form.resize(name_size);
    form.append(1, '@').append(ref.digest);
    if (any_glob(form)) return true;
    if (!ref.tag.empty() && any_glob(ref.String())) return true;
  }
  return false;
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
