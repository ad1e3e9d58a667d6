// Rekor v1 transparency-log checks: a real public-good entry (SET, 14-hash
// inclusion proof, signed checkpoint, dsse body) must verify and every
// alteration of it must be refused with its reason; synthetic hashedrekord
// and intoto entries logged by a test key; the Merkle audit path against a
// reference RFC 6962 tree for sizes 1..17; malformed checkpoints.
#include "verifier/transparency_log.h"

#include <doctest/doctest.h>

#include <ctime>
#include <functional>
#include <iomanip>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "base/json_util.h"
#include "tests/test_util.h"
#include "verifier/digest.h"
#include "verifier/dsse.h"
#include "verifier/keys.h"

using namespace provgate;
using namespace provgate::testing;

namespace {

// ---- Reference RFC 6962 §2.1 tree: the recursive definitions, as written.

std::string RefLeafHash(const std::string& d) { return Sha256(std::string(1, '\0') + d); }

size_t LargestPowerOfTwoBelow(size_t n) {
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// MTH(D[lo:hi]).
std::string RefRoot(const std::vector<std::string>& d, size_t lo, size_t hi) {
  size_t n = hi - lo;
  if (n == 0) return Sha256("");
  if (n == 1) return RefLeafHash(d[lo]);
  size_t k = LargestPowerOfTwoBelow(n);
  return Sha256(std::string(1, '\x01') + RefRoot(d, lo, lo + k) + RefRoot(d, lo + k, hi));
}

// PATH(m, D[lo:hi]), leaf to root.
std::vector<std::string> RefPath(const std::vector<std::string>& d, size_t m, size_t lo, size_t hi) {
  size_t n = hi - lo;
  if (n <= 1) return {};
  size_t k = LargestPowerOfTwoBelow(n);
  std::vector<std::string> path;
  if (m < k) {
    path = RefPath(d, m, lo, lo + k);
    path.push_back(RefRoot(d, lo + k, hi));
  } else {
    path = RefPath(d, m - k, lo + k, hi);
    path.push_back(RefRoot(d, lo, lo + k));
  }
  return path;
}

// ---- Helpers

void CheckFails(const Status& st, const std::string& reason) {
  CAPTURE(st.ToString());
  CHECK_FALSE(st.ok());
  CHECK_MESSAGE(st.message().find(reason) != std::string::npos, "expected: " << reason);
}

Json ReadJsonFile(const std::string& path) {
  auto j = ParseJson(ReadFile(path), path);
  REQUIRE_MESSAGE(j.ok(), j.status().ToString());
  return *j;
}

std::string B64(const Json& j) {
  auto raw = Base64Decode(j.get<std::string>());
  REQUIRE(raw.has_value());
  return *raw;
}

int64_t Int64(const Json& j) { return j.is_string() ? std::stoll(j.get<std::string>()) : j.get<int64_t>(); }

// "2021-01-12T11:53:27Z" (fractional seconds dropped) as Unix seconds.
int64_t Rfc3339(const std::string& s) {
  std::tm tm{};
  std::istringstream in(s);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  REQUIRE_FALSE(in.fail());
  return static_cast<int64_t>(timegm(&tm));
}

std::string ReplaceFirst(std::string s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

std::string Pem(const std::string& der, const std::string& label) {
  std::string b64 = Base64Encode(der);
  std::string out = "-----BEGIN " + label + "-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END " + label + "-----\n";
}

PrivateKey FreshKey() {
  auto k = PrivateKey::GenerateEcdsaP256();
  REQUIRE(k.ok());
  return *k;
}

std::string Sign(const PrivateKey& key, const std::string& message) {
  auto sig = key.Sign(message);
  REQUIRE(sig.ok());
  return *sig;
}

TransparencyLogInstance LogOf(const PublicKey& key, const std::string& base_url) {
  return TransparencyLogInstance{base_url, Sha256(key.Der()), "", key, ValidityWindow{}};
}

// A signature line of a signed note: "— <name> base64(hint || signature)".
std::string NoteSignatureLine(const std::string& name, const std::string& hint, const std::string& sig) {
  return "\xE2\x80\x94 " + name + " " + Base64Encode(hint + sig) + "\n";
}

// ---- The real public-good entry

struct RealEntry {
  TlogEntry entry;
  TransparencyLogInstance log;
  DsseEnvelope envelope;
  std::string certificate_der;
  std::string other_certificate_der;  // a Fulcio CA certificate from the trusted root

  ExpectedEntry Expected() const {
    ExpectedEntry e;
    e.signature = envelope.signatures[0].sig;
    e.verifier_der = certificate_der;
    e.verifier_is_certificate = true;
    e.dsse = &envelope;
    return e;
  }
};

// Reads model.sig and the trusted root with nlohmann directly (the bundle
// and trusted-root parsers are not part of this module).
std::optional<RealEntry> LoadRealEntry() {
  std::string dir = OmsFixtureDir();
  if (dir.empty()) return std::nullopt;
  Json bundle = ReadJsonFile(dir + "/v1.1.0-sigstore/model.sig");
  Json root = ReadJsonFile(dir + "/public_good_trusted_root.json");

  const Json& t = bundle["verificationMaterial"]["tlogEntries"].at(0);
  TlogEntry e;
  e.log_index = Int64(t["logIndex"]);
  e.log_id = B64(t["logId"]["keyId"]);
  e.kind = t["kindVersion"]["kind"].get<std::string>();
  e.version = t["kindVersion"]["version"].get<std::string>();
  e.integrated_time = Int64(t["integratedTime"]);
  e.signed_entry_timestamp = B64(t["inclusionPromise"]["signedEntryTimestamp"]);
  e.canonicalized_body = B64(t["canonicalizedBody"]);
  const Json& p = t["inclusionProof"];
  InclusionProof proof;
  proof.log_index = Int64(p["logIndex"]);
  proof.root_hash = B64(p["rootHash"]);
  proof.tree_size = Int64(p["treeSize"]);
  for (const Json& h : p["hashes"]) proof.hashes.push_back(B64(h));
  proof.checkpoint = p["checkpoint"]["envelope"].get<std::string>();
  e.inclusion_proof = proof;

  const Json& tl = root["tlogs"].at(0);
  auto key = PublicKey::FromDer(B64(tl["publicKey"]["rawBytes"]));
  REQUIRE_MESSAGE(key.ok(), key.status().ToString());
  ValidityWindow window;
  window.start = Rfc3339(tl["publicKey"]["validFor"]["start"].get<std::string>());
  TransparencyLogInstance log{tl["baseUrl"].get<std::string>(), B64(tl["logId"]["keyId"]), "", *key, window};

  auto env = ParseDsseEnvelope(bundle["dsseEnvelope"].dump());
  REQUIRE_MESSAGE(env.ok(), env.status().ToString());
  RealEntry r{std::move(e), std::move(log), std::move(*env),
              B64(bundle["verificationMaterial"]["certificate"]["rawBytes"]),
              B64(root["certificateAuthorities"].at(1)["certChain"]["certificates"].at(0)["rawBytes"])};
  return r;
}

}  // namespace

TEST_CASE("real Rekor v1 dsse entry: SET, inclusion proof, checkpoint and body verify") {
  auto real = LoadRealEntry();
  if (!real) {
    MESSAGE("skipped: no OMS fixtures (set PROVGATE_OMS_FIXTURES)");
    return;
  }
  const TlogEntry& e = real->entry;
  CHECK(HexEncode(e.log_id) == "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d");
  CHECK(e.log_id == real->log.log_id);
  REQUIRE(e.inclusion_proof->hashes.size() == 14);

  std::string payload = SetPayload(e);
  CHECK(payload.rfind("{\"body\":\"" + Base64Encode(e.canonicalized_body) + "\",", 0) == 0);
  CHECK(payload.find("\",\"integratedTime\":1760062340,\"logID\":"
                     "\"c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d\","
                     "\"logIndex\":598151086}") != std::string::npos);

  Status set = VerifySignedEntryTimestamp(e, real->log);
  CHECK_MESSAGE(set.ok(), set.ToString());
  Status inclusion = VerifyInclusionProof(e, real->log);
  CHECK_MESSAGE(inclusion.ok(), inclusion.ToString());
  ExpectedEntry expected = real->Expected();
  Status body = VerifyEntryBody(e, expected);
  CHECK_MESSAGE(body.ok(), body.ToString());

  auto cp = ParseCheckpoint(e.inclusion_proof->checkpoint);
  REQUIRE_MESSAGE(cp.ok(), cp.status().ToString());
  CHECK(cp->origin == "rekor.sigstore.dev - 1193050959916656506");
  CHECK(cp->tree_size == 476246825);
  CHECK(cp->root_hash == e.inclusion_proof->root_hash);
  CHECK(cp->signed_text ==
        "rekor.sigstore.dev - 1193050959916656506\n476246825\n" + Base64Encode(e.inclusion_proof->root_hash) + "\n");
  REQUIRE(cp->signatures.size() == 1);
  CHECK(cp->signatures[0].name == "rekor.sigstore.dev");
  CHECK(cp->signatures[0].key_hint == e.log_id.substr(0, 4));
}

TEST_CASE("real Rekor v1 dsse entry: every alteration is refused with its reason") {
  auto real = LoadRealEntry();
  if (!real) {
    MESSAGE("skipped: no OMS fixtures (set PROVGATE_OMS_FIXTURES)");
    return;
  }
  PrivateKey another_log = FreshKey();
  const std::string signed_text = ParseCheckpoint(real->entry.inclusion_proof->checkpoint)->signed_text;
  const std::string real_hint = real->entry.log_id.substr(0, 4);
  DsseEnvelope another_payload = real->envelope;
  another_payload.payload += " ";

  enum class Step { kSet, kInclusion, kBody };
  struct Row {
    std::string name;
    Step step;
    std::function<void(TlogEntry&, TransparencyLogInstance&, ExpectedEntry&)> alter;
    const char* reason;
  };
  auto flip_body = [](TlogEntry& e, TransparencyLogInstance&, ExpectedEntry&) { e.canonicalized_body[200] ^= 1; };
  Row rows[] = {
      {"body altered by one byte (SET)", Step::kSet, flip_body,
       "tlog SET: signature does not verify with the key of log https://rekor.sigstore.dev"},
      {"body altered by one byte (inclusion)", Step::kInclusion, flip_body,
       "tlog inclusion: audit path does not reach the root"},
      {"integratedTime changed", Step::kSet,
       [](TlogEntry& e, TransparencyLogInstance&, ExpectedEntry&) { e.integrated_time += 1; },
       "tlog SET: signature does not verify"},
      {"logIndex changed", Step::kSet, [](TlogEntry& e, TransparencyLogInstance&, ExpectedEntry&) { e.log_index += 1; },
       "tlog SET: signature does not verify"},
      {"SET verified with another log key", Step::kSet,
       [&](TlogEntry&, TransparencyLogInstance& l, ExpectedEntry&) { l.key = another_log.Public(); },
       "tlog SET: signature does not verify with the key of log https://rekor.sigstore.dev"},
      {"SET checked against another log", Step::kSet,
       [&](TlogEntry&, TransparencyLogInstance& l, ExpectedEntry&) {
         l = LogOf(another_log.Public(), "https://other");
       },
       "tlog SET: the entry names log c0d23d6a"},
      {"log validity ends before the time", Step::kSet,
       [](TlogEntry& e, TransparencyLogInstance& l, ExpectedEntry&) { l.valid_for.end = e.integrated_time - 1; },
       "tlog SET: integrated time 1760062340 is outside the validity window of log https://rekor.sigstore.dev"},
      {"log validity starts after the time", Step::kSet,
       [](TlogEntry& e, TransparencyLogInstance& l, ExpectedEntry&) { l.valid_for.start = e.integrated_time + 1; },
       "tlog SET: integrated time 1760062340 is outside the validity window"},
      {"no SET", Step::kSet,
       [](TlogEntry& e, TransparencyLogInstance&, ExpectedEntry&) { e.signed_entry_timestamp.clear(); },
       "tlog SET: the entry has no signed entry timestamp"},
      {"one proof hash corrupted", Step::kInclusion,
       [](TlogEntry& e, TransparencyLogInstance&, ExpectedEntry&) { e.inclusion_proof->hashes[6][31] ^= 0x80; },
       "tlog inclusion: audit path does not reach the root"},
      {"proof index one less", Step::kInclusion,
       [](TlogEntry& e, TransparencyLogInstance&, ExpectedEntry&) { e.inclusion_proof->log_index -= 1; },
       "tlog inclusion: audit path does not reach the root"},
      {"proof index is the global log index", Step::kInclusion,
       [](TlogEntry& e, TransparencyLogInstance&, ExpectedEntry&) { e.inclusion_proof->log_index = e.log_index; },
       "tlog inclusion: index 598151086 is not inside a tree of size 476246825"},
      {"proof one hash short", Step::kInclusion,
       [](TlogEntry& e, TransparencyLogInstance&, ExpectedEntry&) { e.inclusion_proof->hashes.pop_back(); },
       "tlog inclusion: audit path does not reach the root"},
      {"proof tree size differs from the checkpoint's", Step::kInclusion,
       [](TlogEntry& e, TransparencyLogInstance&, ExpectedEntry&) { e.inclusion_proof->tree_size += 1; },
       "tlog checkpoint: tree size 476246825 differs from the proof's 476246826"},
      {"proof root differs from the checkpoint's", Step::kInclusion,
       [](TlogEntry& e, TransparencyLogInstance&, ExpectedEntry&) { e.inclusion_proof->root_hash[0] ^= 1; },
       "tlog checkpoint: root hash 5743"},
      {"checkpoint signed by another log (its own key hint)", Step::kInclusion,
       [&](TlogEntry& e, TransparencyLogInstance&, ExpectedEntry&) {
         e.inclusion_proof->checkpoint =
             signed_text + "\n" +
             NoteSignatureLine("rekor.sigstore.dev", Sha256(another_log.Public().Der()).substr(0, 4),
                               Sign(another_log, signed_text));
       },
       "tlog checkpoint: signed by another key (no signature has the key hint c0d23d6a of log "
       "https://rekor.sigstore.dev)"},
      {"checkpoint signed by another log under the real key hint", Step::kInclusion,
       [&](TlogEntry& e, TransparencyLogInstance&, ExpectedEntry&) {
         e.inclusion_proof->checkpoint =
             signed_text + "\n" + NoteSignatureLine("rekor.sigstore.dev", real_hint, Sign(another_log, signed_text));
       },
       "tlog checkpoint: signature does not verify with the key of log https://rekor.sigstore.dev"},
      {"checkpoint with a wrong key hint", Step::kInclusion,
       [&](TlogEntry& e, TransparencyLogInstance&, ExpectedEntry&) {
         auto cp = ParseCheckpoint(e.inclusion_proof->checkpoint);
         std::string hint = cp->signatures[0].key_hint;
         hint[3] ^= 1;
         e.inclusion_proof->checkpoint =
             signed_text + "\n" + NoteSignatureLine("rekor.sigstore.dev", hint, cp->signatures[0].signature);
       },
       "tlog checkpoint: signed by another key"},
      {"checkpoint text altered (origin)", Step::kInclusion,
       [](TlogEntry& e, TransparencyLogInstance&, ExpectedEntry&) { e.inclusion_proof->checkpoint[0] = 'R'; },
       "tlog checkpoint: signature does not verify"},
      {"checkpoint without its blank line", Step::kInclusion,
       [](TlogEntry& e, TransparencyLogInstance&, ExpectedEntry&) {
         std::string& c = e.inclusion_proof->checkpoint;
         c.erase(c.find("\n\n"), 1);
       },
       "tlog checkpoint: no blank line"},
      {"no inclusion proof", Step::kInclusion,
       [](TlogEntry& e, TransparencyLogInstance&, ExpectedEntry&) { e.inclusion_proof.reset(); },
       "tlog inclusion: the entry has no inclusion proof"},
      {"another signature", Step::kBody,
       [](TlogEntry&, TransparencyLogInstance&, ExpectedEntry& x) { x.signature[10] ^= 1; },
       "tlog body does not match: signature"},
      {"another certificate", Step::kBody,
       [&](TlogEntry&, TransparencyLogInstance&, ExpectedEntry& x) { x.verifier_der = real->other_certificate_der; },
       "tlog body does not match: verifier (the entry logs another certificate)"},
      {"the certificate's key where the certificate is logged", Step::kBody,
       [](TlogEntry&, TransparencyLogInstance&, ExpectedEntry& x) { x.verifier_is_certificate = false; },
       "tlog body does not match: verifier is a \"CERTIFICATE\" PEM block, expected PUBLIC KEY"},
      {"another payload", Step::kBody,
       [&](TlogEntry&, TransparencyLogInstance&, ExpectedEntry& x) { x.dsse = &another_payload; },
       "tlog body does not match: payloadHash (the entry logs 1dc62239"},
      {"a message signature against the dsse entry", Step::kBody,
       [](TlogEntry&, TransparencyLogInstance&, ExpectedEntry& x) {
         x.dsse = nullptr;
         x.message_sha256 = Sha256("m");
       },
       "tlog body does not match: kind (a dsse entry logs a DSSE envelope"},
      {"kindVersion names intoto 0.0.2", Step::kBody,
       [](TlogEntry& e, TransparencyLogInstance&, ExpectedEntry&) {
         e.kind = "intoto";
         e.version = "0.0.2";
       },
       "tlog body does not match: kindVersion (the bundle says \"intoto\" \"0.0.2\", the body is \"dsse\" \"0.0.1\")"},
      {"kindVersion names dsse 0.0.2", Step::kBody,
       [](TlogEntry& e, TransparencyLogInstance&, ExpectedEntry&) { e.version = "0.0.2"; },
       "tlog body does not match: kindVersion"},
      {"body altered so that it is not JSON", Step::kBody,
       [](TlogEntry& e, TransparencyLogInstance&, ExpectedEntry&) { e.canonicalized_body.pop_back(); },
       "tlog body does not match: tlog entry body: malformed JSON"},
  };
  for (const Row& r : rows) {
    CAPTURE(r.name);
    TlogEntry e = real->entry;
    TransparencyLogInstance log = real->log;
    ExpectedEntry x = real->Expected();
    r.alter(e, log, x);
    switch (r.step) {
      case Step::kSet:
        CheckFails(VerifySignedEntryTimestamp(e, log), r.reason);
        break;
      case Step::kInclusion:
        CheckFails(VerifyInclusionProof(e, log), r.reason);
        break;
      case Step::kBody:
        CheckFails(VerifyEntryBody(e, x), r.reason);
        break;
    }
  }
}

namespace {

// A log run by a fresh key: logs bodies as leaves of one tree, signs SETs
// and a checkpoint over the whole tree.
struct TestLog {
  PrivateKey key = FreshKey();
  TransparencyLogInstance instance = LogOf(key.Public(), "https://test.log");
  std::vector<std::string> leaves = {"leaf-0", "leaf-1", "leaf-2"};

  size_t Append(const std::string& body) {
    leaves.push_back(body);
    return leaves.size() - 1;
  }

  std::string Checkpoint(int64_t size, const std::string& root) const {
    std::string text = "test.log - 42\n" + std::to_string(size) + "\n" + Base64Encode(root) + "\n";
    return text + "\n" + NoteSignatureLine("test.log", instance.log_id.substr(0, 4), Sign(key, text));
  }

  // The entry for leaf `i`, proven against the tree as it is now.
  TlogEntry Entry(size_t i, const std::string& kind, const std::string& version) const {
    TlogEntry e;
    e.log_index = 1000 + static_cast<int64_t>(i);
    e.log_id = instance.log_id;
    e.kind = kind;
    e.version = version;
    e.integrated_time = 1700000000;
    e.canonicalized_body = leaves[i];
    e.signed_entry_timestamp = Sign(key, SetPayload(e));
    InclusionProof p;
    p.log_index = static_cast<int64_t>(i);
    p.tree_size = static_cast<int64_t>(leaves.size());
    p.root_hash = RefRoot(leaves, 0, leaves.size());
    p.hashes = RefPath(leaves, i, 0, leaves.size());
    p.checkpoint = Checkpoint(p.tree_size, p.root_hash);
    e.inclusion_proof = p;
    return e;
  }
};

}  // namespace

TEST_CASE("synthetic hashedrekord 0.0.1 and intoto 0.0.2 entries") {
  TestLog log;
  PrivateKey signer = FreshKey();
  std::string signer_der = signer.Public().Der();
  std::string signer_pem_b64 = Base64Encode(Pem(signer_der, "PUBLIC KEY"));

  // hashedrekord over an artifact.
  std::string artifact = "model weights";
  std::string message_sig = Sign(signer, artifact);
  auto hashedrekord = [&](const std::string& hash_hex, const std::string& sig, const std::string& key_b64) {
    Json b = {{"apiVersion", "0.0.1"},
              {"kind", "hashedrekord"},
              {"spec",
               {{"data", {{"hash", {{"algorithm", "sha256"}, {"value", hash_hex}}}}},
                {"signature", {{"content", Base64Encode(sig)}, {"publicKey", {{"content", key_b64}}}}}}}};
    return b.dump();
  };
  size_t rekord_index = log.Append(hashedrekord(HexEncode(Sha256(artifact)), message_sig, signer_pem_b64));

  // intoto 0.0.2 over a DSSE envelope; `sig` is base64 of the envelope's base64 sig.
  DsseEnvelope env;
  env.payload_type = kInTotoPayloadType;
  env.payload = R"({"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"p","predicate":{}})";
  env.signatures = {{"", Sign(signer, PreAuthEncoding(env.payload_type, env.payload))}};
  auto intoto = [&](const std::string& payload_type, const Json& sigs) {
    Json b = {{"apiVersion", "0.0.2"},
              {"kind", "intoto"},
              {"spec",
               {{"content",
                 {{"envelope", {{"payloadType", payload_type}, {"signatures", sigs}}},
                  {"hash", {{"algorithm", "sha256"}, {"value", HexEncode(Sha256(SerializeDsseEnvelope(env)))}}},
                  {"payloadHash", {{"algorithm", "sha256"}, {"value", HexEncode(Sha256(env.payload))}}}}}}}};
    return b.dump();
  };
  Json good_sigs =
      Json::array({{{"publicKey", signer_pem_b64}, {"sig", Base64Encode(Base64Encode(env.signatures[0].sig))}}});
  size_t intoto_index = log.Append(intoto(env.payload_type, good_sigs));
  log.Append("leaf-after");

