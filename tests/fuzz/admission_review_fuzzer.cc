// The admission path with no registry: AdmissionHandler::Admit (parse ->
// exclude -> find references -> decide -> render -> log) for /validate and
// /mutate over an arbitrary request body, with policies that match some
// references and a transport that can reach no registry. Invariants
// (webhook/server/admission_review.h, admission_handler.h, decide_object.h):
// the answer is JSON -- 400 {"error"} exactly when ParseAdmissionReview
// refuses the body, else an AdmissionReview answering the request's uid;
// /mutate never denies and, with nothing verified, pins nothing; /validate
// gives a denial a message; warnings are short; every reference found has a
// JSON pointer naming its string in request.object.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "base/encoding.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/fuzz/fuzz_target.h"
#include "webhook/server/admission_handler.h"

using namespace provgate;
using provgate::fuzz::FuzzCheck;

namespace {

class NoRegistry : public HttpTransport {
 public:
  StatusOr<HttpResponse> Send(const HttpRequest&) override { return Unavailable("no registry in this harness"); }
};

std::string Indented(const std::string& pem, size_t spaces) {
  std::string out;
  for (size_t pos = 0; pos < pem.size();) {
    size_t nl = pem.find('\n', pos);
    if (nl == std::string::npos) nl = pem.size();
    out += std::string(spaces, ' ') + pem.substr(pos, nl - pos) + "\n";
    pos = nl + 1;
  }
  return out;
}

std::string PolicyDocument(const std::string& name, const std::string& mode, const std::string& glob,
                           const std::string& pem) {
  return "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata:\n  name: " + name + "\nspec:\n  mode: " +
         mode + "\n  match:\n    references: [\"" + glob + "\"]\n  authorities:\n    - name: k\n      key:\n" +
         "        pem: |\n" + Indented(pem, 10) + "  signatures:\n    require: 1\n";
}

// Everything the handler needs, built once: it lives for the whole run.
struct World {
  NoRegistry transport;
  Metrics metrics;
  FILE* sink = std::fopen("/dev/null", "w");
  JsonLog log{sink, false};
  RegistryClient client{&transport, std::make_shared<RegistryConfig>()};
  SteadyClock clock;
  VerificationService verifier{client, clock, {}};
  std::string policy_dir;
  std::unique_ptr<PolicyStore> policies;
  std::unique_ptr<AdmissionHandler> handler;

  World() {
    const char* tmp = std::getenv("TMPDIR");
    policy_dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/provgate-fuzz-admission-XXXXXX";
    FuzzCheck(mkdtemp(policy_dir.data()) != nullptr, "cannot create a policy directory");
    const std::string pem = provgate::fuzz::ReadSourceFile("tests/testdata/keys/ec-p256.pub");
    std::ofstream(policy_dir + "/p.yaml")
        << PolicyDocument("enforced", "enforce", "registry.example.com/**", pem) << "---\n"
        << PolicyDocument("rollout", "warn", "warn.example.com/**", pem) << "---\n"
        << PolicyDocument("observed", "audit", "audit.example.com/**", pem);
    policies = std::make_unique<PolicyStore>(std::vector<std::string>{policy_dir}, &log, &metrics);
    FuzzCheck(policies->Reload() && policies->Current() != nullptr, "the harness policies do not load");
    HandlerOptions options;
    options.exclude_namespaces = {"kube-system"};
    handler = std::make_unique<AdmissionHandler>(options, *policies, verifier, metrics, log);
  }
};

World& TheWorld() {
  static World* world = new World();  // never destroyed: pool threads outlive the last input
  return *world;
}

void CheckAnswer(const HttpAnswer& a, const StatusOr<AdmissionRequest>& req, Webhook webhook) {
  auto body = ParseJson(a.body, "answer");
  FuzzCheck(body.ok() && body->is_object(), "the answer is not a JSON object: " + a.body.substr(0, 300));
  if (!req.ok()) {
    FuzzCheck(a.status == 400, "a body ParseAdmissionReview refuses is answered " + std::to_string(a.status));
    FuzzCheck(body->contains("error") && (*body)["error"].is_string(), "a 400 without an error string");
    return;
  }
  FuzzCheck(a.status == 200, "a review ParseAdmissionReview accepts is answered " + std::to_string(a.status));
  FuzzCheck((*body)["apiVersion"] == kAdmissionApiVersion && (*body)["kind"] == "AdmissionReview",
            "the answer is not an AdmissionReview v1");
  const Json& resp = (*body)["response"];
  FuzzCheck(resp.is_object() && resp["uid"].is_string(), "the answer has no response.uid");
  // Invalid UTF-8 in the uid is replaced in the answer (U+FFFD): compare valid ones.
  if (IsUtf8(req->uid)) FuzzCheck(resp["uid"] == req->uid, "the answer names another uid");
  FuzzCheck(resp["allowed"].is_boolean(), "response.allowed is not a boolean");
  if (webhook == Webhook::kMutate) {
    FuzzCheck(resp["allowed"] == true, "/mutate denied");
    FuzzCheck(!resp.contains("patch"), "/mutate pinned a reference although nothing could be verified");
  } else if (resp["allowed"] == false) {
    FuzzCheck(resp["status"]["code"] == 403 && resp["status"]["message"].is_string() &&
                  !resp["status"]["message"].get_ref<const std::string&>().empty(),
              "a denial without 403 and a message");
  }
  if (resp.contains("warnings")) {
    for (const auto& w : resp["warnings"]) {
      FuzzCheck(w.is_string() && w.get_ref<const std::string&>().size() <= 250 * 3, "a warning longer than 250 bytes (U+FFFD for each invalid one)");
    }
  }
}

}  // namespace

PROVGATE_FUZZ_TARGET(admission_review) {
  World& w = TheWorld();
  static simdjson::dom::parser parser;
  auto req = ParseAdmissionReview(input, parser);
  for (Webhook webhook : {Webhook::kValidate, Webhook::kMutate}) {
    HttpAnswer a = w.handler->Admit(input, webhook);
    CheckAnswer(a, req, webhook);
  }
  // The handler's own parser is thread_local; this one parses again for the checks below.
  req = ParseAdmissionReview(input, parser);
  if (!req.ok() || !req->object) return;
  auto refs = FindModelReferencesSimdjson(*req->object, DefaultModelAnnotations());
  if (!refs.ok()) {
    FuzzCheck(refs.status().code() == StatusCode::kInvalidArgument, "unexpected status " + refs.status().ToString());
    return;
  }
  // nlohmann keeps the last of duplicate keys, simdjson the first: compare
  // only documents both read the same way.
  auto doc = ParseJsonUniqueKeys(input, "review", {.max_depth = 128});
  if (!doc.ok() || !doc->is_object() || !(*doc)["request"].is_object() || !(*doc)["request"]["object"].is_object()) {
    return;
  }
  provgate::fuzz::CheckModelReferences((*doc)["request"]["object"], *refs);
}
