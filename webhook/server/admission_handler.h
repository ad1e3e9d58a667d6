// The admission handler: one AdmissionReview in, one answer out, read
// top-down in Admit(): parse -> exclude -> find references -> decide ->
// render -> log. No sockets: the HTTPS shell (admission_server.h) calls it,
// and so can tests. Thread-safe.
#pragma once

#include <chrono>
#include <set>
#include <string>
#include <string_view>

#include "webhook/decide/decide_object.h"
#include "webhook/decide/verification_service.h"
#include "webhook/server/admission_endpoint.h"
#include "webhook/server/admission_review.h"
#include "webhook/server/json_log.h"
#include "webhook/server/metrics.h"
#include "webhook/server/policy_store.h"

namespace provgate {

struct HandlerOptions {
  std::chrono::milliseconds verify_timeout{8000};
  std::set<std::string> exclude_namespaces;
  // What /validate decides with; /mutate the same, without the digest
  // requirement (DigestRequirement::kNotChecked: it pins).
  DecisionOptions decision;
  // --pin-kinds: the object kinds /mutate pins (PinningPatch).
  std::set<std::string> pin_kinds = DefaultPinKinds();
};

class AdmissionHandler final : public AdmissionEndpoint {
 public:
  // Every part must outlive the handler.
  AdmissionHandler(HandlerOptions options, PolicyStore& policies, VerificationService& verifier, Metrics& metrics,
                   JsonLog& log)
      : options_(std::move(options)),
        mutate_decision_(MutateDecisionOptions(options_.decision)),
        policies_(policies),
        verifier_(verifier),
        metrics_(metrics),
        log_(log) {}

  // 200 with an AdmissionReview answer, or 400 with a JSON error for a
  // malformed review.
  HttpAnswer Admit(std::string_view body, Webhook webhook) override;
  // /readyz: 200 once a policy set is loaded, 503 with the reason before.
  HttpAnswer Ready() const override;

 private:
  // What an object that could not be decided gets (Undecided::kNoPolicySet,
  // kMalformedObject): /validate denies it (fail closed), /mutate denies
  // nothing and pins nothing.
  static AdmissionResponse UndecidedResponse(Webhook webhook, const std::string& message);
  // The decision rendered for `webhook`, with its audit annotations:
  // /validate allows, warns or denies; /mutate only pins what was verified,
  // in objects of the pinned kinds.
  AdmissionResponse Render(const ObjectDecision& decision, Webhook webhook) const;
  static DecisionOptions MutateDecisionOptions(DecisionOptions o) {
    o.digest_requirement = DigestRequirement::kNotChecked;
    return o;
  }
  void LogDecision(const AdmissionRequest& req, const ObjectDecision& decision, Webhook webhook, double ms);

  const HandlerOptions options_;
  const DecisionOptions mutate_decision_;
  PolicyStore& policies_;
  VerificationService& verifier_;
  Metrics& metrics_;
  JsonLog& log_;
};

}  // namespace provgate
