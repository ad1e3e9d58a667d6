// Table tests for the wire-format parsers: OCI manifests, simple-signing
// payloads, DSSE envelopes and in-toto statements.
#include <doctest/doctest.h>

#include <functional>

#include "base/encoding.h"
#include "verifier/dsse.h"
#include "verifier/in_toto.h"
#include "verifier/oci_manifest.h"
#include "verifier/simple_signing.h"

using namespace provgate;

namespace {
const std::string kD = "sha256:" + std::string(64, 'a');
const std::string kD2 = "sha256:" + std::string(64, 'b');

std::string Desc(const std::string& extra = "") {
  return R"({"mediaType":"application/x-mlmodel","digest":")" + kD + R"(","size":3)" + extra + "}";
}
}  // namespace

TEST_CASE("manifests: must parse") {
  struct Row {
    std::string bytes, content_type;
    Manifest::Kind kind;
    std::string media_type;
  };
  Row rows[] = {
      {R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" + Desc() +
           R"(,"layers":[)" + Desc() + "]}",
       kOciManifest, Manifest::Kind::kImage, kOciManifest},
      // KitOps omits mediaType: dispatch on Content-Type, then on fields.
      {R"({"schemaVersion":2,"config":)" + Desc() + R"(,"layers":[]})", "", Manifest::Kind::kImage, kOciManifest},
      {R"({"schemaVersion":2,"manifests":[)" + Desc() + "]}", "", Manifest::Kind::kIndex, kOciIndex},
      {R"({"schemaVersion":2,"config":)" + Desc() + R"(,"layers":[]})",
       std::string(kDockerManifest) + "; charset=utf-8", Manifest::Kind::kImage, kDockerManifest},
      {R"({"schemaVersion":2,"mediaType":")" + std::string(kDockerManifestList) + R"(","manifests":[]})", "",
       Manifest::Kind::kIndex, kDockerManifestList},
  };
  for (const auto& r : rows) {
    CAPTURE(r.bytes);
    auto m = ParseManifest(r.bytes, r.content_type, 64);
    REQUIRE_MESSAGE(m.ok(), m.status().ToString());
    CHECK(m->kind == r.kind);
    CHECK(m->media_type == r.media_type);
  }
  auto m = ParseManifest(R"({"schemaVersion":2,"config":)" + Desc() + R"(,"layers":[)" +
                             Desc(R"(,"annotations":{"org.opencontainers.image.title":"model.onnx"})") +
                             R"(],"annotations":{"a":"b"},"subject":)" + Desc() + "}",
                         kOciManifest, 64);
  REQUIRE(m.ok());
  CHECK(m->layers.at(0).annotations.at("org.opencontainers.image.title") == "model.onnx");
  CHECK(m->annotations.at("a") == "b");
  CHECK(m->subject.has_value());
}

TEST_CASE("manifests: must fail") {
  struct Row {
    std::string bytes, content_type, reason;
    StatusCode code = StatusCode::kInvalidArgument;
  };
  std::string many = R"({"schemaVersion":2,"config":)" + Desc() + R"(,"layers":[)";
  for (int i = 0; i < 5; ++i) many += (i ? "," : "") + Desc();
  many += "]}";
  Row rows[] = {
      {"not json", "", "malformed JSON"},
      {"[]", "", "not a JSON object"},
      {"{}", "", "neither a manifest nor an index"},
      {R"({"schemaVersion":1,"fsLayers":[]})", "application/vnd.docker.distribution.manifest.v1+prettyjws",
       "schema 1"},
      {R"({"schemaVersion":2,"mediaType":")" + std::string(kOciIndex) + R"(","manifests":[]})", kOciManifest,
       "contradicts Content-Type"},
      {R"({"schemaVersion":2,"mediaType":"text/plain","layers":[]})", "", "unsupported manifest media type"},
      {R"({"schemaVersion":2,"layers":[]})", kOciManifest, "no config"},
      {R"({"schemaVersion":2,"config":)" + Desc() + "}", kOciManifest, "no layers"},
      {R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:abc","size":1},"layers":[]})", kOciManifest,
       "manifest.config.digest"},
      {R"({"schemaVersion":2,"config":{"mediaType":"x","digest":")" + kD + R"(","size":-1},"layers":[]})",
       kOciManifest, "negative"},
      {R"({"schemaVersion":2,"config":{"mediaType":"x","digest":")" + kD + R"(","size":"1"},"layers":[]})",
       kOciManifest, "not an integer"},
      {R"({"schemaVersion":2,"config":)" + Desc() + R"(,"layers":[],"annotations":{"a":1}})", kOciManifest,
       "is not a string"},
      {R"({"schemaVersion":2,"config":)" + Desc() + R"(,"layers":{}})", kOciManifest, "not an array"},
      {many, kOciManifest, "more than the limit of 4", StatusCode::kResourceExhausted},
  };
  for (const auto& r : rows) {
    CAPTURE(r.bytes);
    auto m = ParseManifest(r.bytes, r.content_type, 4);
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == r.code);
    CHECK_MESSAGE(m.status().message().find(r.reason) != std::string::npos, m.status().message());
  }
}

