#include "base/json_util.h"

namespace provgate {
namespace {

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

StatusOr<Json> ParseJson(std::string_view text, std::string_view what, int max_depth) {
  if (NestingDepth(text, max_depth) > max_depth) {
    return InvalidArgument(std::string(what) + ": JSON nested deeper than " +
                           std::to_string(max_depth) + " levels");
  }
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    std::string msg = e.what();
    // nlohmann prefixes "[json.exception.parse_error.101] "; keep the useful part.
    if (auto pos = msg.find("] "); pos != std::string::npos) msg = msg.substr(pos + 2);
    return InvalidArgument(std::string(what) + ": malformed JSON: " + msg);
  } catch (const std::exception& e) {
    return InvalidArgument(std::string(what) + ": malformed JSON: " + e.what());
  }
}

const char* JsonTypeName(const Json& v) { return v.type_name(); }

std::string JsonForMessage(const Json& v, size_t max_len) {
  std::string s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > max_len) s = s.substr(0, max_len) + "...";
  return s;
}

}  // namespace provgate
