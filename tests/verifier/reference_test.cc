#include <doctest/doctest.h>

#include "verifier/reference.h"

using namespace provgate;

TEST_CASE("references normalise the way container runtimes do") {
  struct Row {
    const char* in;
    const char* want;
  };
  const std::string d = "sha256:" + std::string(64, 'a');
  Row rows[] = {
      {"busybox", "docker.io/library/busybox:latest"},
      {"busybox:1.36", "docker.io/library/busybox:1.36"},
      {"library/busybox", "docker.io/library/busybox:latest"},
      {"acme/model", "docker.io/acme/model:latest"},
      {"index.docker.io/acme/model:v1", "docker.io/acme/model:v1"},
      {"docker.io/busybox", "docker.io/library/busybox:latest"},
      {"ghcr.io/acme/models/mnist:v1", "ghcr.io/acme/models/mnist:v1"},
      {"localhost/model", "localhost/model:latest"},
      {"localhost:5000/model:v2", "localhost:5000/model:v2"},
      {"127.0.0.1:5000/models/mnist:v1", "127.0.0.1:5000/models/mnist:v1"},
      {"oci://127.0.0.1:5000/models/mnist:v1", "127.0.0.1:5000/models/mnist:v1"},
      {"oci+native://reg.example.com/m:v1", "reg.example.com/m:v1"},
      {"Registry.Example.com/m", "registry.example.com/m:latest"},
      {"[::1]:5000/m:v1", "[::1]:5000/m:v1"},
      {"a/b__c/d-e/f.g", "docker.io/a/b__c/d-e/f.g:latest"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.in);
    auto ref = ParseReference(r.in);
    REQUIRE_MESSAGE(ref.ok(), ref.status().ToString());
    CHECK(ref->String() == r.want);
  }
}

TEST_CASE("references with digests") {
  const std::string d = "sha256:" + std::string(64, 'a');
  auto r = ParseReference("reg.example.com:443/m/n:v1@" + d);
  REQUIRE(r.ok());
  CHECK(r->registry == "reg.example.com");
  CHECK(r->repository == "m/n");
  CHECK(r->tag == "v1");
  CHECK(r->digest == d);
  CHECK(r->TagOrDigest() == d);

  auto bare = ParseReference("busybox@" + d);
  REQUIRE(bare.ok());
  CHECK(bare->tag.empty());  // a digest without a tag gets no :latest
  CHECK(bare->String() == "docker.io/library/busybox@" + d);

  auto sha512 = ParseReference("m@sha512:" + std::string(128, '0'));
  CHECK(sha512.ok());
}

TEST_CASE("malformed references are rejected with a reason") {
  struct Row {
    std::string in;
    const char* reason;
  };
  Row rows[] = {
      {"", "empty"},
      {"oci://", "empty"},
      {"acme/Upper", "repository path component"},
      {"reg.example.com/Model", "repository path component"},
      {"m:", "tag"},
      {"m:-bad", "tag"},
      {"m:" + std::string(129, 'a'), "tag"},
      {"m@sha256:abc", "64 lowercase hex"},
      {"m@sha256:" + std::string(64, 'A'), "64 lowercase hex"},
      {"m@md5:" + std::string(32, 'a'), "unsupported algorithm"},
      {"m@" + std::string(64, 'a'), "no algorithm"},
      {"reg.example.com/", "missing repository path"},
      {"a//b", "repository path component"},
      {"a/b..c", "repository path component"},
      {"a/-b", "repository path component"},
      {"has space", "whitespace"},
      {"reg.example.com:port/m", "not a valid host"},
      {"-reg.example.com/m", "not a valid host"},
      {"reg.example.com/" + std::string(300, 'a'), "longer than 255"},
      {"r.io/" + std::string(251, 'a'), "longer than 255"},  // 256: one over
      {std::string(5000, 'a'), "longer than 4096"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.in.substr(0, 80));
    auto ref = ParseReference(r.in);
    REQUIRE_FALSE(ref.ok());
    CHECK(ref.status().code() == StatusCode::kInvalidArgument);
    CHECK_MESSAGE(ref.status().message().find(r.reason) != std::string::npos, ref.status().message());
  }
}

TEST_CASE("a name of exactly 255 characters is accepted") {
  auto ref = ParseReference("r.io/" + std::string(250, 'a'));  // 4 + 1 + 250
  REQUIRE_MESSAGE(ref.ok(), ref.status().ToString());
  CHECK(ref->Name().size() == 255);
  CHECK(ref->String() == "r.io/" + std::string(250, 'a') + ":latest");
}
