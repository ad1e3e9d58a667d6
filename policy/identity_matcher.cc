#include "policy/identity_matcher.h"

#include <re2/re2.h>

#include "base/encoding.h"
#include "policy/condition.h"

namespace provgate {
namespace {

// One half of an identity: an exact value or a whole-value pattern.
struct Constraint {
  std::string field;  // "issuer" | "issuerRegExp" | "subject" | "subjectRegExp"
  std::string value;
  std::shared_ptr<const re2::RE2> regex;  // null for an exact value

  bool Matches(const std::string& s) const {
    // RE2::FullMatch anchors at both ends, whatever alternation the pattern holds.
    return regex ? re2::RE2::FullMatch(s, *regex) : s == value;
  }
  std::string Describe() const { return field + " " + Quote(value); }
};

StatusOr<Constraint> Compile(const std::string& exact, const std::string& pattern, const char* exact_name,
                             const char* pattern_name) {
  if (exact.empty() == pattern.empty()) {
    return InvalidArgument(std::string("a keyless identity needs exactly one of ") + exact_name + " and " +
                           pattern_name);
  }
  if (!exact.empty()) return Constraint{exact_name, exact, nullptr};
  ASSIGN_OR_RETURN(auto re, CompileRegex(pattern));
  return Constraint{pattern_name, pattern, std::move(re)};
}

class KeylessIdentityMatcher : public IdentityMatcher {
 public:
  KeylessIdentityMatcher(Constraint issuer, Constraint subject)
      : issuer_(std::move(issuer)), subject_(std::move(subject)) {}

  bool Matches(const std::string& issuer, const std::string& subject) const override {
    return issuer_.Matches(issuer) && subject_.Matches(subject);
  }
  std::string Describe() const override { return issuer_.Describe() + ", " + subject_.Describe(); }

 private:
  Constraint issuer_, subject_;
};

}  // namespace

StatusOr<std::shared_ptr<const IdentityMatcher>> CompileIdentityMatcher(const KeylessIdentity& id) {
  ASSIGN_OR_RETURN(Constraint issuer, Compile(id.issuer, id.issuer_regexp, "issuer", "issuerRegExp"));
  ASSIGN_OR_RETURN(Constraint subject, Compile(id.subject, id.subject_regexp, "subject", "subjectRegExp"));
  return std::shared_ptr<const IdentityMatcher>(
      std::make_shared<const KeylessIdentityMatcher>(std::move(issuer), std::move(subject)));
}

}  // namespace provgate
