// ParseReference and CanonicalRegistryHost over arbitrary text. Invariants
// (verifier/reference.h, verifier/registry_host.h): a reference that parses
// re-parses from String() to the same Reference; its parts are well formed;
// the canonical spelling of a host is a fixed point.
#include <string>

#include "tests/fuzz/fuzz_target.h"
#include "verifier/reference.h"
#include "verifier/registry_host.h"

using provgate::fuzz::FuzzCheck;

PROVGATE_FUZZ_TARGET(reference) {
  if (input.size() > 4096) return;
  auto ref = provgate::ParseReference(input);
  if (ref.ok()) {
    const std::string text = ref->String();
    std::string appended = "x";
    ref->AppendTo(&appended);
    FuzzCheck(appended == "x" + text, "AppendTo differs from String()");
    auto again = provgate::ParseReference(text);
    FuzzCheck(again.ok(), "String() of a parsed reference does not parse: " + text);
    FuzzCheck(*again == *ref, "String() re-parses to another reference: " + text + " -> " + again->String());
    FuzzCheck(again->String() == text, "String() is not stable: " + text);
    FuzzCheck(!ref->registry.empty() && !ref->repository.empty(), "empty registry or repository: " + text);
    FuzzCheck(!ref->tag.empty() || !ref->digest.empty(), "neither tag nor digest: " + text);
    FuzzCheck(ref->digest.empty() || provgate::ValidateDigest(ref->digest).ok(), "invalid digest kept: " + text);
    auto host = provgate::CanonicalRegistryHost(ref->registry);
    FuzzCheck(host.ok() && *host == ref->registry, "registry is not canonical: " + ref->registry);
    FuzzCheck(ref->Name() == ref->registry + "/" + ref->repository, "Name() is not registry/repository");
    auto pinned = provgate::ParseReference(ref->WithDigest("sha256:" + std::string(64, 'a')).String());
    FuzzCheck(pinned.ok() && pinned->tag == ref->tag, "a tag does not survive pinning: " + text);
  }
  auto host = provgate::CanonicalRegistryHost(input);
  if (host.ok()) {
    auto twice = provgate::CanonicalRegistryHost(*host);
    FuzzCheck(twice.ok() && *twice == *host, "CanonicalRegistryHost is not idempotent: " + *host);
    FuzzCheck(provgate::IsRegistryHostComponent(*host), "a canonical host does not read as a host: " + *host);
    // A name (host/repository) is at most 255 characters (distribution's
    // NameTotalLengthMax); CanonicalRegistryHost itself bounds no length.
    if (host->size() + 2 <= 255) {
      auto m = provgate::ParseReference(*host + "/m");
      FuzzCheck(m.ok() && m->registry == *host, "host/m does not parse to that host: " + *host);
    }
  }
  (void)provgate::ValidateDigest(input);
}
