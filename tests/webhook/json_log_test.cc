// JsonLog and LogFields: every line is one JSON object that parses back to
// the values written (escaping per RFC 8259, invalid UTF-8 replaced), with
// time, level and msg first.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "webhook/server/json_log.h"

using namespace provgate;

namespace {

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

// Writes through a JsonLog into a memory stream and returns what it wrote.
template <typename F>
std::string Capture(bool debug, F write) {
  char* buf = nullptr;
  size_t len = 0;
  FILE* f = open_memstream(&buf, &len);
  REQUIRE(f != nullptr);
  {
    JsonLog log(f, debug);
    write(log);
  }
  std::fclose(f);
  std::string out(buf, len);
  std::free(buf);
  return out;
}

}  // namespace

TEST_CASE("AppendJsonString escapes and round-trips") {
  struct Row {
    std::string in;
    std::string want_literal;  // the exact JSON text
  };
  const Row rows[] = {
      {"plain", "\"plain\""},
      {"a\"b\\c", "\"a\\\"b\\\\c\""},
      {std::string("nl\n tab\t nul\0x", 14), "\"nl\\u000a tab\\u0009 nul\\u0000x\""},
      {"\x1f", "\"\\u001f\""},
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
  };
  for (const auto& r : rows) {
    CAPTURE(r.in);
    CHECK(Quoted(r.in) == r.want_literal);
    CHECK(Json::parse(Quoted(r.in)).get<std::string>() == r.in);
  }
}

TEST_CASE("AppendJsonString: a special byte is escaped at every offset of a plain run") {
  // Plain runs are copied whole: put each kind of special byte at every
  // position of a few words and compare with a one-byte-at-a-time reference
  // (the inputs are valid UTF-8: copied, but for '"', '\\' and control
  // characters, which become \u00XX).
  auto reference = [](const std::string& in) {
    std::string out = "\"";
    for (unsigned char c : in) {
      char buf[8];
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < 0x20) {
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else {
        out += static_cast<char>(c);
      }
    }
    return out + "\"";
  };
  const std::vector<std::string> specials = {"\"", "\\", std::string(1, '\0'), "\x01", "\x1f", "\n",
                                             "\xc3\xa9", "\xe2\x82\xac", "\x7f", " ", "~"};
  for (const auto& special : specials) {
    for (size_t at = 0; at <= 24; ++at) {
      for (size_t len : {at, at + 1, size_t{25}, size_t{33}}) {
        std::string in(std::max(len, at), 'a');
        in.insert(at, special);
        CAPTURE(at);
        CAPTURE(len);
        CHECK(Quoted(in) == reference(in));
        CHECK(Json::parse(Quoted(in)).get<std::string>() == in);
      }
    }
  }
}

