// Reads Kubernetes manifests for `provgate check`: YAML or JSON, one or more
// documents, lists (any object with `items`, as kubectl reads them) expanded
// into their items. Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/json_util.h"
#include "base/status.h"

namespace provgate {

inline constexpr size_t kMaxManifestObjects = 10000;
// YAML nodes one file may expand to, all its documents together (aliases can
// make a small file describe a huge tree).
inline constexpr size_t kMaxManifestNodes = 1'000'000;

// Returns the objects in `text`; `file_name` names it in errors, which carry
// file:line:column for YAML. Empty documents are skipped. Fails with
// InvalidArgument on malformed YAML/JSON, a document that is not a mapping,
// duplicate keys, YAML merge keys (<<), `items` that is not a list, more
// than kMaxManifestObjects objects, or documents (empty ones included), or
// YAML that expands to more than kMaxManifestNodes nodes.
StatusOr<std::vector<Json>> ReadManifestObjects(std::string_view text, const std::string& file_name);

}  // namespace provgate
