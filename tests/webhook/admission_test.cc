// AdmissionReview parsing (what a review must carry before anything is
// decided), the /mutate JSONPatch (what is pinned, in which kinds, where,
// and that the patch applies to the object it was computed from), and the
// audit annotations of a decided object.
#include "webhook/server/admission_review.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/encoding.h"

using namespace provgate;

namespace {

constexpr char kDigest[] = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
constexpr char kOther[] = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

std::string ReviewText(const std::string& request_members) {
  return R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1",)" + request_members +
         "}}";
}

const char kPod[] = R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[]}})";
const char kPodKind[] = R"("kind":{"group":"","version":"v1","kind":"Pod"})";

// One decided reference found in `object` at index `i`, with `decision` and
// (when not empty) the verified `digest`.
ReferenceDecision Decided(const std::vector<ModelReference>& refs, size_t i, Decision decision,
                          const std::string& digest) {
  ReferenceDecision rd;
  rd.ref = refs.at(i);
  rd.decision = decision;
  rd.digest = digest;
  PolicyResult pr;
  pr.name = "p";
  pr.mode = decision == Decision::kWarn ? Mode::kWarn : decision == Decision::kAudit ? Mode::kAudit : Mode::kEnforce;
  pr.passed = decision == Decision::kAllow;
  if (decision != Decision::kUnmatched) rd.policies.push_back(pr);
  return rd;
}

}  // namespace

TEST_CASE("ParseAdmissionReview: reviews that carry what a decision needs") {
  simdjson::dom::parser parser;
  struct Row {
    const char* name;
    std::string request;
    std::string operation;
    bool has_object;
  };
  const std::vector<Row> good = {
      {"CREATE of a Pod", std::string(kPodKind) + R"(,"operation":"CREATE","namespace":"ns","object":)" + kPod, "CREATE",
       true},
      {"UPDATE of a Pod", std::string(kPodKind) + R"(,"operation":"UPDATE","object":)" + kPod, "UPDATE", true},
      {"DELETE carries the object in oldObject only", std::string(kPodKind) +
           R"(,"operation":"DELETE","object":null,"oldObject":)" + kPod, "DELETE", false},
      {"CONNECT with its options object", R"("kind":{"group":"","version":"v1","kind":"PodExecOptions"},)"
                                          R"("operation":"CONNECT","object":{"kind":"PodExecOptions","apiVersion":"v1"})",
       "CONNECT", true},
      {"a KServe InferenceService", R"("kind":{"group":"serving.kserve.io","version":"v1beta1","kind":"InferenceService"},)"
                                    R"("operation":"CREATE","object":{"apiVersion":"serving.kserve.io/v1beta1",)"
                                    R"("kind":"InferenceService","spec":{}})",
       "CREATE", true},
  };
  for (const auto& row : good) {
    CAPTURE(row.name);
    auto r = ParseAdmissionReview(ReviewText(row.request), parser);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(r->uid == "u-1");
    CHECK(r->operation == row.operation);
    CHECK(r->object.has_value() == row.has_object);
  }

  // A CREATE or UPDATE without its object, or whose object is not of the kind
  // the API server says it admits, cannot be decided: it must never be allowed
  // as if it held nothing.
  const std::vector<std::pair<const char*, std::string>> bad = {
      {"CREATE without an object", std::string(kPodKind) + R"(,"operation":"CREATE")"},
      {"CREATE with a null object", std::string(kPodKind) + R"(,"operation":"CREATE","object":null)"},
      {"UPDATE without an object", std::string(kPodKind) + R"(,"operation":"UPDATE","oldObject":)" + kPod},
      {"CREATE without request.kind", R"("operation":"CREATE","object":)" + std::string(kPod)},
      {"object without a kind", std::string(kPodKind) +
           R"(,"operation":"CREATE","object":{"apiVersion":"v1","spec":{"containers":[{"image":"r.example/m:1"}]}})"},
      {"object of another kind", std::string(kPodKind) +
           R"(,"operation":"CREATE","object":{"apiVersion":"v1","kind":"ConfigMap","spec":{}})"},
      {"object of another API group", R"("kind":{"group":"serving.kserve.io","version":"v1beta1","kind":"InferenceService"},)"
                                        R"("operation":"CREATE","object":{"apiVersion":"serving.example.com/v1",)"
                                        R"("kind":"InferenceService","spec":{}})"},
      {"object is not an object", std::string(kPodKind) + R"(,"operation":"CREATE","object":"x")"},
      // simdjson would read the first, Go's decoders the last.
      {"operation given twice", std::string(kPodKind) + R"(,"operation":"DELETE","operation":"CREATE","object":)" + kPod},
      {"object given twice", std::string(kPodKind) + R"(,"operation":"CREATE","object":)" + kPod + R"(,"object":)" + kPod},
      {"uid given twice", std::string(kPodKind) + R"(,"uid":"u-2","operation":"CREATE","object":)" + kPod},
      // Every member, not only those provgate reads.
      {"userInfo given twice", std::string(kPodKind) + R"(,"operation":"CREATE","userInfo":{},"userInfo":{},"object":)" +
                                   kPod},
      {"oldObject given twice", std::string(kPodKind) + R"(,"operation":"CREATE","oldObject":null,"oldObject":null,)"
                                                        R"("object":)" + kPod},
      {"request.kind.kind given twice",
       R"("kind":{"group":"","version":"v1","kind":"ConfigMap","kind":"Pod"},"operation":"CREATE","object":)" +
           std::string(kPod)},
  };
  for (const auto& [name, request] : bad) {
    CAPTURE(name);
    auto r = ParseAdmissionReview(ReviewText(request), parser);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
  }
  auto userinfo = ParseAdmissionReview(
      ReviewText(std::string(kPodKind) + R"(,"operation":"CREATE","userInfo":{},"userInfo":{},"object":)" + kPod), parser);
  REQUIRE_FALSE(userinfo.ok());
  CHECK(userinfo.status().message() == "request.userInfo is given twice");
  // A second request: the API server would decide on the last one.
  auto second = ParseAdmissionReview(
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1","operation":"DELETE"},)"
      R"("request":{"uid":"u-1","operation":"CREATE"}})",
      parser);
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().message() == "AdmissionReview.request is given twice");
}

