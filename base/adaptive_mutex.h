// A mutex for critical sections of a few hundred nanoseconds taken by many
// threads on few cores: glibc's adaptive mutex spins briefly while the
// holder runs on another core before it sleeps in the kernel, where
// std::mutex sleeps at once (a futex call and two context switches for a
// wait shorter than either). BasicLockable and Lockable; use it with
// std::lock_guard, std::unique_lock and std::condition_variable_any.
#pragma once

#include <pthread.h>

namespace provgate {

class AdaptiveMutex {
 public:
  AdaptiveMutex() {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&mu_, &attr);
    pthread_mutexattr_destroy(&attr);
  }
  ~AdaptiveMutex() { pthread_mutex_destroy(&mu_); }
  AdaptiveMutex(const AdaptiveMutex&) = delete;
  AdaptiveMutex& operator=(const AdaptiveMutex&) = delete;

  void lock() { pthread_mutex_lock(&mu_); }
  bool try_lock() { return pthread_mutex_trylock(&mu_) == 0; }
  void unlock() { pthread_mutex_unlock(&mu_); }

 private:
  pthread_mutex_t mu_;
};

}  // namespace provgate
