// Keyless identity constraints: exact comparison and whole-value RE2 matches.
#include <doctest/doctest.h>

#include "policy/identity_matcher.h"

using namespace provgate;

namespace {

std::shared_ptr<const IdentityMatcher> Compile(KeylessIdentity id) {
  auto m = CompileIdentityMatcher(id);
  REQUIRE_MESSAGE(m.ok(), m.status().message());
  return *m;
}

const char kIssuer[] = "https://token.actions.githubusercontent.com";

KeylessIdentity Id(std::string issuer, std::string issuer_regexp, std::string subject, std::string subject_regexp) {
  KeylessIdentity id;
  id.issuer = std::move(issuer);
  id.issuer_regexp = std::move(issuer_regexp);
  id.subject = std::move(subject);
  id.subject_regexp = std::move(subject_regexp);
  return id;
}

}  // namespace

TEST_CASE("issuer and subject compare exactly: case, trailing slash and prefixes all differ") {
  auto m = Compile(Id(kIssuer, "", "https://github.com/acme/models/.github/workflows/r.yml@refs/heads/main", ""));
  CHECK(m->Matches(kIssuer, "https://github.com/acme/models/.github/workflows/r.yml@refs/heads/main"));
  const char* subjects[] = {
      "https://github.com/ACME/models/.github/workflows/r.yml@refs/heads/main",
      "https://github.com/acme/models/.github/workflows/r.yml@refs/heads/main/",
      "https://github.com/acme/models/.github/workflows/r.yml@refs/heads/mainline",
      "https://github.com/acme/models/.github/workflows/r.yml",
  };
  for (const char* s : subjects) {
    CAPTURE(s);
    CHECK_FALSE(m->Matches(kIssuer, s));
  }
  CHECK_FALSE(m->Matches("https://token.actions.githubusercontent.com/",
                         "https://github.com/acme/models/.github/workflows/r.yml@refs/heads/main"));
  CHECK_FALSE(m->Matches("https://TOKEN.actions.githubusercontent.com",
                         "https://github.com/acme/models/.github/workflows/r.yml@refs/heads/main"));
}

TEST_CASE("a regexp matches the whole value, as if anchored, whatever it looks like") {
  auto m = Compile(Id("", "https://token\\.actions\\.githubusercontent\\.com", "", "https://github\\.com/acme/.*"));
  CHECK(m->Matches(kIssuer, "https://github.com/acme/models/x"));
  // An unanchored-looking pattern must not match a longer SAN around it.
  CHECK_FALSE(m->Matches(kIssuer, "https://github.com/evil/x?https://github.com/acme/"));
  CHECK_FALSE(m->Matches(kIssuer, "xhttps://github.com/acme/models"));
  CHECK_FALSE(m->Matches("https://token.actions.githubusercontent.com.evil.example", "https://github.com/acme/m"));
  // Alternation is anchored as a whole, not per branch.
  auto alt = Compile(Id(kIssuer, "", "", "a@example\\.com|b@example\\.com"));
  CHECK(alt->Matches(kIssuer, "b@example.com"));
  CHECK_FALSE(alt->Matches(kIssuer, "a@example.com.evil"));
  CHECK_FALSE(alt->Matches(kIssuer, "evil-b@example.com"));
}

TEST_CASE("an identity needs one constraint of each kind, and patterns that compile") {
  CHECK_FALSE(CompileIdentityMatcher(Id("", "", "s", "")).ok());
  CHECK_FALSE(CompileIdentityMatcher(Id("i", "", "", "")).ok());
  CHECK_FALSE(CompileIdentityMatcher(Id("i", "i", "s", "")).ok());
  auto bad = CompileIdentityMatcher(Id("i", "", "", "(unclosed"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("invalid regular expression") != std::string::npos);
}

TEST_CASE("Describe names the constraints for reasons") {
  auto m = Compile(Id(kIssuer, "", "", "https://github\\.com/acme/.*"));
  CHECK(m->Describe() ==
        "issuer \"https://token.actions.githubusercontent.com\", subjectRegExp \"https://github\\\\.com/acme/.*\"");
}