TEST_CASE("PinningPatch: only references every matching policy passed are pinned, at their own digest") {
  // Annotation names with '/' and '~' exercise RFC 6901 escaping.
  Json pod = Json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","annotations":{
      "serving.kserve.io/storage-initializer-sourceuri":"oci://r.example/models/ann:v1",
      "acme.io/model~uri":"oci://r.example/models/tilde:v1"}},
    "spec":{"initContainers":[{"name":"i","image":"r.example/models/init:v1"}],
      "containers":[{"name":"allow","image":"r.example/models/ok:v1"},
                    {"name":"warn","image":"r.example/models/warn:v1"},
                    {"name":"audit","image":"r.example/models/audit:v1"},
                    {"name":"deny","image":"r.example/models/deny:v1"},
                    {"name":"unmatched","image":"busybox"},
                    {"name":"pinned","image":"r.example/models/pinned:v1@sha256:2222222222222222222222222222222222222222222222222222222222222222"},
                    {"name":"unresolved","image":"r.example/models/down:v1"}],
      "volumes":[{"name":"m","image":{"reference":"r.example/models/vol:v1"}}]}})");
  auto refs = FindModelReferences(pod, {"serving.kserve.io/storage-initializer-sourceuri", "acme.io/model~uri"});
  REQUIRE(refs.ok());
  REQUIRE(refs->size() == 11);
  ObjectDecision d;
  d.object = IdentifyObject(pod);
  d.references = {
      Decided(*refs, 0, Decision::kAllow, kDigest),      // annotation with '/'
      Decided(*refs, 1, Decision::kAllow, kDigest),      // annotation with '~'
      Decided(*refs, 2, Decision::kAllow, kDigest),      // init container
      Decided(*refs, 3, Decision::kAllow, kDigest),      // container
      Decided(*refs, 4, Decision::kWarn, kDigest),       // a warn-mode policy failed: not verified
      Decided(*refs, 5, Decision::kAudit, kDigest),      // an audit-mode policy failed: not verified
      Decided(*refs, 6, Decision::kDeny, kDigest),
      Decided(*refs, 7, Decision::kUnmatched, ""),
      Decided(*refs, 8, Decision::kAllow, kOther),       // carries its digest: verified at it, left alone
      Decided(*refs, 9, Decision::kDeny, ""),            // registry down
      Decided(*refs, 10, Decision::kAllow, kDigest),     // image volume
  };
  std::string text = PinningPatch(d, DefaultPinKinds());
  REQUIRE_FALSE(text.empty());
  Json patch = Json::parse(text);
  CHECK(patch.size() == 5);  // two annotations, the init container, one container, the image volume
  for (const auto& op : patch) CHECK(op["op"] == "replace");

  Json patched = pod.patch(patch);
  const Json& ann = patched["metadata"]["annotations"];
  CHECK(ann["serving.kserve.io/storage-initializer-sourceuri"] == std::string("oci://r.example/models/ann:v1@") + kDigest);
  CHECK(ann["acme.io/model~uri"] == std::string("oci://r.example/models/tilde:v1@") + kDigest);
  const Json& spec = patched["spec"];
  CHECK(spec["initContainers"][0]["image"] == std::string("r.example/models/init:v1@") + kDigest);
  CHECK(spec["containers"][0]["image"] == std::string("r.example/models/ok:v1@") + kDigest);
  CHECK(spec["containers"][1]["image"] == "r.example/models/warn:v1");
  CHECK(spec["containers"][2]["image"] == "r.example/models/audit:v1");
  CHECK(spec["containers"][3]["image"] == "r.example/models/deny:v1");
  CHECK(spec["containers"][4]["image"] == "busybox");
  CHECK(spec["containers"][5]["image"] == pod["spec"]["containers"][5]["image"]);
  CHECK(spec["containers"][6]["image"] == "r.example/models/down:v1");
  CHECK(spec["volumes"][0]["image"]["reference"] == std::string("r.example/models/vol:v1@") + kDigest);
  // Everything else is untouched.
  Json back = patched;
  for (const auto& op : patch) back[Json::json_pointer(op["path"].get<std::string>())] = pod[Json::json_pointer(op["path"].get<std::string>())];
  CHECK(back == pod);

  // Nothing verified: no patch at all.
  ObjectDecision none;
  none.object = d.object;
  none.references = {Decided(*refs, 4, Decision::kWarn, kDigest), Decided(*refs, 7, Decision::kUnmatched, "")};
  CHECK(PinningPatch(none, DefaultPinKinds()).empty());
}

