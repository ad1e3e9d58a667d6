#include "webhook/json_log.h"

#include <chrono>
#include <ctime>

namespace provgate {

void JsonLog::Write(const char* level, const std::string& msg, Json fields) {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t t = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[96];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  // Built as text: time, level and msg first, then the caller's fields as
  // they are (no copy into a second object).
  std::string text = "{\"time\":\"";
  text += ts;
  text += "\",\"level\":\"";
  text += level;
  text += "\",\"msg\":";
  text += Json(msg).dump(-1, ' ', false, Json::error_handler_t::replace);
  if (fields.is_object() && !fields.empty()) {
    std::string rest = fields.dump(-1, ' ', false, Json::error_handler_t::replace);
    text += ',';
    text.append(rest, 1, std::string::npos);  // drop the opening brace, keep the closing one
  } else {
    text += '}';
  }
  std::lock_guard<std::mutex> l(mu_);
  std::fprintf(out_, "%s\n", text.c_str());
  std::fflush(out_);
}

}  // namespace provgate
