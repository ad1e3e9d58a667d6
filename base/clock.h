// Time: the clock, as an interface so caches with TTLs can be tested with a
// fake, and the deadline every piece of work carries. SteadyClock is
// thread-safe.
#pragma once

#include <chrono>

namespace provgate {

// When a piece of work (a verification, a registry request) must be done.
using Deadline = std::chrono::steady_clock::time_point;

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SteadyClock : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace provgate
