// One JSON object per line (docs/server.md): time, level, msg and fields. The
// caller never passes credentials or raw upstream bodies. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "base/json_util.h"

namespace provgate {

// The fields of one log line, written straight to JSON text: the decision
// log is on the admission hot path, where building a JSON tree per line
// cost more than the rest of a warm admission. Strings are escaped per RFC
// 8259; invalid UTF-8 becomes U+FFFD.
class LogFields {
 public:
  LogFields() { text_.reserve(1024); }  // a decision line's fields fit
  LogFields& Str(std::string_view key, std::string_view value);
  LogFields& Num(std::string_view key, double value);
  LogFields& Int(std::string_view key, long long value);
  LogFields& Bool(std::string_view key, bool value);
  LogFields& Strs(std::string_view key, const std::vector<std::string>& values);
  // ",\"k\":v..." — empty when there are no fields.
  const std::string& text() const { return text_; }
  // Empties the fields, keeping the buffer (a per-thread LogFields is reused).
  void Clear() { text_.clear(); }

 private:
  void Key(std::string_view key);
  std::string text_;
};

// Writes the instant `unix_ms` (milliseconds since the epoch) as RFC 3339 in
// UTC with milliseconds, "2026-12-01T18:12:20.123Z", and a NUL, to `out`
// (kLogTimeLength + 1 bytes). Years are clamped to 0000-9999.
inline constexpr size_t kLogTimeLength = 24;
void FormatLogTime(long long unix_ms, char* out);

// Appends `s` to `out` as a JSON string literal (quotes included).
void AppendJsonString(std::string_view s, std::string* out);

class JsonLog {
 public:
  // With a zero `flush_interval` every line is written to `out` at once.
  // Otherwise info and debug lines are buffered and written by a background
  // thread every `flush_interval`, or as soon as 256 KiB are pending; past
  // 4 MiB (the file cannot keep up) the logging thread writes them itself.
  // Warnings and errors are written at once, after what is buffered. (`provgate serve` buffers: one
  // write(2) per admission cost as much as the rest of a warm review's log
  // line.) The destructor writes what is left.
  JsonLog(FILE* out, bool debug, std::chrono::milliseconds flush_interval = std::chrono::milliseconds(0));
  ~JsonLog();
  JsonLog(const JsonLog&) = delete;
  JsonLog& operator=(const JsonLog&) = delete;
  // Writes the buffered lines now.
  void Flush();
  void Info(const std::string& msg, Json fields = Json::object()) { Write("info", msg, ToFields(fields)); }
  void Warn(const std::string& msg, Json fields = Json::object()) { Write("warn", msg, ToFields(fields)); }
  void Error(const std::string& msg, Json fields = Json::object()) { Write("error", msg, ToFields(fields)); }
  void Debug(const std::string& msg, Json fields = Json::object()) {
    if (debug_) Write("debug", msg, ToFields(fields));
  }
  void Info(const std::string& msg, const LogFields& fields) { Write("info", msg, fields.text()); }
  void Warn(const std::string& msg, const LogFields& fields) { Write("warn", msg, fields.text()); }
  bool debug() const { return debug_; }

 private:
  static std::string ToFields(const Json& fields);
  void Write(const char* level, std::string_view msg, const std::string& fields);
  // Writes what is pending to out_. Lines are appended under mu_ only; the
  // write itself holds out_mu_, so a slow file never stalls the admissions
  // that log (out_mu_ is taken before the pending lines are taken, so lines
  // reach out_ in the order they were logged).
  void WriteOut();
  FILE* out_;
  bool debug_;
  std::chrono::milliseconds flush_interval_;
  std::mutex out_mu_;    // held while writing to out_
  std::string writing_;  // guarded by out_mu_: the lines being written
  Mutex mu_;  // every logging thread appends under it: a short section
  std::condition_variable_any cv_;
  std::string pending_;        // guarded by mu_
  bool flush_soon_ = false;    // guarded by mu_: the flusher was asked to write before its interval
  bool stop_ = false;          // guarded by mu_
  std::thread flusher_;
};

}  // namespace provgate
