#include "verifier/registry/curl_transport.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace provgate {
namespace {

std::once_flag g_curl_init;

struct ShareLocks {
  std::mutex locks[CURL_LOCK_DATA_LAST];
};

void LockShare(CURL*, curl_lock_data data, curl_lock_access, void* user) {
  static_cast<ShareLocks*>(user)->locks[data].lock();
}
void UnlockShare(CURL*, curl_lock_data data, void* user) {
  static_cast<ShareLocks*>(user)->locks[data].unlock();
}

// Response headers a registry may send, all header lines together. libcurl
// caps one line at 100 KiB; only patched 7.88 builds (CVE-2023-38039) cap
// their sum. Registries send a few KiB.
constexpr size_t kMaxHeaderBytes = 256 << 10;

// max_response_bytes bounds what a request asks for (a 2xx body). Any other
// answer (an error, a 429, a redirect) may be read up to at least this much,
// so that a registry's 503 with a 90-byte JSON body to a 28-byte blob
// request is reported as the 503 it is, not as the blob exceeding its size.
constexpr size_t kMaxOtherBodyBytes = 64 << 10;

struct Transfer {
  const HttpRequest* request;
  HttpResponse* response;
  int status = 0;  // of the last status line seen
  bool too_large = false;
  bool headers_too_large = false;
  size_t header_bytes = 0;
  FILE* upload = nullptr;

  bool Success() const { return status >= 200 && status < 300; }
  size_t BodyLimit() const {
    return Success() ? request->max_response_bytes : std::max(request->max_response_bytes, kMaxOtherBodyBytes);
  }
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  t->header_bytes += size * n;  // all header sets of the transfer (100-continue, proxy) together
  if (t->header_bytes > kMaxHeaderBytes) {
    t->headers_too_large = true;
    return 0;
  }
  std::string line(data, size * n);
  // A new status line (after 100-continue or a proxy) starts a new header set.
  if (line.rfind("HTTP/", 0) == 0) {
    t->response->headers.clear();
    auto sp = line.find(' ');
    t->status = sp == std::string::npos ? 0 : std::atoi(line.c_str() + sp + 1);
    return size * n;
  }
  auto colon = line.find(':');
  if (colon == std::string::npos) return size * n;
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string value = line.substr(colon + 1);
  auto b = value.find_first_not_of(" \t");
  auto e = value.find_last_not_of(" \t\r\n");
  value = b == std::string::npos ? "" : value.substr(b, e - b + 1);
  if (name == "content-length" && t->request->method != "HEAD") {
    char* end = nullptr;
    unsigned long long len = std::strtoull(value.c_str(), &end, 10);
    if (end != value.c_str() && len > t->BodyLimit()) {
      t->too_large = true;
      return 0;  // abort before reading the body
    }
  }
  if (t->response->headers.size() < 256) t->response->headers.emplace(std::move(name), std::move(value));
  return size * n;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  if (t->response->body.size() + len > t->BodyLimit()) {
    t->too_large = true;
    return 0;
  }
  t->response->body.append(data, len);
  return len;
}

int OnProgress(void*, curl_off_t, curl_off_t, curl_off_t ultotal, curl_off_t ulnow) {
  if (ultotal > 0) {
    std::fprintf(stderr, "\r  uploading %3d%% (%lld / %lld bytes)", static_cast<int>(ulnow * 100 / ultotal),
                 static_cast<long long>(ulnow), static_cast<long long>(ultotal));
    if (ulnow == ultotal) std::fprintf(stderr, "\n");
  }
  return 0;
}

}  // namespace

struct CurlTransport::Impl {
  CURLSH* share = nullptr;
  ShareLocks locks;
  std::mutex pool_mu;
  std::vector<CURL*> pool;