  TlogEntry rekord_entry = log.Entry(rekord_index, "hashedrekord", "0.0.1");
  TlogEntry intoto_entry = log.Entry(intoto_index, "intoto", "0.0.2");

  ExpectedEntry rekord_expected;
  rekord_expected.signature = message_sig;
  rekord_expected.verifier_der = signer_der;
  rekord_expected.verifier_is_certificate = false;
  rekord_expected.message_sha256 = Sha256(artifact);

  ExpectedEntry intoto_expected;
  intoto_expected.signature = env.signatures[0].sig;
  intoto_expected.verifier_der = signer_der;
  intoto_expected.verifier_is_certificate = false;
  intoto_expected.dsse = &env;

  SUBCASE("both verify: SET, inclusion proof and checkpoint, body") {
    for (const TlogEntry* e : {&rekord_entry, &intoto_entry}) {
      CAPTURE(e->kind);
      Status set = VerifySignedEntryTimestamp(*e, log.instance);
      CHECK_MESSAGE(set.ok(), set.ToString());
      Status inclusion = VerifyInclusionProof(*e, log.instance);
      CHECK_MESSAGE(inclusion.ok(), inclusion.ToString());
    }
    Status a = VerifyEntryBody(rekord_entry, rekord_expected);
    CHECK_MESSAGE(a.ok(), a.ToString());
    Status b = VerifyEntryBody(intoto_entry, intoto_expected);
    CHECK_MESSAGE(b.ok(), b.ToString());
  }

