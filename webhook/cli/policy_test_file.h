// The `provgate-test.yaml` format of `provgate test` (docs/cli.md#provgate-test):
// which policies and manifests to decide, against which registry source, and
// the decisions expected. Read strictly, like policy files: unknown fields,
// wrong types and missing fields are errors at file:line:column. Pure (no
// file access); thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace provgate {

inline constexpr char kPolicyTestFileName[] = "provgate-test.yaml";
inline constexpr size_t kMaxPolicyTestFileBytes = 1 << 20;
inline constexpr size_t kMaxExpectations = 10000;

// Which object an expectation is about: "Kind ns/name", "Kind name" or
// "name" (kind and namespace empty = any).
struct ObjectSelector {
  std::string kind, namespace_name, name;
  std::string text;  // as written
};

struct Expectation {
  ObjectSelector object;
  std::string field;     // a reference's field path; empty = the object as a whole
  std::string decision;  // allow | deny | warn | audit | unmatched
  std::string reason_contains;      // empty = not checked
  std::optional<std::string> pin;   // the pinned value /mutate would write; "" = not pinned
  std::string location;             // "file:line:column" of the list item
};

struct PolicyTestFile {
  std::string path;
  // Paths as resolved against the file's directory (absolute ones kept).
  std::vector<std::string> policies;
  std::vector<std::string> manifests;
  std::string oci_layout;       // empty = the registries themselves
  std::string registry_config;  // empty = none
  std::string namespace_name = "default";
  bool unmatched_deny = false;
  std::vector<Expectation> expect;
};

// Parses one provgate-test.yaml (one YAML document) read from `path`.
// Fails with InvalidArgument holding every error, one per line, each
// "path:line:column: what is wrong".
StatusOr<PolicyTestFile> ParsePolicyTestFile(std::string_view text, const std::string& path);

}  // namespace provgate
