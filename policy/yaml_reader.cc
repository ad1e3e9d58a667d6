#include "policy/yaml_reader.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <sstream>

#include "base/encoding.h"

namespace provgate {
namespace {

constexpr char kStrTag[] = "tag:yaml.org,2002:str";

bool HasPosition(const YAML::Mark& m) { return m.line >= 0 && m.column >= 0; }

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool IsYamlFloat(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

Json ResolvePlainScalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  std::string_view body = s;
  bool negative = false;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (AllDigits(body)) {
    int64_t n = 0;
    auto [ptr, ec] = std::from_chars(body.data(), body.data() + body.size(), n);
    if (ec == std::errc() && ptr == body.data() + body.size()) return negative ? -n : n;
    // Too large for int64: fall through to a float.
  }
  if (IsYamlFloat(s)) {
    double d = 0;
    auto [ptr, ec] = std::from_chars(body.data(), body.data() + body.size(), d);
    if (ec == std::errc() && ptr == body.data() + body.size()) return negative ? -d : d;
  }
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Article(const std::string& type) {
  if (type == "null") return "null";
  bool vowel = !type.empty() && std::string_view("aeiou").find(type[0]) != std::string_view::npos;
  return (vowel ? "an " : "a ") + type;
}

// Levenshtein distance, for "did you mean" hints on short field names.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string Where(const YamlValue& v) { return v.where.empty() ? "document" : v.where; }

void TypeError(const YamlValue& v, const std::string& expected, YamlErrors& errors) {
  errors.Add(v.mark, Where(v) + ": expected " + expected + ", got " + Article(YamlTypeName(v)));
}

}  // namespace

std::optional<std::vector<YAML::Node>> LoadYamlDocuments(std::string_view text, size_t max_documents,
                                                         YamlErrors& errors) {
  YamlLoadError error;
  auto docs = provgate::LoadYamlDocuments(text, max_documents, errors.node_limit(), &error);
  if (!docs) errors.Add(error.mark, error.message);
  return docs;
}

void YamlErrors::Add(const YAML::Mark& mark, const std::string& what) {
  bool positioned = HasPosition(mark);
  // One line each, whatever the input put into `what` (a pattern's newline
  // in RE2's message would otherwise start a line that names no file).
  entries_.push_back(
      {positioned ? mark.line : -1, positioned ? mark.column : -1, PrintableLine(Location(mark) + ": " + what)});
}

std::vector<std::string> YamlErrors::lines() const {
  std::vector<const Entry*> sorted;
  for (const auto& e : entries_) sorted.push_back(&e);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Entry* a, const Entry* b) {
    return std::pair(a->line, a->column) < std::pair(b->line, b->column);
  });
  std::vector<std::string> out;
  for (const Entry* e : sorted) out.push_back(e->text);
  return out;
}

