// Strict, position-aware reading of yaml-cpp nodes for the project's YAML
// files (policies, `provgate test` files): every error is recorded as
// "file:line:column: what is wrong" and reading goes on, so one pass
// reports all errors. Not thread-safe (a reader belongs to one parse).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json_util.h"
#include "base/yaml_documents.h"

namespace provgate {

// Collects errors for one file and bounds the work one file may cause
// (YAML aliases can make a small file describe a huge tree): `node_budget`
// is for all documents of the file together, so one reader belongs to one
// file, not to one document.
class YamlErrors {
 public:
  YamlErrors(std::string file, size_t node_budget)
      : file_(std::move(file)), budget_(node_budget), limit_(node_budget) {}

  // Records "file:line:column: what" (1-based; a mark without a position
  // is recorded as "file: what"), control bytes and bytes that are not
  // UTF-8 written as \xNN, so every error is one line.
  void Add(const YAML::Mark& mark, const std::string& what);
  // "file:line:column" of `mark`.
  std::string Location(const YAML::Mark& mark) const;
  // Consumes one unit of the node budget; false (with "too many nodes: more
  // than <node_budget> in one file" recorded once) when it is exhausted.
  bool Spend(const YAML::Mark& mark);

  const std::string& file() const { return file_; }
  // The node budget as constructed: also the most nodes the file's text may
  // build (LoadYamlDocuments below).
  size_t node_limit() const { return limit_; }
  size_t count() const { return entries_.size(); }
  // The errors in file order (by line, then column; errors without a
  // position first), each "file:line:column: what".
  std::vector<std::string> lines() const;

 private:
  struct Entry {
    int line, column;
    std::string text;
  };
  std::string file_;
  size_t budget_;
  size_t limit_;
  bool exhausted_ = false;
  std::vector<Entry> entries_;
};

// base/yaml_documents.h's LoadYamlDocuments with `errors`' node budget as
// its node bound, recording its error in `errors`.
std::optional<std::vector<YAML::Node>> LoadYamlDocuments(std::string_view text, size_t max_documents,
                                                         YamlErrors& errors);

// A node with the dotted location it was found at ("spec.authorities[0].key")
// and the mark errors about it are reported at (the node's own, or its
// key's when the node has no position, e.g. an empty value).
struct YamlValue {
  YAML::Node node;
  std::string where;
  YAML::Mark mark;

  // The child location "where.key" / "where[i]".
  std::string Child(std::string_view key) const;
  std::string Item(size_t i) const;
};

// What a plain or quoted scalar means (YAML 1.2 core schema, as JSON).
// Quoted and block scalars are strings; plain scalars resolve to null
// (~, null, empty), booleans (true/false, any case style the schema lists),
// integers ([-+]?[0-9]+), floats ([-+]?(.N|N(.N?)?)([eE][-+]?N)?) or else
// strings. "yes"/"no"/"on"/"off" are strings (YAML 1.2, not 1.1).
// Fails (nullopt, error recorded) on explicit tags other than !!str.
std::optional<Json> ScalarToJson(const YamlValue& v, YamlErrors& errors);

// Converts any node to JSON (mappings need scalar keys), bounded by
// `max_depth` and the error budget.
std::optional<Json> YamlToJson(const YamlValue& v, YamlErrors& errors, int max_depth = 32);

// A type name for messages: "mapping", "list", "string", "number", ...
std::string YamlTypeName(const YamlValue& v);

// The fields of one mapping, read strictly: duplicate keys and keys not in
// `allowed` are errors.
class YamlMapping {
 public:
  // Fails (nullopt, error recorded) when `v` is not a mapping. Unknown and
  // duplicate keys are recorded but the mapping is still returned.
  static std::optional<YamlMapping> Open(const YamlValue& v, std::initializer_list<std::string_view> allowed,
                                         YamlErrors& errors);

  bool Has(std::string_view key) const { return Find(key) != nullptr; }
  // The field, or nullopt when absent.
  std::optional<YamlValue> Get(std::string_view key) const;
  // The field; records "missing required field" when absent.
  std::optional<YamlValue> Require(std::string_view key, YamlErrors& errors) const;
  // The key node's mark, for errors about a field's presence.
  YAML::Mark KeyMark(std::string_view key) const;
  // Keys in document order.
  std::vector<std::string> Keys() const;

  const YamlValue& value() const { return self_; }
  // True when Open recorded an unknown or duplicate field: callers skip
  // follow-on errors ("no operator") that the misspelt field explains.
  bool had_bad_fields() const { return had_bad_fields_; }

 private:
  struct Field {
    std::string key;
    YAML::Mark key_mark;
    YAML::Node value;
  };
  const Field* Find(std::string_view key) const;
  YamlValue self_;
  std::vector<Field> fields_;
  bool had_bad_fields_ = false;
};

// Typed readers; each records "where: expected a <type>, got a <type>"
// on a type mismatch and returns nullopt.
std::optional<std::string> ReadString(const YamlValue& v, YamlErrors& errors);
std::optional<int64_t> ReadInteger(const YamlValue& v, YamlErrors& errors);
// A plain true or false (YAML 1.2: "yes", "on" and quoted "true" are strings).
std::optional<bool> ReadBool(const YamlValue& v, YamlErrors& errors);
// The items of a list. `allow_empty` false records "must not be empty"; a
// list of more than `max_items` records "more than N entries" (checked
// before any item is read).
std::optional<std::vector<YamlValue>> ReadList(const YamlValue& v, YamlErrors& errors, bool allow_empty,
                                               size_t max_items);

}  // namespace provgate
