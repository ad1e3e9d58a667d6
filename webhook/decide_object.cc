#include "webhook/decide_object.h"

#include <algorithm>
#include <future>
#include <string_view>
#include <unordered_map>

#include "base/encoding.h"

namespace provgate {
namespace {

constexpr size_t kMaxWarningLength = 250;

// At most `n` bytes, cut before a UTF-8 continuation byte never inside a
// character: warnings travel in JSON, which must be valid UTF-8.
std::string Truncate(std::string s, size_t n) {
  if (s.size() <= n) return s;
  return TruncateUtf8(std::move(s), n - 3);  // "..." included in the n
}

std::string FirstReason(const PolicyResult& r) {
  if (r.reasons.empty()) return "failed";
  std::string out;
  for (const auto& reason : r.reasons) out += (out.empty() ? "" : "; ") + reason;
  return out;
}

}  // namespace

bool ObjectDecision::AnyAudit() const {
  for (const auto& r : references) {
    if (r.decision == Decision::kAudit) return true;
  }
  return false;
}

std::string FetchFailureReason(const Status& s) {
  if (s.code() == StatusCode::kNotFound) return "not-found: " + s.message();
  // StatusCodeName(kUnavailable) is "registry-unavailable" itself: say it once.
  if (s.code() == StatusCode::kUnavailable) return "registry-unavailable: " + s.message();
  return std::string("registry-unavailable: ") + StatusCodeName(s.code()) + ": " + s.message();
}

StatusOr<ObjectDecision> DecideObject(const Json& object, const std::string& namespace_name,
                                      const std::shared_ptr<const PolicySet>& policies,
                                      VerificationService& verifier, const DecisionOptions& options,
                                      Deadline deadline) {
  ObjectIdentity id = IdentifyObject(object);
  if (id.namespace_name.empty()) id.namespace_name = namespace_name;
  ASSIGN_OR_RETURN(std::vector<ModelReference> refs, FindModelReferences(object, options.model_annotations));
  return DecideReferences(std::move(id), std::move(refs), policies, verifier, options, deadline);
}

ObjectDecision DecideReferences(ObjectIdentity object, std::vector<ModelReference> refs,
                                const std::shared_ptr<const PolicySet>& policies, VerificationService& verifier,
                                const DecisionOptions& options, Deadline deadline) {
  ObjectDecision out;
  out.object = std::move(object);

  // Which policies match each reference; which distinct references to verify.
  // Cache hits are answered inline; misses run in parallel (one inline when
  // it is the only one), so a warm admission starts no thread.
  using Result = StatusOr<std::shared_ptr<const Verification>>;
  std::vector<std::vector<const Policy*>> matched(refs.size());
  // The distinct matched references (by Reference::String()) and their
  // results; result[i] indexes it for reference i. An object usually has a
  // handful of references, searched linearly; past 8, through an index (of
  // views into `done`, which never reallocates).
  std::vector<std::pair<std::string, Result>> done;
  done.reserve(refs.size());
  std::unordered_map<std::string_view, size_t> index;
  std::vector<size_t> result(refs.size(), 0);
  std::vector<size_t> misses;  // indexes into `refs`
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!refs[i].parsed) continue;
    matched[i] = policies->Matching(refs[i].reference, out.object.namespace_name, refs[i].source);
    if (matched[i].empty()) continue;
    std::string key = refs[i].reference.String();
    size_t at = done.size();
    if (done.size() <= 8) {
      auto seen = std::find_if(done.begin(), done.end(), [&](const auto& d) { return d.first == key; });
      at = static_cast<size_t>(seen - done.begin());
    } else if (auto seen = index.find(key); seen != index.end()) {
      at = seen->second;
    }
    if (at < done.size()) {
      result[i] = at;
      continue;
    }
    result[i] = done.size();
    if (auto hit = verifier.Cached(refs[i].reference, *policies, key)) {
      done.emplace_back(std::move(key), hit);
    } else {
      misses.push_back(i);
      done.emplace_back(std::move(key), Internal("pending"));
    }
    if (done.size() > 8) {
      if (index.empty()) {
        for (size_t d = 0; d < done.size(); ++d) index.emplace(done[d].first, d);
      } else {
        index.emplace(done.back().first, done.size() - 1);
      }
    }
  }
  // Misses are verified in parallel, the first one on this thread.
  std::vector<std::pair<size_t, std::future<Result>>> pending;
  for (size_t m = 1; m < misses.size(); ++m) {
    Reference r = refs[misses[m]].reference;
    pending.emplace_back(result[misses[m]], std::async(std::launch::async, [&verifier, r, policies, deadline] {
                           return verifier.Verify(r, policies, deadline);
                         }));
  }
  if (!misses.empty()) {
    done[result[misses[0]]].second = verifier.Verify(refs[misses[0]].reference, policies, deadline);
  }
  for (auto& [at, f] : pending) done[at].second = f.get();

  std::string denials;
  out.references.reserve(refs.size());
  for (size_t i = 0; i < refs.size(); ++i) {
    ReferenceDecision rd;
    rd.ref = std::move(refs[i]);
    rd.policies.reserve(matched[i].size());
    if (!rd.ref.parsed) {
      rd.decision = Decision::kDeny;
      PolicyResult pr;
      pr.name = "(reference)";
      pr.reasons.push_back("invalid reference: " + rd.ref.parse_error);
      rd.policies.push_back(pr);
    } else if (matched[i].empty()) {
      rd.decision = CombineResults({}, options.unmatched);
      if (rd.decision == Decision::kDeny) {
        PolicyResult pr;
        pr.name = "(unmatched)";
        pr.reasons.push_back("no policy matches this reference and --unmatched is deny");
        rd.policies.push_back(pr);
      }
    } else {
      const Result& v = done[result[i]].second;
      if (v.ok()) rd.digest = (*v)->digest;
      for (const Policy* p : matched[i]) {
        if (!v.ok()) {
          rd.policies.push_back(FailedPolicy(*p, FetchFailureReason(v.status())));
          continue;
        }
        auto it = (*v)->results.find(p->name);
        rd.policies.push_back(it != (*v)->results.end() ? it->second
                                                         : FailedPolicy(*p, "internal: policy was not evaluated"));
      }
      rd.decision = CombineResults(rd.policies, options.unmatched);
    }

    for (const auto& pr : rd.policies) {
      if (pr.passed) continue;
      if (rd.decision == Decision::kDeny && (pr.mode == Mode::kEnforce || pr.name.front() == '(')) {
        const std::string where = rd.ref.field_path + " " + Quote(rd.ref.raw);
        denials += (denials.empty() ? "" : "; ") + where + " denied by policy " + pr.name + ": " + FirstReason(pr);
      } else if (pr.mode == Mode::kWarn) {
        out.warnings.push_back(
            Truncate("provgate: " + rd.ref.field_path + " " + rd.ref.raw + ": policy " + pr.name + ": " + FirstReason(pr),
                     kMaxWarningLength));
      }
    }
    if (rd.decision == Decision::kDeny) out.allowed = false;
    out.references.push_back(std::move(rd));
  }
  if (!out.allowed) {
    std::string obj = out.object.kind + " " + (out.object.namespace_name.empty() ? "" : out.object.namespace_name + "/") +
                      out.object.name;
    out.message = "provgate: " + obj + ": " + denials;
  }
  return out;
}

OrderedJson ObjectDecisionToJson(const ObjectDecision& d) {
  OrderedJson j;
  j["kind"] = d.object.kind;
  j["namespace"] = d.object.namespace_name;
  j["name"] = d.object.name;
  j["allowed"] = d.allowed;
  j["warnings"] = d.warnings;
  j["references"] = OrderedJson::array();
  for (const auto& r : d.references) {
    // The order of SPEC §2's example, plus the field path.
    OrderedJson ref;
    ref["reference"] = r.ref.parsed ? r.ref.reference.String() : r.ref.raw;
    ref["source"] = SourceName(r.ref.source);
    ref["field"] = r.ref.field_path;
    if (!r.digest.empty()) ref["digest"] = r.digest;
    ref["decision"] = DecisionName(r.decision);
    ref["policies"] = OrderedJson::array();
    for (const auto& p : r.policies) {
      OrderedJson pj;
      pj["name"] = p.name;
      pj["mode"] = ModeName(p.mode);
      pj["passed"] = p.passed;
      pj["reasons"] = p.reasons;
      ref["policies"].push_back(std::move(pj));
    }
    j["references"].push_back(std::move(ref));
  }
  return j;
}

}  // namespace provgate
