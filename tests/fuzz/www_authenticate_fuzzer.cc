// ParseWwwAuthenticate over arbitrary header values. Invariants
// (verifier/registry/www_authenticate.h): scheme and parameter names are
// lowercase tokens; a challenge written back (every value quoted, with
// backslash escapes) parses to the same challenge, also when a second
// challenge follows it (only the first is read).
#include <cctype>
#include <string>

#include "tests/fuzz/fuzz_target.h"
#include "verifier/registry/www_authenticate.h"

using namespace provgate;
using provgate::fuzz::FuzzCheck;

namespace {

bool LowerToken(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (std::isupper(c) || c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || c == '=') return false;
  }
  return true;
}

std::string Write(const AuthChallenge& c) {
  std::string out = c.scheme;
  bool first = true;
  for (const auto& [name, value] : c.params) {
    out += first ? " " : ", ";
    first = false;
    out += name + "=\"";
    for (char ch : value) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out;
}

bool Same(const std::optional<AuthChallenge>& a, const AuthChallenge& b) {
  return a && a->scheme == b.scheme && a->params == b.params;
}

}  // namespace

PROVGATE_FUZZ_TARGET(www_authenticate) {
  auto c = ParseWwwAuthenticate(input);
  if (!c) return;
  FuzzCheck(LowerToken(c->scheme), "scheme is not a lowercase token: " + c->scheme);
  for (const auto& [name, value] : c->params) FuzzCheck(LowerToken(name), "parameter name is not a lowercase token");
  const std::string written = Write(*c);
  FuzzCheck(Same(ParseWwwAuthenticate(written), *c), "a written challenge parses differently: " + written);
  FuzzCheck(Same(ParseWwwAuthenticate(written + ", Basic realm=\"other\""), *c),
            "a second challenge changes the first: " + written);
}