  CURL* Acquire() {
    {
      std::lock_guard<std::mutex> l(pool_mu);
      if (!pool.empty()) {
        CURL* h = pool.back();
        pool.pop_back();
        curl_easy_reset(h);  // keeps the connection cache
        return h;
      }
    }
    return curl_easy_init();
  }
  void Release(CURL* h) {
    std::lock_guard<std::mutex> l(pool_mu);
    if (pool.size() < 256) {  // about the peak number of concurrent requests
      pool.push_back(h);
    } else {
      curl_easy_cleanup(h);
    }
  }
};

CurlTransport::CurlTransport() : impl_(std::make_unique<Impl>()) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->share = curl_share_init();
  curl_share_setopt(impl_->share, CURLSHOPT_LOCKFUNC, LockShare);
  curl_share_setopt(impl_->share, CURLSHOPT_UNLOCKFUNC, UnlockShare);
  curl_share_setopt(impl_->share, CURLSHOPT_USERDATA, &impl_->locks);
  curl_share_setopt(impl_->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(impl_->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  // Not CURL_LOCK_DATA_CONNECT: libcurl documents that sharing the connection
  // cache between concurrent threads is unsafe (it corrupted the heap under
  // parallel verifications here). Each pooled easy handle keeps its own
  // connections instead, and handles are reused, so connections still are.
}

CurlTransport::~CurlTransport() {
  for (CURL* h : impl_->pool) curl_easy_cleanup(h);
  curl_share_cleanup(impl_->share);
}

StatusOr<HttpResponse> CurlTransport::Send(const HttpRequest& req) {
  using namespace std::chrono;
  auto remaining = duration_cast<milliseconds>(req.deadline - steady_clock::now()).count();
  if (remaining <= 0) return DeadlineExceeded("no time left before " + req.method + " " + req.url);

  HttpResponse resp;
  Transfer t{&req, &resp};
  CURL* h = impl_->Acquire();
  if (!h) return Internal("curl_easy_init failed");

  curl_easy_setopt(h, CURLOPT_SHARE, impl_->share);
  curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(h, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
  if (!req.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, req.ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(remaining));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<long long>(remaining, 5000)));
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "provgate/0.1");
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  if (req.method != "HEAD") {
    // libcurl applies this to every answer; the status-aware bound is OnHeader's and OnBody's.
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(std::max(req.max_response_bytes, kMaxOtherBodyBytes)));
  }

  curl_slist* headers = nullptr;
  for (const auto& [k, v] : req.headers) headers = curl_slist_append(headers, (k + ": " + v).c_str());
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

  if (req.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (!req.body_file.empty()) {
    t.upload = std::fopen(req.body_file.c_str(), "rb");
    if (!t.upload) {
      curl_slist_free_all(headers);
      impl_->Release(h);
      return InvalidArgument("cannot open " + req.body_file);
    }
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READDATA, t.upload);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body_file_size));
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    if (req.show_progress && isatty(STDERR_FILENO)) {
      curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, OnProgress);
    }
  } else if (req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  } else if (req.method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }

  CURLcode rc = curl_easy_perform(h);
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(headers);
  if (t.upload) std::fclose(t.upload);
  impl_->Release(h);

  if (t.headers_too_large) {
    return ResourceExhausted("response headers to " + req.method + " " + req.url + " exceed " +
                             std::to_string(kMaxHeaderBytes) + " bytes");
  }
  if ((t.too_large || rc == CURLE_FILESIZE_EXCEEDED) && t.status != 0 && !t.Success()) {
    // Not the content asked for being too big: the registry failing, at length.
    return Unavailable(req.method + " " + req.url + " answered HTTP " + std::to_string(t.status) +
                       " with a body over " + std::to_string(t.BodyLimit()) + " bytes");
  }
  if (t.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    return ResourceExhausted("response to " + req.method + " " + req.url + " exceeds the limit of " +
                             std::to_string(req.max_response_bytes) + " bytes");
  }
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return DeadlineExceeded(req.method + " " + req.url + " timed out");
  }
  if (rc != CURLE_OK) {
    return Unavailable(req.method + " " + req.url + " failed: " + curl_easy_strerror(rc));
  }
  resp.status = static_cast<int>(code);
  return resp;
}

}  // namespace provgate