TEST_CASE("simple signing payloads") {
  std::string made = MakeSimpleSigningPayload("reg.example.com/m", kD, {});
  // Byte-compatible with cosign's Go encoding.
  CHECK(made == R"({"critical":{"identity":{"docker-reference":"reg.example.com/m"},"image":{"docker-manifest-digest":")" +
                    kD + R"("},"type":"cosign container image signature"},"optional":null})");
  auto p = ParseSimpleSigningPayload(made);
  REQUIRE(p.ok());
  CHECK(p->manifest_digest == kD);
  CHECK(p->docker_reference == "reg.example.com/m");
  auto with_opt = ParseSimpleSigningPayload(MakeSimpleSigningPayload("r/m", kD, {{"k", "v"}}));
  REQUIRE(with_opt.ok());
  CHECK(with_opt->optional["k"] == "v");

  struct Row {
    std::string bytes, reason;
  };
  auto crit = [](const std::string& inner) { return R"({"critical":)" + inner + "}"; };
  Row rows[] = {
      {"{", "malformed JSON"},
      {"[]", "not a JSON object"},
      {"{}", "critical is missing"},
      {crit(R"({"image":{"docker-manifest-digest":")" + kD + R"("}})"), "critical.type"},
      {crit(R"({"type":"other","image":{"docker-manifest-digest":")" + kD + R"("}})"), "critical.type"},
      {crit(R"({"type":"cosign container image signature"})"), "docker-manifest-digest is missing"},
      // SIGNATURE_SPEC's example spelling: cosign's Go decoder reads it, we refuse it by name.
      {crit(R"({"type":"cosign container image signature","image":{"Docker-manifest-digest":")" + kD + R"("}})"),
       "key \"Docker-manifest-digest\" would be read as \"docker-manifest-digest\""},
      {crit(R"({"type":"cosign container image signature","image":{"docker-manifest-digest":"sha256:zz"}})"),
       "64 lowercase hex"},
      {crit(R"({"type":"cosign container image signature","image":{"docker-manifest-digest":")" + kD +
            R"("},"identity":"x"})"),
       "identity is not an object"},
      {R"({"critical":{"type":"cosign container image signature","image":{"docker-manifest-digest":")" + kD +
           R"("}},"optional":[1]})",
       "optional is neither"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.bytes);
    auto res = ParseSimpleSigningPayload(r.bytes);
    REQUIRE_FALSE(res.ok());
    CHECK_MESSAGE(res.status().message().find(r.reason) != std::string::npos, res.status().message());
  }
}

