#include "webhook/server/admission_handler.h"

#include <optional>

namespace provgate {
namespace {

// The decision and mode labels of provgate_admission_requests_total: which
// enforcement mode produced the object's answer.
std::pair<const char*, const char*> Labels(const AdmissionResponse& r, const ObjectDecision* d, Webhook webhook) {
  if (webhook == Webhook::kMutate) return {"allow", "none"};
  if (!r.allowed) return {"deny", "enforce"};
  if (!r.warnings.empty()) return {"warn", "warn"};
  if (d && d->AnyAudit()) return {"audit", "audit"};
  return {"allow", "none"};
}

}  // namespace

const char* WebhookName(Webhook w) { return w == Webhook::kMutate ? "mutate" : "validate"; }

HttpAnswer AdmissionHandler::Ready() const {
  auto set = policies_.Current();
  std::string err = policies_.LastError();
  if (!set) {
    return {503, Json{{"ready", false}, {"error", err.empty() ? "policies not loaded" : err}}.dump(
                     -1, ' ', false, Json::error_handler_t::replace)};
  }
  Json j = {{"ready", true}, {"policies", set->policies().size()}, {"hash", set->hash()}};
  if (!err.empty()) j["lastReloadError"] = err;  // the last good set is still active
  return {200, j.dump(-1, ' ', false, Json::error_handler_t::replace)};
}

HttpAnswer AdmissionHandler::Admit(std::string_view body, Webhook webhook) {
  const auto start = std::chrono::steady_clock::now();
  auto finish = [&](AdmissionResponse resp, const ObjectDecision* decision) {
    auto [decision_label, mode_label] = Labels(resp, decision, webhook);
    metrics_.CountAdmission(WebhookName(webhook), decision_label, mode_label);
    metrics_.ObserveAdmission(WebhookName(webhook),
                              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    // Per policy from /validate only: /mutate evaluates the same policies again.
    if (decision && webhook == Webhook::kValidate) metrics_.CountPolicyResults(*decision);
    return HttpAnswer{200, AdmissionResponseJson(resp)};
  };

  // 1. Parse. One simdjson parser per server thread, its buffers reused; a
  // large body gets a parser of its own so every thread does not keep
  // megabytes.
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
    log_.Warn("malformed admission review", {{"webhook", WebhookName(webhook)}, {"error", req.status().message()}});
    return {400, ErrorJson(req.status().message())};
  }
  AdmissionResponse allowed;
  allowed.uid = req->uid;

  // 2. Exclude: operations and namespaces provgate does not look at.
  if (req->operation == "DELETE" || req->operation == "CONNECT" || !req->object ||
      options_.exclude_namespaces.count(req->namespace_name)) {
    return finish(allowed, nullptr);
  }

  // 3. Find the model references. The request's namespace and name are
  // authoritative (objects often omit them on CREATE).
  ObjectIdentity id = IdentifyObjectSimdjson(*req->object);
  if (!req->namespace_name.empty()) id.namespace_name = req->namespace_name;
  if (id.name.empty()) id.name = req->name;
  if (id.kind.empty()) id.kind = req->kind;
  auto undecided = [&](Undecided why, const std::string& message) {
    Json fields = {{"uid", req->uid},   {"namespace", id.namespace_name}, {"kind", id.kind},
                   {"name", id.name},   {"webhook", WebhookName(webhook)}, {"undecided", UndecidedName(why)},
                   {"reasons", Json::array({message})}};
    log_.Warn("undecided", std::move(fields));
    AdmissionResponse resp = UndecidedResponse(webhook, "provgate: " + message);
    resp.uid = req->uid;
    return finish(resp, nullptr);
  };
  auto set = policies_.Current();
  if (!set) return undecided(Undecided::kNoPolicySet, "no valid policy set is loaded: " + policies_.LastError());
  auto refs = FindModelReferencesSimdjson(*req->object, options_.decision.model_annotations);
  if (!refs.ok()) return undecided(Undecided::kMalformedObject, refs.status().message());

  // 4. Decide, within the verification deadline.
  Deadline deadline = std::chrono::steady_clock::now() + options_.verify_timeout;
  ObjectDecision decision =
      DecideReferences(std::move(id), std::move(*refs), set, verifier_,
                       webhook == Webhook::kMutate ? mutate_decision_ : options_.decision, deadline);

  // 5. Render, 6. log.
  AdmissionResponse resp = Render(decision, webhook);
  resp.uid = req->uid;
  LogDecision(*req, decision, webhook,
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  return finish(std::move(resp), &decision);
}

AdmissionResponse AdmissionHandler::UndecidedResponse(Webhook webhook, const std::string& message) {
  AdmissionResponse r;
  if (webhook == Webhook::kValidate) {
    r.allowed = false;
    r.message = message;
  }
  return r;
}

AdmissionResponse AdmissionHandler::Render(const ObjectDecision& decision, Webhook webhook) const {
  AdmissionResponse r;
  r.audit_annotations = AuditAnnotations(decision);
  if (webhook == Webhook::kMutate) {
    // /mutate denies nothing; it only pins what was verified.
    r.patch = PinningPatch(decision, options_.pin_kinds);
    return r;
  }
  r.allowed = decision.allowed;
  r.message = decision.message;
  r.warnings = decision.warnings;
  return r;
}

void AdmissionHandler::LogDecision(const AdmissionRequest& req, const ObjectDecision& decision, Webhook webhook,
                                   double ms) {
  const ObjectIdentity& object = decision.object;
  bool logged = false;
  for (const auto& r : decision.references) {
    if (r.undecided == Undecided::kUnmatched && r.decision != Decision::kDeny) continue;  // not a decision
    auto line = [&](const char* policy, const char* mode, bool passed, ReasonCode code,
                    const std::vector<std::string>& reasons) {
      LogFields f;
      f.Str("uid", req.uid).Str("namespace", object.namespace_name).Str("kind", object.kind).Str("name", object.name);
      f.Str("webhook", WebhookName(webhook)).Str("reference", r.ref.parsed ? r.ref.reference.String() : r.ref.raw);
      f.Str("field", r.ref.field_path);
      if (!r.digest.empty()) f.Str("digest", r.digest);
      if (policy) f.Str("policy", policy);
      f.Str("mode", mode).Str("decision", DecisionName(r.decision));
      if (r.undecided != Undecided::kNo) f.Str("undecided", UndecidedName(r.undecided));
      f.Bool("passed", passed).Str("reasonCode", ReasonCodeName(code)).Strs("reasons", reasons);
      f.Num("duration_ms", ms).Bool("dryRun", req.dry_run);
      log_.Info("decision", f);
      logged = true;
    };
    if (!r.reason.empty()) line(nullptr, "none", false, r.code, {r.reason});
    for (const auto& p : r.policies) line(p.name.c_str(), ModeName(p.mode), p.passed, p.code, p.reasons);
  }
  if (!logged && log_.debug()) {
    log_.Debug("decision", {{"uid", req.uid},
                            {"namespace", object.namespace_name},
                            {"kind", object.kind},
                            {"name", object.name},
                            {"webhook", WebhookName(webhook)},
                            {"decision", "allow"},
                            {"references", decision.references.size()},
                            {"duration_ms", ms}});
  }
}

}  // namespace provgate