TEST_CASE("AppendJsonString replaces invalid UTF-8 with U+FFFD") {
  const std::string kReplacement = "\xef\xbf\xbd";
  struct Row {
    const char* name;
    std::string in;
    std::string want;  // decoded
  };
  const Row rows[] = {
      {"lone continuation byte", "a\x80z", "a" + kReplacement + "z"},
      {"truncated 2-byte sequence at end", "a\xc3", "a" + kReplacement},
      {"overlong 2-byte (C0)", "\xc0\xaf", kReplacement + kReplacement},
      {"overlong 3-byte", "\xe0\x80\xaf", kReplacement + kReplacement + kReplacement},
      {"UTF-16 surrogate", "\xed\xa0\x80", kReplacement + kReplacement + kReplacement},
      {"above U+10FFFF", "\xf4\x90\x80\x80", kReplacement + kReplacement + kReplacement + kReplacement},
      {"F5 lead byte", "\xf5\x80", kReplacement + kReplacement},
      // Lead bytes F5-FF never start a sequence, whatever follows them.
      {"F5 lead byte with two continuation bytes", "a\xf5\x80\x80z",
       "a" + kReplacement + kReplacement + kReplacement + "z"},
      {"FF lead byte with three continuation bytes", "\xff\x80\x80\x80",
       kReplacement + kReplacement + kReplacement + kReplacement},
      {"missing continuation", "\xe2\x82z", kReplacement + kReplacement + "z"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    std::string lit = Quoted(r.in);
    auto parsed = Json::parse(lit, nullptr, false);
    REQUIRE_FALSE(parsed.is_discarded());
    CHECK(parsed.get<std::string>() == r.want);
  }
}

TEST_CASE("LogFields builds the fields of one decision line") {
  LogFields f;
  f.Str("uid", "u-1").Int("count", -3).Num("duration_ms", 1.25).Bool("passed", false);
  f.Strs("reasons", {"sig \"bad\"", "second"}).Strs("none", {});
  std::string out = Capture(false, [&](JsonLog& log) { log.Info("decision", f); });
  REQUIRE(!out.empty());
  CHECK(out.back() == '\n');
  CHECK(out.find('\n') == out.size() - 1);  // exactly one line
  auto j = Json::parse(out);
  CHECK(out.rfind("{\"time\":\"", 0) == 0);
  CHECK(j["level"] == "info");
  CHECK(j["msg"] == "decision");
  CHECK(j["uid"] == "u-1");
  CHECK(j["count"] == -3);
  CHECK(j["duration_ms"].get<double>() == doctest::Approx(1.25));
  CHECK(j["passed"] == false);
  CHECK(j["reasons"] == Json::array({"sig \"bad\"", "second"}));
  CHECK(j["none"] == Json::array());
  // RFC 3339, UTC, milliseconds: 2026-12-01T14:42:41.123Z, and now.
  std::string time = j["time"];
  REQUIRE(time.size() == 24);
  for (size_t i = 0; i < time.size(); ++i) {
    CAPTURE(i);
    char want = std::string_view("0000-00-00T00:00:00.000Z")[i];
    if (want == '0') {
      CHECK(std::isdigit(static_cast<unsigned char>(time[i])));
    } else {
      CHECK(time[i] == want);
    }
  }
  std::tm tm{};
  REQUIRE(strptime(time.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) != nullptr);
  CHECK(std::llabs(static_cast<long long>(timegm(&tm)) - static_cast<long long>(std::time(nullptr))) <= 5);
  CHECK(out.find("\"duration_ms\":1.250") != std::string::npos);  // three decimals
}

TEST_CASE("FormatLogTime agrees with gmtime_r: epoch, leap days, century years, millisecond carry") {
  // Compared with gmtime_r + strftime at the dates where calendar
  // arithmetic breaks.
  auto reference = [](long long ms) {
    std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    std::tm tm{};
    REQUIRE(gmtime_r(&secs, &tm) != nullptr);
    long long milli = ((ms % 1000) + 1000) % 1000;
    char out[64];
    std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, milli);
    return std::string(out);
  };
  std::vector<long long> instants = {
      0,                   // 1970-01-01T00:00:00.000Z
      999,                 // the last millisecond of the first second
      86399999,            // 1970-01-01T23:59:59.999Z
      951782400000,        // 2000-02-29 (400-year leap day)
      951868800000,        // 2000-03-01
      4107542399999,       // 2100-02-28T23:59:59.999Z (2100 is not a leap year)
      4107542400000,       // 2100-03-01
      1709164800123,       // 2024-02-29T00:00:00.123Z
      1735689599999,       // 2024-12-31T23:59:59.999Z
      1735689600000,       // 2025-01-01
      1796140340123,       // 2026-12-01
      253402300799999,     // 9999-12-31T23:59:59.999Z, the last instant RFC 3339 can write
      -1,                  // 1969-12-31T23:59:59.999Z
      -62135596800000,     // 0001-01-01
  };
  // And a sweep: one instant every 37 days and 7 hours and 13 ms over 1970-2130.
  for (long long ms = 0; ms < 5000000000000LL; ms += 37LL * 86400000 + 7 * 3600000 + 13) instants.push_back(ms);
  for (long long ms : instants) {
    CAPTURE(ms);
    char got[kLogTimeLength + 1];
    FormatLogTime(ms, got);
    CHECK(std::string(got) == reference(ms));
  }
  // Beyond year 9999 the year is clamped, never more than four digits.
  char far[kLogTimeLength + 1];
  FormatLogTime(253402300800000LL * 2, far);
  CHECK(std::string(far).substr(0, 5) == "9999-");
  CHECK(std::strlen(far) == kLogTimeLength);
}

