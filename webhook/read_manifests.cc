#include "webhook/read_manifests.h"

#include <yaml-cpp/yaml.h>

#include <optional>

#include "base/encoding.h"

#include "policy/yaml_reader.h"

namespace provgate {
namespace {

// kubectl reads YAML with go-yaml v2, which applies merge keys (`<<: *base`,
// a plain or !!merge-tagged "<<" key) in document order, a merged value
// overriding a key written before it; yaml-cpp reads "<<" as an ordinary
// key. Rather than emulate go-yaml's order-dependent rules, merges are
// refused: a container whose image comes from a merge would otherwise have
// no image here and one in the cluster. Returns the first merge key's mark.
// Called on documents YamlToJson read within its node budget, so bounded.
std::optional<YAML::Mark> FindMergeKey(const YAML::Node& n, int depth) {
  if (depth <= 0) return std::nullopt;
  if (n.IsSequence()) {
    for (const auto& item : n) {
      if (auto m = FindMergeKey(item, depth - 1)) return m;
    }
  } else if (n.IsMap()) {
    for (const auto& kv : n) {
      const YAML::Node& k = kv.first;
      if (k.IsScalar() && k.Scalar() == "<<" && (k.Tag() == "?" || k.Tag() == "tag:yaml.org,2002:merge")) {
        return k.Mark();
      }
      if (auto m = FindMergeKey(kv.second, depth - 1)) return m;
    }
  }
  return std::nullopt;
}

std::string StringMember(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

Status Append(Json doc, const std::string& where, std::vector<Json>* out) {
  if (doc.is_null()) return Status::Ok();
  if (!doc.is_object()) return InvalidArgument(where + ": document is not an object");
  // kubectl decodes manifests with apimachinery's unstructured decoder, which
  // reads every object with an `items` field as a list, whatever its kind
  // (List, PodList, ...), and applies the items; an item with neither kind
  // nor apiVersion takes the list's apiVersion and its kind without "List".
  if (auto items = doc.find("items"); items != doc.end()) {
    if (items->is_null()) return Status::Ok();
    if (!items->is_array()) return InvalidArgument(where + ": items is not a list");
    std::string kind = StringMember(doc, "kind"), api_version = StringMember(doc, "apiVersion");
    std::string item_kind = kind.size() > 4 && kind.ends_with("List") ? kind.substr(0, kind.size() - 4) : "";
    for (auto& item : *items) {
      if (item.is_object() && StringMember(item, "kind").empty() && StringMember(item, "apiVersion").empty() &&
          !item_kind.empty()) {
        item["kind"] = item_kind;
        item["apiVersion"] = api_version;
      }
      RETURN_IF_ERROR(Append(std::move(item), where, out));
    }
    return Status::Ok();
  }
  if (out->size() >= kMaxManifestObjects) return InvalidArgument(where + ": more than 10000 objects");
  out->push_back(std::move(doc));
  return Status::Ok();
}

// The errors, one per line, as InvalidArgument.
Status ErrorsToStatus(const YamlErrors& errors) {
  std::string msg;
  for (const auto& l : errors.lines()) msg += (msg.empty() ? "" : "\n") + l;
  return InvalidArgument(msg.empty() ? errors.file() + ": cannot read document" : msg);
}

}  // namespace

StatusOr<std::vector<Json>> ReadManifestObjects(std::string_view text, const std::string& file_name) {
  std::vector<Json> out;
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && (text[first] == '{' || text[first] == '[')) {
    // JSON (kubectl -o json); one document. Text that is not one JSON
    // document may still be YAML (flow style `{kind: Pod}`, or JSON
    // documents separated by `---`): the YAML reader below decides, and its
    // errors carry file:line:column.
    if (ParseJson(text, file_name, 128).ok()) {
      // Duplicate keys are refused as in YAML (YamlToJson) and in signed
      // documents: nlohmann keeps the last of duplicates, as Go's decoder
      // does, simdjson (the server's parser) the first.
      ASSIGN_OR_RETURN(Json doc, ParseJsonUniqueKeys(text, file_name, {.max_depth = 128}));
      RETURN_IF_ERROR(Append(std::move(doc), file_name, &out));
      return out;
    }
  }
  // One budget for all documents: a budget per document let a 5.4 KB file
  // of aliases in many documents expand to 1.86 GB.
  YamlErrors errors(file_name, kMaxManifestNodes);
  auto docs = LoadYamlDocuments(text, kMaxManifestObjects, errors);
  if (!docs) return ErrorsToStatus(errors);
  for (const auto& node : *docs) {
    if (!node || node.IsNull()) continue;
    auto doc = YamlToJson(YamlValue{node, "", node.Mark()}, errors, 128);
    if (!doc || errors.count() > 0) return ErrorsToStatus(errors);
    if (auto merge = FindMergeKey(node, 130)) {
      return InvalidArgument(file_name + ":" + std::to_string(merge->line + 1) + ":" + std::to_string(merge->column + 1) +
                             ": YAML merge key \"<<\" is not supported (kubectl would merge it); write the keys out");
    }
    std::string where = file_name + ":" + std::to_string(node.Mark().line + 1);
    RETURN_IF_ERROR(Append(std::move(*doc), where, &out));
  }
  return out;
}

}  // namespace provgate
