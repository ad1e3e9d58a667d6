// `provgate test DIR...`: runs every provgate-test.yaml under the
// directories through the decision pipeline `check` uses (DecideObject) and
// compares the decisions with the expected ones; a table or JUnit XML out.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "base/clock.h"
#include "base/encoding.h"
#include "policy/policy_loader.h"
#include "webhook/cli/check_outcome.h"
#include "webhook/cli/cli_support.h"
#include "webhook/cli/commands.h"
#include "webhook/cli/policy_test_file.h"
#include "webhook/decide/decide_object.h"
#include "webhook/read_manifests.h"

namespace provgate {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxManifestFile = 16 << 20;
constexpr size_t kMaxTestFiles = 1000;

struct Row {
  std::string file, object, field, expected, got;
  bool passed = false;
  std::string why;  // for failures
};

struct FileResult {
  std::string file;
  std::string error;  // set: the file could not be run (exit 2)
  std::vector<Row> rows;
};

// An object's decision for an expectation without a field: its
// ObjectDecision::Overall(), except that an allowed object with no
// references is allow (Overall() says unmatched).
Decision ObjectLevelDecision(const ObjectDecision& d) {
  if (d.allowed && d.references.empty()) return Decision::kAllow;
  return d.Overall();
}

void AddReasons(const ReferenceDecision& r, std::vector<std::string>* out) {
  if (!r.reason.empty()) out->push_back(r.reason);
  for (const auto& p : r.policies) out->insert(out->end(), p.reasons.begin(), p.reasons.end());
}

std::string ObjectName(const ObjectIdentity& o) {
  return o.kind + " " + (o.namespace_name.empty() ? "" : o.namespace_name + "/") + o.name;
}

bool Selects(const ObjectSelector& s, const ObjectIdentity& o) {
  return s.name == o.name && (s.kind.empty() || s.kind == o.kind) &&
         (s.namespace_name.empty() || s.namespace_name == o.namespace_name);
}

// Runs one test file; returns its rows or the error that kept it from running.
FileResult RunFile(const PolicyTestFile& t, const TestOptions& o) {
  FileResult out;
  out.file = t.path;
  auto fail = [&](const Status& s) {
    out.error = s.message();
    out.rows.clear();
    return out;
  };
  auto set = LoadPolicies(t.policies);
  if (!set.ok()) return fail(set.status());
  std::vector<Json> objects;
  for (const auto& file : t.manifests) {
    auto text = ReadInputFile(file, kMaxManifestFile);
    if (!text.ok()) return fail(text.status());
    auto objs = ReadManifestObjects(*text, file);
    if (!objs.ok()) return fail(objs.status());
    for (auto& obj : *objs) objects.push_back(std::move(obj));
  }
  CommonOptions common;
  common.registry_config = t.registry_config;
  common.oci_layout = t.oci_layout;
  common.timeout_seconds = o.timeout_seconds;
  common.insecure_registries = o.insecure_registries;
  common.default_docker_config = false;  // a suite's result must not depend on who runs it
  auto ctx = MakeRegistryContext(common);
  if (!ctx.ok()) return fail(ctx.status());
  SteadyClock clock;
  VerificationService verifier(*ctx->client, clock, {});
  DecisionOptions options;
  options.unmatched = t.unmatched_deny ? UnmatchedAction::kDeny : UnmatchedAction::kAllow;
  std::vector<ObjectDecision> decisions;
  for (const auto& obj : objects) {
    auto d = DecideObject(obj, t.namespace_name, *set, verifier, options, ctx->deadline);
    if (!d.ok()) return fail(d.status());
    decisions.push_back(std::move(*d));
  }

  for (const Expectation& e : t.expect) {
    std::vector<const ObjectDecision*> found;
    for (const auto& d : decisions) {
      if (Selects(e.object, d.object)) found.push_back(&d);
    }
    if (found.size() != 1) {
      return fail(InvalidArgument(e.location + ": object " + Quote(e.object.text) +
                                  (found.empty() ? " is in none of the manifests"
                                                 : " names " + std::to_string(found.size()) +
                                                       " objects; add the kind and namespace")));
    }
    const ObjectDecision& d = *found[0];
    Row row;
    row.file = t.path;
    row.object = ObjectName(d.object);
    row.field = e.field.empty() ? "-" : e.field;
    row.expected = e.decision;
    Decision got;
    std::vector<std::string> reasons;
    bool undecided = false;
    std::string pin;
    if (e.field.empty()) {
      got = ObjectLevelDecision(d);
      if (!d.message.empty()) reasons.push_back(d.message);
      reasons.insert(reasons.end(), d.warnings.begin(), d.warnings.end());
      for (const auto& r : d.references) {
        AddReasons(r, &reasons);
        undecided = undecided || DeniedUndecided(r);
      }
    } else {
      auto it = std::find_if(d.references.begin(), d.references.end(),
                             [&](const ReferenceDecision& r) { return r.ref.field_path == e.field; });
      if (it == d.references.end()) {
        return fail(InvalidArgument(e.location + ": " + row.object + " has no model reference at " + Quote(e.field)));
      }
      got = it->decision;
      AddReasons(*it, &reasons);
      undecided = DeniedUndecided(*it);
      pin = PinnedReference(d, *it, DefaultPinKinds());
    }
    row.got = DecisionName(got);
    std::vector<std::string> problems;
    if (row.got != e.decision) problems.push_back("decision is " + row.got + ", expected " + e.decision);
    bool reason_found = false;
    for (const auto& r : reasons) reason_found = reason_found || r.find(e.reason_contains) != std::string::npos;
    if (!e.reason_contains.empty()) {
      if (!reason_found) problems.push_back("no reason contains " + Quote(e.reason_contains));
      row.expected += ", reason contains " + Quote(e.reason_contains, 60);
    }
    // A denial only because a registry could not be asked is no decision:
    // it passes only when the test expects that very reason.
    if (undecided && (e.reason_contains.empty() || !reason_found)) {
      problems.push_back("no decision was made (a registry could not be asked)");
    }
    if (e.pin) {
      row.expected += ", pin " + (e.pin->empty() ? std::string("none") : *e.pin);
      row.got += ", pin " + (pin.empty() ? std::string("none") : pin);
      if (pin != *e.pin) problems.push_back("pinned to " + (pin.empty() ? std::string("nothing") : Quote(pin)));
    }
    row.passed = problems.empty();
    for (const auto& p : problems) row.why += (row.why.empty() ? "" : "; ") + p;
    if (!row.passed && !reasons.empty()) {
      std::string all;
      for (const auto& r : reasons) all += (all.empty() ? "" : " | ") + r;
      row.why += "; reasons: " + TruncateUtf8(all, 600);
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

StatusOr<std::vector<std::string>> FindTestFiles(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) {
      files.push_back(p);
      continue;
    }
    if (!fs::is_directory(p, ec)) return InvalidArgument(p + ": no such file or directory");
    std::vector<std::string> found;
    for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->path().filename() == kPolicyTestFileName && it->is_regular_file(ec)) found.push_back(it->path().string());
      if (found.size() > kMaxTestFiles) return InvalidArgument(p + ": more than " + std::to_string(kMaxTestFiles) + " test files");
    }
    if (ec) return InvalidArgument(p + ": cannot list: " + ec.message());
    if (found.empty()) return InvalidArgument(p + ": no " + std::string(kPolicyTestFileName) + " under it");
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

std::string XmlEscape(std::string_view s) {
  std::string valid = EscapeInvalidUtf8(s);
  std::string out;
  for (char c : valid) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 allows no control characters but tab, LF and CR.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  return out;
}

void PrintJunit(const std::vector<FileResult>& results) {
  size_t tests = 0, failures = 0, errors = 0;
  for (const auto& f : results) {
    tests += f.error.empty() ? f.rows.size() : 1;
    errors += f.error.empty() ? 0 : 1;
    for (const auto& r : f.rows) failures += r.passed ? 0 : 1;
  }
  std::printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  std::printf("<testsuites name=\"provgate test\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\">\n", tests, failures,
              errors);
  for (const auto& f : results) {
    size_t fails = 0;
    for (const auto& r : f.rows) fails += r.passed ? 0 : 1;
    const std::string file = XmlEscape(f.file);
    std::printf("  <testsuite name=\"%s\" tests=\"%zu\" failures=\"%zu\" errors=\"%d\">\n", file.c_str(),
                f.error.empty() ? f.rows.size() : 1, fails, f.error.empty() ? 0 : 1);
    if (!f.error.empty()) {
      std::printf("    <testcase name=\"load\" classname=\"%s\">\n      <error message=\"%s\">%s</error>\n    </testcase>\n",
                  file.c_str(), XmlEscape(f.error.substr(0, f.error.find('\n'))).c_str(), XmlEscape(f.error).c_str());
    }
    for (const auto& r : f.rows) {
      const std::string name = XmlEscape(r.object + (r.field == "-" ? "" : " " + r.field));
      if (r.passed) {
        std::printf("    <testcase name=\"%s\" classname=\"%s\"/>\n", name.c_str(), file.c_str());
      } else {
        std::printf("    <testcase name=\"%s\" classname=\"%s\">\n      <failure message=\"%s\">expected: %s\ngot: %s\n%s</failure>\n    </testcase>\n",
                    name.c_str(), file.c_str(), XmlEscape("expected " + r.expected + ", got " + r.got).c_str(),
                    XmlEscape(r.expected).c_str(), XmlEscape(r.got).c_str(), XmlEscape(r.why).c_str());
      }
    }
    std::printf("  </testsuite>\n");
  }
  std::printf("</testsuites>\n");
}

void PrintTable(const std::vector<FileResult>& results) {
  std::vector<Row> rows;
  rows.push_back({"FILE", "OBJECT", "FIELD", "EXPECTED", "GOT", true, ""});
  for (const auto& f : results) rows.insert(rows.end(), f.rows.begin(), f.rows.end());
  size_t w[4] = {0, 0, 0, 0};
  for (const auto& r : rows) {
    w[0] = std::max(w[0], r.file.size());
    w[1] = std::max(w[1], r.object.size());
    w[2] = std::max(w[2], r.field.size());
    w[3] = std::max(w[3], r.expected.size());
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    const char* result = i == 0 ? "RESULT" : r.passed ? "PASS" : "FAIL";
    std::printf("%-6s  %-*s  %-*s  %-*s  %-*s  %s\n", result, static_cast<int>(w[0]), r.file.c_str(),
                static_cast<int>(w[1]), r.object.c_str(), static_cast<int>(w[2]), r.field.c_str(),
                static_cast<int>(w[3]), r.expected.c_str(), r.got.c_str());
    if (!r.passed) std::printf("        %s\n", EscapeInvalidUtf8(r.why).c_str());
  }
}

}  // namespace

int RunTest(const TestOptions& o) {
  auto files = FindTestFiles(o.paths);
  if (!files.ok()) return FailInput(files.status());
  // Every file is read and parsed before anything runs: a malformed suite
  // reports all its format errors at once and decides nothing.
  std::vector<PolicyTestFile> tests;
  bool bad = false;
  for (const auto& file : *files) {
    auto text = ReadInputFile(file, kMaxPolicyTestFileBytes);
    if (!text.ok()) {
      FailInput(text.status());
      bad = true;
      continue;
    }
    auto t = ParsePolicyTestFile(*text, file);
    if (!t.ok()) {
      std::fprintf(stderr, "%s\n", t.status().message().c_str());
      bad = true;
      continue;
    }
    tests.push_back(std::move(*t));
  }
  if (bad) return kExitError;

  std::vector<FileResult> results;
  size_t passed = 0, failed = 0, errored = 0;
  for (const auto& t : tests) {
    results.push_back(RunFile(t, o));
    const FileResult& r = results.back();
    if (!r.error.empty()) {
      ++errored;
      std::fprintf(stderr, "provgate: %s: %s\n", r.file.c_str(), r.error.c_str());
    }
    for (const auto& row : r.rows) (row.passed ? passed : failed)++;
  }
  if (o.output == "junit") {
    PrintJunit(results);
  } else {
    PrintTable(results);
    std::printf("%zu passed, %zu failed, %zu expectations in %zu files%s\n", passed, failed, passed + failed,
                results.size(), errored ? (", " + std::to_string(errored) + " could not run").c_str() : "");
  }
  if (errored) return kExitError;
  return failed ? kExitDenied : kExitOk;
}

}  // namespace provgate
