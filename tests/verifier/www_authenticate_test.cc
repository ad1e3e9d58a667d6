// ParseWwwAuthenticate: the challenges registries send (the Docker/distribution
// token authentication spec; RFC 7235 §4.1 / RFC 6750 §3 syntax).
#include <doctest/doctest.h>

#include "verifier/registry/www_authenticate.h"

using namespace provgate;

TEST_CASE("challenges registries send are parsed into a lowercase scheme and params") {
  struct Row {
    std::string header;
    std::string scheme;
    std::map<std::string, std::string> params;
  };
  const Row rows[] = {
      // distribution / Docker Hub
      {R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")",
       "bearer",
       {{"realm", "https://auth.docker.io/token"},
        {"service", "registry.docker.io"},
        {"scope", "repository:library/busybox:pull"}}},
      // a scope with several actions contains a comma inside the quotes; a
      // registry host with a port adds a colon inside the name
      {R"(Bearer realm="https://auth.example/token",scope="repository:a/b:pull,push repository:localhost:5000/c:pull",error="insufficient_scope")",
       "bearer",
       {{"realm", "https://auth.example/token"},
        {"scope", "repository:a/b:pull,push repository:localhost:5000/c:pull"},
        {"error", "insufficient_scope"}}},
      // case-insensitive scheme and param names; values keep their case
      {R"(BEARER Realm="https://Auth.Example/Token",SERVICE="Reg")", "bearer",
       {{"realm", "https://Auth.Example/Token"}, {"service", "Reg"}}},
      {R"(bAsIc ReAlM="Registry Realm")", "basic", {{"realm", "Registry Realm"}}},
      // whitespace around '=' and ',' and before the scheme (RFC 7235 BWS/OWS)
      {" \tBearer realm = \"https://a/t\" ,\tservice=\"s\"  ", "bearer", {{"realm", "https://a/t"}, {"service", "s"}}},
      // backslash escapes inside quoted strings (RFC 7230 quoted-pair)
      {R"(Bearer realm="https://a/t",error_description="say \"hi\", then \\ go")", "bearer",
       {{"realm", "https://a/t"}, {"error_description", R"(say "hi", then \ go)"}}},
      // unquoted token values
      {R"(Bearer service=reg.example,error=invalid_token)", "bearer",
       {{"service", "reg.example"}, {"error", "invalid_token"}}},
      // empty quoted value; empty list elements are skipped
      {R"(Bearer realm="",, ,service="s")", "bearer", {{"realm", ""}, {"service", "s"}}},
      // trailing whitespace and a trailing comma (OWS, empty list element)
      {"Bearer realm=\"https://a/t\" ", "bearer", {{"realm", "https://a/t"}}},
      {"Bearer realm=\"https://a/t\", ", "bearer", {{"realm", "https://a/t"}}},
      // a scheme alone
      {"Basic", "basic", {}},
      {"Negotiate", "negotiate", {}},
      // only the first challenge of a list is read
      {R"(Basic realm="basic-realm", Bearer realm="https://a/t",service="s")", "basic", {{"realm", "basic-realm"}}},
  };
  for (const auto& row : rows) {
    CAPTURE(row.header);
    auto c = ParseWwwAuthenticate(row.header);
    REQUIRE(c.has_value());
    CHECK(c->scheme == row.scheme);
    CHECK(c->params == row.params);
  }
}

TEST_CASE("garbage is not a challenge") {
  const std::string rows[] = {
      "",
      "   ",
      "=",
      R"("Bearer" realm="x")",
      R"(=realm="x")",
      R"(Bearer realm="unterminated)",
      R"(Bearer realm="ends in a backslash\)",
      R"(Bearer realm="x",="y")",
      R"(Bearer realm="x",@="y")",
      // a URL must be quoted: ':' is not a token character
      R"(Bearer realm=https://auth.example/token)",
      "\xff\xfe",
  };
  for (const auto& h : rows) {
    CAPTURE(h);
    CHECK_FALSE(ParseWwwAuthenticate(h).has_value());
  }
}
