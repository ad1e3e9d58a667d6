#include "base/yaml_documents.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <cstdio>
#include <optional>
#include <sstream>

#include "base/encoding.h"

namespace provgate {
namespace {

// Remembers where the last document started, the first scalar that is not
// UTF-8 and the node past `max_nodes` (counted over the whole text); builds
// nothing. The text is UTF-8 by then, but yaml-cpp 0.7 decodes the escapes
// \N and \_ to the single bytes 0x85 and 0xA0 rather than to U+0085 and
// U+00A0.
class DocumentStart : public YAML::EventHandler {
 public:
  explicit DocumentStart(size_t max_nodes) : max_nodes_(max_nodes) {}

  YAML::Mark mark;
  std::optional<YAML::Mark> bad_scalar;
  std::optional<YAML::Mark> over_budget;

  void OnDocumentStart(const YAML::Mark& m) override { mark = m; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { Count(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { Count(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t, const std::string& value) override {
    Count(m);
    if (!bad_scalar && !IsUtf8(value)) bad_scalar = m;
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    Count(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    Count(m);
  }
  void OnMapEnd() override {}

 private:
  // One node of the tree LoadAll would build (an alias shares its anchor's).
  void Count(const YAML::Mark& m) {
    if (++nodes_ > max_nodes_ && !over_budget) over_budget = m;
  }

  size_t max_nodes_;
  size_t nodes_ = 0;
};

// The character at `mark` for a message ("','"), or "input". yaml-cpp counts
// bytes after a UTF-8 byte order mark.
std::string WhatIsAt(std::string_view text, const YAML::Mark& mark) {
  if (mark.pos < 0) return "input";
  size_t at = static_cast<size_t>(mark.pos) + (text.starts_with("\xEF\xBB\xBF") ? 3 : 0);
  if (at >= text.size()) return "input";
  char c = text[at];
  if (c < '!' || c > '~') return "input";
  return "'" + std::string(1, c) + "'";
}

// The code point of `ch` (one well-formed UTF-8 character) when it is
// not in YAML 1.2's c-printable.
std::optional<unsigned> NotYamlCharacter(std::string_view ch) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(ch[k]); };
  if (ch.size() == 1) {
    unsigned c = b(0);
    return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F ? std::optional(c) : std::nullopt;
  }
  if (ch.size() == 2 && b(0) == 0xC2 && b(1) < 0xA0 && b(1) != 0x85) return b(1);  // U+0080..U+009F
  if (ch.size() == 3 && b(0) == 0xEF && b(1) == 0xBF && b(2) >= 0xBE) return 0xFF40u + b(2);  // U+FFFE, U+FFFF
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<YAML::Node>> LoadYamlDocuments(std::string_view text, size_t max_documents,
                                                         size_t max_nodes, YamlLoadError* error) {
  // YAML texts are Unicode; yaml-cpp passes bytes that are not UTF-8 through
  // into scalars, where they would reach keys, patterns and messages. Nor
  // are all characters YAML characters (YAML 1.2 c-printable: no C0 or C1
  // control but tab, LF, CR and NEL, no DEL, U+FFFE or U+FFFF); yaml-cpp 0.7
  // reads a NUL in a plain scalar as the start of an escape ("\0N" becomes
  // the byte 0x85), and takes texts with NUL bytes for UTF-16 or UTF-32.
  for (size_t i = 0, line = 0, column = 0; i < text.size();) {
    size_t n = Utf8SequenceLength(text, i);
    auto fail = [&](std::string what) {
      YAML::Mark mark;
      mark.pos = static_cast<int>(i);
      mark.line = static_cast<int>(line);
      mark.column = static_cast<int>(column);
      *error = {mark, std::move(what)};
    };
    if (n == 0) {
      fail("text is not UTF-8 (byte " + EscapeInvalidUtf8(text.substr(i, 1)) + ")");
      return std::nullopt;
    }
    if (auto c = NotYamlCharacter(text.substr(i, n))) {
      char u[16];
      std::snprintf(u, sizeof u, "U+%04X", *c);
      fail(std::string("text holds ") + u + ", which is not a YAML character (a control character or noncharacter)");
      return std::nullopt;
    }
    if (text[i] == '\n') {
      ++line;
      column = 0;
    } else {
      ++column;
    }
    i += n;
  }
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    DocumentStart start(max_nodes);
    std::optional<YAML::Mark> previous;
    for (size_t documents = 0; parser.HandleNextDocument(start); ++documents) {
      // A document that read nothing starts where the next one does: yaml-cpp
      // would return it again and again.
      if (previous && start.mark.pos == previous->pos) {
        *error = {start.mark, "YAML syntax error: unexpected " + WhatIsAt(text, start.mark)};
        return std::nullopt;
      }
      if (documents == max_documents) {
        *error = {start.mark, "more than " + std::to_string(max_documents) + " documents in one file"};
        return std::nullopt;
      }
      previous = start.mark;
      if (start.over_budget) {
        *error = {*start.over_budget, "too many nodes: more than " + std::to_string(max_nodes) + " in one file"};
        return std::nullopt;
      }
      if (start.bad_scalar) {
        *error = {*start.bad_scalar,
                  "a string that is not UTF-8: write U+0085 and U+00A0 as \\x85 and \\xA0, not \\N and \\_"};
        return std::nullopt;
      }
    }
    // The same documents, read the same way: each reads input, so this ends.
    return YAML::LoadAll(std::string(text));
  } catch (const YAML::DeepRecursion& e) {
    *error = {e.mark, "YAML nests too deeply"};
  } catch (const YAML::Exception& e) {
    *error = {e.mark, "YAML syntax error: " + PrintableLine(e.msg)};
  } catch (const std::exception& e) {
    *error = {YAML::Mark::null_mark(), "YAML error: " + PrintableLine(e.what())};
  }
  return std::nullopt;
}

}  // namespace provgate