// The new delivery paths (docs/server.md): a KitOps MODELKIT_REF and
// STORAGE_URI env value and a ModelPack CSI attribute carry a digest like an
// image and are pinned the same way; the storage-initializer's args are not
// pinnable (ModelReference::pinnable: KServe matches its arg pairs by value).
TEST_CASE("PinningPatch: env values and ModelPack CSI attributes are pinned in place") {
  Json pod = Json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
    "spec":{"initContainers":[{"name":"kitops-init","image":"r.example/kitops-init:v1@sha256:)"
                         R"(3333333333333333333333333333333333333333333333333333333333333333",
        "env":[{"name":"UNPACK_PATH","value":"/m"},{"name":"MODELKIT_REF","value":"r.example/models/kit:v1"}]}],
      "containers":[{"name":"c","image":"r.example/runtime@sha256:3333333333333333333333333333333333333333333333333333333333333333",
        "env":[{"name":"STORAGE_URI","value":"kit://r.example/models/uri:v1"}]}],
      "volumes":[{"name":"m","csi":{"driver":"model.csi.modelpack.org",
        "volumeAttributes":{"model.csi.modelpack.org/reference":"r.example/models/csi:v1"}}}]}})");
  auto refs = FindModelReferences(pod, {});
  REQUIRE(refs.ok());
  REQUIRE(refs->size() == 5);
  ObjectDecision d;
  d.object = IdentifyObject(pod);
  for (size_t i = 0; i < refs->size(); ++i) d.references.push_back(Decided(*refs, i, Decision::kAllow, kDigest));
  Json patched = pod.patch(Json::parse(PinningPatch(d, DefaultPinKinds())));
  const Json& spec = patched["spec"];
  CHECK(spec["initContainers"][0]["env"][1]["value"] == std::string("r.example/models/kit:v1@") + kDigest);
  CHECK(spec["initContainers"][0]["env"][0]["value"] == "/m");
  CHECK(spec["containers"][0]["env"][0]["value"] == std::string("kit://r.example/models/uri:v1@") + kDigest);
  CHECK(spec["volumes"][0]["csi"]["volumeAttributes"]["model.csi.modelpack.org/reference"] ==
        std::string("r.example/models/csi:v1@") + kDigest);
  CHECK(spec["initContainers"][0]["image"] == pod["spec"]["initContainers"][0]["image"]);  // had a digest
}

