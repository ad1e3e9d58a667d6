// One policy file's YAML text -> Policy values, recording every error with
// its position. Internal to policy/ (the public entry points are in
// policy_loader.h). Not thread-safe (uses one YamlErrors).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "policy/policy.h"
#include "policy/policy_loader.h"
#include "policy/yaml_reader.h"

namespace provgate {

// Work bound per file: YAML nodes visited while compiling conditions and
// converting operands (aliases can make a small file describe a huge tree).
inline constexpr size_t kNodeBudgetPerFile = 200'000;

struct ParsedPolicy {
  Policy policy;
  std::string name_location;  // "file:line:column" of metadata.name
};

// Parses every document of `yaml` (errors.file() names it). Returns the
// policies that parsed without error; errors are recorded in `errors`,
// including duplicate names within the text. Never throws.
std::vector<ParsedPolicy> ParsePolicyText(std::string_view yaml, const FileReader& read_file, YamlErrors& errors);

}  // namespace provgate
