// Policy files (docs/policy-language.md) -> validated, compiled PolicySet. ParsePolicyDocuments
// is pure (files only through the injected reader); LoadPolicies is the
// file-system shell. Both are thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/file.h"  // ReadFileBounded, for policy and key files
#include "base/status.h"
#include "policy/policy.h"

namespace provgate {

inline constexpr char kPolicyApiVersion[] = "provgate.dev/v1alpha1";
inline constexpr char kPolicyKind[] = "ModelPolicy";

inline constexpr size_t kMaxPolicyFileBytes = 1 << 20;  // one policy file
inline constexpr size_t kMaxKeyFileBytes = 64 << 10;    // one key.file
inline constexpr size_t kMaxDocumentsPerFile = 1000;  // empty ones included
inline constexpr size_t kMaxPolicies = 1000;  // across all files
inline constexpr size_t kMaxErrorsReported = 200;
// Entries of one policy (aliases can repeat an item at the cost of 4 bytes).
inline constexpr size_t kMaxAuthoritiesPerPolicy = 64;
inline constexpr size_t kMaxAttestationsPerPolicy = 64;
inline constexpr size_t kMaxListItems = 1000;  // any other list: references, namespaces, all/any

// Reads a file named in a policy (key.file). Returns its bytes or a Status
// whose message says why it could not be read.
using FileReader = std::function<StatusOr<std::string>(const std::string& path)>;

// Parses one YAML text holding one or more ModelPolicy documents (JSON is
// YAML, so JSON documents parse too). `file_name` is used in messages and
// in Policy::file; a relative key.file is resolved against the directory of
// `file_name` and read through `read_file`. Empty documents are skipped.
//
// Returns the policies in document order. Fails with InvalidArgument whose
// message holds every error found, one per line, each
// "file:line:column: what is wrong" (1-based): YAML syntax, unknown fields,
// wrong types, missing fields, bad apiVersion/kind/mode, bad globs, unknown
// sources, regexes RE2 rejects, unusable keys, duplicate names within the
// text, unsound signature/attestation rules, malformed conditions, and the
// size bounds above.
StatusOr<std::vector<Policy>> ParsePolicyDocuments(std::string_view yaml, const std::string& file_name,
                                                   const FileReader& read_file);

// Loads `paths`: each a file (read whatever its name) or a directory, whose
// entries are read when their name ends in .yaml, .yml or .json and does not
// start with '.' (Kubernetes ConfigMap mounts hold "..data" links);
// directories are not descended into; entries are read in name order, and a
// file reached twice is read once. Policy names must be unique across all
// files. Returns the compiled set (possibly empty when the directories hold
// no policy files). Fails with InvalidArgument listing every error found,
// one per line ("file:line:column: what" for content, "path: what" for
// files that cannot be read).
StatusOr<std::shared_ptr<const PolicySet>> LoadPolicies(const std::vector<std::string>& paths);

// LoadPolicies, refusing paths that hold no policy at all ("no policies
// found in ..."): a mistyped or empty directory would otherwise leave every
// reference unmatched. What `serve`, `check`, `verify --policies` and
// `policy lint` load.
StatusOr<std::shared_ptr<const PolicySet>> LoadPolicySet(const std::vector<std::string>& paths);

}  // namespace provgate
