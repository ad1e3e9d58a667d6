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

// Work and memory bound per file: YAML nodes the text may build (yaml-cpp
// spends about 450 bytes on each, so ~45 MB at most while a file is read),
// and nodes visited while compiling conditions and converting operands
// (aliases can make a small file describe a huge tree). A thousand
// policies of a hundred nodes each fit.
inline constexpr size_t kNodeBudgetPerFile = 100'000;

struct ParsedPolicy {
  Policy policy;
  std::string name_location;  // "file:line:column" of metadata.name
};

// Parses every document of `yaml` (errors.file() names it). Returns the
// policies that parsed without error; errors are recorded in `errors`,
// including duplicate names within the text. Never throws.
std::vector<ParsedPolicy> ParsePolicyText(std::string_view yaml, const FileReader& read_file, YamlErrors& errors);

}  // namespace provgate
