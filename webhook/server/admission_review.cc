#include "webhook/server/admission_review.h"

#include <algorithm>

#include "base/encoding.h"
#include "webhook/server/json_log.h"  // AppendJsonString

namespace provgate {
namespace {

using simdjson::dom::element;

std::string_view SimdjsonErrorText(simdjson::error_code e) {
  switch (e) {
    case simdjson::DEPTH_ERROR: return "nested deeper than 100 levels";
    case simdjson::CAPACITY: return "larger than 3 MiB";
    case simdjson::EMPTY: return "empty document";
    case simdjson::UTF8_ERROR: return "invalid UTF-8";
    case simdjson::STRING_ERROR: return "invalid string";
    case simdjson::NUMBER_ERROR: return "invalid number";
    case simdjson::UNCLOSED_STRING: return "unclosed string";
    case simdjson::TAPE_ERROR: return "unexpected structure";
    default: return simdjson::error_message(e);
  }
}

std::string_view StringAt(const simdjson::dom::object& obj, const char* key) {
  std::string_view s;
  element v;
  if (obj.at_key(key).get(v) != simdjson::SUCCESS || v.get_string().get(s) != simdjson::SUCCESS) return {};
  return s;
}

// Refuses an object that holds a key twice: simdjson would read the first,
// Go's decoders (and so the API server) the last. `where` names the object
// in the message ("request.").
Status RefuseRepeatedKey(const simdjson::dom::object& obj, std::string_view where) {
  std::vector<std::string_view> keys;
  keys.reserve(obj.size());
  for (auto field : obj) keys.push_back(field.key);
  std::sort(keys.begin(), keys.end());
  auto twice = std::adjacent_find(keys.begin(), keys.end());
  if (twice == keys.end()) return Status::Ok();
  return InvalidArgument(std::string(where) + PrintableLine(std::string(*twice)) + " is given twice");
}

}  // namespace

StatusOr<AdmissionRequest> ParseAdmissionReview(std::string_view body, simdjson::dom::parser& parser) {
  if (body.size() > kMaxAdmissionBodyBytes) return InvalidArgument("request body larger than 3 MiB");
  element review;
  if (auto err = parser.parse(body.data(), body.size()).get(review); err != simdjson::SUCCESS) {
    return InvalidArgument("AdmissionReview: malformed JSON: " + std::string(SimdjsonErrorText(err)));
  }
  simdjson::dom::object top;
  if (review.get_object().get(top) != simdjson::SUCCESS) return InvalidArgument("AdmissionReview is not a JSON object");
  RETURN_IF_ERROR(RefuseRepeatedKey(top, "AdmissionReview."));
  if (StringAt(top, "kind") != "AdmissionReview") return InvalidArgument("kind is not AdmissionReview");
  if (StringAt(top, "apiVersion") != kAdmissionApiVersion) return InvalidArgument("apiVersion is not admission.k8s.io/v1");
  simdjson::dom::object req;
  if (top.at_key("request").get_object().get(req) != simdjson::SUCCESS) {
    return InvalidArgument("AdmissionReview has no request object");
  }
  // No member of the request, or of request.kind, may be given twice.
  RETURN_IF_ERROR(RefuseRepeatedKey(req, "request."));
  // The request's members in one pass.
  AdmissionRequest r;
  element uid, operation, namespace_name, name, sub_resource, kind_value, dry, object;
  struct Member {
    std::string_view key;
    element* value;
    bool seen = false;
  };
  Member members[] = {{"uid", &uid},          {"operation", &operation},       {"namespace", &namespace_name},
                      {"name", &name},        {"subResource", &sub_resource}, {"kind", &kind_value},
                      {"dryRun", &dry},       {"object", &object}};
  for (auto field : req) {
    for (auto& m : members) {
      if (field.key != m.key) continue;
      m.seen = true;
      *m.value = field.value;
      break;
    }
  }
  // request.<key> as a string: absent or null gives "", another type fails.
  auto optional_string = [&](const Member& m, std::string* out) -> Status {
    if (!m.seen || m.value->is_null()) return Status::Ok();
    std::string_view v;
    if (m.value->get_string().get(v) != simdjson::SUCCESS) {
      return InvalidArgument("request." + std::string(m.key) + " is not a string");
    }
    out->assign(v);
    return Status::Ok();
  };
  RETURN_IF_ERROR(optional_string(members[0], &r.uid));
  if (r.uid.empty()) return InvalidArgument("request.uid is missing");
  if (r.uid.size() > 256) return InvalidArgument("request.uid is longer than 256 characters");
  RETURN_IF_ERROR(optional_string(members[1], &r.operation));
  if (r.operation.empty()) return InvalidArgument("request.operation is missing");
  RETURN_IF_ERROR(optional_string(members[2], &r.namespace_name));
  RETURN_IF_ERROR(optional_string(members[3], &r.name));
  RETURN_IF_ERROR(optional_string(members[4], &r.sub_resource));
  simdjson::dom::object kind;
  std::string kind_group;
  if (members[5].seen && kind_value.get_object().get(kind) == simdjson::SUCCESS) {
    RETURN_IF_ERROR(RefuseRepeatedKey(kind, "request.kind."));
    r.kind = std::string(StringAt(kind, "kind"));
    kind_group = std::string(StringAt(kind, "group"));
  }
  if (members[6].seen && !dry.is_null()) {
    bool b = false;
    if (dry.get_bool().get(b) != simdjson::SUCCESS) return InvalidArgument("request.dryRun is not a boolean");
    r.dry_run = b;
  }
  if (members[7].seen && !object.is_null()) {
    if (!object.is_object()) return InvalidArgument("request.object is not an object");
    r.object = object;
  }
  // CREATE and UPDATE are decided on request.object, whose kind is the one
  // the API server admits (request.kind). One without it, or of another kind
  // or API group (references are found by the object's kind and apiVersion),
  // cannot be decided: answering it as an object without references would
  // allow it. (The core group is named by an empty request.kind.group.)
  if (r.operation == "CREATE" || r.operation == "UPDATE") {
    if (!r.object) return InvalidArgument("request.object is missing for " + r.operation);
    if (r.kind.empty()) return InvalidArgument("request.kind is missing for " + r.operation);
    simdjson::dom::object obj;
    if (r.object->get_object().get(obj) != simdjson::SUCCESS) return InvalidArgument("request.object is not an object");
    std::string_view object_kind = StringAt(obj, "kind"), api_version = StringAt(obj, "apiVersion");
    std::string_view object_group = api_version.find('/') == std::string_view::npos
                                        ? std::string_view()
                                        : api_version.substr(0, api_version.find('/'));
    if (object_kind != r.kind || (!kind_group.empty() && object_group != kind_group)) {
      return InvalidArgument("request.object is " + Quote(std::string(api_version) + " " + std::string(object_kind)) +
                             " but request.kind is " + Quote(kind_group + " " + r.kind));
    }
  }
  return r;
}

std::string AdmissionResponseJson(const AdmissionResponse& r) {
  // Written as text: this runs once per admission, and building a Json tree
  // for a handful of fields cost more than the rest of a warm review.
  std::string out;
  out.reserve(160 + r.uid.size() + r.message.size() + r.patch.size() * 4 / 3);
  out += "{\"apiVersion\":";
  AppendJsonString(kAdmissionApiVersion, &out);
  out += ",\"kind\":\"AdmissionReview\",\"response\":{\"uid\":";
  AppendJsonString(r.uid, &out);
  out += r.allowed ? ",\"allowed\":true" : ",\"allowed\":false";
  if (!r.allowed) {
    out += ",\"status\":{\"code\":403,\"reason\":\"Forbidden\",\"message\":";
    AppendJsonString(r.message, &out);
    out += '}';
  }
  if (!r.warnings.empty()) {
    out += ",\"warnings\":[";
    for (size_t i = 0; i < r.warnings.size(); ++i) {
      if (i) out += ',';
      AppendJsonString(r.warnings[i], &out);
    }
    out += ']';
  }
  if (!r.patch.empty()) {
    out += ",\"patchType\":\"JSONPatch\",\"patch\":\"";
    out += Base64Encode(r.patch);  // base64 needs no escaping
    out += '"';
  }
  if (!r.audit_annotations.empty()) {
    out += ",\"auditAnnotations\":{";
    for (size_t i = 0; i < r.audit_annotations.size(); ++i) {
      if (i) out += ',';
      AppendJsonString(r.audit_annotations[i].first, &out);
      out += ':';
      AppendJsonString(r.audit_annotations[i].second, &out);
    }
    out += '}';
  }
  out += "}}";
  return out;
}

std::vector<std::pair<std::string, std::string>> AuditAnnotations(const ObjectDecision& d) {
  std::vector<std::string> digests, policies;
  std::vector<bool> policy_failed;
  for (const auto& r : d.references) {
    if (!r.digest.empty() && r.ref.parsed) {
      std::string entry = r.ref.reference.WithDigest(r.digest).String();
      if (std::find(digests.begin(), digests.end(), entry) == digests.end()) digests.push_back(std::move(entry));
    }
    for (const auto& p : r.policies) {
      auto it = std::find(policies.begin(), policies.end(), p.name);
      if (it == policies.end()) {
        policies.push_back(p.name);
        policy_failed.push_back(!p.passed);
      } else {
        policy_failed[it - policies.begin()] = policy_failed[it - policies.begin()] || !p.passed;
      }
    }
  }
  for (size_t i = 0; i < policies.size(); ++i) policies[i] += policy_failed[i] ? "=failed" : "=passed";
  // Whole entries while they fit, then how many were left out: a digest cut
  // in the middle would be worse than one not named.
  auto bounded = [](const std::vector<std::string>& entries) {
    std::string out;
    for (size_t i = 0; i < entries.size(); ++i) {
      const std::string more = ",+" + std::to_string(entries.size() - i) + " more";
      const size_t room = kMaxAuditAnnotationBytes - (i + 1 < entries.size() ? more.size() : 0);
      if (out.size() + (i ? 1 : 0) + entries[i].size() <= room) {
        out += (i ? "," : "") + entries[i];
        continue;
      }
      // One entry alone over the bound: cut ("..." included in the bound).
      if (i == 0) return TruncateUtf8(entries[0], room - 3) + (i + 1 < entries.size() ? more : "");
      return out + more;
    }
    return out;
  };
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("decision", DecisionName(d.Overall()));
  if (!digests.empty()) out.emplace_back("digest", bounded(digests));
  if (!policies.empty()) out.emplace_back("policy", bounded(policies));
  return out;
}

std::string PinningPatch(const ObjectDecision& d, const std::set<std::string>& pin_kinds) {
  Json ops = Json::array();
  for (const auto& r : d.references) {
    std::string pinned = PinnedReference(d, r, pin_kinds);
    if (!pinned.empty()) ops.push_back({{"op", "replace"}, {"path", r.ref.json_pointer}, {"value", pinned}});
  }
  return ops.empty() ? "" : ops.dump();
}

std::string ErrorJson(const std::string& message) {
  return Json{{"error", message}}.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace provgate
