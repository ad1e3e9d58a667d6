// One JSON object per line (SPEC §8): time, level, msg and fields. The
// caller never passes credentials or raw upstream bodies. Thread-safe.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

#include "base/json_util.h"

namespace provgate {

class JsonLog {
 public:
  JsonLog(FILE* out, bool debug) : out_(out), debug_(debug) {}
  void Info(const std::string& msg, Json fields = Json::object()) { Write("info", msg, std::move(fields)); }
  void Warn(const std::string& msg, Json fields = Json::object()) { Write("warn", msg, std::move(fields)); }
  void Error(const std::string& msg, Json fields = Json::object()) { Write("error", msg, std::move(fields)); }
  void Debug(const std::string& msg, Json fields = Json::object()) {
    if (debug_) Write("debug", msg, std::move(fields));
  }

 private:
  void Write(const char* level, const std::string& msg, Json fields);
  FILE* out_;
  bool debug_;
  std::mutex mu_;
};

}  // namespace provgate
