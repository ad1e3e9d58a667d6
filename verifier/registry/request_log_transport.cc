#include "verifier/registry/request_log_transport.h"

#include <array>
#include <string_view>

namespace provgate {
namespace {

// Query parameters whose values are safe to show: the distribution API's
// (pagination, cross-repository mount, referrers filter) and a token
// request's service, scope and account. Anything else -- a presigned
// redirect's signature, an upload's _state, a password some token server
// takes in the query -- is redacted: unknown means possibly secret.
constexpr std::array<std::string_view, 9> kShownParameters = {"service", "scope", "account", "digest", "mount",
                                                               "from",    "n",     "last",    "artifactType"};

bool Shown(std::string_view name) {
  for (auto s : kShownParameters) {
    if (s == name) return true;
  }
  return false;
}

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  if (from.empty() || from == to) return s;
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

}  // namespace

std::string UrlForLog(const std::string& url) {
  std::string out = url;
  // Userinfo: between "://" and the first '@' before the path.
  if (auto scheme = out.find("://"); scheme != std::string::npos) {
    size_t authority = scheme + 3;
    size_t end = out.find_first_of("/?#", authority);
    size_t at = out.rfind('@', end == std::string::npos ? std::string::npos : end);
    if (at != std::string::npos && at >= authority && (end == std::string::npos || at < end)) {
      out.erase(authority, at + 1 - authority);
    }
  }
  out = out.substr(0, out.find('#'));
  auto q = out.find('?');
  if (q == std::string::npos) return out;
  std::string query = out.substr(q + 1), shown;
  out.resize(q + 1);
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    std::string_view pair(query.data() + start, (amp == std::string::npos ? query.size() : amp) - start);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      std::string_view name = pair.substr(0, eq);
      if (!shown.empty()) shown += '&';
      if (Shown(name)) {
        shown += pair;
      } else if (eq == std::string_view::npos) {
        shown += "REDACTED";  // a bare value may be a secret too
      } else {
        shown.append(name).append("=REDACTED");
      }
    }
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return out + shown;
}

RequestLogTransport::RequestLogTransport(std::unique_ptr<HttpTransport> inner, Sink sink, const Clock* clock)
    : inner_(std::move(inner)), sink_(std::move(sink)), clock_(clock ? clock : &steady_) {}

StatusOr<HttpResponse> RequestLogTransport::Send(const HttpRequest& request) {
  const auto start = clock_->Now();
  StatusOr<HttpResponse> response = inner_->Send(request);
  const long long ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_->Now() - start).count();
  const std::string url = UrlForLog(request.url);
  std::string line = request.method + " " + url + " -> ";
  if (response.ok()) {
    line += std::to_string(response->status) + ", " + std::to_string(response->body.size()) + " bytes";
  } else {
    // Transport messages quote the request URL: quoted redacted too.
    line += "failed: " + ReplaceAll(response.status().ToString(), request.url, url);
  }
  line += ", " + std::to_string(ms) + " ms";
  const uint64_t sent = request.body_file.empty() ? request.body.size() : request.body_file_size;
  if (sent > 0) line += ", sent " + std::to_string(sent) + " bytes";
  sink_(line);
  return response;
}

}  // namespace provgate
