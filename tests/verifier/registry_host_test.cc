#include <doctest/doctest.h>

#include "verifier/reference.h"
#include "verifier/registry_host.h"

using namespace provgate;

// One canonical spelling per registry (leveldb's filename_test shape: a table
// that must parse beside a table that must fail).
TEST_CASE("spellings of one registry host canonicalise equally") {
  struct Row {
    const char* in;
    const char* want;
  };
  Row rows[] = {
      {"registry.example.com", "registry.example.com"},
      {"Registry.Example.COM", "registry.example.com"},
      {"registry.example.com:443", "registry.example.com"},
      {"REGISTRY.EXAMPLE.COM:443", "registry.example.com"},
      {"Registry.Example.COM:0443", "registry.example.com"},
      {"registry.example.com:000443", "registry.example.com"},
      {"registry.example.com:5000", "registry.example.com:5000"},
      {"registry.example.com:05000", "registry.example.com:5000"},
      {"docker.io", "docker.io"},
      {"Docker.IO", "docker.io"},
      {"docker.io:443", "docker.io"},
      {"index.docker.io", "docker.io"},
      {"INDEX.docker.io:443", "docker.io"},
      {"registry-1.docker.io", "docker.io"},
      {"registry-1.docker.io:0443", "docker.io"},
      {"localhost", "localhost"},
      {"LocalHost:443", "localhost"},
      {"localhost:5000", "localhost:5000"},
      {"127.0.0.1:5000", "127.0.0.1:5000"},
      {"127.0.0.1:443", "127.0.0.1"},
      {"[::1]:5000", "[::1]:5000"},
      {"[FC00::1]:443", "[fc00::1]"},
      // A host with no '.' that is not localhost reads as a host only with
      // its port or its case: it keeps an explicit port, 443 included.
      {"registry:443", "registry:443"},
      {"registry:0443", "registry:443"},
      {"ACME", "acme:443"},
      {"Acme:443", "acme:443"},
      {"registry:5000", "registry:5000"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.in);
    auto host = CanonicalRegistryHost(r.in);
    REQUIRE_MESSAGE(host.ok(), host.status().ToString());
    CHECK(*host == r.want);
    // Canonical is a fixed point, and re-parses as the same host.
    auto again = CanonicalRegistryHost(*host);
    REQUIRE(again.ok());
    CHECK(*again == *host);
    CHECK(IsRegistryHostComponent(*host));
  }
}

TEST_CASE("distinct registries stay distinct") {
  const char* distinct[][2] = {
      {"registry.example.com", "registry.example.com:5000"},
      {"registry.example.com", "registry.example.com:4430"},
      {"registry.example.com", "registry.example.com.evil.io"},
      {"docker.io", "docker.io.evil.io"},
      {"registry", "registry.local"},
      {"acme:443", "acme:4430"},
  };
  for (const auto& d : distinct) {
    CAPTURE(d[0]);
    CAPTURE(d[1]);
    auto a = CanonicalRegistryHost(d[0]);
    auto b = CanonicalRegistryHost(d[1]);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(*a != *b);
  }
}

TEST_CASE("malformed registry hosts are refused with a reason") {
  struct Row {
    const char* in;
    const char* reason;
  };
  Row rows[] = {
      {"", "DNS labels"},
      {"-registry.example.com", "DNS labels"},
      {"registry-.example.com", "DNS labels"},
      {"registry..example.com", "DNS labels"},
      {"registry.example.com.", "DNS labels"},
      {"registry_example.com", "DNS labels"},
      {"registry.example.com:", "not a number"},
      {"registry.example.com:port", "not a number"},
      {"registry.example.com:0", "between 1 and 65535"},
      {"registry.example.com:65536", "between 1 and 65535"},
      {"registry.example.com:99999999999", "not a number"},
      {"[::1", "unclosed"},
      {"[]:5000", "IPv6"},
      {"[fe80::1%eth0]:5000", "IPv6"},
      {"[2001:db8:3:4::192.0.2.33]:5000", "IPv6"},
      {"[::1]5000", "not a port"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.in);
    auto host = CanonicalRegistryHost(r.in);
    REQUIRE_FALSE(host.ok());
    CHECK(host.status().code() == StatusCode::kInvalidArgument);
    CHECK_MESSAGE(host.status().message().find(r.reason) != std::string::npos, host.status().message());
  }
}

