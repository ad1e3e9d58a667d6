#include "tests/fuzz/fuzz_support.h"

#include <fstream>
#include <sstream>

#include "base/encoding.h"
#include "tests/fuzz/fuzz_target.h"

#ifndef PROVGATE_SOURCE_DIR
#error "PROVGATE_SOURCE_DIR must name the source tree"
#endif

namespace provgate::fuzz {

std::string ReadSourceFile(const std::string& relative) {
  std::ifstream in(std::string(PROVGATE_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  FuzzCheck(in.good() || in.eof(), "cannot read fixture " + relative);
  return s.str();
}

const std::vector<PublicKey>& TestPublicKeys() {
  static const std::vector<PublicKey> keys = [] {
    std::vector<PublicKey> out;
    for (const char* name : {"ec-p256.pub", "ec-p384.pub", "rsa-2048.pub", "ed25519.pub"}) {
      auto k = PublicKey::FromPem(ReadSourceFile(std::string("tests/testdata/keys/") + name));
      FuzzCheck(k.ok(), std::string("test key does not parse: ") + name);
      out.push_back(*k);
    }
    return out;
  }();
  return keys;
}

std::shared_ptr<const TrustedRoot> TestTrustedRoot() {
  static const std::shared_ptr<const TrustedRoot> root = [] {
    auto r = ParseTrustedRoot(ReadSourceFile("tests/testdata/policies/roots/trusted_root.json"), "trusted_root.json");
    FuzzCheck(r.ok(), "test trusted root does not parse");
    return std::make_shared<const TrustedRoot>(std::move(*r));
  }();
  return root;
}

void CheckModelReferences(const Json& object, const std::vector<ModelReference>& refs) {
  FuzzCheck(refs.size() <= kMaxReferencesPerObject, "more references than kMaxReferencesPerObject");
  for (const ModelReference& r : refs) {
    const Json* at = nullptr;
    try {
      at = &object.at(Json::json_pointer(r.json_pointer));
    } catch (const Json::exception& e) {
      FuzzCheck(false, "json_pointer " + r.json_pointer + " does not resolve: " + e.what());
      continue;  // FuzzCheck returns for an open finding
    }
    FuzzCheck(at->is_string(), "json_pointer " + r.json_pointer + " does not name a string");
    FuzzCheck(at->get_ref<const std::string&>() == r.raw,
              "json_pointer " + r.json_pointer + " does not name the reference " + r.raw);
    FuzzCheck(!r.field_path.empty(), "a reference without field path");
    if (r.parsed) {
      auto again = ParseReference(r.reference.String());
      FuzzCheck(again.ok() && *again == r.reference, "a found reference does not re-parse: " + r.raw);
      FuzzCheck(r.parse_error.empty(), "a parsed reference with a parse error");
    } else {
      FuzzCheck(!r.parse_error.empty(), "an unparsed reference without a reason: " + r.raw);
    }
  }
}

}  // namespace provgate::fuzz