std::string YamlErrors::Location(const YAML::Mark& mark) const {
  if (!HasPosition(mark)) return file_;
  return file_ + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

bool YamlErrors::Spend(const YAML::Mark& mark) {
  if (budget_ > 0) {
    --budget_;
    return true;
  }
  if (!exhausted_) {
    exhausted_ = true;
    Add(mark, "too many nodes: more than " + std::to_string(limit_) +
                  " in one file (YAML aliases expanding?); giving up");
  }
  return false;
}

std::string YamlValue::Child(std::string_view key) const {
  return where.empty() ? std::string(key) : where + "." + std::string(key);
}

std::string YamlValue::Item(size_t i) const { return where + "[" + std::to_string(i) + "]"; }

std::optional<Json> ScalarToJson(const YamlValue& v, YamlErrors& errors) {
  const YAML::Node& n = v.node;
  if (n.IsNull()) return Json(nullptr);
  if (!n.IsScalar()) {
    TypeError(v, "a scalar", errors);
    return std::nullopt;
  }
  const std::string& tag = n.Tag();
  if (tag == "!" || tag == kStrTag) return Json(n.Scalar());
  if (tag == "?" || tag.empty()) return ResolvePlainScalar(n.Scalar());
  errors.Add(v.mark, v.where + ": unsupported YAML tag " + Quote(tag) + " (only !!str is accepted)");
  return std::nullopt;
}

std::optional<Json> YamlToJson(const YamlValue& v, YamlErrors& errors, int max_depth) {
  if (!errors.Spend(v.mark)) return std::nullopt;
  const YAML::Node& n = v.node;
  if (n.IsNull() || n.IsScalar()) return ScalarToJson(v, errors);
  if (max_depth <= 0) {
    errors.Add(v.mark, v.where + ": value nests too deeply");
    return std::nullopt;
  }
  if (n.IsSequence()) {
    Json out = Json::array();
    size_t i = 0;
    for (const auto& item : n) {
      YamlValue child{item, v.Item(i++), item.Mark()};
      auto j = YamlToJson(child, errors, max_depth - 1);
      if (!j) return std::nullopt;
      out.push_back(std::move(*j));
    }
    return out;
  }
  if (n.IsMap()) {
    Json out = Json::object();
    // Range-for over value copies: yaml-cpp's iterator proxy (it->first)
    // refers to a temporary.
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) {
        errors.Add(kv.first.Mark(), v.where + ": mapping keys must be strings");
        return std::nullopt;
      }
      const std::string& key = kv.first.Scalar();
      if (out.contains(key)) {
        errors.Add(kv.first.Mark(), v.where + ": duplicate key " + Quote(key));
        return std::nullopt;
      }
      YAML::Mark m = kv.second.IsNull() ? kv.first.Mark() : kv.second.Mark();
      auto j = YamlToJson(YamlValue{kv.second, v.Child(key), m}, errors, max_depth - 1);
      if (!j) return std::nullopt;
      out[key] = std::move(*j);
    }
    return out;
  }
  errors.Add(v.mark, v.where + ": undefined YAML value");
  return std::nullopt;
}

std::string YamlTypeName(const YamlValue& v) {
  const YAML::Node& n = v.node;
  if (n.IsMap()) return "mapping";
  if (n.IsSequence()) return "list";
  if (n.IsNull()) return "null";
  if (!n.IsScalar()) return "undefined value";
  const std::string& tag = n.Tag();
  if (tag == "!" || tag == kStrTag) return "string";
  if (tag != "?" && !tag.empty()) return "value tagged " + tag;
  Json j = ResolvePlainScalar(n.Scalar());
  if (j.is_number()) return "number";
  if (j.is_boolean()) return "boolean";
  if (j.is_null()) return "null";
  return "string";
}

std::optional<YamlMapping> YamlMapping::Open(const YamlValue& v, std::initializer_list<std::string_view> allowed,
                                             YamlErrors& errors) {
  if (!v.node.IsMap()) {
    TypeError(v, "a mapping", errors);
    return std::nullopt;
  }
  YamlMapping m;
  m.self_ = v;
  for (const auto& kv : v.node) {
    const YAML::Node& k = kv.first;
    if (!k.IsScalar()) {
      errors.Add(k.Mark(), Where(v) + ": mapping keys must be strings");
      continue;
    }
    const std::string& key = k.Scalar();
    if (m.Find(key)) {
      m.had_bad_fields_ = true;
      errors.Add(k.Mark(), (v.where.empty() ? "" : v.where + ": ") + "duplicate field " + Quote(key));
      continue;
    }
    bool known = false;
    std::string hint;
    for (auto a : allowed) {
      if (a == key) known = true;
      if (Lower(a) == Lower(key) || (key.size() >= 4 && EditDistance(Lower(a), Lower(key)) <= 2)) {
        hint = std::string(a);
      }
    }
    if (!known) {
      m.had_bad_fields_ = true;
      std::string msg = (v.where.empty() ? "" : v.where + ": ") + "unknown field " + Quote(key);
      if (!hint.empty()) {
        msg += " (did you mean " + hint + "?)";
      } else {
        msg += " (expected one of:";
        for (auto a : allowed) msg += " " + std::string(a);
        msg += ")";
      }
      errors.Add(k.Mark(), msg);
      continue;
    }
    m.fields_.push_back({key, k.Mark(), kv.second});
  }
  return m;
}

