#include "webhook/server/json_log.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "base/encoding.h"

namespace provgate {

namespace {

// Bytes copied as they are inside a JSON string: printable ASCII but '"' and '\\'.
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[c] = c != '"' && c != '\\';
  return t;
}();

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    // Printable ASCII other than '"' and '\\' is copied in one run: log
    // values are almost always plain ASCII, and byte-wise appends cost more
    // than the rest of the line.
    size_t run = i;
    while (run < s.size() && kPlain[static_cast<unsigned char>(s[run])]) ++run;
    if (run > i) {
      out->append(s.data() + i, run - i);
      i = run;
      if (i == s.size()) break;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20) {
      out->append("\\u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
      ++i;
    } else {
      // A well-formed UTF-8 sequence is copied; anything else is U+FFFD.
      if (size_t len = Utf8SequenceLength(s, i); len > 0) {
        out->append(s.substr(i, len));
        i += len;
      } else {
        out->append("\xef\xbf\xbd");
        ++i;
      }
    }
  }
  out->push_back('"');
}

void FormatLogTime(long long unix_ms, char* ts) {
  using namespace std::chrono;
  // The instant is clamped to the years RFC 3339 can write (0000-9999).
  constexpr long long kFirst = -62167219200000LL, kLast = 253402300799999LL;  // 0000-01-01, 9999-12-31T23:59:59.999
  sys_time<milliseconds> t{milliseconds(std::clamp(unix_ms, kFirst, kLast))};
  sys_days day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss<milliseconds> hms{t - day};
  char buf[64];  // gcc cannot see that the fields fit kLogTimeLength
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
  std::memcpy(ts, buf, kLogTimeLength + 1);
}

void LogFields::Key(std::string_view key) {
  // Keys are the program's own identifiers: copied as they are, unless one
  // ever needs escaping.
  if (std::all_of(key.begin(), key.end(), [](char c) { return kPlain[static_cast<unsigned char>(c)]; })) {
    text_.append(",\"").append(key).append("\":");
    return;
  }
  text_.push_back(',');
  AppendJsonString(key, &text_);
  text_.push_back(':');
}

LogFields& LogFields::Str(std::string_view key, std::string_view value) {
  Key(key);
  AppendJsonString(value, &text_);
  return *this;
}

LogFields& LogFields::Num(std::string_view key, double value) {
  Key(key);
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, 3);
  if (!std::isfinite(value) || ec != std::errc()) {
    text_ += "null";
  } else {
    text_.append(buf, end);
  }
  return *this;
}

LogFields& LogFields::Int(std::string_view key, long long value) {
  Key(key);
  text_ += std::to_string(value);
  return *this;
}

LogFields& LogFields::Bool(std::string_view key, bool value) {
  Key(key);
  text_ += value ? "true" : "false";
  return *this;
}

LogFields& LogFields::Strs(std::string_view key, const std::vector<std::string>& values) {
  Key(key);
  text_.push_back('[');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) text_.push_back(',');
    AppendJsonString(values[i], &text_);
  }
  text_.push_back(']');
  return *this;
}

std::string JsonLog::ToFields(const Json& fields) {
  if (!fields.is_object() || fields.empty()) return "";
  std::string rest = fields.dump(-1, ' ', false, Json::error_handler_t::replace);
  rest.front() = ',';  // "{...}" -> ",..." without the closing brace
  rest.pop_back();
  return rest;
}

void JsonLog::Write(const char* level, std::string_view msg, const std::string& fields) {
  using namespace std::chrono;
  char ts[kLogTimeLength + 1];
  FormatLogTime(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count(), ts);
  // time, level and msg first, then the fields, appended to what is pending.
  constexpr size_t kFlushSoon = 256 << 10, kMaxPending = 4 << 20;
  bool at_once = flush_interval_.count() == 0 || level[0] == 'w' || level[0] == 'e';
  bool wake = false;
  {
    MutexLock l(&mu_);
    pending_.append("{\"time\":\"").append(ts).append("\",\"level\":\"").append(level).append("\",\"msg\":");
    AppendJsonString(msg, &pending_);
    pending_.append(fields).append("}\n");
    if (!at_once && pending_.size() >= kMaxPending) at_once = true;  // backpressure: memory stays bounded
    if (!at_once && pending_.size() >= kFlushSoon && !flush_soon_) wake = flush_soon_ = true;
  }
  if (at_once) {
    WriteOut();
  } else if (wake) {
    cv_.notify_one();
  }
}

JsonLog::JsonLog(FILE* out, bool debug, std::chrono::milliseconds flush_interval)
    : out_(out), debug_(debug), flush_interval_(flush_interval) {
  if (flush_interval_.count() > 0) {
    flusher_ = std::thread([this] {
      std::unique_lock<Mutex> l(mu_);
      while (!stop_) {
        cv_.wait_for(l, flush_interval_, [this] { return stop_ || flush_soon_; });
        flush_soon_ = false;
        if (pending_.empty()) continue;
        l.unlock();
        WriteOut();
        l.lock();
      }
    });
  }
}

JsonLog::~JsonLog() {
  {
    MutexLock l(&mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  Flush();
}

void JsonLog::Flush() { WriteOut(); }

void JsonLog::WriteOut() {
  std::lock_guard<std::mutex> w(out_mu_);
  {
    MutexLock l(&mu_);
    if (pending_.empty()) return;
    writing_.swap(pending_);  // both keep their capacity: no allocation per write
  }
  std::fwrite(writing_.data(), 1, writing_.size(), out_);
  std::fflush(out_);
  writing_.clear();
}

}  // namespace provgate