TEST_CASE("DSSE: the spec's PAE test vector") {
  CHECK(PreAuthEncoding("http://example.com/HelloWorld", "hello world") ==
        "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  CHECK(PreAuthEncoding("", "") == "DSSEv1 0  0 ");
}

TEST_CASE("DSSE envelopes: must parse and must fail") {
  std::string payload = Base64Encode("{\"a\":1}");
  std::string sig = Base64Encode("sig-bytes");
  auto env = [&](const std::string& body) { return "{" + body + "}"; };
  auto ok = ParseDsseEnvelope(env(R"("payloadType":"application/vnd.in-toto+json","payload":")" + payload +
                                  R"(","signatures":[{"keyid":"","sig":")" + sig + R"("}],"extra":1)"));
  REQUIRE_MESSAGE(ok.ok(), ok.status().ToString());
  CHECK(ok->payload == "{\"a\":1}");
  CHECK(ok->signatures.at(0).sig == "sig-bytes");
  // URL-safe base64 must be accepted (DSSE protocol.md).
  auto url = ParseDsseEnvelope(R"({"payloadType":"t","payload":"-_8","signatures":[{"sig":"-_8"}]})");
  REQUIRE(url.ok());
  CHECK(url->payload == std::string("\xfb\xff"));

  struct Row {
    std::string bytes, reason;
  };
  std::string many = R"({"payloadType":"t","payload":"","signatures":[)";
  for (int i = 0; i < 17; ++i) many += std::string(i ? "," : "") + R"({"sig":"AA=="})";
  many += "]}";
  Row rows[] = {
      {"{", "malformed JSON"},
      {R"({"payload":"","signatures":[{"sig":"AA=="}]})", "payloadType is missing"},
      {R"({"payloadType":1,"payload":"","signatures":[{"sig":"AA=="}]})", "payloadType is missing or not a string"},
      {R"({"payloadType":"t","signatures":[{"sig":"AA=="}]})", "payload is missing"},
      {R"({"payloadType":"t","payload":"%%%","signatures":[{"sig":"AA=="}]})", "payload is not valid base64"},
      {R"({"payloadType":"t","payload":""})", "signatures is missing"},
      {R"({"payloadType":"t","payload":"","signatures":[]})", "signatures is empty"},
      {R"({"payloadType":"t","payload":"","signatures":["x"]})", "signatures[0] is not an object"},
      {R"({"payloadType":"t","payload":"","signatures":[{"keyid":"k"}]})", "signatures[0].sig is missing"},
      {R"({"payloadType":"t","payload":"","signatures":[{"sig":"A"}]})", "sig is not valid base64"},
      {R"({"payloadType":"t","payload":"","signatures":[{"sig":"AA==","keyid":5}]})", "keyid is not a string"},
      {many, "more than 16 signatures"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.bytes);
    auto res = ParseDsseEnvelope(r.bytes);
    REQUIRE_FALSE(res.ok());
    CHECK_MESSAGE(res.status().message().find(r.reason) != std::string::npos, res.status().message());
  }
}

TEST_CASE("in-toto statements: must parse") {
  auto v1 = ParseStatement(MakeStatementV1("reg/m", kD, "https://slsa.dev/provenance/v1", Json{{"x", 1}}));
  REQUIRE(v1.ok());
  CHECK(v1->type == kStatementV1);
  CHECK(v1->predicate_type == "https://slsa.dev/provenance/v1");
  CHECK(v1->predicate["x"] == 1);
  CHECK(StatementCoversDigest(*v1, kD));
  CHECK_FALSE(StatementCoversDigest(*v1, kD2));
  CHECK_FALSE(StatementCoversDigest(*v1, "sha512:" + std::string(64, 'a')));

  auto v01 = ParseStatement(R"({"_type":"https://in-toto.io/Statement/v0.1","subject":[{"name":"a","digest":{"sha256":")" +
                            std::string(64, 'b') + R"("}},{"name":"b","digest":{"sha256":")" + std::string(64, 'a') +
                            R"("}}],"predicateType":"https://slsa.dev/provenance/v0.2","predicate":{"builder":{"id":"x"}}})");
  REQUIRE_MESSAGE(v01.ok(), v01.status().ToString());
  CHECK(StatementCoversDigest(*v01, kD));  // any subject may carry the digest
  auto no_pred = ParseStatement(R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"aa"}}],"predicateType":"p"})");
  REQUIRE(no_pred.ok());
  CHECK(no_pred->predicate.is_object());
}

