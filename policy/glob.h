// Globs of a policy's spec.match (docs/policy-language.md): reference, namespace and source
// selectors, compiled once at load. Immutable after construction; safe to
// share between threads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/json_util.h"
#include "base/status.h"
#include "verifier/reference.h"

namespace provgate {

enum class Source;  // policy.h

inline constexpr size_t kMaxGlobLength = 512;

// One compiled glob. Two dialects:
//  - reference globs: `*` matches any run of characters except '/', `**`
//    matches any run of characters including '/'; everything else is literal;
//  - namespace globs: `*` (and `**`) match any run of characters.
// Matching runs a linear-space NFA simulation, O(pattern * text): no
// backtracking blowup whatever the pattern.
class Glob {
 public:
  enum class Dialect { kReference, kNamespace };

  // Compiles `pattern` as written (no normalisation). Fails with
  // InvalidArgument when it is empty, longer than kMaxGlobLength, holds three
  // or more consecutive '*', whitespace or control characters, or a
  // character that can never occur in the text it is matched against (for
  // references: anything outside [A-Za-z0-9._-/:@*]; for namespaces: outside
  // [a-z0-9-*], since namespaces are DNS labels).
  static StatusOr<Glob> Compile(std::string_view pattern, Dialect dialect);

  // True when the whole of `text` matches.
  bool Matches(std::string_view text) const;
  const std::string& pattern() const { return pattern_; }

 private:
  enum class TokenKind { kLiteral, kStar, kDoubleStar };
  struct Token {
    TokenKind kind;
    char c = 0;  // kLiteral only
  };
  Glob(std::string pattern, std::vector<Token> tokens, size_t prefix)
      : pattern_(std::move(pattern)), tokens_(std::move(tokens)), prefix_(prefix) {}

  std::string pattern_;
  std::vector<Token> tokens_;
  size_t prefix_;  // leading literal tokens: pattern_[0, prefix_) verbatim
};

// Rewrites a reference glob the way references are parsed (ParseReference),
// so that a pattern reads like what users write in pod specs:
//  - a first segment that is a registry host (IsRegistryHostComponent) is
//    spelt canonically (CanonicalRegistryHost: "Registry.Example.com:0443/m/**"
//    -> "registry.example.com/m/**", "registry-1.docker.io/acme/**" ->
//    "docker.io/acme/**"), and "docker.io/NAME" (one segment, not "**") is
//    "docker.io/library/NAME";
//  - a pattern without '/' (other than "**") names a Docker Hub official
//    image: "busybox*" -> "docker.io/library/busybox*";
//  - any other first segment without '*' names a Docker Hub user
//    repository: "acme/*" -> "docker.io/acme/*".
// A first segment with a '*' is kept ("*/models/**" means any registry).
// Fails with InvalidArgument, naming the spelling that works, for a host
// that can never match a canonical one: not a valid host[:port], a
// wildcard host with upper case or a zero-padded port, or a wildcard port
// (which would miss the default port that references omit).
StatusOr<std::string> NormalizeReferenceGlob(std::string_view pattern);

// A spec.match.references entry: checks it, normalises it as above and
// compiles it. Fails with InvalidArgument, besides what Glob::Compile
// refuses, for globs that can select nothing a policy author meant: one
// ending in '/' (no reference does), and one without '/' whose name holds a
// '.' or is "localhost" ("registry.example.com" would be the Docker Hub
// repository docker.io/library/registry.example.com, not the registry).
StatusOr<Glob> CompileReferenceGlob(std::string_view pattern);

// spec.match compiled: reference globs (normalised, see above), namespace
// globs (empty = all namespaces) and sources (empty = all sources).
//
// A reference glob is compared with several spellings of a normalised
// reference and selects it when it matches any of them:
//   Name()                     registry.example.com/models/mnist
//   Name():tag                 registry.example.com/models/mnist:v1
//   Name()@digest              registry.example.com/models/mnist@sha256:...
//   String()                   registry.example.com/models/mnist:v1@sha256:...
// so "registry.example.com/models/**" and "registry.example.com/models/mnist"
// select every tag and digest of those repositories, while
// "registry.example.com/models/mnist:v*" selects only those tags. The host
// needs one spelling: references and globs both spell it canonically, so
// REGISTRY.EXAMPLE.COM:443/x cannot slip past a policy on registry.example.com/**.
//
// `*` stops only at '/': it crosses ':' and '@', so "registry.example.com/m/*"
// also matches the name:tag forms (harmlessly: the bare name matches too).
// `**` needs the '/' written before it: "registry.example.com/models/**"
// selects neither "registry.example.com/models" itself nor
// "registry.example.com/models-evil/x" (policy-controller's globs alike).
class ReferenceMatcher {
 public:
  ReferenceMatcher(std::vector<Glob> references, std::vector<Glob> namespaces, std::vector<Source> sources)
      : references_(std::move(references)), namespaces_(std::move(namespaces)), sources_(std::move(sources)) {}

  bool MatchesReference(const Reference& ref) const;
  bool MatchesNamespace(std::string_view namespace_name) const;
  bool MatchesSource(Source source) const;
  // All three.
  bool Matches(const Reference& ref, std::string_view namespace_name, Source source) const;

  const std::vector<Glob>& references() const { return references_; }
  const std::vector<Glob>& namespaces() const { return namespaces_; }
  const std::vector<Source>& sources() const { return sources_; }

  // Canonical form, part of PolicySet::hash().
  Json ToJson() const;

 private:
  std::vector<Glob> references_;
  std::vector<Glob> namespaces_;
  std::vector<Source> sources_;
};

}  // namespace provgate
