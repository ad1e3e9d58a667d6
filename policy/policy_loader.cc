#include "policy/policy_loader.h"

#include "base/file.h"


#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "base/encoding.h"
#include "policy/policy_parser.h"

namespace provgate {
namespace {

namespace fs = std::filesystem;

Status ErrorsToStatus(const std::vector<std::string>& lines) {
  std::string msg;
  size_t shown = std::min(lines.size(), kMaxErrorsReported);
  for (size_t i = 0; i < shown; ++i) msg += (i ? "\n" : "") + lines[i];
  if (lines.size() > shown) msg += "\n... and " + std::to_string(lines.size() - shown) + " more errors";
  return InvalidArgument(msg);
}

bool IsPolicyFileName(const std::string& name) {
  if (name.empty() || name[0] == '.') return false;  // hidden, and ConfigMap's ..data / ..2024_... entries
  for (std::string_view ext : {".yaml", ".yml", ".json"}) {
    if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0) return true;
  }
  return false;
}

// The files `path` stands for, or an error line.
void ExpandPath(const std::string& path, std::vector<std::string>* files, std::vector<std::string>* errors) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec) {
    errors->push_back(path + ": cannot read: " + ec.message());
    return;
  }
  if (!fs::is_directory(st)) {
    files->push_back(path);
    return;
  }
  std::vector<std::string> entries;
  fs::directory_iterator it(path, ec), end;
  if (ec) {
    errors->push_back(path + ": cannot list directory: " + ec.message());
    return;
  }
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    std::string name = it->path().filename().string();
    if (!IsPolicyFileName(name)) continue;
    std::error_code file_ec;
    if (!fs::is_regular_file(it->path(), file_ec)) continue;  // follows symlinks, as ConfigMaps need
    entries.push_back(it->path().string());
  }
  if (ec) {
    errors->push_back(path + ": cannot list directory: " + ec.message());
    return;
  }
  std::sort(entries.begin(), entries.end());
  files->insert(files->end(), entries.begin(), entries.end());
}

}  // namespace

StatusOr<std::vector<Policy>> ParsePolicyDocuments(std::string_view yaml, const std::string& file_name,
                                                   const FileReader& read_file) {
  YamlErrors errors(file_name, kNodeBudgetPerFile);
  std::vector<ParsedPolicy> parsed = ParsePolicyText(yaml, read_file, errors);
  if (errors.count() > 0) return ErrorsToStatus(errors.lines());
  std::vector<Policy> out;
  out.reserve(parsed.size());
  for (auto& p : parsed) out.push_back(std::move(p.policy));
  return out;
}

StatusOr<std::shared_ptr<const PolicySet>> LoadPolicies(const std::vector<std::string>& paths) {
  std::vector<std::string> errors;
  std::vector<std::string> files;
  for (const auto& path : paths) ExpandPath(path, &files, &errors);

  FileReader read_key = [](const std::string& path) { return ReadFileBounded(path, kMaxKeyFileBytes); };
  std::set<std::string> read_files;
  std::map<std::string, std::string> names;  // policy name -> location of its metadata.name
  std::vector<Policy> policies;
  for (const auto& file : files) {
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(file, ec);
    if (!read_files.insert(ec ? file : canonical.string()).second) continue;  // reached twice
    auto text = ReadFileBounded(file, kMaxPolicyFileBytes);
    if (!text.ok()) {
      errors.push_back(file + ": cannot read: " + text.status().message());
      continue;
    }
    YamlErrors file_errors(file, kNodeBudgetPerFile);
    std::vector<ParsedPolicy> parsed = ParsePolicyText(*text, read_key, file_errors);
    std::vector<std::string> lines = file_errors.lines();
    errors.insert(errors.end(), lines.begin(), lines.end());
    for (auto& p : parsed) {
      auto [it, inserted] = names.emplace(p.policy.name, p.name_location);
      if (!inserted) {
        errors.push_back(p.name_location + ": metadata.name: duplicate policy name " + Quote(p.policy.name) +
                         " (first defined at " + it->second + ")");
        continue;
      }
      policies.push_back(std::move(p.policy));
    }
  }
  if (policies.size() > kMaxPolicies) {
    errors.push_back("more than " + std::to_string(kMaxPolicies) + " policies (" + std::to_string(policies.size()) +
                     ")");
  }
  if (!errors.empty()) return ErrorsToStatus(errors);
  return std::shared_ptr<const PolicySet>(std::make_shared<const PolicySet>(std::move(policies)));
}

StatusOr<std::shared_ptr<const PolicySet>> LoadPolicySet(const std::vector<std::string>& paths) {
  ASSIGN_OR_RETURN(std::shared_ptr<const PolicySet> set, LoadPolicies(paths));
  if (set->policies().empty()) {
    std::string where;
    for (const auto& p : paths) where += (where.empty() ? "" : ", ") + p;
    return InvalidArgument("no policies found in " + where +
                           " (a directory is read for *.yaml, *.yml and *.json files, not recursively)");
  }
  return set;
}

}  // namespace provgate