TEST_CASE("in-toto statements: must fail") {
  struct Row {
    std::string bytes, reason;
  };
  const std::string sub = R"("subject":[{"name":"n","digest":{"sha256":"aa"}}])";
  Row rows[] = {
      {"{", "malformed JSON"},
      {"[]", "not a JSON object"},
      {R"({"subject":[],"predicateType":"p"})", "_type is missing"},
      {R"({"_type":"https://in-toto.io/Statement/v2",)" + sub + R"(,"predicateType":"p"})", "unknown _type"},
      {R"({"_type":"https://example.com/Statement/v1",)" + sub + R"(,"predicateType":"p"})", "unknown _type"},
      {R"({"_type":"https://in-toto.io/Statement/v1","predicateType":"p"})", "subject is missing"},
      {R"({"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"p"})", "subject is missing"},
      {R"({"_type":"https://in-toto.io/Statement/v1","subject":["x"],"predicateType":"p"})", "subject[0] is not an object"},
      {R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"n"}],"predicateType":"p"})", "subject[0].digest"},
      {R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{}}],"predicateType":"p"})", "subject[0].digest"},
      {R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":1}}],"predicateType":"p"})", "digest[\"sha256\"] is not a string"},
      {R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"":"aa"}}],"predicateType":"p"})", "empty algorithm name"},
      {R"({"_type":"https://in-toto.io/Statement/v0.1","subject":[{"name":"n","digest":{"sha256":"aa","":"bb"}}],"predicateType":"p"})", "empty algorithm name"},
      {R"({"_type":"https://in-toto.io/Statement/v0.1","subject":[{"digest":{"sha256":"aa"}}],"predicateType":"p"})", "name is missing"},
      {R"({"_type":"https://in-toto.io/Statement/v1",)" + sub + "}", "predicateType is missing"},
      {R"({"_type":"https://in-toto.io/Statement/v1",)" + sub + R"(,"predicateType":""})", "predicateType is missing"},
      {R"({"_type":"https://in-toto.io/Statement/v1",)" + sub + R"(,"predicateType":"p","predicate":[1]})", "predicate is not an object"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.bytes);
    auto res = ParseStatement(r.bytes);
    REQUIRE_FALSE(res.ok());
    CHECK_MESSAGE(res.status().message().find(r.reason) != std::string::npos, res.status().message());
  }
}

// Signed documents must mean the same thing here as in the Go verifiers
// (cosign, sigstore-go, policy-controller) that read them into structs: a key
// twice (which value wins differs between parsers) or a key Go's
// case-insensitive decoding would take for a field is refused.
TEST_CASE("signed documents: duplicate keys and Go case variants are refused") {
  const std::string crit_ok = R"("type":"cosign container image signature","image":{"docker-manifest-digest":")" + kD + R"("})";
  const std::string sub = R"("subject":[{"name":"n","digest":{"sha256":")" + std::string(64, 'a') + R"("}}])";
  const std::string st_head = R"({"_type":"https://in-toto.io/Statement/v1",)";
  const std::string sig = R"({"sig":"AA=="})";
  struct Row {
    const char* name;
    std::function<Status()> parse;
    const char* reason;
  };
  auto ss = [](std::string bytes) { return [bytes] { return ParseSimpleSigningPayload(bytes).status(); }; };
  auto st = [](std::string bytes) { return [bytes] { return ParseStatement(bytes).status(); }; };
  auto env = [](std::string bytes) { return [bytes] { return ParseDsseEnvelope(bytes).status(); }; };
  auto man = [](std::string bytes) { return [bytes] { return ParseManifest(bytes, kOciManifest, 64).status(); }; };
  Row rows[] = {
      // cosign (Go) reads the last docker-manifest-digest and the case variant; we must not read another one.
      {"simple signing: digest twice",
       ss(R"({"critical":{"type":"cosign container image signature","image":{"docker-manifest-digest":")" + kD +
          R"(","docker-manifest-digest":")" + kD2 + R"("}}})"),
       "key \"docker-manifest-digest\" appears twice"},
      {"simple signing: a case variant of the digest beside it",
       ss(R"({"critical":{"type":"cosign container image signature","image":{"docker-manifest-digest":")" + kD +
          R"(","Docker-Manifest-Digest":")" + kD2 + R"("}}})"),
       "would be read as \"docker-manifest-digest\""},
      {"simple signing: a Kelvin-sign variant of the digest beside it",
       ss(R"({"critical":{"type":"cosign container image signature","image":{"docker-manifest-digest":")" + kD +
          R"(","doc\u212Aer-manifest-digest":")" + kD2 + R"("}}})"),
       "would be read as \"docker-manifest-digest\""},
      {"simple signing: a second critical section in another case",
       ss(R"({"critical":{)" + crit_ok + R"(},"Critical":{"type":"cosign container image signature","image":{"docker-manifest-digest":")" +
          kD2 + R"("}}})"),
       "would be read as \"critical\""},
      {"simple signing: image twice",
       ss(R"({"critical":{)" + crit_ok + R"(,"image":{"docker-manifest-digest":")" + kD2 + R"("}}})"),
       "key \"image\" appears twice"},
      {"simple signing: IMAGE beside image", ss(R"({"critical":{)" + crit_ok + R"(,"IMAGE":{}}})"),
       "would be read as \"image\""},
      {"simple signing: Type beside type", ss(R"({"critical":{)" + crit_ok + R"(,"Type":"x"}})"),
       "would be read as \"type\""},
      {"simple signing: docker-reference variant",
       ss(R"({"critical":{)" + crit_ok + R"(,"identity":{"docker-reference":"a","Docker-Reference":"b"}}})"),
       "would be read as \"docker-reference\""},
      {"statement: predicateType twice",
       st(st_head + sub + R"(,"predicateType":"https://slsa.dev/provenance/v1","predicateType":"x"})"),
       "key \"predicateType\" appears twice"},
      {"statement: PredicateType beside predicateType",
       st(st_head + sub + R"(,"predicateType":"https://slsa.dev/provenance/v1","PredicateType":"x"})"),
       "would be read as \"predicateType\""},
      {"statement: Subject beside subject",
       st(st_head + sub + R"(,"Subject":[],"predicateType":"p"})"), "would be read as \"subject\""},
      {"statement: Digest beside a subject's digest",
       st(st_head + R"("subject":[{"digest":{"sha256":"aa"},"Digest":{"sha256":"bb"}}],"predicateType":"p"})"),
       "would be read as \"digest\""},
      {"statement: a digest algorithm twice",
       st(st_head + R"("subject":[{"digest":{"sha256":"aa","sha256":"bb"}}],"predicateType":"p"})"),
       "key \"sha256\" appears twice"},
      {"statement: a predicate field twice",
       st(st_head + sub + R"(,"predicateType":"p","predicate":{"builder":{"id":"a","id":"b"}}})"),
       "key \"id\" appears twice"},
      {"statement: _Type beside _type", st(st_head + sub + R"(,"_Type":"x","predicateType":"p"})"),
       "would be read as \"_type\""},
      {"DSSE: payload twice", env(R"({"payloadType":"t","payload":"","payload":"e30=","signatures":[)" + sig + "]}"),
       "key \"payload\" appears twice"},
      {"DSSE: PayloadType beside payloadType",
       env(R"({"payloadType":"t","PayloadType":"u","payload":"","signatures":[)" + sig + "]}"),
       "would be read as \"payloadType\""},
      {"DSSE: Sig beside sig", env(R"({"payloadType":"t","payload":"","signatures":[{"sig":"AA==","Sig":"AQ=="}]})"),
       "would be read as \"sig\""},
      {"manifest: annotations twice",
       man(R"({"schemaVersion":2,"config":)" + Desc() + R"(,"layers":[],"annotations":{"a":"1"},"annotations":{"a":"2"}})"),
       "key \"annotations\" appears twice"},
      {"manifest: an annotation twice",
       man(R"({"schemaVersion":2,"config":)" + Desc() + R"(,"layers":[],"annotations":{"a":"1","a":"2"}})"),
       "key \"a\" appears twice"},
      {"manifest: Annotations beside annotations",
       man(R"({"schemaVersion":2,"config":)" + Desc() + R"(,"layers":[],"annotations":{},"Annotations":{"a":"2"}})"),
       "would be read as \"annotations\""},
      {"manifest: Config beside config",
       man(R"({"schemaVersion":2,"config":)" + Desc() + R"(,"Config":)" + Desc() + R"(,"layers":[]})"),
       "would be read as \"config\""},
      {"manifest: a descriptor's Digest beside digest",
       man(R"({"schemaVersion":2,"config":)" + Desc(R"(,"Digest":")" + kD2 + R"(")") + R"(,"layers":[]})"),
       "would be read as \"digest\""},
  };
  for (const auto& r : rows) {
    std::string name = r.name;
    CAPTURE(name);
    Status s = r.parse();
    CHECK_FALSE(s.ok());
    if (s.ok()) continue;
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK_MESSAGE(s.message().find(r.reason) != std::string::npos, s.message());
  }
  // Unknown fields that fold to no known field are still ignored, and
  // case-distinct keys of maps (annotations, digest sets) are distinct keys.
  CHECK(ParseSimpleSigningPayload(R"({"critical":{)" + crit_ok + R"(,"extra":1},"optional":{"A":"1","a":"2"}})").ok());
  CHECK(ParseStatement(st_head + sub + R"(,"predicateType":"p","predicate":{"Env":1,"env":2}})").ok());
  CHECK(ParseManifest(R"({"schemaVersion":2,"config":)" + Desc() + R"(,"layers":[],"annotations":{"A":"1","a":"2"}})",
                      kOciManifest, 64)
            .ok());
}