TEST_CASE("PinningPatch: a verified reference in the storage-initializer's args is never rewritten") {
  Json pod = Json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
    "spec":{"initContainers":[{"name":"storage-initializer",
        "image":"r.example/kserve/storage-initializer@sha256:3333333333333333333333333333333333333333333333333333333333333333",
        "args":["oci://r.example/models/m:v1","/mnt/models"]}],
      "containers":[{"name":"c","image":"r.example/runtime@sha256:3333333333333333333333333333333333333333333333333333333333333333"}]}})");
  auto refs = FindModelReferences(pod, {});
  REQUIRE(refs.ok());
  ObjectDecision d;
  d.object = IdentifyObject(pod);
  bool found = false;
  for (size_t i = 0; i < refs->size(); ++i) {
    d.references.push_back(Decided(*refs, i, Decision::kAllow, kDigest));
    if ((*refs)[i].source == Source::kInitArgs) {
      found = true;
      CHECK_FALSE((*refs)[i].pinnable);
    }
  }
  REQUIRE(found);
  CHECK(PinningPatch(d, DefaultPinKinds()).empty());  // the only unpinned reference is the arg
}

TEST_CASE("AdmissionResponseJson: uid echoed, 403 on denial, base64 JSONPatch") {
  AdmissionResponse r;
  r.uid = "u-9";
  r.allowed = false;
  r.message = "provgate: Pod ns/p: denied";
  Json j = Json::parse(AdmissionResponseJson(r));
  CHECK(j["apiVersion"] == "admission.k8s.io/v1");
  CHECK(j["kind"] == "AdmissionReview");
  CHECK(j["response"]["uid"] == "u-9");
  CHECK(j["response"]["allowed"] == false);
  CHECK(j["response"]["status"]["code"] == 403);
  CHECK(j["response"]["status"]["message"] == r.message);
  CHECK_FALSE(j["response"].contains("patch"));

  AdmissionResponse m;
  m.uid = "u-10";
  m.patch = R"([{"op":"replace","path":"/spec/containers/0/image","value":"x@sha256:1"}])";
  Json mj = Json::parse(AdmissionResponseJson(m));
  CHECK(mj["response"]["allowed"] == true);
  CHECK(mj["response"]["patchType"] == "JSONPatch");
  CHECK(Base64Decode(mj["response"]["patch"].get<std::string>()) == m.patch);
  CHECK_FALSE(mj["response"].contains("status"));
  CHECK_FALSE(mj["response"].contains("warnings"));
}

