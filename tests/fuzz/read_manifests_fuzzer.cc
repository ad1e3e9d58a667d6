// ReadManifestObjects (provgate check's YAML/JSON reader) over arbitrary
// text, then FindModelReferences over every object read. Invariants
// (webhook/read_manifests.h, webhook/decide/find_model_references.h): every
// error line names the file; every object is a mapping and no list is left
// unexpanded; at most kMaxManifestObjects; every found reference's JSON
// pointer names its string in the object.
#include <string>

#include "tests/fuzz/fuzz_support.h"
#include "tests/fuzz/fuzz_target.h"
#include "webhook/decide/find_model_references.h"
#include "webhook/read_manifests.h"

using namespace provgate;
using provgate::fuzz::FuzzCheck;

namespace {

constexpr char kFile[] = "manifests/m.yaml";

void CheckErrorLines(const std::string& message) {
  size_t start = 0;
  while (true) {
    size_t nl = message.find('\n', start);
    std::string_view line(message.data() + start, (nl == std::string::npos ? message.size() : nl) - start);
    FuzzCheck(line.rfind(kFile, 0) == 0, "an error line does not name the file: " + std::string(line.substr(0, 200)));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
}

}  // namespace

PROVGATE_FUZZ_TARGET(read_manifests) {
  auto objects = ReadManifestObjects(input, kFile);
  if (!objects.ok()) {
    FuzzCheck(objects.status().code() == StatusCode::kInvalidArgument, "unexpected status " + objects.status().ToString());
    CheckErrorLines(objects.status().message());
    return;
  }
  FuzzCheck(objects->size() <= kMaxManifestObjects, "more objects than kMaxManifestObjects");
  static const std::vector<std::string> annotations = DefaultModelAnnotations();
  for (const Json& o : *objects) {
    FuzzCheck(o.is_object(), "an object that is not a mapping");
    FuzzCheck(!o.contains("items"), "a list left unexpanded");
    auto refs = FindModelReferences(o, annotations);
    if (refs.ok()) {
      provgate::fuzz::CheckModelReferences(o, *refs);
    } else {
      FuzzCheck(refs.status().code() == StatusCode::kInvalidArgument, "unexpected status " + refs.status().ToString());
    }
    (void)IdentifyObject(o);
  }
}
