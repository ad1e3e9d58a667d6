// Registry hosts: which first component of a reference is a host, and the
// one canonical spelling of a host. Every place that compares, looks up or
// matches a registry host (reference parsing, policy globs, the registry
// config, docker config `auths` keys) goes through these two functions.
// Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace provgate {

// Docker Hub's canonical name, and the host its API is served from.
inline constexpr std::string_view kDockerHubHost = "docker.io";
inline constexpr std::string_view kDockerHubApiHost = "registry-1.docker.io";

// True when `component`, the text before the first '/' of a reference,
// names a registry host rather than the first path segment of a Docker Hub
// repository. This is distribution's splitDockerDomain, which containerd
// and CRI-O use to decide where to pull from: the component holds a '.' or
// a ':', is "localhost", or has an upper-case letter ("ACME/model" is pulled
// from host ACME; "acme/model" from Docker Hub).
bool IsRegistryHostComponent(std::string_view component);

// The canonical spelling of the registry host[:port] `host`, the one form
// under which references are compared, matched by policies and looked up in
// the registry config:
//  - lower case (DNS names and TLS name checks are case-insensitive);
//  - the port without leading zeros, and the HTTPS default port 443 dropped
//    ("Registry.Example.COM:0443" -> "registry.example.com") -- except for a
//    host that reads as a host only because of its port or its case (no
//    '.', not "localhost", not an IPv6 literal): it keeps an explicit port,
//    443 included ("registry:443" and "ACME" -> "registry:443", "acme:443"),
//    because "registry/m" and "acme/m" are Docker Hub repositories. The
//    canonical spelling of a host therefore always re-parses as that host;
//  - Docker Hub's aliases index.docker.io and registry-1.docker.io are
//    docker.io.
// Fails with InvalidArgument when `host` is not DNS labels or a bracketed
// IPv6 address with an optional port of 1 to 65535.
StatusOr<std::string> CanonicalRegistryHost(std::string_view host);

}  // namespace provgate
