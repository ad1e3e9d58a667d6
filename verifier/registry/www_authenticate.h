// Parsing of WWW-Authenticate challenges (RFC 7235 / RFC 6750 syntax) as
// registries send them (the Docker registry token authentication spec). Pure, thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace provgate {

struct AuthChallenge {
  std::string scheme;  // lowercase: "bearer" or "basic"
  std::map<std::string, std::string> params;  // lowercase names: realm, service, scope, error
};

// Parses the first challenge in a header value, e.g.
// `Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull"`.
// Quoted values may contain commas and backslash escapes. Returns nullopt
// for an empty or unparsable header.
std::optional<AuthChallenge> ParseWwwAuthenticate(std::string_view header);

}  // namespace provgate
