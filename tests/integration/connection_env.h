// What the tests of the server's connection handling share: a policy
// directory whose one policy matches nothing the reviews name, so every
// review is decided without a registry, and such a review.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tests/integration/test_registry.h"

namespace provgate::testing {

struct ConnectionEnv {
  TempDir dir;
  TestCa ca = TestCa::Create(dir.path());
  std::string policies = dir.File("policies");

  ConnectionEnv() {
    std::filesystem::create_directories(policies);
    WriteFile(policies + "/models.yaml",
              "apiVersion: provgate.dev/v1alpha1\nkind: ModelPolicy\nmetadata:\n  name: models\nspec:\n"
              "  mode: enforce\n  match:\n    references: [\"registry.invalid/models/**\"]\n  authorities:\n"
              "    - name: release\n      key:\n        pem: |\n"
              "          -----BEGIN PUBLIC KEY-----\n"
              "          MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAET0G48mya3HnLYs/XLbXnce6hJ08/\n"
              "          FacwFkF7Ek67VPgxFQaSyPn4lexEMU0eWq97ea/kU0cYv6QOuzKaMhjYZQ==\n"
              "          -----END PUBLIC KEY-----\n"
              "  signatures:\n    require: 1\n");
  }
  std::vector<std::string> Args(std::vector<std::string> extra = {}) const {
    std::vector<std::string> a = {"--policies", policies};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
};

// An AdmissionReview of a Pod running `image`.
inline std::string PodReview(const std::string& uid, const std::string& image) {
  return R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":")" + uid +
         R"(","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},)"
         R"("name":"predictor","namespace":"serving","operation":"CREATE","userInfo":{"username":"admin"},)"
         R"("object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"predictor"},)"
         R"("spec":{"containers":[{"name":"server","image":")" + image + R"("}]}},"dryRun":false}})";
}

// One whose only image no policy matches: allowed, with no registry request.
inline std::string UnmatchedPodReview(const std::string& uid) { return PodReview(uid, "ghcr.io/acme/server:1.0"); }

}  // namespace provgate::testing
