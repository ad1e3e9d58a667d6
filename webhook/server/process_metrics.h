// The standard process_* metrics of the Prometheus client libraries, read
// from procfs at each scrape (Linux only). Thread-safe: no state.
#pragma once

#include <string>

namespace provgate {

// Appends process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds,
// process_threads and process_start_time_seconds, in the text exposition
// format, read from `proc_self` (/proc/self) and `proc_stat` (/proc/stat,
// for the boot time). A value that cannot be read is left out, never
// reported as 0; nothing fails.
void AppendProcessMetrics(std::string* out, const std::string& proc_self = "/proc/self",
                          const std::string& proc_stat = "/proc/stat");

}  // namespace provgate
