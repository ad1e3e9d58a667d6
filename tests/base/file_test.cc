// ReadFileBounded: the one bounded file reader.
#include "base/file.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <fstream>

#include "tests/test_util.h"

using namespace provgate;
using provgate::testing::TempDir;

TEST_CASE("ReadFileBounded reads regular files up to the bound and refuses the rest with a reason") {
  TempDir dir;
  std::ofstream(dir.File("ok")) << "hello";
  std::ofstream(dir.File("big")) << std::string(101, 'x');
  REQUIRE(::mkfifo(dir.File("fifo").c_str(), 0600) == 0);

  auto ok = ReadFileBounded(dir.File("ok"), 5);
  REQUIRE_MESSAGE(ok.ok(), ok.status().ToString());
  CHECK(*ok == "hello");

  struct Row {
    std::string path;
    size_t max;
    const char* reason;
  };
  const Row rows[] = {
      {dir.File("big"), 100, "larger than 100 bytes"},
      {dir.File("missing"), 100, "No such file or directory"},
      {dir.path(), 100, "Is a directory"},
      // A FIFO would block the reader until someone writes to it (a policy
      // directory holding one stalled the loader): refused at once.
      {dir.File("fifo"), 100, "not a regular file"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.path);
    auto got = ReadFileBounded(r.path, r.max);
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().code() == StatusCode::kInvalidArgument);
    CHECK_MESSAGE(got.status().message().find(r.reason) != std::string::npos, got.status().message());
  }
}
