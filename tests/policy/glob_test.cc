#include "policy/glob.h"

#include <doctest/doctest.h>

#include "policy/policy.h"

using namespace provgate;

namespace {

Glob MustCompile(const std::string& pattern, Glob::Dialect d = Glob::Dialect::kReference) {
  auto g = Glob::Compile(pattern, d);
  REQUIRE_MESSAGE(g.ok(), g.status().ToString());
  return *g;
}

Reference MustParse(const std::string& text) {
  auto r = ParseReference(text);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return *r;
}

ReferenceMatcher Matcher(std::vector<std::string> refs, std::vector<std::string> namespaces = {},
                         std::vector<Source> sources = {}) {
  std::vector<Glob> r, n;
  for (const auto& p : refs) {
    auto g = CompileReferenceGlob(p);
    REQUIRE_MESSAGE(g.ok(), g.status().ToString());
    r.push_back(std::move(*g));
  }
  for (const auto& p : namespaces) n.push_back(MustCompile(p, Glob::Dialect::kNamespace));
  return ReferenceMatcher(std::move(r), std::move(n), std::move(sources));
}

const std::string kDigest = "sha256:" + std::string(64, 'a');

}  // namespace

TEST_CASE("reference globs: * stays within a segment, ** crosses segments") {
  struct Row {
    const char* pattern;
    const char* text;
    bool match;
  };
  Row rows[] = {
      {"registry.example.com/models/**", "registry.example.com/models/mnist", true},
      {"registry.example.com/models/**", "registry.example.com/models/team/mnist", true},
      {"registry.example.com/models/**", "registry.example.com/models/", true},
      {"registry.example.com/models/**", "registry.example.com/models", false},
      {"registry.example.com/models/**", "registry.example.com/other/mnist", false},
      {"registry.example.com/models/**", "registry.example.com/models-evil/x", false},
      {"registry.example.com/models/**", "registry.example.com/modelsx", false},
      {"registry.example.com/models/**", "registry.example.com/modelsx/y", false},
      {"registry.example.com/models/**", "registry.example.com.evil.io/models/x", false},
      {"registry.example.com/models/**", "evil.io/registry.example.com/models/x", false},
      {"registry.example.com/**/mnist", "registry.example.com/mnist", false},  // ** needs its own segment
      {"registry.example.com/models/*", "registry.example.com/models/mnist:v1", true},  // * crosses ':' and '@'
      {"registry.example.com/models/mnist:*", "registry.example.com/models/mnist:v1@sha256:abc", true},
      {"registry.example.com/models/*", "registry.example.com/models/mnist", true},
      {"registry.example.com/models/*", "registry.example.com/models/team/mnist", false},
      {"registry.example.com/*/mnist", "registry.example.com/models/mnist", true},
      {"registry.example.com/*/mnist", "registry.example.com/a/b/mnist", false},
      {"registry.example.com/**/mnist", "registry.example.com/a/b/mnist", true},
      {"*/models/*", "ghcr.io/models/mnist", true},
      // The leading literal run is compared before the wildcards.
      {"registry.example.com/models/mnist", "registry.example.com/models/mnist", true},
      {"registry.example.com/models/mnist", "registry.example.com/models/mnis", false},
      {"registry.example.com/models/mnist", "registry.example.com/models/mnist2", false},
      {"registry.example.com/models/*", "registry.example.com/models", false},
      {"registry.example.com/models/*", "registry.example.co", false},
      {"registry.example.com/models/*", "", false},
      {"**", "", true},
      {"**/x", "a/b/x", true},
      {"r/*x", "r/x", true},
      {"r/*x", "r/ax/x", false},
      {"*/models/*", "ghcr.io/acme/models/mnist", false},
      {"**", "anything/at/all:v1", true},
      {"registry.example.com/models/mnist:v*", "registry.example.com/models/mnist:v1", true},
      {"registry.example.com/models/mnist:v*", "registry.example.com/models/mnist:latest", false},
      {"registry.example.com/models/mnist", "registry.example.com/models/mnist", true},
      {"registry.example.com/models/mnist", "registry.example.com/models/mnist2", false},
      {"registry.example.com/models/mnist", "registry.example.com/models/mnis", false},
      {"a*b*c", "axxbyyc", true},
      {"a*b*c", "axxbyy", false},
      {"a**", "a/b/c", true},
      {"*", "", true},
  };
  for (const auto& r : rows) {
    CAPTURE(r.pattern);
    CAPTURE(r.text);
    CHECK(MustCompile(r.pattern).Matches(r.text) == r.match);
  }
}

