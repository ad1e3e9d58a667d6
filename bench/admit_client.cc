// bench_admit: sends AdmissionReviews to an admission server over HTTPS and
// checks each answer (HTTP 200, uid echoed, `allowed` as expected). The body
// is a template file in which @@REF@@ is replaced by a model reference and
// @@UID@@ by a fresh uid. Request i uses reference i % (number of refs).
// All connections start together (a latch), so --connections 1000 --fresh
// sends 1,000 reviews at once, one per new TLS connection, the way a burst
// of pod creations reaches a webhook. Prints one JSON line of results.
//
//   bench_admit --port P --ca CA.pem --template review.json
//     (--ref REF | --refs FILE) [--requests N] [--connections C] [--fresh]
//     [--expect allowed|denied|any] [--label NAME] [--host 127.0.0.1]
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <latch>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Json = nlohmann::json;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void ReplaceAll(std::string* s, const std::string& from, const std::string& to) {
  for (size_t pos = s->find(from); pos != std::string::npos; pos = s->find(from, pos + to.size())) {
    s->replace(pos, from.size(), to);
  }
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

struct Outcome {
  std::vector<double> latencies_ms;
  long allowed = 0, denied = 0, http_errors = 0, transport_errors = 0, bad_answers = 0;
  std::string first_problem;
};

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1", ca, template_file, ref, refs_file, expect = "allowed", label = "admit";
  int port = 0;
  long requests = -1, connections = 1;
  bool fresh = false;
  for (int i = 1; i < argc; ++i) {
    std::string f = argv[i];
    if (f == "--fresh") {
      fresh = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "bench_admit: %s needs a value\n", f.c_str());
      return 2;
    }
    std::string v = argv[++i];
    if (f == "--host") host = v;
    else if (f == "--port") port = std::atoi(v.c_str());
    else if (f == "--ca") ca = v;
    else if (f == "--template") template_file = v;
    else if (f == "--ref") ref = v;
    else if (f == "--refs") refs_file = v;
    else if (f == "--requests") requests = std::atol(v.c_str());
    else if (f == "--connections") connections = std::atol(v.c_str());
    else if (f == "--expect") expect = v;
    else if (f == "--label") label = v;
    else {
      std::fprintf(stderr, "bench_admit: unknown flag %s\n", f.c_str());
      return 2;
    }
  }
  std::vector<std::string> refs;
  if (!ref.empty()) refs.push_back(ref);
  if (!refs_file.empty()) {
    std::ifstream in(refs_file);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) refs.push_back(line);
    }
  }
  std::string body_template = ReadFile(template_file);
  if (port <= 0 || ca.empty() || body_template.empty() || refs.empty() || connections <= 0) {
    std::fprintf(stderr, "bench_admit: missing flags (see the header of bench/admit_client.cc)\n");
    return 2;
  }
  if (requests < 0) requests = static_cast<long>(refs.size());

  std::atomic<long> next{0};
  std::latch start_line(connections + 1);
  std::mutex mu;
  Outcome total;
  auto make_client = [&] {
    auto c = std::make_unique<httplib::SSLClient>(host, port);
    c->set_ca_cert_path(ca.c_str());
    c->enable_server_certificate_verification(true);
    c->set_keep_alive(!fresh);
    c->set_tcp_nodelay(true);
    c->set_connection_timeout(30, 0);
    c->set_read_timeout(60, 0);
    c->set_write_timeout(30, 0);
    return c;
  };
  auto worker = [&] {
    Outcome o;
    std::unique_ptr<httplib::SSLClient> client;
    start_line.arrive_and_wait();
    for (long i = next++; i < requests; i = next++) {
      std::string uid = "bench-" + std::to_string(i);
      std::string body = body_template;
      ReplaceAll(&body, "@@REF@@", refs[static_cast<size_t>(i) % refs.size()]);
      ReplaceAll(&body, "@@UID@@", uid);
      if (!client || fresh) client = make_client();  // fresh: connect and handshake per request
      auto t0 = std::chrono::steady_clock::now();
      auto res = client->Post("/validate", body, "application/json");
      o.latencies_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      std::string problem;
      if (!res) {
        ++o.transport_errors;
        problem = "transport error " + httplib::to_string(res.error());
      } else if (res->status != 200) {
        ++o.http_errors;
        problem = "HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 200);
      } else {
        Json j = Json::parse(res->body, nullptr, false);
        const Json* r = j.is_object() && j.contains("response") ? &j["response"] : nullptr;
        if (!r || !r->is_object() || r->value("uid", "") != uid || !r->contains("allowed") ||
            !(*r)["allowed"].is_boolean()) {
          ++o.bad_answers;
          problem = "malformed answer: " + res->body.substr(0, 200);
        } else if ((*r)["allowed"].get<bool>()) {
          ++o.allowed;
          if (expect == "denied") problem = "allowed, expected denied";
        } else {
          ++o.denied;
          if (expect == "allowed") problem = "denied, expected allowed: " + r->dump().substr(0, 300);
        }
      }
      if (!problem.empty() && o.first_problem.empty()) o.first_problem = problem;
    }
    std::lock_guard<std::mutex> l(mu);
    total.latencies_ms.insert(total.latencies_ms.end(), o.latencies_ms.begin(), o.latencies_ms.end());
    total.allowed += o.allowed;
    total.denied += o.denied;
    total.http_errors += o.http_errors;
    total.transport_errors += o.transport_errors;
    total.bad_answers += o.bad_answers;
    if (total.first_problem.empty()) total.first_problem = o.first_problem;
  };
  std::vector<std::thread> threads;
  for (long t = 0; t < connections; ++t) threads.emplace_back(worker);
  auto t0 = std::chrono::steady_clock::now();
  start_line.arrive_and_wait();
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  auto& lat = total.latencies_ms;
  std::sort(lat.begin(), lat.end());
  Json out = {{"label", label},
              {"requests", requests},
              {"connections", connections},
              {"fresh_connections", fresh},
              {"allowed", total.allowed},
              {"denied", total.denied},
              {"http_errors", total.http_errors},
              {"transport_errors", total.transport_errors},
              {"bad_answers", total.bad_answers},
              {"seconds", secs},
              {"rps", secs > 0 ? static_cast<double>(requests) / secs : 0},
              {"p50_ms", Percentile(lat, 0.50)},
              {"p90_ms", Percentile(lat, 0.90)},
              {"p99_ms", Percentile(lat, 0.99)},
              {"max_ms", lat.empty() ? 0 : lat.back()}};
  if (!total.first_problem.empty()) out["first_problem"] = total.first_problem;
  std::printf("%s\n", out.dump().c_str());
  bool as_expected = total.http_errors == 0 && total.transport_errors == 0 && total.bad_answers == 0 &&
                     (expect == "any" || (expect == "allowed" ? total.denied == 0 : total.allowed == 0));
  return as_expected ? 0 : 1;
}
