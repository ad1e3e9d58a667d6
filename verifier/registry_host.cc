#include "verifier/registry_host.h"

#include "base/encoding.h"

namespace provgate {
namespace {

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
char ToLower(char c) { return IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

// distribution's domainNameComponent, joined by dots: [A-Za-z0-9] at both
// ends of every label, '-' inside.
bool IsValidHostName(std::string_view host) {
  if (host.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    std::string_view label = host.substr(start, dot == std::string_view::npos ? host.npos : dot - start);
    if (label.empty() || label.size() > 63 || !IsAlnum(label.front()) || !IsAlnum(label.back())) return false;
    for (char c : label) {
      if (!IsAlnum(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool IsValidIpv6Literal(std::string_view inside) {
  if (inside.size() < 2) return false;
  for (char c : inside) {
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex && c != ':') return false;  // distribution: \[[a-fA-F0-9:]+\], no zone, no IPv4 tail
  }
  return inside.find(':') != std::string_view::npos;
}

}  // namespace

bool IsRegistryHostComponent(std::string_view component) {
  if (component.find_first_of(".:") != std::string_view::npos || component == "localhost") return true;
  for (char c : component) {
    if (IsUpper(c)) return true;
  }
  return false;
}

StatusOr<std::string> CanonicalRegistryHost(std::string_view host) {
  auto fail = [&](std::string_view why) {
    return InvalidArgument("registry " + Quote(host) + " is not a valid host[:port]: " + std::string(why));
  };
  // Split host and port: a bracketed IPv6 literal holds colons of its own.
  std::string_view name = host, port;
  bool has_port = false;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return fail("unclosed '['");
    if (!IsValidIpv6Literal(host.substr(1, close - 1))) return fail("not an IPv6 address in brackets");
    name = host.substr(0, close + 1);
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return fail("text after ']' is not a port");
      port = rest.substr(1);
      has_port = true;
    }
  } else {
    if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
      name = host.substr(0, colon);
      port = host.substr(colon + 1);
      has_port = true;
    }
    if (!IsValidHostName(name)) return fail("a host is DNS labels of letters, digits and '-'");
  }
  std::string out;
  out.reserve(host.size());
  for (char c : name) out += ToLower(c);
  // A host without '.', ':' or brackets that is not "localhost" reads as a
  // host only with its port: "registry/m" is Docker Hub's registry/m. Such
  // a host keeps an explicit port, 443 included, so that its canonical
  // spelling re-parses as the same host ("ACME" -> "acme:443").
  bool reads_as_host = out.front() == '[' || out.find('.') != std::string::npos || out == "localhost";
  unsigned long number = 443;
  if (has_port) {
    if (port.empty() || port.size() > 10 || port.find_first_not_of("0123456789") != std::string_view::npos) {
      return fail("the port is not a number");
    }
    number = std::stoul(std::string(port));
    if (number == 0 || number > 65535) return fail("the port is not between 1 and 65535");
  }
  if (number != 443 || !reads_as_host) out += ":" + std::to_string(number);
  if (out == "index.docker.io" || out == kDockerHubApiHost) out = std::string(kDockerHubHost);
  return out;
}

}  // namespace provgate
