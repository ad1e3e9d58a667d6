#include "webhook/server/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

namespace provgate {
namespace {

std::string Fmt(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

void Gauge(std::string* out, const char* name, const char* type, const char* help, std::optional<double> v) {
  if (!v) return;
  *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " + Fmt(*v) +
          "\n";
}

// The fields of /proc/self/stat after the command, which is in parentheses
// and may itself hold spaces and parentheses (proc(5)): split after the
// last ')'. Field 3 (state) is element 0.
std::vector<std::string> StatFields(const std::string& proc_self) {
  std::ifstream in(proc_self + "/stat");
  std::string line;
  std::getline(in, line);
  size_t close = line.rfind(')');
  std::vector<std::string> fields;
  if (close == std::string::npos) return fields;
  std::istringstream rest(line.substr(close + 1));
  for (std::string f; rest >> f;) fields.push_back(f);
  return fields;
}

std::optional<double> Field(const std::vector<std::string>& fields, size_t proc5_number) {
  size_t i = proc5_number - 3;
  if (i >= fields.size()) return std::nullopt;
  try {
    return std::stod(fields[i]);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// "Name:   value" of /proc/self/status, as a number.
std::optional<double> StatusValue(const std::string& proc_self, const std::string& key) {
  std::ifstream in(proc_self + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, key.size() + 1, key + ":") != 0) continue;
    try {
      return std::stod(line.substr(key.size() + 1));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<double> BootTime(const std::string& proc_stat) {
  std::ifstream in(proc_stat);
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, 6, "btime ") == 0) {
      try {
        return std::stod(line.substr(6));
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

std::optional<double> OpenFds(const std::string& proc_self) {
  DIR* dir = opendir((proc_self + "/fd").c_str());
  if (!dir) return std::nullopt;
  double n = 0;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  // Our own listing holds one descriptor, the directory's.
  return proc_self == "/proc/self" ? n - 1 : n;
}

}  // namespace

void AppendProcessMetrics(std::string* out, const std::string& proc_self, const std::string& proc_stat) {
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  std::vector<std::string> stat = StatFields(proc_self);
  // proc(5): 14 utime, 15 stime (clock ticks), 20 num_threads, 22 starttime
  // (ticks after boot), 23 vsize (bytes), 24 rss (pages).
  std::optional<double> utime = Field(stat, 14), stime = Field(stat, 15);
  std::optional<double> cpu;
  if (utime && stime && ticks > 0) cpu = (*utime + *stime) / ticks;
  std::optional<double> start, boot = BootTime(proc_stat), since_boot = Field(stat, 22);
  if (boot && since_boot && ticks > 0) start = *boot + *since_boot / ticks;
  std::optional<double> rss = Field(stat, 24);
  if (rss) *rss *= page;
  std::optional<double> max_fds;
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
    max_fds = static_cast<double>(files.rlim_cur);
  }
  std::optional<double> threads = StatusValue(proc_self, "Threads");
  if (!threads) threads = Field(stat, 20);

  Gauge(out, "process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.", cpu);
  Gauge(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", rss);
  Gauge(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", Field(stat, 23));
  Gauge(out, "process_open_fds", "gauge", "Open file descriptors.", OpenFds(proc_self));
  Gauge(out, "process_max_fds", "gauge", "The soft limit on open file descriptors.", max_fds);
  Gauge(out, "process_threads", "gauge", "Operating system threads in the process.", threads);
  Gauge(out, "process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.",
        start);
}

}  // namespace provgate
