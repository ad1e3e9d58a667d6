// A mutex with Clang thread-safety annotations (leveldb's port::Mutex and
// thread_annotations.h in one): under clang -Wthread-safety, members marked
// GUARDED_BY(mu_) may only be touched while mu_ is held, and REQUIRES(mu_)
// functions only called so. Other compilers see plain std::mutex.
// Thread-safe; BasicLockable (works with std::condition_variable_any).
#pragma once

#include <mutex>

#if defined(__clang__)
#define PROVGATE_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define PROVGATE_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) PROVGATE_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY PROVGATE_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) PROVGATE_THREAD_ANNOTATION(guarded_by(x))
#define REQUIRES(...) PROVGATE_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) PROVGATE_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) PROVGATE_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) PROVGATE_THREAD_ANNOTATION(release_capability(__VA_ARGS__))

namespace provgate {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

// Holds `mu` for its scope.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->lock(); }
  ~MutexLock() RELEASE() { mu_->unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

}  // namespace provgate
