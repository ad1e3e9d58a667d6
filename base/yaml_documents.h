// Every document of a YAML text, loaded with bounds that yaml-cpp 0.7 does
// not keep by itself. Pure, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace provgate {

struct YamlLoadError {
  YAML::Mark mark;  // may be YAML::Mark::null_mark()
  std::string message;
};

// Every document of `text` in order, empty ones included (null nodes).
// Returns nullopt and fills `error` on text that is not UTF-8 or holds a
// character YAML does not allow (a control character other than tab, LF,
// CR and NEL; DEL; U+FFFE, U+FFFF), a string that is not UTF-8 (yaml-cpp
// 0.7 decodes the escapes \N and \_ to single bytes), a YAML syntax
// error, nesting too deep for the parser, more than `max_documents`
// documents (empty ones count: each costs a node), more than `max_nodes`
// nodes in all documents together ("too many nodes: more than N in one
// file", at the first node over), or a document that reads no input ("YAML
// syntax error: unexpected ','" for a lone ','), on which yaml-cpp 0.7's
// LoadAll never returns (jbeder/yaml-cpp#1040). Ends on any input, in
// memory proportional to `max_nodes`: the documents are first walked one at
// a time with a YAML::Parser and an event handler that builds nothing, then
// built by LoadAll only when each of them read input, they are at most
// `max_documents` and their nodes at most `max_nodes` (yaml-cpp spends about
// 450 bytes on a node). An alias counts as one node here; what aliases
// expand to is bounded by the code that reads the nodes.
std::optional<std::vector<YAML::Node>> LoadYamlDocuments(std::string_view text, size_t max_documents,
                                                         size_t max_nodes, YamlLoadError* error);

}  // namespace provgate
