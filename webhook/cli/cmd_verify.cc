// `provgate verify REF --key PUB.pem`: signature-only verification of one
// artifact, printing the verified facts. (With --policies, the reference is
// evaluated by the decision pipeline instead; see cmd_check.cc.)
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "policy/identity_matcher.h"
#include "policy/policy.h"

#include "verifier/registry/fetch_artifact.h"
#include "webhook/cli/check_outcome.h"
#include "webhook/cli/cli_support.h"
#include "webhook/cli/commands.h"
#include "webhook/decide/decide_object.h"

namespace provgate {

int RunVerifyWithPolicies(const VerifyOptions& o);  // cmd_check.cc

namespace {

// "keyless: issuer ..., subject ..., rekor.sigstore.dev #123 at 2025-..."
std::string KeylessLine(const KeylessIdentityFacts& k) {
  std::string s = "issuer " + k.issuer + ", subject " + k.subject;
  if (!k.log.empty()) s += ", log " + k.log + " index " + std::to_string(k.log_index);
  if (k.integrated_time) s += ", integrated at " + std::to_string(k.integrated_time) + " (Unix)";
  return s;
}

void PrintText(const VerifiedArtifact& a, bool verified) {
  std::printf("reference:  %s\n", a.reference.String().c_str());
  std::printf("digest:     %s\n", a.digest.c_str());
  std::printf("mediaType:  %s\n", a.manifest.media_type.c_str());
  auto signed_by = a.SignedBy();
  std::string signers;
  for (const auto& s : signed_by) signers += (signers.empty() ? "" : ", ") + s.String();
  std::printf("signed by:  %s\n", signers.empty() ? "(nobody)" : signers.c_str());
  std::printf("signatures: %zu\n", a.signatures.size());
  for (const auto& s : a.signatures) {
    std::printf("  %s  [%s]  %s\n", s.layer_digest.c_str(), s.origin.c_str(),
                s.verified() ? "verified" : ("NOT VERIFIED: " + s.problem).c_str());
    if (s.keyless) std::printf("    keyless: %s\n", KeylessLine(*s.keyless).c_str());
  }
  std::printf("attestations: %zu\n", a.attestations.size());
  for (const auto& at : a.attestations) {
    std::string type = at.predicate_type.empty() ? "(unreadable statement)" : at.predicate_type;
    std::printf("  %s  [%s]  %s  %s\n", at.layer_digest.c_str(), at.origin.c_str(), type.c_str(),
                at.verified() ? "verified" : ("NOT VERIFIED: " + at.problem).c_str());
    if (at.keyless) std::printf("    keyless: %s\n", KeylessLine(*at.keyless).c_str());
  }
  if (!a.model_signatures.empty()) {
    std::printf("model signatures: %zu\n", a.model_signatures.size());
    for (const auto& m : a.model_signatures) {
      std::string what = m.statement ? m.statement->predicate_type + ", " + std::to_string(m.statement->resources.size()) +
                                           " files"
                                     : std::string("(unread statement)");
      std::printf("  %s  [%s]  %s  %s\n", m.layer_digest.c_str(), m.origin.c_str(), what.c_str(),
                  m.verified() ? "verified" : ("NOT VERIFIED: " + m.problem).c_str());
      if (m.keyless) std::printf("    keyless: %s\n", KeylessLine(*m.keyless).c_str());
    }
  }
  if (!a.annotations.empty()) {
    std::printf("annotations:\n");
    for (const auto& [k, v] : a.annotations) {
      std::printf("  %s: %s\n", k.c_str(), v.size() > 200 ? (v.substr(0, 200) + "...").c_str() : v.c_str());
    }
  }
  if (!a.config.is_null()) std::printf("config:     %s\n", JsonForMessage(a.config, 300).c_str());
  for (const auto& n : a.notes) std::printf("note:       %s\n", n.c_str());
  std::printf("result:     %s\n", verified ? "verified" : "NOT verified");
}

// The keyless authority the flags describe: the trusted root file and one
// identity, exactly as a policy's keyless authority would hold them.
StatusOr<KeylessAuthorityTrust> KeylessFromFlags(const VerifyOptions& o) {
  KeylessIdentity id;
  id.issuer = o.certificate_oidc_issuer;
  id.issuer_regexp = o.certificate_oidc_issuer_regexp;
  id.subject = o.certificate_identity;
  id.subject_regexp = o.certificate_identity_regexp;
  auto matcher = CompileIdentityMatcher(id);
  if (!matcher.ok()) {
    return InvalidArgument("--trusted-root needs one of --certificate-oidc-issuer(-regexp) and one of "
                           "--certificate-identity(-regexp): " + matcher.status().message());
  }
  ASSIGN_OR_RETURN(std::string bytes, ReadInputFile(o.trusted_root, kMaxTrustedRootBytes));
  ASSIGN_OR_RETURN(TrustedRoot root, ParseTrustedRoot(bytes, o.trusted_root));
  return KeylessAuthorityTrust{Signer("keyless"), std::make_shared<const TrustedRoot>(std::move(root)), std::move(*matcher)};
}

}  // namespace

int RunVerify(const VerifyOptions& o) {
  if (!o.policies.empty()) return RunVerifyWithPolicies(o);
  if (o.keys.empty() && o.trusted_root.empty()) {
    return FailInput(InvalidArgument(
        "verify needs --key PUB.pem, --trusted-root FILE with a certificate identity and issuer, or --policies PATH"), o.output);
  }
  auto ref = ParseReference(o.reference);
  if (!ref.ok()) return FailInput(ref.status(), o.output);
  Trust trust;
  if (!o.trusted_root.empty()) {
    auto keyless = KeylessFromFlags(o);
    if (!keyless.ok()) return FailInput(keyless.status(), o.output);
    trust.keyless.push_back(std::move(*keyless));
    trust.now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  }
  std::vector<TrustedKey>& keys = trust.keys;
  for (const auto& path : o.keys) {
    auto pem = ReadInputFile(path, 64 << 10);
    if (!pem.ok()) return FailInput(pem.status(), o.output);
    auto key = PublicKey::FromPem(*pem);
    if (!key.ok()) return FailInput(key.status().WithPrefix(path), o.output);
    keys.push_back({std::filesystem::path(path).filename().string(), *key});
  }
  auto ctx = MakeRegistryContext(o.common);
  if (!ctx.ok()) return FailInput(ctx.status(), o.output);
  auto material = FetchArtifact(*ctx->client, *ref, ctx->deadline);
  if (!material.ok()) {
    Status failed = material.status().WithPrefix(ref->String());
    const ReasonCode code = DescribeFetchFailure(material.status()).code;
    if (o.output == "json") {
      // Could not verify: the error, and the code a policy would carry for it.
      Json j = {{"error", failed.ToString()}, {"reasonCode", ReasonCodeName(code)}};
      std::printf("%s\n", j.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
    }
    FailInput(failed);  // the message on stderr
    // As for check: nothing there, or over a bound, is a decided failure; a
    // registry not asked is none.
    return UndecidedFetchCode(code) ? kExitError : kExitDenied;
  }
  VerifiedArtifact a = VerifyArtifact(*material, trust);
  bool verified = !a.SignedBy().empty();
  if (o.output == "json") {
    Json j = VerifiedArtifactToJson(a);
    j["verified"] = verified;
    // The codes a policy's signature rule gives for the same facts.
    j["reasonCode"] = ReasonCodeName(verified                 ? ReasonCode::kPassed
                                     : a.signatures.empty() ? ReasonCode::kNoSignature
                                                            : ReasonCode::kUntrustedSigner);
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    PrintText(a, verified);
  }
  return verified ? kExitOk : kExitDenied;
}

}  // namespace provgate
