#include "base/json_util.h"

#include <algorithm>
#include <optional>
#include <set>
#include <vector>

#include "base/encoding.h"

namespace provgate {
namespace {

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

// What the linear pre-scan learns: the nesting depth, and an upper bound on
// the number of values and object members (every one but the first of each
// container follows a ',': containers + commas + 1). Brackets and commas
// inside strings do not count. Stops early once a limit is passed.
struct Shape {
  int depth = 0;
  size_t values = 1;
};

Shape Scan(std::string_view text, int max_depth, size_t max_values) {
  Shape shape;
  int depth = 0;
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
      ++shape.values;
      if (++depth > shape.depth) shape.depth = depth;
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',') {
      ++shape.values;
    } else {
      continue;
    }
    if (shape.depth > max_depth || (max_values != 0 && shape.values > max_values)) break;
  }
  return shape;
}

using DomBuilder = nlohmann::detail::json_sax_dom_parser<Json>;

// SAX handler building the tree with nlohmann's own (linear) DOM builder and
// refusing a key seen before in the same object. Not the parser-callback
// API: its builder rescans a container at every nested object's end, which
// is quadratic in the container's length.
class UniqueKeysSax {
 public:
  explicit UniqueKeysSax(Json& root) : dom_(root, /*allow_exceptions=*/true) {}
  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(Json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(Json::number_float_t v, const Json::string_t& s) { return dom_.number_float(v, s); }
  bool string(Json::string_t& v) { return dom_.string(v); }
  bool binary(Json::binary_t& v) { return dom_.binary(v); }
  bool start_object(std::size_t n) {
    open_.emplace_back();
    return dom_.start_object(n);
  }
  bool key(Json::string_t& k) {
    if (!open_.back().insert(k).second) {
      duplicate_ = k;
      return false;  // stops the parse
    }
    return dom_.key(k);
  }
  bool end_object() {
    open_.pop_back();
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return dom_.start_array(n); }
  bool end_array() { return dom_.end_array(); }
  bool parse_error(std::size_t pos, const std::string& token, const nlohmann::detail::exception& e) {
    return dom_.parse_error(pos, token, e);  // throws the typed exception
  }
  const std::optional<std::string>& duplicate() const { return duplicate_; }

 private:
  DomBuilder dom_;
  std::vector<std::set<std::string>> open_;  // keys of each object still open (depth-bounded)
  std::optional<std::string> duplicate_;
};

// SAX handler keeping only the named members of a top-level object: the
// others (and a top-level array) are skipped as they stream by, never stored.
class TopLevelMembersSax {
 public:
  TopLevelMembersSax(Json& root, std::initializer_list<std::string_view> keys) : dom_(root, true), keys_(keys) {}
  bool null() { return Value([&] { return dom_.null(); }); }
  bool boolean(bool v) { return Value([&] { return dom_.boolean(v); }); }
  bool number_integer(Json::number_integer_t v) { return Value([&] { return dom_.number_integer(v); }); }
  bool number_unsigned(Json::number_unsigned_t v) { return Value([&] { return dom_.number_unsigned(v); }); }
  bool number_float(Json::number_float_t v, const Json::string_t& s) {
    return Value([&] { return dom_.number_float(v, s); });
  }
  bool string(Json::string_t& v) { return Value([&] { return dom_.string(v); }); }
  bool binary(Json::binary_t& v) { return Value([&] { return dom_.binary(v); }); }
  bool start_object(std::size_t n) {
    ++depth_;
    return skip_from_ >= 0 || dom_.start_object(n);
  }
  bool start_array(std::size_t n) {
    if (depth_ == 0) skip_from_ = 0;  // not an object: nothing to keep
    ++depth_;
    return skip_from_ >= 0 || dom_.start_array(n);
  }
  bool end_object() { return End([&] { return dom_.end_object(); }); }
  bool end_array() { return End([&] { return dom_.end_array(); }); }
  bool key(Json::string_t& k) {
    if (skip_from_ >= 0) return true;
    if (depth_ == 1 && std::find(keys_.begin(), keys_.end(), k) == keys_.end()) {
      skip_from_ = 1;  // skip this member's value
      return true;
    }
    return dom_.key(k);
  }
  bool parse_error(std::size_t pos, const std::string& token, const nlohmann::detail::exception& e) {
    return dom_.parse_error(pos, token, e);
  }

 private:
  template <typename F>
  bool Value(F forward) {
    if (skip_from_ < 0) return forward();
    if (depth_ == skip_from_) skip_from_ = -1;  // a skipped member's whole value
    return true;
  }
  template <typename F>
  bool End(F forward) {
    --depth_;
    if (skip_from_ < 0) return forward();
    if (depth_ == skip_from_) skip_from_ = -1;
    return true;
  }

  DomBuilder dom_;
  std::vector<std::string_view> keys_;
  int depth_ = 0;
  int skip_from_ = -1;  // depth at which skipping ends; -1 when not skipping
};

}  // namespace

namespace {

enum class Mode { kPlain, kUniqueKeys };

StatusOr<Json> Parse(std::string_view text, std::string_view what, JsonLimits limits, Mode mode,
                     std::initializer_list<std::string_view>* members = nullptr) {
  Shape shape = Scan(text, limits.max_depth, limits.max_values);
  if (shape.depth > limits.max_depth) {
    return InvalidArgument(std::string(what) + ": JSON nested deeper than " + std::to_string(limits.max_depth) +
                           " levels");
  }
  if (limits.max_values != 0 && shape.values > limits.max_values) {
    return ResourceExhausted(std::string(what) + ": more than " + std::to_string(limits.max_values) +
                             " JSON values");
  }
  try {
    if (members != nullptr) {
      Json root;
      TopLevelMembersSax sax(root, *members);
      Json::sax_parse(text.begin(), text.end(), &sax);
      return root;
    }
    if (mode == Mode::kPlain) return Json::parse(text.begin(), text.end());
    Json root;
    UniqueKeysSax sax(root);
    if (!Json::sax_parse(text.begin(), text.end(), &sax) && sax.duplicate()) {
      return InvalidArgument(std::string(what) + ": key " + Quote(*sax.duplicate()) + " appears twice in one object");
    }
    return root;
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
  return Parse(text, what, JsonLimits{max_depth, 0}, Mode::kPlain);
}

StatusOr<Json> ParseJsonUniqueKeys(std::string_view text, std::string_view what, JsonLimits limits) {
  return Parse(text, what, limits, Mode::kUniqueKeys);
}

StatusOr<Json> ParseJsonTopLevelMembers(std::string_view text, std::string_view what,
                                        std::initializer_list<std::string_view> keys, int max_depth) {
  return Parse(text, what, JsonLimits{max_depth, 0}, Mode::kPlain, &keys);
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
  // The dump is valid UTF-8 and must stay so.
  return TruncateUtf8(v.dump(-1, ' ', false, Json::error_handler_t::replace), max_len);
}

}  // namespace provgate