const YamlMapping::Field* YamlMapping::Find(std::string_view key) const {
  for (const auto& f : fields_) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

std::optional<YamlValue> YamlMapping::Get(std::string_view key) const {
  const Field* f = Find(key);
  if (!f) return std::nullopt;
  YAML::Mark mark = f->value.IsNull() ? f->key_mark : f->value.Mark();
  if (!HasPosition(mark)) mark = f->key_mark;
  return YamlValue{f->value, self_.Child(key), mark};
}

std::optional<YamlValue> YamlMapping::Require(std::string_view key, YamlErrors& errors) const {
  auto v = Get(key);
  if (!v) {
    errors.Add(self_.mark, (self_.where.empty() ? "" : self_.where + ": ") + "missing required field " + Quote(key));
  }
  return v;
}

YAML::Mark YamlMapping::KeyMark(std::string_view key) const {
  const Field* f = Find(key);
  return f ? f->key_mark : self_.mark;
}

std::vector<std::string> YamlMapping::Keys() const {
  std::vector<std::string> out;
  for (const auto& f : fields_) out.push_back(f.key);
  return out;
}

std::optional<std::string> ReadString(const YamlValue& v, YamlErrors& errors) {
  if (v.node.IsScalar()) {
    const std::string& tag = v.node.Tag();
    if (tag == "!" || tag == kStrTag) return v.node.Scalar();
    if (tag == "?" || tag.empty()) {
      Json j = ResolvePlainScalar(v.node.Scalar());
      if (j.is_string()) return v.node.Scalar();
    }
  }
  TypeError(v, "a string", errors);
  return std::nullopt;
}

std::optional<int64_t> ReadInteger(const YamlValue& v, YamlErrors& errors) {
  if (v.node.IsScalar() && (v.node.Tag() == "?" || v.node.Tag().empty())) {
    Json j = ResolvePlainScalar(v.node.Scalar());
    if (j.is_number_integer()) return j.get<int64_t>();
  }
  TypeError(v, "an integer", errors);
  return std::nullopt;
}

std::optional<bool> ReadBool(const YamlValue& v, YamlErrors& errors) {
  if (v.node.IsScalar() && (v.node.Tag() == "?" || v.node.Tag().empty())) {
    Json j = ResolvePlainScalar(v.node.Scalar());
    if (j.is_boolean()) return j.get<bool>();
  }
  TypeError(v, "a boolean", errors);
  return std::nullopt;
}

std::optional<std::vector<YamlValue>> ReadList(const YamlValue& v, YamlErrors& errors, bool allow_empty,
                                               size_t max_items) {
  if (!v.node.IsSequence()) {
    TypeError(v, "a list", errors);
    return std::nullopt;
  }
  if (v.node.size() > max_items) {
    errors.Add(v.mark, Where(v) + ": more than " + std::to_string(max_items) + " entries (" +
                           std::to_string(v.node.size()) + ")");
    return std::nullopt;
  }
  std::vector<YamlValue> out;
  size_t i = 0;
  for (const auto& item : v.node) {
    YAML::Mark m = item.Mark();
    if (item.IsNull() || !HasPosition(m)) m = v.mark;
    out.push_back(YamlValue{item, v.Item(i++), m});
  }
  if (out.empty() && !allow_empty) {
    errors.Add(v.mark, Where(v) + ": must not be empty");
    return std::nullopt;
  }
  return out;
}

}  // namespace provgate