  SUBCASE("a witness cosignature beside the log's signature is accepted") {
    TlogEntry e = rekord_entry;
    PrivateKey witness = FreshKey();
    std::string text = ParseCheckpoint(e.inclusion_proof->checkpoint)->signed_text;
    e.inclusion_proof->checkpoint += NoteSignatureLine("witness", "wwww", Sign(witness, text));
    Status st = VerifyInclusionProof(e, log.instance);
    CHECK_MESSAGE(st.ok(), st.ToString());
  }

  SUBCASE("checkpoints signed by the log for another tree are refused") {
    TlogEntry e = rekord_entry;
    e.inclusion_proof->checkpoint = log.Checkpoint(e.inclusion_proof->tree_size + 1, e.inclusion_proof->root_hash);
    CheckFails(VerifyInclusionProof(e, log.instance), "tlog checkpoint: tree size 7 differs from the proof's 6");
    e.inclusion_proof->checkpoint = log.Checkpoint(e.inclusion_proof->tree_size, Sha256("another root"));
    CheckFails(VerifyInclusionProof(e, log.instance), "tlog checkpoint: root hash");
  }

  SUBCASE("bodies that do not bind are refused") {
    struct Row {
      std::string name;
      std::string body;  // replaces the logged body; empty keeps it
      bool intoto;
      std::function<void(ExpectedEntry&)> alter;
      const char* reason;
    };
    DsseEnvelope other_type = env;
    other_type.payload_type = "application/other";
    DsseEnvelope other_payload = env;
    other_payload.payload += "\n";
    std::string once_encoded_sig = Base64Encode(env.signatures[0].sig);
    Row rows[] = {
        {"hashedrekord: hash of another artifact", "", false,
         [](ExpectedEntry& x) { x.message_sha256 = Sha256("another artifact"); }, "tlog body does not match: hash ("},
        {"hashedrekord: another signature", "", false, [](ExpectedEntry& x) { x.signature[8] ^= 1; },
         "tlog body does not match: signature"},
        {"hashedrekord: another key", "", false, [](ExpectedEntry& x) { x.verifier_der = FreshKey().Public().Der(); },
         "tlog body does not match: publicKey (the entry logs another public key)"},
        {"hashedrekord: a DSSE bundle", "", false,
         [&](ExpectedEntry& x) {
           x.message_sha256.clear();
           x.dsse = &env;
         },
         "tlog body does not match: kind (a hashedrekord entry logs a message signature"},
        {"hashedrekord: a certificate expected where a key is logged", "", false,
         [](ExpectedEntry& x) { x.verifier_is_certificate = true; },
         "tlog body does not match: publicKey is a \"PUBLIC KEY\" PEM block, expected CERTIFICATE"},
        {"hashedrekord: sha512",
         ReplaceFirst(hashedrekord(HexEncode(Sha256(artifact)), message_sig, signer_pem_b64), "sha256", "sha512"),
         false, [](ExpectedEntry&) {}, "tlog body does not match: hash algorithm \"sha512\" is not sha256"},
        {"hashedrekord: key not PEM", hashedrekord(HexEncode(Sha256(artifact)), message_sig, Base64Encode(signer_der)),
         false, [](ExpectedEntry&) {}, "tlog body does not match: publicKey is not PEM"},
        {"hashedrekord: two PEM blocks",
         hashedrekord(HexEncode(Sha256(artifact)), message_sig,
                      Base64Encode(Pem(signer_der, "PUBLIC KEY") + Pem(signer_der, "PUBLIC KEY"))),
         false, [](ExpectedEntry&) {}, "tlog body does not match: publicKey holds more than one PEM block"},
        {"hashedrekord: duplicate key in the body",
         R"({"apiVersion":"0.0.1","kind":"hashedrekord","kind":"hashedrekord","spec":{}})", false,
         [](ExpectedEntry&) {}, "tlog body does not match: tlog entry body: key \"kind\" appears twice"},
        {"hashedrekord: missing signature",
         R"({"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":")" +
             HexEncode(Sha256(artifact)) + R"("}}}})",
         false, [](ExpectedEntry&) {}, "tlog body does not match: spec.signature.content is missing or not a string"},
        {"intoto: another signature", "", true, [](ExpectedEntry& x) { x.signature[8] ^= 1; },
         "tlog body does not match: signature"},
        {"intoto: the sig decoded only once is not the signature", "", true,
         [&](ExpectedEntry& x) { x.signature = once_encoded_sig; }, "tlog body does not match: signature"},
        {"intoto: a sig encoded only once is refused",
         intoto(env.payload_type, Json::array({{{"publicKey", signer_pem_b64}, {"sig", once_encoded_sig}}})), true,
         [](ExpectedEntry&) {}, "tlog body does not match: signature (sig is not base64 of base64)"},
        {"intoto: another payload", "", true, [&](ExpectedEntry& x) { x.dsse = &other_payload; },
         "tlog body does not match: payloadHash"},
        {"intoto: another payloadType", "", true, [&](ExpectedEntry& x) { x.dsse = &other_type; },
         "tlog body does not match: payloadType"},
        {"intoto: another key", "", true, [](ExpectedEntry& x) { x.verifier_der = FreshKey().Public().Der(); },
         "tlog body does not match: publicKey"},
        {"intoto: two signatures logged", intoto(env.payload_type, Json::array({good_sigs[0], good_sigs[0]})), true,
         [](ExpectedEntry&) {}, "tlog body does not match: signature (the entry logs 2 signatures"},
        {"intoto: a message signature bundle", "", true,
         [&](ExpectedEntry& x) {
           x.dsse = nullptr;
           x.message_sha256 = Sha256(artifact);
         },
         "tlog body does not match: kind (an intoto entry logs a DSSE envelope"},
        {"intoto 0.0.1 is not supported", R"({"apiVersion":"0.0.1","kind":"intoto","spec":{}})", true,
         [](ExpectedEntry&) {}, "tlog body does not match: kind \"intoto\" version \"0.0.1\" is not supported"},
    };
    for (const Row& r : rows) {
      CAPTURE(r.name);
      TlogEntry e = r.intoto ? intoto_entry : rekord_entry;
      ExpectedEntry x = r.intoto ? intoto_expected : rekord_expected;
      if (!r.body.empty()) {
        e.canonicalized_body = r.body;
        auto kv = ParseJson(r.body, "body");
        if (kv.ok() && kv->contains("apiVersion")) e.version = (*kv)["apiVersion"].get<std::string>();
      }
      r.alter(x);
      CheckFails(VerifyEntryBody(e, x), r.reason);
    }
  }
}

