// Small helpers for tests: temporary directories, files, and running
// commands. Not for production code.
#pragma once

#include <string>

namespace provgate::testing {

// A fresh directory under $TMPDIR, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout (and stderr when merged by the command)
};

// Runs `command` through /bin/sh and captures stdout.
CommandResult RunCommand(const std::string& command);

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& data);

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

// Test data under tests/testdata.
std::string TestData(const std::string& relative);

// Recorded OpenSSF model-signing output (model.sig files with the model
// files they sign, the signing key, the public-good trusted root):
// $PROVGATE_OMS_FIXTURES, else tests/testdata/oms (its SOURCES.md says where
// each file came from). Empty when the directory is missing; tests that
// need it then skip with a message.
std::string OmsFixtureDir();

}  // namespace provgate::testing
