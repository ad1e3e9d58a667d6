// The shape every harness in tests/fuzz has: one body per target, written
// once and compiled twice -- as a libFuzzer target (fuzz_<name>, clang,
// PROVGATE_LIBFUZZER defined) and into fuzz_regressions_test (gcc, the
// normal build), which replays tests/fuzz/regressions/<name>/* and the
// committed corpus through the same body. Invariants are checked with
// FuzzCheck: a crash for libFuzzer, a failed check for the regression test.
// Not thread-safe: one input at a time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace provgate::fuzz {

using FuzzBody = void (*)(std::string_view input);

// The input being replayed (the regression test sets it), named when a check fails.
inline std::string& CurrentInputName() {
  static std::string name;
  return name;
}

// A finding reported and not yet fixed (tests/fuzz/README.md, "Findings"):
// its invariant message starts with `message_prefix`; its minimised input is
// tests/fuzz/regressions/<harness>/<id>.
struct OpenFinding {
  const char* id;
  const char* harness;
  const char* message_prefix;
};
// None open at this commit: the three of the first campaign (non-UTF-8
// text in policies, manifests and a registry's digest header) are fixed and
// replay as ordinary rows.
inline constexpr std::array<OpenFinding, 0> kOpenFindings{};

inline const OpenFinding* FindOpenFinding(std::string_view what) {
  for (const auto& f : kOpenFindings) {
    if (what.substr(0, std::string_view(f.message_prefix).size()) == f.message_prefix) return &f;
  }
  return nullptr;
}

// An invariant violated by the input being replayed (regression test only).
struct FuzzViolation {
  std::string what;
};

// Reports that an invariant of a parser or a pipeline stage does not hold
// for this input, unless `ok`. Under libFuzzer it aborts (the fuzzer saves
// the input) -- except for open findings, which are tolerated so a campaign
// goes on past them (PROVGATE_FUZZ_STRICT=1 aborts on those too). In the
// regression test it throws FuzzViolation.
inline void FuzzCheck(bool ok, std::string_view what) {
  if (ok) return;
#ifdef PROVGATE_LIBFUZZER
  if (FindOpenFinding(what) && !std::getenv("PROVGATE_FUZZ_STRICT")) return;
  std::fprintf(stderr, "fuzz invariant violated: %.*s\n", static_cast<int>(what.size()), what.data());
  if (!CurrentInputName().empty()) std::fprintf(stderr, "input: %s\n", CurrentInputName().c_str());
  std::fflush(stderr);
  std::abort();
#else
  throw FuzzViolation{std::string(what)};
#endif
}

// Registers `body` under `name` for the regression test; returns true.
bool RegisterFuzzBody(const char* name, FuzzBody body);
// The body registered under `name`, or null.
FuzzBody FindFuzzBody(std::string_view name);

}  // namespace provgate::fuzz

#ifdef PROVGATE_LIBFUZZER
#define PROVGATE_FUZZ_ENTRY(name, fn)                                         \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { \
    fn(std::string_view(reinterpret_cast<const char*>(data), size));        \
    return 0;                                                               \
  }
#else
#define PROVGATE_FUZZ_ENTRY(name, fn) \
  [[maybe_unused]] static const bool fn##_registered = ::provgate::fuzz::RegisterFuzzBody(#name, &fn);
#endif

// PROVGATE_FUZZ_TARGET(reference) { ... input ... } defines the body of
// target `reference` over `std::string_view input`.
#define PROVGATE_FUZZ_TARGET(name)                        \
  static void ProvgateFuzzBody_##name(std::string_view input); \
  PROVGATE_FUZZ_ENTRY(name, ProvgateFuzzBody_##name)      \
  static void ProvgateFuzzBody_##name(std::string_view input)
