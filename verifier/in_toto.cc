#include "verifier/in_toto.h"

#include "base/encoding.h"

namespace provgate {

StatusOr<Statement> ParseStatement(std::string_view bytes) {
  // Verifiers in Go (in-toto-golang, cosign, policy-controller) decode into
  // structs: no duplicate keys anywhere, no case variants of the fields.
  ASSIGN_OR_RETURN(Json j, ParseJsonUniqueKeys(bytes, "in-toto statement"));
  if (!j.is_object()) return InvalidArgument("in-toto statement is not a JSON object");
  RETURN_IF_ERROR(RejectGoFoldedKeys(j, {"_type", "subject", "predicateType", "predicate"}, "in-toto statement"));
  Statement st;
  if (!j.contains("_type") || !j["_type"].is_string()) {
    return InvalidArgument("in-toto statement: _type is missing or not a string");
  }
  st.type = j["_type"].get<std::string>();
  if (st.type != kStatementV01 && st.type != kStatementV1) {
    return InvalidArgument("in-toto statement: unknown _type " + Quote(st.type));
  }
  bool v01 = st.type == kStatementV01;
  if (!j.contains("subject") || !j["subject"].is_array() || j["subject"].empty()) {
    return InvalidArgument("in-toto statement: subject is missing, not an array, or empty");
  }
  const Json& subjects = j["subject"];
  if (subjects.size() > kMaxStatementSubjects) {
    return ResourceExhausted("in-toto statement: more than " + std::to_string(kMaxStatementSubjects) + " subjects");
  }
  for (size_t i = 0; i < subjects.size(); ++i) {
    const Json& s = subjects[i];
    std::string where = "in-toto statement: subject[" + std::to_string(i) + "]";
    if (!s.is_object()) return InvalidArgument(where + " is not an object");
    RETURN_IF_ERROR(RejectGoFoldedKeys(s, {"name", "digest", "uri"}, where));
    StatementSubject sub;
    if (s.contains("name")) {
      if (!s["name"].is_string()) return InvalidArgument(where + ".name is not a string");
      sub.name = s["name"].get<std::string>();
    } else if (v01) {
      return InvalidArgument(where + ".name is missing (required by Statement v0.1)");
    }
    if (!s.contains("digest") || !s["digest"].is_object() || s["digest"].empty()) {
      return InvalidArgument(where + ".digest is missing, not an object, or empty");
    }
    for (auto it = s["digest"].begin(); it != s["digest"].end(); ++it) {
      // A digest set's keys name hash algorithms; "" names none, and would
      // let a subject "cover" a digest spelt ":<hex>".
      if (it.key().empty()) return InvalidArgument(where + ".digest has an empty algorithm name");
      if (!it.value().is_string()) {
        return InvalidArgument(where + ".digest[" + Quote(it.key()) + "] is not a string");
      }
      sub.digest[it.key()] = it.value().get<std::string>();
    }
    st.subjects.push_back(std::move(sub));
  }
  if (!j.contains("predicateType") || !j["predicateType"].is_string() ||
      j["predicateType"].get_ref<const std::string&>().empty()) {
    return InvalidArgument("in-toto statement: predicateType is missing, not a string, or empty");
  }
  st.predicate_type = j["predicateType"].get<std::string>();
  st.predicate = Json::object();
  if (j.contains("predicate") && !j["predicate"].is_null()) {
    if (!j["predicate"].is_object()) return InvalidArgument("in-toto statement: predicate is not an object");
    st.predicate = std::move(j["predicate"]);
  }
  return st;
}

StatementTypes PeekStatementTypes(std::string_view bytes) {
  StatementTypes out;
  auto j = ParseJsonTopLevelMembers(bytes, "in-toto statement", {"_type", "predicateType"});
  if (!j.ok() || !j->is_object()) return out;
  if (j->contains("_type") && (*j)["_type"].is_string()) out.type = (*j)["_type"].get<std::string>();
  if (j->contains("predicateType") && (*j)["predicateType"].is_string()) {
    out.predicate_type = (*j)["predicateType"].get<std::string>();
  }
  return out;
}

bool StatementCoversDigest(const Statement& st, std::string_view digest) {
  auto colon = digest.find(':');
  if (colon == std::string_view::npos) return false;
  std::string alg(digest.substr(0, colon));
  std::string_view hex = digest.substr(colon + 1);
  for (const auto& s : st.subjects) {
    auto it = s.digest.find(alg);
    if (it != s.digest.end() && it->second == hex) return true;
  }
  return false;
}

std::string MakeStatementV1(std::string_view subject_name, std::string_view digest,
                            std::string_view predicate_type, const Json& predicate) {
  auto colon = digest.find(':');
  Json st;
  st["_type"] = kStatementV1;
  st["subject"] = Json::array({{{"name", std::string(subject_name)},
                                {"digest", {{std::string(digest.substr(0, colon)), std::string(digest.substr(colon + 1))}}}}});
  st["predicateType"] = std::string(predicate_type);
  st["predicate"] = predicate;
  return st.dump();
}

}  // namespace provgate