TEST_CASE("LogFields writes non-finite numbers as null") {
  LogFields f;
  f.Num("nan", 0.0 / 0.0).Num("inf", 1.0 / 0.0);
  auto j = Json::parse(Capture(false, [&](JsonLog& log) { log.Warn("x", f); }));
  CHECK(j["level"] == "warn");
  CHECK(j["nan"].is_null());
  CHECK(j["inf"].is_null());
}

TEST_CASE("JsonLog with Json fields; debug lines only when enabled") {
  std::string quiet = Capture(false, [](JsonLog& log) {
    log.Debug("hidden", Json{{"a", 1}});
    log.Error("shown", Json{{"a", 1}, {"bad", std::string("\xff")}});
    log.Info("no fields");
  });
  auto nl = quiet.find('\n');
  REQUIRE(nl != std::string::npos);
  auto first = Json::parse(quiet.substr(0, nl));
  CHECK(first["msg"] == "shown");
  CHECK(first["level"] == "error");
  CHECK(first["a"] == 1);
  CHECK(first["bad"] == "\xef\xbf\xbd");
  auto second = Json::parse(quiet.substr(nl + 1));
  CHECK(second["msg"] == "no fields");
  CHECK(second.size() == 3);
  CHECK(quiet.find("hidden") == std::string::npos);

  std::string loud = Capture(true, [](JsonLog& log) { log.Debug("visible", Json{{"a", 1}}); });
  CHECK(Json::parse(loud)["level"] == "debug");
}

TEST_CASE("buffered JsonLog: info lines wait for the flusher, warnings and errors go out at once, in order") {
  char* buf = nullptr;
  size_t len = 0;
  FILE* f = open_memstream(&buf, &len);
  REQUIRE(f != nullptr);
  auto written = [&] {
    std::fflush(f);  // open_memstream updates buf/len on fflush
    return std::string(buf, len);
  };
  {
    JsonLog log(f, false, std::chrono::hours(1));  // the flusher never fires during the test
    log.Info("first");
    log.Info("second", LogFields().Str("k", "v"));
    CHECK(written().empty());
    log.Warn("third");  // written with what was buffered before it
    std::string out = written();
    CHECK(out.find("first") < out.find("second"));
    CHECK(out.find("second") < out.find("third"));
    log.Info("fourth");
    CHECK(written().find("fourth") == std::string::npos);
    log.Flush();
    CHECK(written().find("fourth") != std::string::npos);
    log.Info("fifth");
  }  // the destructor writes what is left
  std::string out = written();
  CHECK(out.find("fifth") != std::string::npos);
  size_t lines = 0;
  for (size_t at = 0; at < out.size();) {
    size_t nl = out.find('\n', at);
    REQUIRE(nl != std::string::npos);
    CHECK_FALSE(Json::parse(out.substr(at, nl - at), nullptr, false).is_discarded());
    ++lines;
    at = nl + 1;
  }
  CHECK(lines == 5);
  std::fclose(f);
  std::free(buf);
}

TEST_CASE("buffered JsonLog: 256 KiB pending wake the flusher before its interval, and it writes every line") {
  char path[] = "/tmp/provgate-json-log-test.XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  FILE* f = fdopen(fd, "w");
  REQUIRE(f != nullptr);
  auto size_on_disk = [&] {
    struct stat st {};
    return stat(path, &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
  };
  {
    JsonLog log(f, false, std::chrono::hours(1));  // the interval never elapses during the test
    std::string big(1000, 'x');
    for (int i = 0; i < 10; ++i) log.Info("line", LogFields().Str("big", big));  // ~10 KB: stays pending
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(size_on_disk() == 0);
    for (int i = 0; i < 290; ++i) log.Info("line", LogFields().Str("big", big));  // ~300 KB > 256 KiB
    // The flusher writes them (the logging thread never does, below 4 MiB).
    for (int i = 0; i < 500 && size_on_disk() < (256u << 10); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(size_on_disk() >= (256u << 10));
  }
  std::fclose(f);
  std::ifstream in(path);
  size_t lines = 0;
  for (std::string line; std::getline(in, line);) {
    CHECK_FALSE(Json::parse(line, nullptr, false).is_discarded());
    ++lines;
  }
  CHECK(lines == 300);
  std::remove(path);
}
