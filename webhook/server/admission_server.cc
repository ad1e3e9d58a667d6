#include "webhook/server/admission_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>

#include "webhook/server/admission_review.h"

namespace provgate {
namespace {

// Mode label for metrics: which enforcement mode produced the object's decision.
std::pair<std::string, std::string> DecisionLabels(const ObjectDecision& d) {
  if (!d.allowed) return {"deny", "enforce"};
  if (!d.warnings.empty()) return {"warn", "warn"};
  if (d.AnyAudit()) return {"audit", "audit"};
  return {"allow", "none"};
}

}  // namespace

AdmissionServer::AdmissionServer(ServerOptions options, PolicyStore* policies, VerificationService* verifier,
                                 Metrics* metrics, JsonLog* log)
    : options_(std::move(options)), policies_(policies), verifier_(verifier), metrics_(metrics), log_(log) {}

AdmissionServer::~AdmissionServer() { Stop(); }

HttpAnswer AdmissionServer::Ready() const {
  auto set = policies_->Current();
  std::string err = policies_->LastError();
  if (!set) {
    return {503, Json{{"ready", false}, {"error", err.empty() ? "policies not loaded" : err}}.dump(-1, ' ', false, Json::error_handler_t::replace)};
  }
  Json j = {{"ready", true}, {"policies", set->policies().size()}, {"hash", set->hash()}};
  if (!err.empty()) j["lastReloadError"] = err;  // the last good set is still active
  return {200, j.dump(-1, ' ', false, Json::error_handler_t::replace)};
}

HttpAnswer AdmissionServer::Validate(const std::string& body) { return Admit(body, false); }
HttpAnswer AdmissionServer::Mutate(const std::string& body) { return Admit(body, true); }

HttpAnswer AdmissionServer::Admit(const std::string& body, bool mutate) {
  auto start = std::chrono::steady_clock::now();
  const char* webhook = mutate ? "mutate" : "validate";
  // One simdjson parser per server thread, its buffers reused; a large body
  // gets a parser of its own so every thread does not keep megabytes.
  thread_local simdjson::dom::parser thread_parser(kMaxAdmissionBodyBytes);
  thread_local bool thread_parser_ready = thread_parser.allocate(64 << 10, kMaxAdmissionDepth) == simdjson::SUCCESS;
  std::optional<simdjson::dom::parser> big_parser;
  simdjson::dom::parser* parser = &thread_parser;
  if (body.size() > (256u << 10) || !thread_parser_ready) {
    big_parser.emplace(kMaxAdmissionBodyBytes);
    if (big_parser->allocate(body.size() + 64, kMaxAdmissionDepth) != simdjson::SUCCESS) {
      return {400, ErrorJson("request body cannot be parsed")};
    }
    parser = &*big_parser;
  }
  auto req = ParseAdmissionReview(body, *parser);
  if (!req.ok()) {
    if (log_) log_->Warn("malformed admission review", {{"webhook", webhook}, {"error", req.status().message()}});
    return {400, ErrorJson(req.status().message())};
  }
  AdmissionResponse resp;
  auto finish = [&](const std::string& decision, const std::string& mode) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (metrics_) {
      metrics_->CountAdmission(webhook, decision, mode);
      metrics_->ObserveAdmission(secs);
    }
    resp.uid = std::move(req->uid);  // the last use of the request
    return HttpAnswer{200, AdmissionResponseJson(resp)};
  };
  if (req->operation == "DELETE" || req->operation == "CONNECT" || !req->object) return finish("allow", "none");
  if (options_.exclude_namespaces.count(req->namespace_name)) return finish("allow", "none");