TEST_CASE("glob matching is linear: no backtracking blowup") {
  std::string pattern;
  for (int i = 0; i < 30; ++i) pattern += "*a";
  pattern += "*b";
  Glob g = MustCompile(pattern);
  CHECK_FALSE(g.Matches(std::string(400, 'a')));  // exponential for a naive backtracker
  Glob dbl = MustCompile("**a**a**a**a**a**a**a**a**b");
  CHECK_FALSE(dbl.Matches(std::string(400, 'a')));
}

TEST_CASE("namespace globs: * matches any characters") {
  struct Row {
    const char* pattern;
    const char* ns;
    bool match;
  };
  Row rows[] = {
      {"serving-*", "serving-prod", true},     {"serving-*", "serving-", true},  {"serving-*", "serving", false},
      {"serving-*", "ml-serving-prod", false}, {"*-prod", "serving-prod", true}, {"default", "default", true},
      {"default", "default2", false},          {"*", "kube-system", true},
  };
  for (const auto& r : rows) {
    CAPTURE(r.pattern);
    CAPTURE(r.ns);
    CHECK(MustCompile(r.pattern, Glob::Dialect::kNamespace).Matches(r.ns) == r.match);
  }
}

TEST_CASE("bad globs are rejected with a reason") {
  struct Row {
    const char* pattern;
    Glob::Dialect dialect;
    const char* reason;
  };
  Row rows[] = {
      {"", Glob::Dialect::kReference, "empty"},
      {"registry.example.com/***", Glob::Dialect::kReference, "3 consecutive '*'"},
      {"registry.example.com/models/[a-z]*", Glob::Dialect::kReference, "only * and ** are wildcards"},
      {"registry.example.com/model?", Glob::Dialect::kReference, "character \"?\""},
      {"registry.example.com/ models", Glob::Dialect::kReference, "whitespace"},
      {"Serving", Glob::Dialect::kNamespace, "can never occur in a namespace name"},
      {"serving/x", Glob::Dialect::kNamespace, "character \"/\""},
  };
  for (const auto& r : rows) {
    CAPTURE(r.pattern);
    auto g = Glob::Compile(r.pattern, r.dialect);
    REQUIRE_FALSE(g.ok());
    CHECK(g.status().message().find(r.reason) != std::string::npos);
  }
  CHECK_FALSE(Glob::Compile(std::string(kMaxGlobLength + 1, 'a'), Glob::Dialect::kReference).ok());
}

TEST_CASE("reference globs are normalised like references") {
  struct Row {
    const char* in;
    const char* want;
  };
  Row rows[] = {
      {"busybox", "docker.io/library/busybox"},
      {"busybox*", "docker.io/library/busybox*"},
      {"acme/*", "docker.io/acme/*"},
      {"index.docker.io/acme/model", "docker.io/acme/model"},
      {"docker.io/library/*", "docker.io/library/*"},
      {"docker.io/busybox", "docker.io/library/busybox"},
      {"index.docker.io/busybox", "docker.io/library/busybox"},
      {"docker.io/*", "docker.io/library/*"},
      {"docker.io/**", "docker.io/**"},
      {"registry.example.com/models/**", "registry.example.com/models/**"},
      {"localhost/models/*", "localhost/models/*"},
      {"localhost:5000/m", "localhost:5000/m"},
      {"*/models/**", "*/models/**"},
      {"**", "**"},
      // Hosts spelt as CanonicalRegistryHost spells them.
      {"registry-1.docker.io/acme/**", "docker.io/acme/**"},
      {"index.docker.io/acme/**", "docker.io/acme/**"},
      {"Docker.IO:443/acme/**", "docker.io/acme/**"},
      {"registry-1.docker.io/busybox", "docker.io/library/busybox"},
      {"Registry.Example.COM:0443/acme/**", "registry.example.com/acme/**"},
      {"registry.example.com:443/acme/**", "registry.example.com/acme/**"},
      {"registry:443/models/**", "registry:443/models/**"},
      {"ACME/models/**", "acme:443/models/**"},
      {"*.example.com/models/**", "*.example.com/models/**"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.in);
    auto got = NormalizeReferenceGlob(r.in);
    REQUIRE_MESSAGE(got.ok(), got.status().ToString());
    CHECK(*got == r.want);
  }
}

