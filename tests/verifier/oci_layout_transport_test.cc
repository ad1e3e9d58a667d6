// OciLayoutTransport under the real RegistryClient: what is pushed through
// it lands in an OCI image layout and reads back by tag, digest and subject;
// several repositories share one layout; tampered, oversized and malformed
// content fails the way the client reports a registry's.
#include <doctest/doctest.h>

#include <filesystem>

#include "base/json_util.h"
#include "tests/test_util.h"
#include "verifier/digest.h"
#include "verifier/oci_manifest.h"
#include "verifier/registry/oci_layout_transport.h"
#include "verifier/registry/registry_client.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

Deadline Soon() { return std::chrono::steady_clock::now() + std::chrono::seconds(10); }

Reference Ref(const std::string& text) {
  auto r = ParseReference(text);
  REQUIRE(r.ok());
  return *r;
}

struct Layout {
  TempDir dir;
  std::string path = dir.File("layout");
  std::unique_ptr<OciLayoutTransport> transport;
  std::unique_ptr<RegistryClient> client;

  explicit Layout(bool create = true) {
    if (create) Reopen(true);
  }
  void Reopen(bool create = false) {
    client.reset();
    auto t = OciLayoutTransport::Open(path, create);
    REQUIRE_MESSAGE(t.ok(), t.status().ToString());
    transport = std::move(*t);
    client = std::make_unique<RegistryClient>(transport.get(), nullptr);
  }

  // Pushes a one-layer image manifest (config "{}") at `tag` of `ref`; with
  // `subject`, the manifest refers to it. Returns the manifest digest.
  std::string PushImage(const Reference& ref, const std::string& tag, const std::string& layer,
                        const std::string& subject = "") {
    REQUIRE(client->PushBlob(ref, layer, Soon()).ok());
    REQUIRE(client->PushBlob(ref, "{}", Soon()).ok());
    Json m = {{"schemaVersion", 2},
              {"mediaType", kOciManifest},
              {"config", {{"mediaType", "application/x-config"}, {"digest", Sha256Digest("{}")}, {"size", 2}}},
              {"layers", Json::array({{{"mediaType", "application/x-mlmodel"},
                                       {"digest", Sha256Digest(layer)},
                                       {"size", layer.size()}}})}};
    if (!subject.empty()) {
      m["subject"] = {{"mediaType", kOciManifest}, {"digest", subject}, {"size", 1}};
      m["artifactType"] = "application/vnd.dev.sigstore.bundle.v0.3+json";
    }
    auto d = client->PushManifest(ref, tag, kOciManifest, m.dump(), Soon());
    REQUIRE_MESSAGE(d.ok(), d.status().ToString());
    return *d;
  }
};

}  // namespace

TEST_CASE("oci layout: push, then read back by tag, digest and subject") {
  Layout l;
  const Reference a = Ref("registry.example.com/models/a:v1");
  const Reference b = Ref("other.example.com:5000/team/models/a:v1");  // same repository name, other host
  std::string da = l.PushImage(a, "v1", "weights a");
  std::string db = l.PushImage(b, "v1", "weights b");
  CHECK(da != db);

  // The layout on disk: the spec's files, full references as ref.name.
  CHECK(ReadFile(l.path + "/oci-layout") == R"({"imageLayoutVersion":"1.0.0"})");
  auto index = ParseJson(ReadFile(l.path + "/index.json"), "index.json");
  REQUIRE(index.ok());
  REQUIRE((*index)["manifests"].size() == 2);
  CHECK((*index)["manifests"][0]["annotations"][kOciRefNameAnnotation] == "registry.example.com/models/a:v1");
  CHECK((*index)["manifests"][1]["annotations"][kOciRefNameAnnotation] == "other.example.com:5000/team/models/a:v1");
  CHECK(std::filesystem::exists(l.path + "/blobs/sha256/" + da.substr(7)));

  // Reopened (another process would see the same), each repository its own tag.
  l.Reopen();
  for (int pass = 0; pass < 2; ++pass) {
    auto ra = l.client->ResolveDigest(a, Soon());
    REQUIRE(ra.ok());
    CHECK(*ra == da);
    CHECK(*l.client->ResolveDigest(b, Soon()) == db);
    auto m = l.client->GetManifest(a, "v1", Soon());
    REQUIRE_MESSAGE(m.ok(), m.status().ToString());
    CHECK(m->digest == da);
    CHECK(m->content_type == kOciManifest);
    auto by_digest = l.client->GetManifest(a, da, Soon());
    REQUIRE(by_digest.ok());
    auto blob = l.client->GetBlob(a, Sha256Digest("weights a"), 1 << 20, Soon());
    REQUIRE(blob.ok());
    CHECK(*blob == "weights a");
  }

  // Re-tagging moves the tag; the old manifest stays by digest.
  std::string da2 = l.PushImage(a, "v1", "weights a, retrained");
  CHECK(*l.client->ResolveDigest(a, Soon()) == da2);
  CHECK(l.client->GetManifest(a, da, Soon()).ok());

  // Referrers: built from the manifests whose subject is the digest.
  std::string bundle = l.PushImage(a, "", "a bundle", da2);
  auto refs = l.client->GetReferrers(a, da2, Soon(), 16);
  REQUIRE_MESSAGE(refs.ok(), refs.status().ToString());
  REQUIRE(refs->size() == 1);
  CHECK((*refs)[0].digest == bundle);
  CHECK((*refs)[0].artifact_type == "application/vnd.dev.sigstore.bundle.v0.3+json");
  auto none = l.client->GetReferrers(a, db, Soon(), 16);
  REQUIRE(none.ok());
  CHECK(none->empty());

  // Streaming a file upload, hashed on the way in.
  WriteFile(l.dir.File("big.bin"), std::string(3 << 20, 'w'));
  const std::string big = Sha256Digest(std::string(3 << 20, 'w'));
  REQUIRE(l.client->PushBlobFile(a, l.dir.File("big.bin"), big, 3 << 20, Soon()).ok());
  CHECK(l.client->GetBlob(a, big, 4 << 20, Soon()).ok());
}

