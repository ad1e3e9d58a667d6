// Status and StatusOr<T>: the one error type that crosses module boundaries.
// A Status means "could not decide" (bad input, registry down, a bound
// exceeded); a failed verification is a result, never a Status. Value types,
// thread-compatible.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace provgate {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // malformed input: a reference, a file, a document
  kNotFound,           // the registry says the manifest, tag or blob is absent
  kUnavailable,        // the registry could not be reached or answered garbage
  kDeadlineExceeded,   // a call took longer than its budget
  kResourceExhausted,  // a size or count bound was exceeded
  kPermissionDenied,   // the registry refused our credentials
  kDataLoss,           // content did not match the digest it was fetched by
  kInternal,           // a bug or an unexpected library failure
};

// Short stable name of a code, e.g. "not-found"; used in reasons and logs.
const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<code-name>: <message>", or "ok".
  std::string ToString() const;

  // Returns a copy whose message is "<prefix>: <message>".
  Status WithPrefix(const std::string& prefix) const {
    return Status(code_, prefix + ": " + message_);
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const T& value) : v_(value) {}                    // NOLINT: implicit by design
  StatusOr(T&& value) : v_(std::move(value)) {}              // NOLINT
  StatusOr(Status status) : v_(std::move(status)) {          // NOLINT
    assert(!std::get<Status>(v_).ok() && "StatusOr built from an ok Status");
    if (std::get<Status>(v_).ok()) v_ = Status(StatusCode::kInternal, "StatusOr from ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace provgate

#define PROVGATE_CONCAT_INNER(a, b) a##b
#define PROVGATE_CONCAT(a, b) PROVGATE_CONCAT_INNER(a, b)

// Returns from the enclosing function when `expr` (a Status) is not ok.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::provgate::Status provgate_status_ = (expr);      \
    if (!provgate_status_.ok()) return provgate_status_; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, Foo())` declares x from a StatusOr or returns its Status.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(PROVGATE_CONCAT(provgate_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
