// bench_keyless: Google Benchmark of keyless Sigstore verification (issue 10)
// against the key-signed path, and of the model-signing coverage check. The
// bundles are made by others: the public-good model_signing v1.1.0 keyless
// model.sig (recorded, beside the checkout) and a sigstore-js bundle made
// against @sigstore/mock (tests/tools/make_keyless_fixtures.mjs, run by
// bench/keyless.sh). Each fixture is verified once before it is timed; a
// benchmark whose fixture is absent is not registered (a line on stderr says
// why). Single-threaded.
//
//   PROVGATE_OMS_FIXTURES=<dir>        public_good_trusted_root.json, v1.1.0-sigstore/model.sig
//                                      (default: tests/testdata/oms)
//   PROVGATE_KEYLESS_FIXTURES=<dir>    make_keyless_fixtures.mjs output (provenance.bundle.json,
//                                      trusted_root.json)
//   build-bench/bench/bench_keyless [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "base/json_util.h"
#include "verifier/digest.h"
#include "verifier/dsse.h"
#include "verifier/fulcio_certificate.h"
#include "verifier/in_toto.h"
#include "verifier/keyless.h"
#include "verifier/model_signing.h"
#include "verifier/sigstore_bundle.h"
#include "verifier/transparency_log.h"
#include "verifier/trusted_root.h"
#include "verifier/verified_artifact.h"

