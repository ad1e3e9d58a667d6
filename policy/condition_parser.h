// YAML -> compiled Condition (the condition syntax of docs/policy-language.md), with every error
// located. Internal to policy/. Not thread-safe (uses one YamlErrors).
#pragma once

#include <memory>

#include "policy/condition.h"
#include "policy/yaml_reader.h"

namespace provgate {

// Parses a condition node:
//   {all: [c, ...]} | {any: [c, ...]} | {not: c} | {path: P, <operator>: V}
// Records an error (and returns null) for: a non-mapping, unknown keys,
// mixing all/any/not with each other or with a leaf, a leaf with zero or
// two or more operators, an unparsable path, an operand the operator
// rejects (including regexes RE2 rejects), empty lists, and nesting deeper
// than kMaxConditionDepth.
std::shared_ptr<const Condition> ParseCondition(const YamlValue& v, YamlErrors& errors);

}  // namespace provgate