// Envelopes, payloads, bundles and manifests are parsed before any signature
// over them is checked: their number of values is bounded (a tree costs up to
// ~80 bytes per value, so 16 MiB of "{}," is 440 MiB). Real ones hold a few
// dozen (envelopes, payloads) to a few thousand (manifests with many layers).
TEST_CASE("documents parsed before verification bound their number of values") {
  auto junk = [](size_t values) {
    std::string s = "[{}";
    for (size_t i = 1; i < values; ++i) s += ",{}";
    return s + "]";
  };
  const std::string crit = R"("critical":{"type":"cosign container image signature","image":{"docker-manifest-digest":")" + kD + R"("}})";
  struct Row {
    const char* name;
    std::function<Status(const std::string&)> parse;
    std::function<std::string(const std::string&)> wrap;  // a valid document with `extra` in an unknown field
    size_t limit;
  };
  const Row rows[] = {
      {"simple signing", [](const std::string& b) { return ParseSimpleSigningPayload(b).status(); },
       [&](const std::string& x) { return "{" + crit + R"(,"optional":null,"extra":)" + x + "}"; }, 4096},
      {"DSSE envelope", [](const std::string& b) { return ParseDsseEnvelope(b).status(); },
       [](const std::string& x) { return R"({"payloadType":"t","payload":"","signatures":[{"sig":"AA=="}],"extra":)" + x + "}"; },
       4096},
      {"manifest", [](const std::string& b) { return ParseManifest(b, kOciManifest, 64).status(); },
       [](const std::string& x) { return R"({"schemaVersion":2,"config":)" + Desc() + R"(,"layers":[],"extra":)" + x + "}"; },
       65536},
  };
  for (const auto& r : rows) {
    std::string name = r.name;
    CAPTURE(name);
    Status fits = r.parse(r.wrap(junk(r.limit / 4)));  // "{}," is two values
    CHECK_MESSAGE(fits.ok(), fits.ToString());
    Status over = r.parse(r.wrap(junk(r.limit + 1)));
    REQUIRE_FALSE(over.ok());
    CHECK(over.code() == StatusCode::kResourceExhausted);
    CHECK_MESSAGE(over.message().find("more than " + std::to_string(r.limit) + " JSON values") != std::string::npos,
                  over.message());
  }
}
