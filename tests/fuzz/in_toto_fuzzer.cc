// ParseStatement and PeekStatementTypes over arbitrary bytes. Invariants
// (verifier/in_toto.h): what the statement parser accepts the peek reads the
// same way (_type, predicateType); every subject digest is covered
// (StatementCoversDigest); a statement rebuilt with MakeStatementV1 from a
// subject and the predicate parses back to them.
#include <string>

#include "tests/fuzz/fuzz_target.h"
#include "verifier/in_toto.h"

using namespace provgate;
using provgate::fuzz::FuzzCheck;

PROVGATE_FUZZ_TARGET(in_toto) {
  StatementTypes peek = PeekStatementTypes(input);
  auto st = ParseStatement(input);
  if (!st.ok()) {
    FuzzCheck(st.status().code() == StatusCode::kInvalidArgument || st.status().code() == StatusCode::kResourceExhausted,
              "unexpected status " + st.status().ToString());
    return;
  }
  FuzzCheck(st->type == kStatementV01 || st->type == kStatementV1, "accepted an unknown _type");
  FuzzCheck(peek.type == st->type, "PeekStatementTypes reads another _type: " + peek.type);
  FuzzCheck(peek.predicate_type == st->predicate_type, "PeekStatementTypes reads another predicateType");
  FuzzCheck(!st->subjects.empty() && st->subjects.size() <= kMaxStatementSubjects, "subject count out of bounds");
  FuzzCheck(st->predicate.is_object(), "predicate is not an object");
  for (const auto& s : st->subjects) {
    FuzzCheck(!s.digest.empty(), "a subject without digests");
    for (const auto& [alg, hex] : s.digest) {
      FuzzCheck(!alg.empty(), "a digest with an empty algorithm name");
      if (alg.find(':') != std::string::npos) continue;  // "alg:hex" cannot name it
      FuzzCheck(StatementCoversDigest(*st, alg + ":" + hex), "a subject digest is not covered: " + alg);
    }
  }
  const StatementSubject& first = st->subjects[0];
  const auto& [alg, hex] = *first.digest.begin();
  if (alg.find(':') != std::string::npos) return;
  auto rebuilt = ParseStatement(MakeStatementV1(first.name, alg + ":" + hex, st->predicate_type, st->predicate));
  FuzzCheck(rebuilt.ok(), "MakeStatementV1 output does not parse: " +
                              (rebuilt.ok() ? std::string() : rebuilt.status().ToString()));
  FuzzCheck(rebuilt->type == kStatementV1 && rebuilt->predicate_type == st->predicate_type &&
                rebuilt->predicate == st->predicate,
            "MakeStatementV1 round trip changed type, predicateType or predicate");
  FuzzCheck(rebuilt->subjects.size() == 1 && rebuilt->subjects[0].name == first.name &&
                rebuilt->subjects[0].digest.size() == 1 && rebuilt->subjects[0].digest.begin()->second == hex,
            "MakeStatementV1 round trip changed the subject");
}