// What the container runtime pulls from: distribution's splitDockerDomain.
// The reference must name the same host, or provgate verifies one artifact
// while the runtime pulls another.
TEST_CASE("the host is decided as the runtime decides it, then spelt canonically") {
  struct Row {
    const char* in;
    const char* registry;
    const char* repository;
  };
  Row rows[] = {
      // distribution/reference normalize_test.go TestNormalizedSplitHostname
      {"test.com/foo", "test.com", "foo"},
      {"test_com/foo", "docker.io", "test_com/foo"},
      {"docker/migrator", "docker.io", "docker/migrator"},
      {"test.com:8080/foo", "test.com:8080", "foo"},
      {"test-com:8080/foo", "test-com:8080", "foo"},
      {"foo", "docker.io", "library/foo"},
      {"xn--n3h.com/foo", "xn--n3h.com", "foo"},
      {"xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"},
      {"docker.io/foo", "docker.io", "library/foo"},
      {"docker.io/library/foo", "docker.io", "library/foo"},
      {"docker.io/library/foo/bar", "docker.io", "library/foo/bar"},
      // TestParseRepositoryInfo: an upper-case first component is a domain
      {"Foo/bar", "foo:443", "bar"},
      {"FOO/bar", "foo:443", "bar"},
      {"index.docker.io/fooo/bar", "docker.io", "fooo/bar"},
      {"127.0.0.1:8000/private/moonbase", "127.0.0.1:8000", "private/moonbase"},
      {"example.com:8000/privatebasee", "example.com:8000", "privatebasee"},
      // TestValidateReferenceName (valid)
      {"192.168.0.1:8/debian", "192.168.0.1:8", "debian"},
      {"[fc00::1]:5000/docker", "[fc00::1]:5000", "docker"},
      {"[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000", "library/debian"},
      {"192.168.0.1", "docker.io", "library/192.168.0.1"},
      // The fail-open of issue 9: hosts only by case or port stay hosts.
      {"ACME/model:v1", "acme:443", "model"},
      {"registry:443/models/m:v1", "registry:443", "models/m"},
      {"registry:0443/models/m:v1", "registry:443", "models/m"},
      {"acme/model:v1", "docker.io", "acme/model"},
      {"registry-1.docker.io/acme/model:v1", "docker.io", "acme/model"},
      {"Registry.Example.COM:0443/acme/model:v1", "registry.example.com", "acme/model"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.in);
    auto ref = ParseReference(r.in);
    REQUIRE_MESSAGE(ref.ok(), ref.status().ToString());
    CHECK(ref->registry == r.registry);
    CHECK(ref->repository == r.repository);
    // The canonical string re-parses as the same reference: never as
    // another host ("acme:443/model" is not Docker Hub's acme/model).
    auto again = ParseReference(ref->String());
    REQUIRE_MESSAGE(again.ok(), again.status().ToString());
    CHECK(*again == *ref);
  }
}

TEST_CASE("distribution's invalid names are refused") {
  // distribution/reference normalize_test.go TestValidateReferenceName (invalid)
  const char* rows[] = {
      "https://github.com/docker/docker",
      "docker/Docker",
      "-docker",
      "-docker/docker",
      "-docker.io/docker/docker",
      "docker///docker",
      "docker.io/docker/Docker",
      "docker.io/docker///docker",
      "[fc00::1]",
      "fc00::1:5000/debian",
      "[fe80::1%eth0]:5000/debian",
      "[2001:db8:3:4::192.0.2.33]:5000/debian",
      "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
      // TestValidateRemoteName (invalid)
      "docker-/docker",
      "____/____",
      "_docker/_docker",
      "dock..er/docker",
      "dock_.er/docker",
      "dock-.er/docker",
      "docker/",
  };
  for (const char* in : rows) {
    CAPTURE(in);
    auto ref = ParseReference(in);
    CHECK_FALSE(ref.ok());
  }
}