TEST_CASE("AdmissionResponseJson: warnings, and strings that need escaping stay intact") {
  AdmissionResponse r;
  r.uid = "u-\"quoted\"\\";
  r.allowed = true;
  r.warnings = {"provgate: spec.volumes[0] \"x\": policy p: tab\there", "second \xe2\x82\xac"};
  std::string text = AdmissionResponseJson(r);
  Json j = Json::parse(text);
  CHECK(j["response"]["uid"] == r.uid);
  CHECK(j["response"]["allowed"] == true);
  CHECK(j["response"]["warnings"] == Json(r.warnings));
  CHECK_FALSE(j["response"].contains("status"));
  CHECK(text.find('\t') == std::string::npos);  // control characters escaped

  AdmissionResponse bad;
  bad.uid = "u";
  bad.allowed = false;
  bad.message = "cut inside a character: \xe2\x82";
  Json bj = Json::parse(AdmissionResponseJson(bad));  // invalid UTF-8 replaced, never an invalid document
  CHECK(bj["response"]["status"]["message"] == "cut inside a character: \xef\xbf\xbd\xef\xbf\xbd");
  CHECK(bj["response"]["status"]["reason"] == "Forbidden");
}

// --pin-kinds: a workload kept in Git is decided but not rewritten (a GitOps
// controller would see it drift from Git and fight the webhook); its Pods are.
TEST_CASE("PinningPatch: only objects of the pinned kinds are patched; Pod by default") {
  Json deployment = Json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},
    "spec":{"template":{"spec":{"containers":[{"name":"c","image":"r.example/models/ok:v1"}]}}}})");
  Json pod = Json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
    "spec":{"containers":[{"name":"c","image":"r.example/models/ok:v1"}]}})");
  auto decided = [](const Json& object) {
    auto refs = FindModelReferences(object, {});
    REQUIRE(refs.ok());
    REQUIRE(refs->size() == 1);
    ObjectDecision d;
    d.object = IdentifyObject(object);
    d.references = {Decided(*refs, 0, Decision::kAllow, kDigest)};
    return d;
  };
  const ObjectDecision dep = decided(deployment), p = decided(pod);
  CHECK(DefaultPinKinds() == std::set<std::string>{"Pod"});

  struct Row {
    const char* name;
    const ObjectDecision& d;
    std::set<std::string> kinds;
  };
  const std::vector<Row> not_patched = {
      {"a Deployment by default", dep, DefaultPinKinds()},
      {"a Pod when only Deployments are listed", p, {"Deployment"}},
      {"nothing listed", p, {}},
      {"kinds compare exactly", dep, {"Pod", "deployment"}},
  };
  const std::vector<Row> patched = {
      {"a Pod by default", p, DefaultPinKinds()},
      {"a Deployment when listed", dep, {"Pod", "Deployment"}},
  };
  for (const auto& row : not_patched) {
    CAPTURE(row.name);
    CHECK(PinningPatch(row.d, row.kinds).empty());
  }
  for (const auto& row : patched) {
    CAPTURE(row.name);
    std::string text = PinningPatch(row.d, row.kinds);
    REQUIRE_FALSE(text.empty());
    Json object = row.d.object.kind == "Pod" ? pod : deployment;
    Json out = object.patch(Json::parse(text));
    const Json& spec = row.d.object.kind == "Pod" ? out["spec"] : out["spec"]["template"]["spec"];
    CHECK(spec["containers"][0]["image"] == std::string("r.example/models/ok:v1@") + kDigest);
  }
}

