#include "base/byte_budget.h"

#include <string>

namespace provgate {

ByteBudget::ByteBudget(size_t capacity, size_t small_bytes) : capacity_(capacity), small_bytes_(small_bytes) {}

ByteBudget::Reservation::Reservation(Reservation&& other) noexcept : budget_(other.budget_), bytes_(other.bytes_) {
  other.budget_ = nullptr;
  other.bytes_ = 0;
}

ByteBudget::Reservation& ByteBudget::Reservation::operator=(Reservation&& other) noexcept {
  if (this != &other) {
    if (budget_) budget_->Release(bytes_);
    budget_ = other.budget_;
    bytes_ = other.bytes_;
    other.budget_ = nullptr;
    other.bytes_ = 0;
  }
  return *this;
}

ByteBudget::Reservation::~Reservation() {
  if (budget_) budget_->Release(bytes_);
}

StatusOr<ByteBudget::Reservation> ByteBudget::Acquire(size_t bytes, Deadline deadline) {
  if (capacity_ == 0 || bytes <= small_bytes_) return Reservation();
  if (bytes > capacity_) {
    return ResourceExhausted(std::to_string(bytes) + " bytes of attachments exceed the memory budget of " +
                             std::to_string(capacity_) + " bytes");
  }
  MutexLock l(&mu_);
  while (in_use_ + bytes > capacity_) {
    if (freed_.wait_until(mu_, deadline) == std::cv_status::timeout && in_use_ + bytes > capacity_) {
      return DeadlineExceeded("waited for " + std::to_string(bytes) + " bytes of the memory budget (" +
                              std::to_string(capacity_) + " bytes, " + std::to_string(in_use_) + " in use)");
    }
  }
  in_use_ += bytes;
  return Reservation(this, bytes);
}

void ByteBudget::Release(size_t bytes) {
  {
    MutexLock l(&mu_);
    in_use_ -= bytes;
  }
  freed_.notify_all();
}

size_t ByteBudget::in_use() const {
  MutexLock l(&mu_);
  return in_use_;
}

}  // namespace provgate
