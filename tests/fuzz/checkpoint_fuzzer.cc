// ParseCheckpoint (C2SP signed note) over arbitrary text. Invariants
// (verifier/transparency_log.h): the signed text is the note's prefix up to
// the blank line and ends with a newline; the body has an origin, a size >= 0
// and a 32-byte root; there are 1..16 signatures with 4-byte key hints; a
// note written back from the parsed parts parses to the same parts. The
// parsed size and root then drive VerifyMerkleInclusion with hashes cut
// from the signatures (hostile indexes and sizes).
#include <string>
#include <vector>

#include "base/encoding.h"
#include "tests/fuzz/fuzz_target.h"
#include "verifier/transparency_log.h"

using namespace provgate;
using provgate::fuzz::FuzzCheck;

PROVGATE_FUZZ_TARGET(checkpoint) {
  auto cp = ParseCheckpoint(input);
  if (!cp.ok()) {
    FuzzCheck(cp.status().code() == StatusCode::kInvalidArgument || cp.status().code() == StatusCode::kResourceExhausted,
              "unexpected status " + cp.status().ToString());
    FuzzCheck(cp.status().message().rfind("tlog checkpoint: ", 0) == 0, "error does not start with the step");
    return;
  }
  FuzzCheck(!cp->signed_text.empty() && cp->signed_text.back() == '\n', "signed text does not end with a newline");
  FuzzCheck(input.substr(0, cp->signed_text.size()) == cp->signed_text, "signed text is not the note's prefix");
  FuzzCheck(input.substr(cp->signed_text.size(), 1) == "\n", "signed text does not end at the blank line");
  FuzzCheck(!cp->origin.empty() && cp->tree_size >= 0 && cp->root_hash.size() == 32, "malformed checkpoint body");
  FuzzCheck(!cp->signatures.empty() && cp->signatures.size() <= 16, "signature count out of bounds");
  std::string note = cp->signed_text + "\n";
  for (const auto& s : cp->signatures) {
    FuzzCheck(s.key_hint.size() == 4 && !s.name.empty(), "malformed signature line");
    note += "\xE2\x80\x94 " + s.name + " " + Base64Encode(s.key_hint + s.signature) + "\n";
  }
  auto again = ParseCheckpoint(note);
  FuzzCheck(again.ok(), "a note written from a parsed checkpoint does not parse: " +
                            (again.ok() ? std::string() : again.status().ToString()));
  FuzzCheck(again->origin == cp->origin && again->tree_size == cp->tree_size && again->root_hash == cp->root_hash &&
                again->signed_text == cp->signed_text && again->signatures.size() == cp->signatures.size(),
            "the rewritten note parses differently");
  for (size_t i = 0; i < cp->signatures.size(); ++i) {
    FuzzCheck(again->signatures[i].name == cp->signatures[i].name &&
                  again->signatures[i].key_hint == cp->signatures[i].key_hint &&
                  again->signatures[i].signature == cp->signatures[i].signature,
              "a signature changed when the note was rewritten");
  }

  std::vector<std::string> hashes;
  for (const auto& s : cp->signatures) {
    if (s.signature.size() >= 32) hashes.push_back(s.signature.substr(0, 32));
  }
  const int64_t size = cp->tree_size;
  for (int64_t index : {int64_t{0}, size / 2, size - 1, size}) {
    bool ok = VerifyMerkleInclusion(cp->origin, index, size, hashes, cp->root_hash);
    if (ok) FuzzCheck(index >= 0 && index < size, "inclusion verified outside the tree");
  }
}
