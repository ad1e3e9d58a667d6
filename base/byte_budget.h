// A budget of bytes held in memory at once across threads: a counting
// semaphore in bytes. Attachments are reserved before they are downloaded
// and released when the material holding them is destroyed, so that many
// concurrent verifications of large (hostile) artifacts cannot together
// exceed it. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"

namespace provgate {

class ByteBudget {
 public:
  // `capacity` bytes may be reserved at once; requests of at most
  // `small_bytes` are always granted at once (the callers are bounded in
  // number, so these are too, and a budget full of large artifacts never
  // delays the common small one). capacity 0 = unlimited.
  ByteBudget(size_t capacity, size_t small_bytes);

  // Bytes reserved until it is destroyed. Movable, not copyable.
  class Reservation {
   public:
    Reservation() = default;
    Reservation(Reservation&& other) noexcept;
    Reservation& operator=(Reservation&& other) noexcept;
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;
    ~Reservation();
    size_t bytes() const { return bytes_; }

   private:
    friend class ByteBudget;
    Reservation(ByteBudget* budget, size_t bytes) : budget_(budget), bytes_(bytes) {}
    ByteBudget* budget_ = nullptr;
    size_t bytes_ = 0;
  };

  // Reserves `bytes`, waiting (whenever they fit, not in arrival order)
  // until `deadline`. Fails with ResourceExhausted when `bytes` exceeds the
  // capacity (it could never fit), DeadlineExceeded when the deadline passes
  // first; both messages name the budget.
  StatusOr<Reservation> Acquire(size_t bytes, Deadline deadline);

  size_t capacity() const { return capacity_; }
  size_t in_use() const;  // large reservations held now (small ones are not counted)

 private:
  void Release(size_t bytes);

  const size_t capacity_;
  const size_t small_bytes_;
  mutable Mutex mu_;
  std::condition_variable_any freed_;
  size_t in_use_ GUARDED_BY(mu_) = 0;
};

}  // namespace provgate
