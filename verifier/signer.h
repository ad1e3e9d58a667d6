// Who vouches for an artifact: an authority of a policy. Authority names are
// local to their policy, so the pair is the identity, compared as a pair and
// never printed and parsed back. Value type.
#pragma once

#include <compare>
#include <string>

namespace provgate {

struct Signer {
  std::string policy;     // empty for keys given on the command line (`verify --key`)
  std::string authority;  // the authority's name within its policy (or the key file's name)

  Signer() = default;
  // An authority outside any policy: `verify --key release.pub` is "release.pub".
  Signer(std::string authority_name) : authority(std::move(authority_name)) {}  // NOLINT: implicit by design
  Signer(const char* authority_name) : authority(authority_name) {}             // NOLINT: implicit by design
  Signer(std::string policy_name, std::string authority_name)
      : policy(std::move(policy_name)), authority(std::move(authority_name)) {}

  bool operator==(const Signer&) const = default;
  auto operator<=>(const Signer&) const = default;
  // "policy/authority", or the authority alone: for output only.
  std::string String() const { return policy.empty() ? authority : policy + "/" + authority; }
};

}  // namespace provgate
