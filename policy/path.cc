#include "policy/path.h"

#include "base/encoding.h"

namespace provgate {
namespace {

bool IsKeyChar(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u == 0x7f) return false;
  return c != '.' && c != '[' && c != ']' && c != '"' && c != '\'';
}

// Largest index accepted in [N]: far beyond any real attestation, small
// enough that parsing cannot overflow.
constexpr size_t kMaxIndex = 1'000'000;

}  // namespace

StatusOr<JsonPath> JsonPath::Parse(std::string_view text) {
  auto fail = [&](const std::string& what, size_t pos) -> Status {
    return InvalidArgument("path " + Quote(text) + ": " + what + " at character " + std::to_string(pos + 1));
  };
  if (text.empty()) return InvalidArgument("path is empty");
  if (text.size() > kMaxPathLength) {
    return InvalidArgument("path is longer than " + std::to_string(kMaxPathLength) + " characters");
  }
  JsonPath p;
  p.text_ = std::string(text);
  size_t i = 0;
  bool first = true;
  while (i < text.size()) {
    if (p.steps_.size() >= kMaxPathSteps) {
      return fail("more than " + std::to_string(kMaxPathSteps) + " steps", i);
    }
    char c = text[i];
    if (c == '[') {
      size_t open = i++;
      if (i >= text.size()) return fail("unterminated [", open);
      if (text[i] == '"') {
        ++i;
        std::string key;
        bool closed = false;
        while (i < text.size()) {
          char q = text[i];
          if (q == '\\') {
            if (i + 1 >= text.size() || (text[i + 1] != '"' && text[i + 1] != '\\')) {
              return fail("unsupported escape (only \\\" and \\\\)", i);
            }
            key += text[i + 1];
            i += 2;
            continue;
          }
          if (q == '"') {
            closed = true;
            ++i;
            break;
          }
          key += q;
          ++i;
        }
        if (!closed) return fail("unterminated quoted key", open + 1);
        if (i >= text.size() || text[i] != ']') return fail("expected ] after quoted key", i);
        ++i;
        p.steps_.push_back({Step::Kind::kKey, std::move(key)});
      } else if (text[i] == '*') {
        ++i;
        if (i >= text.size() || text[i] != ']') return fail("expected ] after *", i);
        ++i;
        p.steps_.push_back({Step::Kind::kEach, {}});
        p.fans_out_ = true;
      } else if (text[i] >= '0' && text[i] <= '9') {
        size_t n = 0;
        size_t start = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
          n = n * 10 + size_t(text[i] - '0');
          if (n > kMaxIndex) return fail("index too large", start);
          ++i;
        }
        if (i >= text.size() || text[i] != ']') return fail("expected ] after index", i);
        ++i;
        p.steps_.push_back({Step::Kind::kIndex, {}, n});
      } else {
        return fail("expected a quoted key, an index or * after [", i);
      }
    } else {
      if (!first) {
        if (c != '.') return fail("expected . or [", i);
        ++i;
      }
      size_t start = i;
      while (i < text.size() && IsKeyChar(text[i])) ++i;
      if (i == start) {
        if (i < text.size()) {
          return fail("unexpected " + Quote(text.substr(i, 1)) + " where a key was expected", i);
        }
        return fail("empty key", i);
      }
      std::string key(text.substr(start, i - start));
      if (key == "*" || key == "**") {
        // Not a wildcard: a key named "*" is missing from every document,
        // which notEquals/notIn/exists: false would silently accept.
        return fail("a bare " + key + " is not a wildcard: write [*] to fan out over an array (a key named " + key +
                        " is written [\"" + key + "\"])",
                    start);
      }
      p.steps_.push_back({Step::Kind::kKey, std::move(key)});
    }
    first = false;
  }
  return p;
}

std::vector<const Json*> JsonPath::Evaluate(const Json& doc) const {
  std::vector<const Json*> cur = {&doc};
  std::vector<const Json*> next;
  for (const Step& step : steps_) {
    next.clear();
    for (const Json* v : cur) {
      switch (step.kind) {
        case Step::Kind::kKey:
          if (v->is_object()) {
            auto it = v->find(step.key);
            if (it != v->end()) next.push_back(&*it);
          }
          break;
        case Step::Kind::kIndex:
          if (v->is_array() && step.index < v->size()) next.push_back(&(*v)[step.index]);
          break;
        case Step::Kind::kEach:
          if (v->is_array()) {
            for (const auto& e : *v) next.push_back(&e);
          }
          break;
      }
    }
    cur.swap(next);
    if (cur.empty()) break;
  }
  return cur;
}

}  // namespace provgate
