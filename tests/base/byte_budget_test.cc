// ByteBudget: a counting semaphore in bytes.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "base/byte_budget.h"

using namespace provgate;

namespace {
Deadline In(int ms) { return std::chrono::steady_clock::now() + std::chrono::milliseconds(ms); }
}  // namespace

TEST_CASE("reservations wait for the bytes to fit, and give them back when destroyed") {
  ByteBudget budget(100, 10);
  auto a = budget.Acquire(60, In(1000));
  REQUIRE(a.ok());
  CHECK(budget.in_use() == 60);
  auto b = budget.Acquire(50, In(50));  // does not fit while `a` is held
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().code() == StatusCode::kDeadlineExceeded);
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    auto c = budget.Acquire(50, In(5000));
    got = c.ok();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(got.load());
  { ByteBudget::Reservation drop = std::move(*a); }  // released here
  waiter.join();
  CHECK(got.load());
  CHECK(budget.in_use() == 0);  // the waiter's reservation died with its thread
}

TEST_CASE("small requests never wait, more than the capacity never fits, 0 is unlimited") {
  ByteBudget budget(100, 10);
  auto big = budget.Acquire(100, In(100));
  REQUIRE(big.ok());
  CHECK(budget.Acquire(10, In(0)).ok());  // small: granted though the budget is full
  auto huge = budget.Acquire(101, In(1000));
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.status().code() == StatusCode::kResourceExhausted);
  ByteBudget unlimited(0, 0);
  CHECK(unlimited.Acquire(size_t{1} << 40, In(0)).ok());
}

TEST_CASE("a moved reservation releases once") {
  ByteBudget budget(100, 0);
  {
    auto a = budget.Acquire(40, In(100));
    REQUIRE(a.ok());
    ByteBudget::Reservation b = std::move(*a);
    ByteBudget::Reservation c;
    c = std::move(b);
    CHECK(c.bytes() == 40);
    CHECK(budget.in_use() == 40);
  }
  CHECK(budget.in_use() == 0);
}
