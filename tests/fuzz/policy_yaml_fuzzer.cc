// ParsePolicyDocuments over arbitrary YAML, with key and trusted-root files
// served from the test fixtures. Invariants (policy/policy_loader.h,
// policy/policy.h): every error line is "file:line:column: what" (or the
// trailing "... and N more errors"), so no policy text can forge a line;
// accepted policies have unique non-empty names, known authorities in their
// rules and a deterministic PolicySet hash; with no verified facts at all a
// policy passes only when it asks for no signature, attestation or model
// signature.
#include <set>
#include <string>

#include "policy/condition.h"
#include "policy/policy_loader.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/fuzz/fuzz_target.h"
#include "verifier/reference.h"

using namespace provgate;
using provgate::fuzz::FuzzCheck;

namespace {

constexpr char kFile[] = "/fuzz/policies/p.yaml";

StatusOr<std::string> ReadFixture(const std::string& path) {
  auto ends_with = [&](std::string_view s) {
    return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
  };
  static const std::string key = provgate::fuzz::ReadSourceFile("tests/testdata/keys/ec-p256.pub");
  static const std::string second = provgate::fuzz::ReadSourceFile("tests/testdata/policies/keys/ec-p256-second.pub");
  static const std::string rsa = provgate::fuzz::ReadSourceFile("tests/testdata/keys/rsa-2048.pub");
  static const std::string root = provgate::fuzz::ReadSourceFile("tests/testdata/policies/roots/trusted_root.json");
  if (ends_with("second.pub")) return second;
  if (ends_with("rsa.pub")) return rsa;
  if (ends_with(".pub")) return key;
  if (ends_with(".json")) return root;
  return InvalidArgument("No such file or directory");
}

void CheckErrorLines(const std::string& message) {
  const std::string prefix = std::string(kFile) + ":";
  size_t start = 0;
  size_t lines = 0;
  while (start <= message.size()) {
    size_t nl = message.find('\n', start);
    std::string_view line(message.data() + start, (nl == std::string::npos ? message.size() : nl) - start);
    ++lines;
    bool more = line.rfind("... and ", 0) == 0 && nl == std::string::npos;
    FuzzCheck(line.rfind(prefix, 0) == 0 || more, "an error line does not start with the file: " + std::string(line));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  FuzzCheck(lines <= kMaxErrorsReported + 1, "more error lines than reported errors");
}

}  // namespace

PROVGATE_FUZZ_TARGET(policy_yaml) {
  auto policies = ParsePolicyDocuments(input, kFile, ReadFixture);
  if (!policies.ok()) {
    FuzzCheck(policies.status().code() == StatusCode::kInvalidArgument, "unexpected status " + policies.status().ToString());
    CheckErrorLines(policies.status().message());
    return;
  }
  std::set<std::string> names;
  for (const Policy& p : *policies) {
    FuzzCheck(!p.name.empty() && names.insert(p.name).second, "an empty or repeated policy name: " + p.name);
    FuzzCheck(p.match != nullptr, "a policy without match");
    FuzzCheck(p.signatures_require >= 0, "a negative signature threshold");
    std::set<std::string> authorities;
    for (const Authority& a : p.authorities) {
      FuzzCheck(a.key.has_value() != a.keyless.has_value(), "an authority that is not exactly one kind");
      authorities.insert(a.name);
    }
    for (const AttestationRule& r : p.attestations) {
      FuzzCheck(!r.predicate_types.empty() && r.predicate_types.size() <= kMaxPredicateTypesPerRule,
                "an attestation rule without predicateType, or with too many");
      std::set<std::string> types(r.predicate_types.begin(), r.predicate_types.end());
      FuzzCheck(types.size() == r.predicate_types.size() && !types.count(""),
                "an attestation rule with an empty or repeated predicateType");
      for (const auto& a : r.authorities) FuzzCheck(authorities.count(a) > 0, "an attestation rule names an unknown authority");
    }
    if (p.model_signing) {
      for (const auto& a : p.model_signing->authorities) FuzzCheck(authorities.count(a) > 0, "modelSigning names an unknown authority");
    }
    for (const char* text : {"registry.example.com/models/m:1", "docker.io/library/busybox:latest", "127.0.0.1:5000/m:v"}) {
      auto ref = ParseReference(text);
      for (Source s : {Source::kContainer, Source::kImageVolume, Source::kStorageUri}) {
        (void)p.Matches(*ref, "serving-a", s);
      }
    }
    VerifiedArtifact nothing;
    nothing.reference = *ParseReference("registry.example.com/models/m@sha256:" + std::string(64, 'a'));
    nothing.digest = nothing.reference.digest;
    PolicyResult r = EvaluatePolicy(p, nothing);
    if (r.passed) {
      FuzzCheck(p.signatures_require == 0 && p.attestations.empty() && !p.model_signing,
                "a policy that asks for signed facts passes without any");
    } else {
      FuzzCheck(!r.reasons.empty(), "a failed policy without a reason");
    }
    if (p.metadata) (void)p.metadata->Describe();
  }
  PolicySet set(*policies);
  auto again = ParsePolicyDocuments(input, kFile, ReadFixture);
  FuzzCheck(again.ok(), "a policy text parses once and fails the second time");
  FuzzCheck(PolicySet(std::move(*again)).hash() == set.hash(), "the policy-set hash is not deterministic");
}
