#include "base/json_util.h"

#include <set>
#include <stdexcept>
#include <vector>

#include "base/encoding.h"

namespace provgate {
namespace {

struct DuplicateKey : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Go's encoding/json key folding (bytes.EqualFold): ASCII letters to upper
// case, and the only two non-ASCII runes whose fold orbit holds an ASCII
// letter, U+017F (long s) and U+212A (Kelvin sign). Input is valid UTF-8.
std::string GoFold(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 'a' && c <= 'z') {
      out += static_cast<char>(c - 'a' + 'A');
    } else if (c == 0xC5 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xBF) {
      out += 'S';
      i += 1;
    } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x84 &&
               static_cast<unsigned char>(s[i + 2]) == 0xAA) {
      out += 'K';
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// Returns the maximum nesting depth of arrays/objects in `text`, ignoring
// brackets inside strings. Stops early once `limit` is exceeded.
int NestingDepth(std::string_view text, int limit) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        max_depth = depth;
        if (max_depth > limit) return max_depth;
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

}  // namespace

namespace {

StatusOr<Json> Parse(std::string_view text, std::string_view what, int max_depth, bool unique_keys) {
  if (NestingDepth(text, max_depth) > max_depth) {
    return InvalidArgument(std::string(what) + ": JSON nested deeper than " +
                           std::to_string(max_depth) + " levels");
  }
  try {
    if (!unique_keys) return Json::parse(text.begin(), text.end());
    // The keys seen in each object still open (depth-bounded above).
    std::vector<std::set<std::string>> open;
    auto callback = [&open](int, Json::parse_event_t event, Json& parsed) {
      if (event == Json::parse_event_t::object_start) {
        open.emplace_back();
      } else if (event == Json::parse_event_t::object_end) {
        if (!open.empty()) open.pop_back();
      } else if (event == Json::parse_event_t::key && !open.empty()) {
        const auto& key = parsed.get_ref<const std::string&>();
        if (!open.back().insert(key).second) throw DuplicateKey(key);
      }
      return true;
    };
    return Json::parse(text.begin(), text.end(), callback);
  } catch (const DuplicateKey& e) {
    return InvalidArgument(std::string(what) + ": key " + Quote(e.what()) + " appears twice in one object");
  } catch (const Json::parse_error& e) {
    std::string msg = e.what();
    // nlohmann prefixes "[json.exception.parse_error.101] "; keep the useful part.
    if (auto pos = msg.find("] "); pos != std::string::npos) msg = msg.substr(pos + 2);
    // The message echoes the bytes last read, which may be the invalid UTF-8
    // that failed the parse: messages go into JSON documents.
    return InvalidArgument(std::string(what) + ": malformed JSON: " + EscapeInvalidUtf8(msg));
  } catch (const std::exception& e) {
    return InvalidArgument(std::string(what) + ": malformed JSON: " + EscapeInvalidUtf8(e.what()));
  }
}

}  // namespace

StatusOr<Json> ParseJson(std::string_view text, std::string_view what, int max_depth) {
  return Parse(text, what, max_depth, /*unique_keys=*/false);
}

StatusOr<Json> ParseJsonUniqueKeys(std::string_view text, std::string_view what, int max_depth) {
  return Parse(text, what, max_depth, /*unique_keys=*/true);
}

Status RejectGoFoldedKeys(const Json& object, std::initializer_list<std::string_view> fields,
                          std::string_view where) {
  if (!object.is_object()) return Status::Ok();
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string& key = it.key();
    bool exact = false;
    for (std::string_view f : fields) exact |= key == f;
    if (exact) continue;
    std::string folded = GoFold(key);
    for (std::string_view f : fields) {
      if (folded == GoFold(f)) {
        return InvalidArgument(std::string(where) + ": key " + Quote(key) + " would be read as " +
                               Quote(f) + " by Go's case-insensitive JSON decoding (cosign); only " +
                               Quote(f) + " is accepted");
      }
    }
  }
  return Status::Ok();
}

const char* JsonTypeName(const Json& v) { return v.type_name(); }

std::string JsonForMessage(const Json& v, size_t max_len) {
  std::string s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > max_len) s = s.substr(0, max_len) + "...";
  return s;
}

}  // namespace provgate