TEST_CASE("Merkle inclusion: every leaf of trees of 1..17 leaves against a reference tree") {
  // RFC 6962's own test leaves: the reference implementation must give the
  // roots published with them (certificate-transparency's merkle tests).
  std::vector<std::string> ct_leaves = {"",
                                        std::string("\x00", 1),
                                        "\x10",
                                        "\x20\x21",
                                        "\x30\x31",
                                        "\x40\x41\x42\x43",
                                        "\x50\x51\x52\x53\x54\x55\x56\x57",
                                        "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
  CHECK(HexEncode(RefRoot(ct_leaves, 0, 1)) == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  CHECK(HexEncode(RefRoot(ct_leaves, 0, 8)) == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");

  for (size_t size = 1; size <= 17; ++size) {
    std::vector<std::string> leaves;
    for (size_t i = 0; i < size; ++i) leaves.push_back("leaf " + std::to_string(i));
    std::string root = RefRoot(leaves, 0, size);
    for (size_t i = 0; i < size; ++i) {
      CAPTURE(size);
      CAPTURE(i);
      std::vector<std::string> path = RefPath(leaves, i, 0, size);
      int64_t n = static_cast<int64_t>(size);
      int64_t m = static_cast<int64_t>(i);
      CHECK(VerifyMerkleInclusion(leaves[i], m, n, path, root));

      CHECK_FALSE(VerifyMerkleInclusion(leaves[i], n, n, path, root));      // index == size
      CHECK_FALSE(VerifyMerkleInclusion(leaves[i], n + 3, n, path, root));  // index > size
      CHECK_FALSE(VerifyMerkleInclusion(leaves[i], -1, n, path, root));
      CHECK_FALSE(VerifyMerkleInclusion(leaves[i] + "x", m, n, path, root));
      std::vector<std::string> longer = path;
      longer.push_back(Sha256("extra"));
      CHECK_FALSE(VerifyMerkleInclusion(leaves[i], m, n, longer, root));
      if (!path.empty()) {
        std::vector<std::string> shorter(path.begin(), path.end() - 1);
        CHECK_FALSE(VerifyMerkleInclusion(leaves[i], m, n, shorter, root));
        for (size_t h = 0; h < path.size(); ++h) {
          std::vector<std::string> flipped = path;
          flipped[h][h % 32] ^= static_cast<char>(1 << (h % 8));
          CHECK_FALSE(VerifyMerkleInclusion(leaves[i], m, n, flipped, root));
        }
        std::vector<std::string> truncated_hash = path;
        truncated_hash[0].pop_back();
        CHECK_FALSE(VerifyMerkleInclusion(leaves[i], m, n, truncated_hash, root));
      }
      if (size > 1) {
        // The same path at a neighbouring index does not hold. (A bigger
        // tree size can: where the leaf's path has the same shape, the size
        // is not in the hashes. The signed checkpoint binds the size.)
        CHECK_FALSE(VerifyMerkleInclusion(leaves[i], (m + 1) % n, n, path, root));
      }
      std::string flipped_root = root;
      flipped_root[31] ^= 1;
      CHECK_FALSE(VerifyMerkleInclusion(leaves[i], m, n, path, flipped_root));
      CHECK_FALSE(VerifyMerkleInclusion(leaves[i], m, n, path, root.substr(0, 31)));
    }
  }
  // An empty tree holds nothing; more than 64 hashes is no real tree.
  CHECK_FALSE(VerifyMerkleInclusion("x", 0, 0, {}, Sha256("")));
  CHECK_FALSE(VerifyMerkleInclusion("x", 0, 1, std::vector<std::string>(65, Sha256("h")), Sha256("r")));
}

TEST_CASE("checkpoints: well-formed notes parse, malformed ones are refused with their reason") {
  std::string root = Base64Encode(std::string(32, 'r'));
  std::string sig = Base64Encode("hint-signature");
  std::string text = "log.example - 7\n12\n" + root + "\nextension line\n";
  std::string two_sigs = "\xE2\x80\x94 log.example " + sig + "\n\xE2\x80\x94 witness " + sig + "\n";
  auto ok = ParseCheckpoint(text + "\n" + two_sigs);
  REQUIRE_MESSAGE(ok.ok(), ok.status().ToString());
  CHECK(ok->origin == "log.example - 7");
  CHECK(ok->tree_size == 12);
  CHECK(ok->root_hash == std::string(32, 'r'));
  CHECK(ok->signed_text == text);
  REQUIRE(ok->signatures.size() == 2);
  CHECK(ok->signatures[1].name == "witness");
  CHECK(ok->signatures[0].key_hint == "hint");
  CHECK(ok->signatures[0].signature == "-signature");

  std::string line = "\xE2\x80\x94 log.example " + sig + "\n";
  std::string seventeen;
  for (int i = 0; i < 17; ++i) seventeen += line;
  struct Row {
    std::string name;
    std::string note;
    std::string reason;
  };
  Row rows[] = {
      {"no blank line", "log.example - 7\n12\n" + root + "\n" + line, "tlog checkpoint: no blank line"},
      {"two lines of text", "log.example - 7\n12\n\n" + line, "tlog checkpoint: the note text has 2 lines"},
      {"empty origin", "\n12\n" + root + "\n\n" + line, "tlog checkpoint: the origin line is empty"},
      {"size not decimal", "log.example - 7\n12a\n" + root + "\n\n" + line,
       "tlog checkpoint: tree size \"12a\" is not a decimal number"},
      {"negative size", "log.example - 7\n-12\n" + root + "\n\n" + line, "is not a decimal number"},
      {"size with a sign", "log.example - 7\n+12\n" + root + "\n\n" + line, "is not a decimal number"},
      {"size beyond int64", "log.example - 7\n9223372036854775808\n" + root + "\n\n" + line, "is not a decimal number"},
      {"root of 31 bytes", "log.example - 7\n12\n" + Base64Encode(std::string(31, 'r')) + "\n\n" + line,
       "tlog checkpoint: root hash \"" + Base64Encode(std::string(31, 'r')) + "\" is not base64 of 32 bytes"},
      {"root not base64", "log.example - 7\n12\nnot base64!\n\n" + line, "is not base64 of 32 bytes"},
      {"signature line with a hyphen", text + "\n- log.example " + sig + "\n",
       "tlog checkpoint: signature line \"- log.example"},
      {"signature line with an en dash", text + "\n\xE2\x80\x93 log.example " + sig + "\n",
       "does not start with an em dash"},
      {"signature line without a name", text + "\n\xE2\x80\x94 " + sig + "\n", "tlog checkpoint: signature line"},
      {"signature not base64", text + "\n\xE2\x80\x94 log.example @@@@\n",
       "signature of \"log.example\" is not base64"},
      {"signature of 4 bytes", text + "\n\xE2\x80\x94 log.example " + Base64Encode("hint") + "\n",
       "is shorter than a 4-byte key hint and a signature"},
      {"no signature lines", text + "\n", "tlog checkpoint: no signature lines"},
      {"no final newline", text + "\n" + line.substr(0, line.size() - 1), "do not end with a newline"},
      {"more than 16 signatures", text + "\n" + seventeen, "tlog checkpoint: more than 16 signature lines"},
      {"larger than 16 KiB", text + "\n" + std::string(20000, 'x'), "tlog checkpoint: larger than"},
  };
  for (const Row& r : rows) {
    CAPTURE(r.name);
    auto cp = ParseCheckpoint(r.note);
    CheckFails(cp.status(), r.reason);
  }
}