namespace {

using namespace provgate;

std::optional<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The verification time: the wall clock, as `serve` passes it (the mock
// bundles are signed moments before the run).
int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

AttachedLayer LayerOf(const std::string& bytes, const std::string& title) {
  AttachedLayer l;
  l.descriptor.media_type = "application/vnd.dev.sigstore.bundle.v0.3+json";
  l.descriptor.digest = Sha256Digest(bytes);
  l.descriptor.size = static_cast<int64_t>(bytes.size());
  if (!title.empty()) l.descriptor.annotations[kTitleAnnotation] = title;
  l.blob = bytes;
  return l;
}

// Every identity matches: the benchmark measures the cryptography, not RE2.
class AnyIdentity : public IdentityMatcher {
 public:
  bool Matches(const std::string&, const std::string&) const override { return true; }
  std::string Describe() const override { return "any identity"; }
};

// One keyless bundle with its root, parsed and verified once.
struct KeylessFixture {
  std::string name;
  std::string bundle_bytes;
  SigstoreBundle bundle;
  std::shared_ptr<const TrustedRoot> root;
  bool model_sig_layer = false;  // attach as the artifact's model.sig layer, else as a bundle referrer
  std::string subject_digest;    // "sha256:<hex>" the statement names (referrers only)
  // Intermediate values the step benchmarks start from.
  std::vector<std::string> verified_chain;  // leaf first
  int64_t chain_time = 0;
};

std::optional<KeylessFixture> LoadFixture(const std::string& name, const std::string& bundle_path,
                                          const std::string& root_path, bool model_sig_layer) {
  auto bundle = ReadWholeFile(bundle_path);
  auto root_bytes = ReadWholeFile(root_path);
  if (!bundle || !root_bytes) {
    std::fprintf(stderr, "skipped %s: %s or %s is absent\n", name.c_str(), bundle_path.c_str(), root_path.c_str());
    return std::nullopt;
  }
  auto parsed = ParseSigstoreBundle(*bundle);
  auto root = ParseTrustedRoot(*root_bytes, root_path);
  if (!parsed.ok() || !root.ok()) {
    std::fprintf(stderr, "skipped %s: %s\n", name.c_str(),
                 (parsed.ok() ? root.status() : parsed.status()).message().c_str());
    return std::nullopt;
  }
  KeylessFixture f;
  f.name = name;
  f.bundle_bytes = std::move(*bundle);
  f.bundle = std::move(*parsed);
  f.root = std::make_shared<const TrustedRoot>(std::move(*root));
  f.model_sig_layer = model_sig_layer;
  auto facts = VerifyKeylessBundle(f.bundle, *f.root, "", Now());
  if (!facts.ok()) {
    std::fprintf(stderr, "skipped %s: does not verify: %s\n", name.c_str(), facts.status().message().c_str());
    return std::nullopt;
  }
  f.chain_time = facts->integrated_time ? facts->integrated_time : facts->timestamp_times.at(0);
  std::vector<std::string> untrusted(f.bundle.certificates_der.begin() + 1, f.bundle.certificates_der.end());
  auto chain = VerifyCertificateChain(f.bundle.certificates_der[0], untrusted, f.root->certificate_authorities,
                                      f.chain_time);
  if (!chain.ok() || chain->size() < 2) {
    std::fprintf(stderr, "skipped %s: its chain does not verify alone\n", name.c_str());
    return std::nullopt;
  }
  f.verified_chain = std::move(*chain);
  if (!model_sig_layer) {
    auto st = ParseStatement(f.bundle.dsse.payload);
    if (!st.ok() || st->subjects.empty() || !st->subjects[0].digest.count("sha256")) {
      std::fprintf(stderr, "skipped %s: its statement names no sha256 subject\n", name.c_str());
      return std::nullopt;
    }
    f.subject_digest = "sha256:" + st->subjects[0].digest.at("sha256");
  }
  return f;
}

std::vector<KeylessFixture>& Fixtures() {
  static std::vector<KeylessFixture> fixtures;
  return fixtures;
}

// Fails the benchmark (and stops it) unless `ok`.
bool Require(benchmark::State& state, bool ok, const std::string& what) {
  if (!ok) state.SkipWithError(what.c_str());
  return ok;
}

// ============================================================================
// 1. One whole keyless bundle
// ============================================================================

void BM_KeylessBundle(benchmark::State& state, const KeylessFixture* f) {
  const int64_t now = Now();
  for (auto _ : state) {
    auto facts = VerifyKeylessBundle(f->bundle, *f->root, "", now);
    if (!Require(state, facts.ok(), "verification failed")) break;
    benchmark::DoNotOptimize(facts);
  }
}

// The steps of VerifyKeylessBundle one by one (keyless.cc runs them in this
// order; the chain once per established signing time).
void BM_KeylessStep(benchmark::State& state, const KeylessFixture* f, const std::string& step) {
  const SigstoreBundle& b = f->bundle;
  const TlogEntry& entry = b.tlog_entries.at(0);
  const TransparencyLogInstance* log = f->root->FindTlog(entry.log_id);
  auto leaf = ParseSigningCertificate(b.certificates_der[0]);
  std::vector<std::string> untrusted(b.certificates_der.begin() + 1, b.certificates_der.end());
  ExpectedEntry expected;
  expected.signature = b.Signature();
  expected.verifier_der = leaf->der;
  expected.dsse = &b.dsse;
  std::function<bool()> run;
  if (step == "parse_bundle") {
    run = [&] { return ParseSigstoreBundle(f->bundle_bytes).ok(); };
  } else if (step == "leaf_certificate") {
    run = [&] { return ParseSigningCertificate(b.certificates_der[0]).ok(); };
  } else if (step == "dsse_signature") {
    run = [&] { return leaf->key.Verify(PreAuthEncoding(b.dsse.payload_type, b.dsse.payload), b.Signature()); };
  } else if (step == "tlog_body") {
    run = [&] { return VerifyEntryBody(entry, expected).ok(); };
  } else if (step == "tlog_set") {
    run = [&] { return VerifySignedEntryTimestamp(entry, *log).ok(); };
  } else if (step == "tlog_inclusion_checkpoint") {
    run = [&] { return VerifyInclusionProof(entry, *log).ok(); };
  } else if (step == "timestamp") {
    run = [&] { return VerifyRfc3161Timestamp(b.rfc3161_timestamps.at(0), b.Signature(), f->root->timestamp_authorities).ok(); };
  } else if (step == "certificate_chain") {
    run = [&] { return VerifyCertificateChain(leaf->der, untrusted, f->root->certificate_authorities, f->chain_time).ok(); };
  } else if (step == "sct") {
    run = [&] { return VerifyEmbeddedSct(leaf->der, f->verified_chain.at(1), f->root->ctlogs).ok(); };
  }
  for (auto _ : state) {
    if (!Require(state, run(), step + " failed")) break;
  }
}

// What OpenSSL 3.0 alone charges to decode one certificate and one public
// key (its provider decoders build a context per embedded key; see
// bench/README.md): the unit most of the non-ECDSA time is made of.
void BM_OpenSslDecode(benchmark::State& state, const KeylessFixture* f, bool certificate) {
  const std::string& der = f->bundle.certificates_der[0];
  const std::string spki = ParseSigningCertificate(der)->spki_der;
  for (auto _ : state) {
    const std::string& in = certificate ? der : spki;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(in.data());
    bool ok;
    if (certificate) {
      X509* x = d2i_X509(nullptr, &p, static_cast<long>(in.size()));
      ok = x != nullptr;
      X509_free(x);
    } else {
      EVP_PKEY* k = d2i_PUBKEY(nullptr, &p, static_cast<long>(in.size()));
      ok = k != nullptr;
      EVP_PKEY_free(k);
    }
    if (!Require(state, ok, "decode failed")) break;
  }
}

const char* const kSteps[] = {"parse_bundle", "leaf_certificate", "dsse_signature", "tlog_body", "tlog_set",
                              "tlog_inclusion_checkpoint", "timestamp", "certificate_chain", "sct"};

// ============================================================================
// 2. The same entry point, key-signed and keyless
// ============================================================================

ArtifactMaterial MaterialFor(const std::string& digest) {
  ArtifactMaterial m;
  m.digest = digest;
  m.reference = *ParseReference("registry.example.com/models/m@" + digest);
  m.manifest_bytes = "{}";
  return m;
}

// A SLSA provenance v1 predicate of the mock bundle's shape and size (its
// statement is 882 bytes), so both paths parse a similar statement.
Json ProvenancePredicate() {
  return {{"buildDefinition",
           {{"buildType", "https://actions.github.io/buildtypes/workflow/v1"},
            {"externalParameters",
             {{"workflow",
               {{"ref", "refs/heads/main"},
                {"repository", "https://github.com/acme/models"},
                {"path", ".github/workflows/release.yml"}}}}},
            {"internalParameters",
             {{"github", {{"event_name", "push"}, {"repository_id", "100000001"}, {"repository_owner_id", "100000000"}}}}},
            {"resolvedDependencies",
             Json::array({{{"uri", "git+https://github.com/acme/models@refs/heads/main"},
                           {"digest", {{"gitCommit", std::string(40, '1')}}}}})}}},
          {"runDetails",
           {{"builder", {{"id", "https://github.com/acme/models/.github/workflows/release.yml@refs/heads/main"}}},
            {"metadata", {{"invocationId", "https://github.com/acme/models/actions/runs/1/attempts/1"}}}}}};
}

// A v0.3 bundle with a DSSE envelope signed by `key`, its verification
// material a public-key hint (model_signing's and cosign's key shape).
std::string KeySignedBundle(const PrivateKey& key, const std::string& statement) {
  DsseEnvelope env;
  env.payload_type = kInTotoPayloadType;
  env.payload = statement;
  env.signatures.push_back({"", *key.Sign(PreAuthEncoding(env.payload_type, env.payload))});
  Json envelope = *ParseJson(SerializeDsseEnvelope(env), "envelope");
  Json b = {{"mediaType", "application/vnd.dev.sigstore.bundle.v0.3+json"},
            {"verificationMaterial", {{"publicKey", {{"hint", "bench"}}}}},
            {"dsseEnvelope", envelope}};
  return b.dump();
}

void BM_KeySignedBundle(benchmark::State& state) {
  const std::string digest = "sha256:" + std::string(64, 'a');
  PrivateKey key = *PrivateKey::GenerateEcdsaP256();
  const std::string statement = MakeStatementV1("model", digest, "https://slsa.dev/provenance/v1", ProvenancePredicate());
  ArtifactMaterial m = MaterialFor(digest);
  m.bundle_layers.push_back(LayerOf(KeySignedBundle(key, statement), ""));
  Trust trust;
  trust.keys.push_back({Signer("p", "ci"), key.Public()});
  trust.now = Now();
  for (auto _ : state) {
    VerifiedArtifact a = VerifyArtifact(m, trust);
    if (!Require(state, a.attestations.size() == 1 && a.attestations[0].verified(), "key-signed bundle did not verify")) break;
    benchmark::DoNotOptimize(a);
  }
  state.SetLabel(std::to_string(statement.size()) + "-byte statement");
}

void BM_KeylessArtifact(benchmark::State& state, const KeylessFixture* f) {
  ArtifactMaterial m = MaterialFor(f->model_sig_layer ? "sha256:" + std::string(64, 'c') : f->subject_digest);
  if (f->model_sig_layer) {
    m.model_signature_layers.push_back(LayerOf(f->bundle_bytes, kModelSigFileName));
  } else {
    m.bundle_layers.push_back(LayerOf(f->bundle_bytes, ""));
  }
  Trust trust;
  trust.keyless.push_back({Signer("p", "release"), f->root, std::make_shared<const AnyIdentity>()});
  trust.now = Now();
  for (auto _ : state) {
    VerifiedArtifact a = VerifyArtifact(m, trust);
    bool ok = f->model_sig_layer ? a.model_signatures.size() == 1 && a.model_signatures[0].verified()
                                 : a.attestations.size() == 1 && a.attestations[0].verified();
    if (!Require(state, ok, "keyless bundle did not verify through VerifyArtifact")) break;
    benchmark::DoNotOptimize(a);
  }
}

// ============================================================================
// 3. Model-signing coverage of a 100-file model
// ============================================================================

struct ModelFixture {
  std::string statement;  // in-toto bytes, model_signing v1.0 shape
  Manifest manifest;
  std::string signature_layer_digest;
};

ModelFixture HundredFileModel() {
  ModelFixture out;
  out.manifest.media_type = kOciManifest;
  Json resources = Json::array();
  std::string raw_digests;
  for (int i = 0; i < 100; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "weights/model-%05d-of-00100.safetensors", i + 1);
    const std::string raw = Sha256(name);  // stands for the file's content digest
    resources.push_back({{"name", name}, {"algorithm", "sha256"}, {"digest", HexEncode(raw)}});
    raw_digests += raw;
    Descriptor layer;
    layer.media_type = "application/vnd.oci.image.layer.v1.tar";
    layer.digest = "sha256:" + HexEncode(raw);
    layer.size = 1 << 30;
    layer.annotations[kTitleAnnotation] = name;
    out.manifest.layers.push_back(std::move(layer));
  }
  Json st = {{"_type", kStatementV1},
             {"subject", Json::array({{{"name", "model"}, {"digest", {{"sha256", HexEncode(Sha256(raw_digests))}}}}})},
             {"predicateType", kModelSigningPredicateV1},
             {"predicate",
              {{"serialization",
                {{"method", "files"},
                 {"hash_type", "sha256"},
                 {"allow_symlinks", false},
                 {"ignore_paths", Json::array({kModelSigFileName, ".git", ".gitattributes"})}}},
               {"resources", resources}}}};
  out.statement = st.dump();
  Descriptor sig;
  sig.media_type = "application/vnd.dev.sigstore.bundle.v0.3+json";
  sig.digest = Sha256Digest("model.sig bytes");
  sig.annotations[kTitleAnnotation] = kModelSigFileName;
  out.signature_layer_digest = sig.digest;
  out.manifest.layers.push_back(std::move(sig));
  return out;
}

void BM_ModelCoverage100(benchmark::State& state) {
  const ModelFixture model = HundredFileModel();
  const std::vector<std::string> policy_ignore;
  for (auto _ : state) {
    auto st = ParseModelSignatureStatement(model.statement);
    if (!Require(state, st.ok(), "statement did not parse")) break;
    Status covered = CheckModelCoverage(*st, model.manifest, model.signature_layer_digest, policy_ignore);
    if (!Require(state, covered.ok(), "not covered: " + covered.message())) break;
  }
  state.SetLabel(std::to_string(model.statement.size()) + "-byte statement");
}

// The coverage check alone, on a parsed statement.
void BM_ModelCoverage100CheckOnly(benchmark::State& state) {
  const ModelFixture model = HundredFileModel();
  const ModelSignatureStatement st = *ParseModelSignatureStatement(model.statement);
  const std::vector<std::string> policy_ignore;
  for (auto _ : state) {
    if (!Require(state, CheckModelCoverage(st, model.manifest, model.signature_layer_digest, policy_ignore).ok(),
                 "not covered")) {
      break;
    }
  }
}

std::string OmsFixtureDir() {
  if (const char* env = std::getenv("PROVGATE_OMS_FIXTURES"); env && *env) return env;
  return PROVGATE_BENCH_OMS_FIXTURES;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  const std::string oms = OmsFixtureDir();
  if (auto f = LoadFixture("public-good", oms + "/v1.1.0-sigstore/model.sig", oms + "/public_good_trusted_root.json", true)) {
    Fixtures().push_back(std::move(*f));
  }
  if (const char* mock = std::getenv("PROVGATE_KEYLESS_FIXTURES"); mock && *mock) {
    if (auto f = LoadFixture("sigstore-js-mock", std::string(mock) + "/provenance.bundle.json",
                             std::string(mock) + "/trusted_root.json", false)) {
      Fixtures().push_back(std::move(*f));
    }
  } else {
    std::fprintf(stderr, "skipped sigstore-js-mock: PROVGATE_KEYLESS_FIXTURES is not set "
                         "(node tests/tools/make_keyless_fixtures.mjs <dir> <sha256-hex>; bench/keyless.sh does it)\n");
  }

  for (const KeylessFixture& f : Fixtures()) {
    benchmark::RegisterBenchmark(("BM_KeylessBundle/" + f.name).c_str(), BM_KeylessBundle, &f)->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("BM_KeySignedBundle", BM_KeySignedBundle)->Unit(benchmark::kMicrosecond);
  for (const KeylessFixture& f : Fixtures()) {
    benchmark::RegisterBenchmark(("BM_KeylessArtifact/" + f.name).c_str(), BM_KeylessArtifact, &f)
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("BM_ModelCoverage100", BM_ModelCoverage100)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_ModelCoverage100CheckOnly", BM_ModelCoverage100CheckOnly)->Unit(benchmark::kMicrosecond);
  for (const KeylessFixture& f : Fixtures()) {
    for (const char* step : kSteps) {
      benchmark::RegisterBenchmark(("BM_KeylessStep/" + f.name + "/" + step).c_str(), BM_KeylessStep, &f,
                                   std::string(step))
          ->Unit(benchmark::kMicrosecond);
    }
  }
  for (const KeylessFixture& f : Fixtures()) {
    benchmark::RegisterBenchmark(("BM_OpenSslDecode/" + f.name + "/leaf_d2i_X509").c_str(), BM_OpenSslDecode, &f, true)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_OpenSslDecode/" + f.name + "/leaf_key_d2i_PUBKEY").c_str(), BM_OpenSslDecode, &f,
                                 false)
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