TEST_CASE("a matcher compares each glob with the name, name:tag, name@digest and full forms") {
  ReferenceMatcher tree = Matcher({"registry.example.com/models/**"});
  CHECK(tree.MatchesReference(MustParse("registry.example.com/models/mnist:v1")));
  CHECK(tree.MatchesReference(MustParse("registry.example.com/models/mnist@" + kDigest)));
  CHECK(tree.MatchesReference(MustParse("registry.example.com/models/mnist:v1@" + kDigest)));
  CHECK(tree.MatchesReference(MustParse("oci://registry.example.com/models/a/b:v1")));
  CHECK_FALSE(tree.MatchesReference(MustParse("registry.example.com/other/mnist:v1")));

  ReferenceMatcher repo = Matcher({"registry.example.com/models/mnist"});
  CHECK(repo.MatchesReference(MustParse("registry.example.com/models/mnist:v1")));
  CHECK(repo.MatchesReference(MustParse("registry.example.com/models/mnist@" + kDigest)));
  CHECK_FALSE(repo.MatchesReference(MustParse("registry.example.com/models/mnist2:v1")));

  ReferenceMatcher tags = Matcher({"registry.example.com/models/mnist:v*"});
  CHECK(tags.MatchesReference(MustParse("registry.example.com/models/mnist:v1")));
  CHECK(tags.MatchesReference(MustParse("registry.example.com/models/mnist:v1@" + kDigest)));
  CHECK_FALSE(tags.MatchesReference(MustParse("registry.example.com/models/mnist:latest")));
  CHECK_FALSE(tags.MatchesReference(MustParse("registry.example.com/models/mnist@" + kDigest)));

  ReferenceMatcher pinned = Matcher({"registry.example.com/models/mnist@" + kDigest});
  CHECK(pinned.MatchesReference(MustParse("registry.example.com/models/mnist:v1@" + kDigest)));
  CHECK_FALSE(pinned.MatchesReference(MustParse("registry.example.com/models/mnist:v1")));

  // Docker Hub short names on both sides.
  ReferenceMatcher hub = Matcher({"busybox"});
  CHECK(hub.MatchesReference(MustParse("busybox")));
  CHECK(hub.MatchesReference(MustParse("docker.io/library/busybox:1.36")));
  CHECK_FALSE(hub.MatchesReference(MustParse("acme/busybox")));
  ReferenceMatcher user = Matcher({"acme/*"});
  CHECK(user.MatchesReference(MustParse("acme/model:v1")));
  CHECK_FALSE(user.MatchesReference(MustParse("ghcr.io/acme/model:v1")));
}