  // The request's namespace and name are authoritative (objects often omit
  // them on CREATE).
  ObjectIdentity id = IdentifyObjectSimdjson(*req->object);
  if (!req->namespace_name.empty()) id.namespace_name = req->namespace_name;
  if (id.name.empty()) id.name = req->name;
  if (id.kind.empty()) id.kind = req->kind;
  auto base = [&](const ObjectIdentity& o) {
    return Json{{"uid", req->uid}, {"namespace", o.namespace_name}, {"kind", o.kind}, {"name", o.name},
                {"webhook", webhook}};
  };
  auto set = policies_->Current();
  if (!set) {
    // No policy set ever loaded: nothing can be decided. Fail closed on
    // /validate; /mutate denies nothing.
    if (!mutate) {
      resp.allowed = false;
      resp.message = "provgate: no valid policy set is loaded: " + policies_->LastError();
    }
    if (log_) log_->Error("admission without a policy set", base(id));
    return finish(mutate ? "allow" : "deny", mutate ? "none" : "enforce");
  }
  auto refs = FindModelReferencesSimdjson(*req->object, options_.decision.model_annotations);
  if (!refs.ok()) {
    // The object cannot be read (e.g. too many references): fail closed.
    if (!mutate) {
      resp.allowed = false;
      resp.message = "provgate: " + refs.status().message();
    }
    if (log_) {
      Json f = base(id);
      f["decision"] = mutate ? "allow" : "deny";
      f["reasons"] = Json::array({refs.status().message()});
      log_->Warn("decision", f);
    }
    return finish(mutate ? "allow" : "deny", "enforce");
  }
  Deadline deadline = std::chrono::steady_clock::now() + options_.verify_timeout;
  auto decision = DecideReferences(std::move(id), std::move(*refs), set, *verifier_, options_.decision, deadline);
  const ObjectIdentity& object = decision.object;
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (mutate) {
    // /mutate denies nothing; it only pins what was verified.
    resp.patch = PinningPatch(decision);
  } else {
    resp.allowed = decision.allowed;
    resp.message = decision.message;
    resp.warnings = decision.warnings;
  }
  if (log_) {
    bool logged = false;
    thread_local std::string reference_buffer;
    auto reference_text = [](const Reference& r) -> const std::string& {
      reference_buffer.clear();
      r.AppendTo(&reference_buffer);
      return reference_buffer;
    };
    for (const auto& r : decision.references) {
      if (r.policies.empty()) continue;  // unmatched, allowed: not a decision worth a line
      for (const auto& p : r.policies) {
        thread_local LogFields f;  // its buffer reused
        f.Clear();
        f.Str("uid", req->uid).Str("namespace", object.namespace_name).Str("kind", object.kind).Str("name", object.name);
        f.Str("webhook", webhook).Str("reference", r.ref.parsed ? reference_text(r.ref.reference) : r.ref.raw);
        f.Str("field", r.ref.field_path);
        if (!r.digest.empty()) f.Str("digest", r.digest);
        f.Str("policy", p.name).Str("mode", ModeName(p.mode)).Str("decision", DecisionName(r.decision));
        f.Bool("passed", p.passed).Strs("reasons", p.reasons).Num("duration_ms", ms).Bool("dryRun", req->dry_run);
        log_->Info("decision", f);
        logged = true;
      }
    }
    if (!logged && log_->debug()) {
      Json f = base(object);
      f["decision"] = "allow";
      f["references"] = decision.references.size();
      f["duration_ms"] = ms;
      log_->Debug("decision", std::move(f));
    }
  }
  auto labels = DecisionLabels(decision);
  if (mutate) labels = {"allow", "none"};
  return finish(labels.first, labels.second);
}

StatusOr<int> AdmissionServer::Bind() {
  if (!options_.insecure_http) {
    if (options_.tls_cert.empty() || options_.tls_key.empty()) {
      return InvalidArgument("--tls-cert and --tls-key are required (or --insecure-http for local testing)");
    }
    certs_ = std::make_unique<TlsCertificates>(options_.tls_cert, options_.tls_key);
    RETURN_IF_ERROR(certs_->Load());
    TlsCertificates* certs = certs_.get();
    auto ssl = std::make_unique<httplib::SSLServer>([certs](SSL_CTX& ctx) { return certs->Configure(&ctx); });
    if (!ssl->is_valid()) return Internal("cannot create the TLS context");
    server_ = std::move(ssl);
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  auto& s = *server_;
  size_t threads = options_.threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_tcp_nodelay(true);  // Nagle + delayed ACK cost ~40 ms per response (TOOLING.md)
  s.set_keep_alive_max_count(10000);
  // Each keep-alive connection holds a pool thread while it is open: idle
  // ones are closed after 5 s so they cannot starve new connections for long.
  s.set_keep_alive_timeout(5);
  s.set_read_timeout(10, 0);
  s.set_write_timeout(10, 0);
  s.set_payload_max_length(kMaxAdmissionBodyBytes);
  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.status == 413) {
      res.status = 400;  // malformed input answers are 400 with a JSON error (SPEC §3)
      res.set_content(ErrorJson("request body larger than 3 MiB"), "application/json");
    } else if (res.body.empty()) {
      res.set_content(ErrorJson("HTTP " + std::to_string(res.status)), "application/json");
    }
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content(ErrorJson("internal error"), "application/json");
  });
  auto answer = [](httplib::Response& res, const HttpAnswer& a) {
    res.status = a.status;
    res.set_content(a.body, a.content_type);
  };
  s.Post("/validate", [this, answer](const httplib::Request& req, httplib::Response& res) {
    answer(res, Validate(req.body));
  });
  s.Post("/mutate", [this, answer](const httplib::Request& req, httplib::Response& res) {
    answer(res, Mutate(req.body));
  });
  s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  s.Get("/readyz", [this, answer](const httplib::Request&, httplib::Response& res) { answer(res, Ready()); });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_->Render(), "text/plain; version=0.0.4");
  });
  // cpp-httplib 0.11 listens with a backlog of 5, compiled into Debian's
  // library: a burst of new connections (a rollout) overflows it and waits
  // for TCP retransmissions (1 s, 2 s, ...). Capture the listening socket and
  // listen() again with a real backlog once it is bound.
  auto listen_fd = std::make_shared<std::atomic<int>>(-1);
  s.set_socket_options([listen_fd](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_fd->store(sock);
  });
  int port = options_.port;
  if (port == 0) {
    port = s.bind_to_any_port(options_.host);
    if (port < 0) return Unavailable("cannot bind " + options_.host);
  } else if (!s.bind_to_port(options_.host, port)) {
    return Unavailable("cannot bind " + options_.host + ":" + std::to_string(port));
  }
  if (listen_fd->load() >= 0) ::listen(listen_fd->load(), SOMAXCONN);
  return port;
}

void AdmissionServer::Serve() {
  if (server_) server_->listen_after_bind();
}

void AdmissionServer::Stop() {
  if (server_ && server_->is_running()) server_->stop();
}

}  // namespace provgate
