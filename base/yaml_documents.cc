#include "base/yaml_documents.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <cstdio>
#include <sstream>

#include "base/encoding.h"

namespace provgate {
namespace {

// Remembers where the last document started; builds nothing.
class DocumentStart : public YAML::EventHandler {
 public:
  YAML::Mark mark;

  void OnDocumentStart(const YAML::Mark& m) override { mark = m; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// The character at `mark` for a message ("','"), or "input". yaml-cpp counts
// bytes after a UTF-8 byte order mark; UTF-16 and UTF-32 texts (which hold
// NUL bytes) are not looked into.
std::string WhatIsAt(std::string_view text, const YAML::Mark& mark) {
  if (mark.pos < 0 || text.find('\0') != std::string_view::npos) return "input";
  size_t at = static_cast<size_t>(mark.pos) + (text.starts_with("\xEF\xBB\xBF") ? 3 : 0);
  if (at >= text.size()) return "input";
  char c = text[at];
  if (c < '!' || c > '~') return "input";
  return "'" + std::string(1, c) + "'";
}

// yaml-cpp's message with control bytes as \xNN and invalid UTF-8 escaped:
// some messages end with the offending input byte ("unknown escape
// character: " and a newline would start a second, forged error line).
std::string Printable(std::string_view message) {
  std::string out;
  for (unsigned char c : message) {
    if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return EscapeInvalidUtf8(out);
}

}  // namespace

std::optional<std::vector<YAML::Node>> LoadYamlDocuments(std::string_view text, size_t max_documents,
                                                         YamlLoadError* error) {
  // YAML texts are Unicode; yaml-cpp passes bytes that are not UTF-8 through
  // into scalars, where they would reach keys, patterns and messages.
  for (size_t i = 0, line = 0, column = 0; i < text.size();) {
    size_t n = Utf8SequenceLength(text, i);
    if (n == 0) {
      YAML::Mark mark;
      mark.pos = static_cast<int>(i);
      mark.line = static_cast<int>(line);
      mark.column = static_cast<int>(column);
      *error = {mark, "text is not UTF-8 (byte " + EscapeInvalidUtf8(text.substr(i, 1)) + ")"};
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
    DocumentStart start;
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
    }
    // The same documents, read the same way: each reads input, so this ends.
    return YAML::LoadAll(std::string(text));
  } catch (const YAML::DeepRecursion& e) {
    *error = {e.mark, "YAML nests too deeply"};
  } catch (const YAML::Exception& e) {
    *error = {e.mark, "YAML syntax error: " + Printable(e.msg)};
  } catch (const std::exception& e) {
    *error = {YAML::Mark::null_mark(), "YAML error: " + Printable(e.what())};
  }
  return std::nullopt;
}

}  // namespace provgate
