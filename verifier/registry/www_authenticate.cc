#include "verifier/registry/www_authenticate.h"

#include <cctype>

namespace provgate {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

std::optional<AuthChallenge> ParseWwwAuthenticate(std::string_view h) {
  size_t i = 0;
  auto skip_ws = [&] {
    while (i < h.size() && (h[i] == ' ' || h[i] == '\t')) ++i;
  };
  skip_ws();
  size_t start = i;
  while (i < h.size() && IsTokenChar(h[i])) ++i;
  if (i == start) return std::nullopt;
  AuthChallenge c;
  c.scheme = Lower(h.substr(start, i - start));
  while (i < h.size()) {
    skip_ws();
    if (i >= h.size()) break;  // trailing whitespace (RFC 7230 OWS) ends the list
    if (h[i] == ',') {
      ++i;
      continue;
    }
    size_t name_start = i;
    while (i < h.size() && IsTokenChar(h[i])) ++i;
    if (i == name_start) return std::nullopt;
    std::string name = Lower(h.substr(name_start, i - name_start));
    skip_ws();
    if (i >= h.size() || h[i] != '=') {
      // A bare token after the scheme (token68) or a second challenge: stop here.
      break;
    }
    ++i;
    skip_ws();
    std::string value;
    if (i < h.size() && h[i] == '"') {
      ++i;
      bool closed = false;
      while (i < h.size()) {
        char ch = h[i++];
        if (ch == '\\' && i < h.size()) {
          value += h[i++];
        } else if (ch == '"') {
          closed = true;
          break;
        } else {
          value += ch;
        }
      }
      if (!closed) return std::nullopt;
    } else {
      size_t v = i;
      while (i < h.size() && IsTokenChar(h[i])) ++i;
      value = std::string(h.substr(v, i - v));
    }
    c.params[name] = value;
  }
  return c;
}

}  // namespace provgate
