// Replays every committed fuzz finding (tests/fuzz/regressions/<name>/<id>)
// and seed (tests/fuzz/corpus/<name>/*) through the body of harness <name>,
// as the fuzzer ran it; a violated invariant fails with the input's path. A
// finding becomes a row by adding its minimised input as
// regressions/<name>/<id>; while it is open (reported, not fixed) it is also
// listed in kOpenFindings (fuzz_target.h) and must still show here
// (tests/fuzz/README.md).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_target.h"

namespace provgate::fuzz {
namespace {

std::map<std::string, FuzzBody>& Bodies() {
  static std::map<std::string, FuzzBody> bodies;
  return bodies;
}

std::string Read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Replays `f` through `body`. Returns the violation, or "" when every
// invariant held.
std::string Replay(FuzzBody body, const std::filesystem::path& f) {
  const std::string data = Read(f);
  CurrentInputName() = f.string();
  std::string violated;
  try {
    body(data);
  } catch (const FuzzViolation& v) {
    violated = v.what.empty() ? "(no message)" : v.what;
  }
  CurrentInputName().clear();
  return violated;
}

// Every file under `dir`/<name>/, sorted, by harness name.
std::map<std::string, std::vector<std::filesystem::path>> Inputs(const std::filesystem::path& dir) {
  std::map<std::string, std::vector<std::filesystem::path>> out;
  if (!std::filesystem::is_directory(dir)) return out;
  for (const auto& h : std::filesystem::directory_iterator(dir)) {
    if (!h.is_directory()) continue;
    auto& files = out[h.path().filename().string()];
    for (const auto& f : std::filesystem::directory_iterator(h.path())) {
      if (f.is_regular_file()) files.push_back(f.path());
    }
    std::sort(files.begin(), files.end());
  }
  return out;
}

}  // namespace

bool RegisterFuzzBody(const char* name, FuzzBody body) {
  Bodies()[name] = body;
  return true;
}

FuzzBody FindFuzzBody(std::string_view name) {
  auto it = Bodies().find(std::string(name));
  return it == Bodies().end() ? nullptr : it->second;
}

}  // namespace provgate::fuzz

using provgate::fuzz::Bodies;

TEST_CASE("every harness has a seed corpus, and every seed replays") {
  const std::filesystem::path corpus = std::filesystem::path(PROVGATE_SOURCE_DIR) / "tests/fuzz/corpus";
  REQUIRE(Bodies().size() == 16);
  auto inputs = provgate::fuzz::Inputs(corpus);
  size_t replayed = 0;
  for (const auto& [name, body] : Bodies()) {
    CAPTURE(name);
    CHECK(!inputs[name].empty());
    for (const auto& f : inputs[name]) {
      std::string violated = provgate::fuzz::Replay(body, f);
      // The fuzzers tolerate open findings, so the corpus may hold inputs that show them.
      if (!violated.empty() && provgate::fuzz::FindOpenFinding(violated)) violated.clear();
      CHECK_MESSAGE(violated.empty(), f.string() << ": " << violated);
      ++replayed;
    }
  }
  CHECK(replayed > 0);
  CHECK(inputs.size() == Bodies().size());  // no corpus directory without a harness
}

TEST_CASE("every committed fuzz finding replays: fixed ones hold, open ones still show") {
  const std::filesystem::path dir = std::filesystem::path(PROVGATE_SOURCE_DIR) / "tests/fuzz/regressions";
  for (const auto& [name, files] : provgate::fuzz::Inputs(dir)) {
    CAPTURE(name);
    provgate::fuzz::FuzzBody body = provgate::fuzz::FindFuzzBody(name);
    REQUIRE_MESSAGE((body != nullptr), "no harness named " << name);
    for (const auto& f : files) {
      const std::string id = f.filename().string().substr(0, f.filename().string().find('.'));
      const provgate::fuzz::OpenFinding* open = nullptr;
      for (const auto& o : provgate::fuzz::kOpenFindings) {
        if (id == o.id && name == o.harness) open = &o;
      }
      std::string violated = provgate::fuzz::Replay(body, f);
      if (open) {
        // Fixed? Then remove it from kOpenFindings (tests/fuzz/fuzz_target.h): it becomes an ordinary regression row.
        CHECK_MESSAGE(violated.rfind(open->message_prefix, 0) == 0,
                      f.string() << " no longer shows open finding " << open->id << " (" << violated << ")");
      } else {
        CHECK_MESSAGE(violated.empty(), f.string() << ": " << violated);
      }
    }
  }
  for (const auto& o : provgate::fuzz::kOpenFindings) {
    CAPTURE(o.id);
    CHECK(std::filesystem::exists(dir / o.harness / o.id));
  }
}
