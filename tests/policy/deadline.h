// Runs a parse that may never return (yaml-cpp 0.7's LoadAll on a lone ','
// loops, adding a document per turn) so that it fails the test instead of
// hanging the suite. Also used by tests/webhook/read_manifests_test.cc.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <optional>
#include <string>

namespace provgate::testing {

// The address space this process has mapped, in bytes (0 if unknown).
inline size_t MappedBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long pages = 0;
  if (std::fscanf(f, "%lu", &pages) != 1) pages = 0;
  std::fclose(f);
  return pages * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

// What `run` returns, computed in a child process that SIGALRM ends after
// `seconds` (four times that under a sanitizer, which slows the parse) and
// that may map at most `more_bytes` beyond what this process has mapped
// (not under Address- or ThreadSanitizer, whose shadow memory needs more);
// nullopt when the child did not finish. Past the memory bound an
// allocation fails (std::bad_alloc), which `run` may report.
inline std::optional<std::string> WithinSeconds(unsigned seconds, const std::function<std::string()>& run,
                                                size_t more_bytes = size_t{1} << 30) {
  [[maybe_unused]] const size_t memory_bound = MappedBytes() + more_bytes;  // not under a sanitizer
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    int null = ::open("/dev/null", O_WRONLY);  // not the runner's crash report
    ::dup2(null, 1);
    ::dup2(null, 2);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    rlimit memory{memory_bound, memory_bound};
    ::setrlimit(RLIMIT_AS, &memory);
    ::alarm(seconds);
#else
    ::alarm(4 * seconds);
#endif
    std::string out;
    try {
      out = run();
    } catch (...) {
      ::_exit(2);  // never back into the test runner
    }
    for (size_t done = 0; done < out.size();) {
      ssize_t n = ::write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0) ::_exit(1);
      done += static_cast<size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return out;
}

}  // namespace provgate::testing