// A container runtime pulls REGISTRY.EXAMPLE.COM/x and registry.example.com:443/x
// from the same registry as registry.example.com/x (DNS is case-insensitive,
// 443 is the HTTPS default), and docker.io/x from the same as
// registry-1.docker.io/x. Were they unmatched, --unmatched allow would admit
// an unverified model from the very registry the policy guards.
TEST_CASE("a registry host matches in every spelling, on both sides") {
  struct Row {
    const char* pattern;
    const char* reference;
    bool match;
  };
  Row rows[] = {
      {"registry.example.com/models/**", "REGISTRY.EXAMPLE.COM/models/evil:v1", true},
      {"registry.example.com/models/**", "Registry.Example.Com/models/evil:v1", true},
      {"registry.example.com/models/**", "registry.example.com:443/models/evil:v1", true},
      {"registry.example.com/models/**", "REGISTRY.example.com:0443/models/evil:v1", true},
      {"Registry.Example.COM/models/**", "registry.example.com/models/mnist:v1", true},
      {"Registry.Example.COM:0443/models/**", "registry.example.com/models/mnist:v1", true},
      {"registry.example.com:443/models/**", "registry.example.com/models/mnist:v1", true},
      {"registry.example.com:443/models/**", "registry.example.com:443/models/mnist:v1", true},
      {"*.example.com/models/**", "MIRROR.EXAMPLE.COM/models/mnist:v1", true},
      {"registry-1.docker.io/acme/**", "registry-1.docker.io/acme/model:v1", true},
      {"registry-1.docker.io/acme/**", "acme/model:v1", true},
      {"registry-1.docker.io/acme/**", "docker.io/acme/model:v1", true},
      {"index.docker.io/acme/**", "acme/model:v1", true},
      {"acme/**", "index.docker.io/acme/model:v1", true},
      {"docker.io/library/busybox", "INDEX.DOCKER.IO/library/busybox", true},
      {"registry:443/models/**", "registry:0443/models/m:v1", true},
      {"ACME/**", "acme:443/model:v1", true},
      {"registry.example.com/models/mnist:V1", "registry.example.com/models/mnist:V1", true},  // tags keep their case
      {"registry.example.com/models/mnist:v1", "registry.example.com/models/mnist:V1", false},
      {"registry.example.com/models/**", "registry.example.com:5000/models/mnist:v1", false},  // another port
      {"registry.example.com/models/**", "registry.example.com:4430/models/mnist:v1", false},
      {"registry.example.com:5000/models/**", "registry.example.com/models/mnist:v1", false},
      {"registry.example.com/models/**", "registry.example.com.evil.io/models/mnist:v1", false},
      // A host only by its case or port is not Docker Hub, and back.
      {"acme/**", "ACME/model:v1", false},
      {"ACME/**", "acme/model:v1", false},
      {"docker.io/registry/**", "registry:443/models/m:v1", false},
      {"registry:443/**", "registry/models/m:v1", false},
  };
  for (const auto& r : rows) {
    std::string row = std::string(r.pattern) + " ~ " + r.reference;
    CAPTURE(row);
    CHECK(Matcher({r.pattern}).MatchesReference(MustParse(r.reference)) == r.match);
  }
}

// A glob whose host can never match a canonical reference governs nothing: a
// lint error that names the spelling that works.
TEST_CASE("reference globs whose host can never match are refused") {
  struct Row {
    const char* pattern;
    const char* reason;
  };
  Row rows[] = {
      {"Registry.*.COM/models/**", "write \"registry.*.com\""},
      {"registry.example.com:*/models/**", "never matches the default port 443"},
      {"*.example.com:4*/models/**", "never matches the default port 443"},
      {"*.example.com:0443/models/**", "leading zero"},
      {"registry.example.com:0/models/**", "between 1 and 65535"},
      {"registry.example.com:99999/models/**", "between 1 and 65535"},
      {"-registry.example.com/models/**", "not a valid host"},
      {"registry..example.com/models/**", "not a valid host"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.pattern);
    auto g = CompileReferenceGlob(r.pattern);
    REQUIRE_FALSE(g.ok());
    CHECK_MESSAGE(g.status().message().find(r.reason) != std::string::npos, g.status().message());
  }
}

TEST_CASE("namespaces and sources: omitted means all") {
  Reference ref = MustParse("registry.example.com/models/mnist:v1");
  ReferenceMatcher all = Matcher({"registry.example.com/**"});
  CHECK(all.Matches(ref, "anything", Source::kContainer));
  CHECK(all.Matches(ref, "", Source::kStorageUri));

  ReferenceMatcher scoped =
      Matcher({"registry.example.com/**"}, {"serving-*", "ml"}, {Source::kImageVolume, Source::kStorageUri});
  CHECK(scoped.Matches(ref, "serving-prod", Source::kImageVolume));
  CHECK(scoped.Matches(ref, "ml", Source::kStorageUri));
  CHECK_FALSE(scoped.Matches(ref, "default", Source::kImageVolume));
  CHECK_FALSE(scoped.Matches(ref, "serving-prod", Source::kContainer));
  CHECK_FALSE(scoped.Matches(MustParse("ghcr.io/x/y:v1"), "serving-prod", Source::kImageVolume));
}