TEST_CASE("AuditAnnotations: decision, digests and policies of a decided object") {
  Json pod = Json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
    "spec":{"initContainers":[{"name":"i","image":"r.example/models/ok:v1"}],
      "containers":[{"name":"a","image":"r.example/models/ok:v1"},
                    {"name":"b","image":"r.example/models/warn@sha256:2222222222222222222222222222222222222222222222222222222222222222"},
                    {"name":"c","image":"busybox"}]}})");
  auto refs = FindModelReferences(pod, {});
  REQUIRE(refs.ok());
  REQUIRE(refs->size() == 4);
  ObjectDecision d;
  d.object = IdentifyObject(pod);
  ReferenceDecision warned = Decided(*refs, 2, Decision::kWarn, kOther);
  warned.policies[0].name = "rollout";
  d.references = {Decided(*refs, 0, Decision::kAllow, kDigest), Decided(*refs, 1, Decision::kAllow, kDigest), warned,
                  Decided(*refs, 3, Decision::kUnmatched, "")};
  auto a = AuditAnnotations(d);
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  // One entry per distinct reference (the init container and container "a"
  // name one); the reference with its digest already is named once.
  CHECK(a == Pairs{{"decision", "warn"},
                   {"digest", std::string("r.example/models/ok:v1@") + kDigest + ",r.example/models/warn@" + kOther},
                   {"policy", "p=passed,rollout=failed"}});

  // The rendered response carries them as an object of strings.
  AdmissionResponse r;
  r.uid = "u";
  r.audit_annotations = a;
  Json j = Json::parse(AdmissionResponseJson(r));
  CHECK(j["response"]["auditAnnotations"] ==
        Json{{"decision", "warn"}, {"digest", a[1].second}, {"policy", "p=passed,rollout=failed"}});
  for (const auto& [key, value] : j["response"]["auditAnnotations"].items()) CHECK(value.is_string());

  // A policy failing one reference and passing another failed; a denied
  // object is "deny".
  ObjectDecision denied = d;
  denied.allowed = false;
  denied.references[1] = Decided(*refs, 1, Decision::kDeny, kDigest);
  auto da = AuditAnnotations(denied);
  CHECK(da.at(0) == std::pair<std::string, std::string>{"decision", "deny"});
  CHECK(da.at(2).second == "p=failed,rollout=failed");

  // Nothing matched: only the decision.
  ObjectDecision unmatched;
  unmatched.object = d.object;
  unmatched.references = {Decided(*refs, 3, Decision::kUnmatched, "")};
  CHECK(AuditAnnotations(unmatched) == Pairs{{"decision", "unmatched"}});
  CHECK(AuditAnnotations(ObjectDecision{}) == Pairs{{"decision", "unmatched"}});
  // Without annotations the response has none.
  CHECK_FALSE(Json::parse(AdmissionResponseJson(AdmissionResponse{}))["response"].contains("auditAnnotations"));
}

TEST_CASE("AuditAnnotations: values stay within the bound, whole entries first, valid UTF-8") {
  // 40 distinct references of ~100 bytes each: more than 1 KiB together.
  std::string containers;
  for (int i = 0; i < 40; ++i) {
    containers += std::string(i ? "," : "") + R"({"name":"c)" + std::to_string(i) + R"(","image":"r.example/models/m)" +
                  std::to_string(i) + R"(:v1"})";
  }
  Json pod = Json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[)" +
                         containers + "]}}");
  auto refs = FindModelReferences(pod, {});
  REQUIRE(refs.ok());
  ObjectDecision d;
  for (size_t i = 0; i < refs->size(); ++i) d.references.push_back(Decided(*refs, i, Decision::kAllow, kDigest));
  auto a = AuditAnnotations(d);
  REQUIRE(a.size() == 3);
  const std::string& digests = a[1].second;
  CHECK(digests.size() <= kMaxAuditAnnotationBytes);
  CHECK(digests.rfind("r.example/models/m0:v1@", 0) == 0);
  const size_t more = digests.rfind(",+");
  REQUIRE(more != std::string::npos);
  CHECK(digests.substr(digests.size() - 5) == " more");
  // Every listed entry is whole: the list before the marker ends in a full digest.
  CHECK(digests.substr(more - 71, 71) == kDigest);
  const size_t listed = static_cast<size_t>(std::count(digests.begin(), digests.begin() + more, ',')) + 1;
  CHECK(digests.substr(more) == ",+" + std::to_string(40 - listed) + " more");

  // One policy name alone over the bound (names are ASCII, but a value cut
  // is cut at a character boundary whatever it holds).
  std::string long_name;
  for (int i = 0; i < 600; ++i) long_name += "\xC3\xA9";  // é
  ObjectDecision one;
  one.references = {Decided(*refs, 0, Decision::kAllow, kDigest)};
  one.references[0].policies[0].name = long_name;
  auto b = AuditAnnotations(one);
  REQUIRE(b.size() == 3);
  CHECK(b[2].second.size() <= kMaxAuditAnnotationBytes);
  CHECK(b[2].second.substr(b[2].second.size() - 3) == "...");
  CHECK_NOTHROW((void)Json(b[2].second).dump());  // valid UTF-8
}
