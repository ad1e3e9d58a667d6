#include "webhook/read_manifests.h"

#include <yaml-cpp/yaml.h>

#include "policy/yaml_reader.h"

namespace provgate {
namespace {

Status Append(Json doc, const std::string& where, std::vector<Json>* out) {
  if (doc.is_null()) return Status::Ok();
  if (!doc.is_object()) return InvalidArgument(where + ": document is not an object");
  if (doc.value("kind", "") == "List" && doc.contains("items") && doc["items"].is_array()) {
    for (auto& item : doc["items"]) RETURN_IF_ERROR(Append(std::move(item), where, out));
    return Status::Ok();
  }
  if (out->size() >= kMaxManifestObjects) return InvalidArgument(where + ": more than 10000 objects");
  out->push_back(std::move(doc));
  return Status::Ok();
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
    if (auto doc = ParseJson(text, file_name, 128); doc.ok()) {
      RETURN_IF_ERROR(Append(std::move(*doc), file_name, &out));
      return out;
    }
  }
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(file_name + ":" + std::to_string(e.mark.line + 1) + ":" +
                           std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  for (const auto& node : docs) {
    if (!node || node.IsNull()) continue;
    YamlErrors errors(file_name, 1000000);
    auto doc = YamlToJson(YamlValue{node, "", node.Mark()}, errors, 128);
    if (!doc || errors.count() > 0) {
      std::string msg;
      for (const auto& l : errors.lines()) msg += (msg.empty() ? "" : "\n") + l;
      return InvalidArgument(msg.empty() ? file_name + ": cannot read document" : msg);
    }
    std::string where = file_name + ":" + std::to_string(node.Mark().line + 1);
    RETURN_IF_ERROR(Append(std::move(*doc), where, &out));
  }
  return out;
}

}  // namespace provgate