TEST_CASE("oci layout: what is not there, tampered or too large fails as from a registry") {
  Layout l;
  const Reference a = Ref("registry.example.com/models/a:v1");
  std::string da = l.PushImage(a, "v1", "weights a");
  struct Row {
    const char* name;
    std::function<Status()> call;
    StatusCode code;
    std::string message;
  };
  const std::string layer = Sha256Digest("weights a");
  const Row rows[] = {
      {"unknown tag", [&] { return l.client->ResolveDigest(Ref("registry.example.com/models/a:v2"), Soon()).status(); },
       StatusCode::kNotFound, "MANIFEST_UNKNOWN"},
      {"the tag in another repository",
       [&] { return l.client->ResolveDigest(Ref("registry.example.com/models/b:v1"), Soon()).status(); },
       StatusCode::kNotFound, "not found"},
      {"the tag on another host",
       [&] { return l.client->ResolveDigest(Ref("elsewhere.example.com/models/a:v1"), Soon()).status(); },
       StatusCode::kNotFound, "not found"},
      {"unknown blob", [&] { return l.client->GetBlob(a, Sha256Digest("nothing"), 1024, Soon()).status(); },
       StatusCode::kNotFound, "BLOB_UNKNOWN"},
      {"blob over the bound", [&] { return l.client->GetBlob(a, layer, 4, Soon()).status(); },
       StatusCode::kResourceExhausted, "size limit of 4 bytes"},
      {"deadline passed",
       [&] { return l.client->GetBlob(a, layer, 1024, std::chrono::steady_clock::now() - std::chrono::seconds(1)).status(); },
       StatusCode::kDeadlineExceeded, "deadline"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    Status s = row.call();
    CHECK_MESSAGE(s.code() == row.code, s.ToString());
    CHECK_MESSAGE(s.message().find(row.message) != std::string::npos, s.ToString());
  }

  // Tampering: the file under a digest's name must hash to it.
  WriteFile(l.path + "/blobs/sha256/" + layer.substr(7), "weights A");
  CHECK(l.client->GetBlob(a, layer, 1024, Soon()).status().code() == StatusCode::kDataLoss);
  std::string manifest = ReadFile(l.path + "/blobs/sha256/" + da.substr(7));
  manifest[manifest.find("x-mlmodel")] = 'X';
  WriteFile(l.path + "/blobs/sha256/" + da.substr(7), manifest);
  CHECK(l.client->GetManifest(a, "v1", Soon()).status().code() == StatusCode::kDataLoss);
  CHECK(l.client->GetManifest(a, da, Soon()).status().code() == StatusCode::kDataLoss);
  // A manifest index.json names whose blob is gone: the layout is broken, not the tag absent.
  std::filesystem::remove(l.path + "/blobs/sha256/" + da.substr(7));
  CHECK(l.client->GetManifest(a, "v1", Soon()).status().code() == StatusCode::kUnavailable);

  // An upload whose bytes do not hash to the digest it names is refused.
  WriteFile(l.dir.File("f.bin"), "file bytes");
  Status s = l.client->PushBlobFile(a, l.dir.File("f.bin"), Sha256Digest("other bytes"), 10, Soon());
  CHECK(!s.ok());
  CHECK_FALSE(std::filesystem::exists(l.path + "/blobs/sha256/" + Sha256Digest("other bytes").substr(7)));
}

TEST_CASE("oci layout: Open accepts layouts that follow the spec and refuses the rest") {
  const std::string d = "sha256:" + std::string(64, 'a');
  auto entry = [&](const std::string& extra) {
    return R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","size":10,"digest":")" + d + "\"" + extra + "}";
  };
  auto name = [&](const std::string& n) { return entry(R"(,"annotations":{"org.opencontainers.image.ref.name":")" + n + "\"}"); };
  auto index = [](const std::string& manifests) { return R"({"schemaVersion":2,"manifests":[)" + manifests + "]}"; };
  const std::string layout_file = R"({"imageLayoutVersion":"1.0.0"})";
  struct Row {
    const char* name;
    std::string layout, index, error;  // error empty: must open
  };
  const Row rows[] = {
      {"empty", layout_file, index(""), ""},
      {"untagged and tagged", layout_file, index(entry("") + "," + name("r.example.com/m/a:v1")), ""},
      {"docker hub spelt short", layout_file, index(name("library/busybox:v1")), ""},
      {"with the index mediaType", layout_file,
       R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})", ""},
      {"no oci-layout", "", index(""), "oci-layout"},
      {"layout version 1.1", R"({"imageLayoutVersion":"1.1.0"})", index(""), "imageLayoutVersion must be"},
      {"not JSON", layout_file, "{", "index.json"},
      {"not an object", layout_file, "[]", "not a JSON object"},
      {"schemaVersion 1", layout_file, R"({"schemaVersion":1,"manifests":[]})", "schemaVersion must be 2"},
      {"manifests missing", layout_file, R"({"schemaVersion":2})", "manifests must be an array"},
      {"an image manifest, not an index", layout_file,
       R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","manifests":[]})",
       "mediaType must be"},
      {"duplicate key", layout_file, R"({"schemaVersion":2,"manifests":[],"manifests":[]})", "index.json"},
      {"bad digest", layout_file, index(R"({"mediaType":"x","size":1,"digest":"sha256:ABC"})"), "manifests[0].digest"},
      {"negative size", layout_file, index(R"({"mediaType":"x","size":-1,"digest":")" + d + "\"}"), "manifests[0].size"},
      {"bare tag", layout_file, index(name("v1")), "bare tag"},
      {"name:tag without a host", layout_file, index(name("mnist:v1")), "bare tag"},
      {"no tag", layout_file, index(name("r.example.com/m/a")), "host/repo:tag"},
      {"a digest", layout_file, index(name("r.example.com/m/a@" + d)), "host/repo:tag"},
      {"bad reference", layout_file, index(name("r.example.com/M/A:v1")), "manifests[0]"},
      {"a name twice, spelt two ways", layout_file,
       index(name("r.example.com/m/a:v1") + "," + name("R.Example.COM/m/a:v1")), "named twice"},
      {"annotation not a string", layout_file, index(entry(R"(,"annotations":{"k":1})")), "annotations.k"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    TempDir dir;
    if (!row.layout.empty()) WriteFile(dir.File("oci-layout"), row.layout);
    WriteFile(dir.File("index.json"), row.index);
    auto t = OciLayoutTransport::Open(dir.path(), /*create=*/false);
    if (row.error.empty()) {
      CHECK_MESSAGE(t.ok(), t.status().ToString());
    } else {
      REQUIRE_FALSE(t.ok());
      CHECK(t.status().code() == StatusCode::kInvalidArgument);
      CHECK_MESSAGE(t.status().message().find(row.error) != std::string::npos, t.status().ToString());
    }
  }
  // Without `create`, a missing directory is refused, and nothing is made.
  TempDir dir;
  CHECK_FALSE(OciLayoutTransport::Open(dir.File("absent"), false).ok());
  CHECK_FALSE(std::filesystem::exists(dir.File("absent")));
  CHECK(OciLayoutTransport::Open(dir.File("absent"), true).ok());
  CHECK(std::filesystem::exists(dir.File("absent/index.json")));
}
