// `provgate keygen`, `push`, `sign`, `attest`: the producer side, used by
// the demo and tests and compatible with cosign's layouts.
#include <sys/stat.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <utility>

#include "base/encoding.h"
#include "base/json_util.h"
#include "verifier/keys.h"
#include "verifier/registry/publish_artifact.h"
#include "webhook/cli/cli_support.h"
#include "webhook/cli/commands.h"

namespace provgate {
namespace {

constexpr size_t kMaxSmallInput = 16 << 20;

StatusOr<std::map<std::string, std::string>> ParseAnnotations(const std::vector<std::string>& kvs) {
  std::map<std::string, std::string> out;
  for (const auto& kv : kvs) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return InvalidArgument("annotation " + kv + " is not key=value");
    out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

Status WriteFile(const std::string& path, const std::string& data, mode_t mode) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return InvalidArgument("cannot write " + path);
  out << data;
  out.close();
  if (!out) return InvalidArgument("error writing " + path);
  chmod(path.c_str(), mode);
  return Status::Ok();
}

// cosign's --type shorthands (cmd/cosign/cli/options/predicate.go,
// PredicateTypeMap), each the URI cosign writes for it. "custom" is left
// out: cosign wraps that predicate as {Data, Timestamp}, which attest does not.
constexpr std::pair<const char*, const char*> kPredicateShorthands[] = {
    {"slsaprovenance", "https://slsa.dev/provenance/v0.2"},
    {"slsaprovenance02", "https://slsa.dev/provenance/v0.2"},
    {"slsaprovenance1", "https://slsa.dev/provenance/v1"},
    {"spdx", "https://spdx.dev/Document"},
    {"spdxjson", "https://spdx.dev/Document"},
    {"cyclonedx", "https://cyclonedx.org/bom"},
    {"link", "https://in-toto.io/Link/v1"},
    {"vuln", "https://cosign.sigstore.dev/attestation/vuln/v1"},
    {"openvex", "https://openvex.dev/ns"},
};

// The predicate type --type names: a shorthand's URI, or `type` itself when
// it is an absolute URI (RFC 3986 scheme ":" and more, no spaces or
// controls). Anything else is InvalidArgument listing the shorthands.
StatusOr<std::string> PredicateTypeUri(const std::string& type) {
  for (const auto& [name, uri] : kPredicateShorthands) {
    if (type == name) return std::string(uri);
  }
  size_t colon = type.find(':');
  bool uri = colon != std::string::npos && colon > 0 && colon + 1 < type.size() &&
             std::isalpha(static_cast<unsigned char>(type[0]));
  for (size_t i = 0; uri && i < colon; ++i) {
    char c = type[i];
    uri = std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  }
  for (size_t i = 0; uri && i < type.size(); ++i) {
    uri = static_cast<unsigned char>(type[i]) > 0x20 && type[i] != 0x7f;
  }
  if (uri) return type;
  std::string names;
  for (const auto& shorthand : kPredicateShorthands) names += (names.empty() ? "" : ", ") + std::string(shorthand.first);
  return InvalidArgument("--type " + Quote(type) + " is neither an absolute URI nor one of cosign's shorthands (" +
                         names + ")");
}

StatusOr<PrivateKey> LoadPrivateKey(const std::string& path) {
  ASSIGN_OR_RETURN(std::string pem, ReadInputFile(path, 64 << 10));
  auto key = PrivateKey::FromPem(pem, KeyPasswordFromEnv());
  if (!key.ok()) return key.status().WithPrefix(path);
  return key;
}

}  // namespace

int RunKeygen(const KeygenOptions& o) {
  std::string key_path = o.prefix + ".key", pub_path = o.prefix + ".pub";
  if (!o.force && (std::filesystem::exists(key_path) || std::filesystem::exists(pub_path))) {
    return FailInput(InvalidArgument(key_path + " or " + pub_path + " exists; pass --force to overwrite"));
  }
  auto key = PrivateKey::GenerateEcdsaP256();
  if (!key.ok()) return FailInput(key.status());
  if (Status s = WriteFile(key_path, key->ToPkcs8Pem(), 0600); !s.ok()) return FailInput(s);
  if (Status s = WriteFile(pub_path, key->Public().ToPem(), 0644); !s.ok()) return FailInput(s);
  std::printf("Private key written to %s\nPublic key written to %s\n", key_path.c_str(), pub_path.c_str());
  return kExitOk;
}

int RunPush(const PushOptions& o) {
  auto ref = ParseReference(o.reference);
  if (!ref.ok()) return FailInput(ref.status());
  PushRequest req;
  req.paths = {o.path};
  auto ann = ParseAnnotations(o.annotations);
  if (!ann.ok()) return FailInput(ann.status());
  req.annotations = *ann;
  if (!o.metadata_file.empty()) {
    auto text = ReadInputFile(o.metadata_file, kMaxSmallInput);
    if (!text.ok()) return FailInput(text.status());
    auto j = ParseJson(*text, o.metadata_file);
    if (!j.ok()) return FailInput(j.status());
    if (!j->is_object()) return FailInput(InvalidArgument(o.metadata_file + ": metadata must be a JSON object"));
    req.metadata = std::move(*j);
  }
  auto ctx = MakeRegistryContext(o.common, /*create_layout=*/true);
  if (!ctx.ok()) return FailInput(ctx.status());
  auto digest = PushModel(*ctx->client, *ref, req, ctx->deadline);
  if (!digest.ok()) return FailInput(digest.status());
  std::printf("%s\n", digest->c_str());
  return kExitOk;
}

int RunSign(const SignOptions& o) {
  auto ref = ParseReference(o.reference);
  if (!ref.ok()) return FailInput(ref.status());
  auto ann = ParseAnnotations(o.annotations);
  if (!ann.ok()) return FailInput(ann.status());
  auto key = LoadPrivateKey(o.key_file);
  if (!key.ok()) return FailInput(key.status());
  auto ctx = MakeRegistryContext(o.common);
  if (!ctx.ok()) return FailInput(ctx.status());
  auto digest = SignArtifact(*ctx->client, *ref, *key, *ann, ctx->deadline);
  if (!digest.ok()) return FailInput(digest.status());
  std::printf("signed %s@%s\n", ref->Name().c_str(), digest->c_str());
  return kExitOk;
}

int RunAttest(const AttestOptions& o) {
  auto ref = ParseReference(o.reference);
  if (!ref.ok()) return FailInput(ref.status());
  auto predicate_type = PredicateTypeUri(o.predicate_type);
  if (!predicate_type.ok()) return FailInput(predicate_type.status());
  auto key = LoadPrivateKey(o.key_file);
  if (!key.ok()) return FailInput(key.status());
  auto text = ReadInputFile(o.predicate_file, kMaxSmallInput);
  if (!text.ok()) return FailInput(text.status());
  auto predicate = ParseJson(*text, o.predicate_file);
  if (!predicate.ok()) return FailInput(predicate.status());
  if (!predicate->is_object()) return FailInput(InvalidArgument(o.predicate_file + ": predicate must be a JSON object"));
  auto ctx = MakeRegistryContext(o.common);
  if (!ctx.ok()) return FailInput(ctx.status());
  auto digest = AttestArtifact(*ctx->client, *ref, *key, *predicate_type, *predicate, ctx->deadline);
  if (!digest.ok()) return FailInput(digest.status());
  std::printf("attested %s@%s (%s)\n", ref->Name().c_str(), digest->c_str(), predicate_type->c_str());
  return kExitOk;
}

}  // namespace provgate
