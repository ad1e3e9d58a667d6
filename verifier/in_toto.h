// in-toto Statements v0.1 and v1 (the in-toto attestation framework). Pure, thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/json_util.h"
#include "base/status.h"

namespace provgate {

inline constexpr char kStatementV01[] = "https://in-toto.io/Statement/v0.1";
inline constexpr char kStatementV1[] = "https://in-toto.io/Statement/v1";

struct StatementSubject {
  std::string name;
  std::map<std::string, std::string> digest;  // algorithm -> lowercase hex
};

struct Statement {
  std::string type;  // one of the two constants above
  std::vector<StatementSubject> subjects;
  std::string predicate_type;
  Json predicate;  // an object (empty when the statement has none)
};

inline constexpr size_t kMaxStatementSubjects = 1024;

// Parses a statement strictly: `_type` must be v0.1 or v1; `subject` a
// non-empty array (at most kMaxStatementSubjects) of objects whose `digest`
// is a non-empty object of string values (v0.1 also requires `name`);
// `predicateType` a non-empty string; `predicate`, when present, an object.
// Unknown fields are ignored, as the spec asks; a key given twice (anywhere)
// or a case variant of a field (Go decoders read those) is refused. Fails
// with InvalidArgument naming the offending field.
StatusOr<Statement> ParseStatement(std::string_view bytes);

// The _type and predicateType of a statement, read without building the
// rest of it: for statements whose signature did not verify, which are named
// in reasons but never trusted, and whose size must not buy a JSON tree.
// Empty strings for what is absent, not a string, or unreadable.
struct StatementTypes {
  std::string type;
  std::string predicate_type;
};
StatementTypes PeekStatementTypes(std::string_view bytes);

// True when some subject's digest set holds `digest` ("sha256:<hex>").
bool StatementCoversDigest(const Statement& st, std::string_view digest);

// Serialises a v1 statement about one artifact digest.
std::string MakeStatementV1(std::string_view subject_name, std::string_view digest,
                            std::string_view predicate_type, const Json& predicate);

}  // namespace provgate
