// ModelPolicy: the compiled, immutable form of the policy files
// (docs/policy-language.md),
// and the evaluation of one policy over verified facts. Pure: no I/O, no
// clocks, no logging. A PolicySet is immutable and safe to share between
// threads through std::shared_ptr<const PolicySet>.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/json_util.h"
#include "base/status.h"
#include "verifier/keyless.h"
#include "verifier/keys.h"
#include "verifier/reference.h"
#include "verifier/trusted_root.h"
#include "verifier/verified_artifact.h"

namespace provgate {

enum class Mode { kEnforce, kWarn, kAudit };
const char* ModeName(Mode m);  // "enforce" | "warn" | "audit"

// Where a model reference was found in an admitted object (docs/server.md,
// "Where model references come from").
enum class Source {
  kContainer,    // a container's image
  kImageVolume,  // volumes[].image.reference
  kStorageUri,   // a storage URI: an annotation, a KServe storageUri / uri
  kEnv,          // a container env value: MODELKIT_REF (KitOps init), STORAGE_URI
  kCsiVolume,    // volumes[].csi of the ModelPack CSI driver
  kInitArgs,     // the args of KServe's storage-initializer init container
};
// "container" | "image-volume" | "storage-uri" | "env" | "csi-volume" | "init-args"
const char* SourceName(Source s);
// Every source, in declaration order (policy match.sources names them).
inline constexpr Source kAllSources[] = {Source::kContainer, Source::kImageVolume, Source::kStorageUri,
                                         Source::kEnv,       Source::kCsiVolume,   Source::kInitArgs};

// Compiled condition tree; defined in condition.h.
class Condition;

struct KeylessIdentity {
  std::string issuer;          // exact issuer, or empty
  std::string issuer_regexp;   // RE2, whole-value match, or empty
  std::string subject;         // exact subject (SAN), or empty
  std::string subject_regexp;  // RE2, whole-value match, or empty
  std::string trusted_root;    // path to a Sigstore trusted_root.json as written, or empty
  // The trusted root read from that file (resolved against the policy
  // file's directory); null when none is named: then no certificate is trusted.
  std::shared_ptr<const TrustedRoot> root;
  // The constraints above, compiled (policy/identity_matcher.h).
  std::shared_ptr<const IdentityMatcher> matcher;
};

struct Authority {
  std::string name;
  std::optional<PublicKey> key;           // key authority
  std::optional<KeylessIdentity> keyless;  // keyless authority
};

// spec.modelSigning: an OpenSSF model signature by one of `authorities`
// must cover the artifact's layers (CheckModelCoverage).
struct ModelSigningRule {
  std::vector<std::string> authorities;   // empty = any authority of the policy
  std::vector<std::string> ignore_paths;  // layer titles (or directories) that need not be signed
};

inline constexpr size_t kMaxPredicateTypesPerRule = 16;

struct AttestationRule {
  std::string name;
  // The statement's predicateType must equal one of these (YAML: a string,
  // or a list of distinct strings, at most kMaxPredicateTypesPerRule).
  std::vector<std::string> predicate_types;
  std::vector<std::string> authorities;  // empty = any authority of the policy
  std::shared_ptr<const Condition> conditions;  // null = no conditions
};

class ReferenceMatcher;  // compiled globs; defined in glob.h

struct Policy {
  std::string name;
  std::string file;  // where it was loaded from, "file:line"
  Mode mode = Mode::kEnforce;
  std::shared_ptr<const ReferenceMatcher> match;
  std::vector<Authority> authorities;
  int signatures_require = 1;
  std::vector<AttestationRule> attestations;
  std::optional<ModelSigningRule> model_signing;
  std::shared_ptr<const Condition> metadata;  // null = none
  // spec.requireDigest: a matched reference written without a digest (a
  // tag only) fails this policy with "digest-required: ..." however well it
  // verifies (ApplyDigestRequirement).
  bool require_digest = false;

  // True when `ref` (normalised), `namespace_name` and `source` are all
  // selected by spec.match.
  bool Matches(const Reference& ref, const std::string& namespace_name, Source source) const;
  // The keys of this policy's key authorities, each tagged with its
  // Signer{name, authority}.
  std::vector<TrustedKey> Keys() const;
  // Its keyless authorities that name a trusted root, tagged the same way.
  std::vector<KeylessAuthorityTrust> KeylessTrust() const;
};

// What a valid signature by `a` proves, as a comparable string: the key's
// public value (PublicKey::Identity, the same for every encoding of one
// key), or the keyless issuer and subject constraints (the trusted root does
// not change who signed). Two authorities with the same identity are one
// signer: the loader refuses them and signatures.require counts them once.
std::string SignerIdentity(const Authority& a);

class PolicySet {
 public:
  explicit PolicySet(std::vector<Policy> policies);

  const std::vector<Policy>& policies() const { return policies_; }
  // Policies whose match selects the reference, in load order.
  std::vector<const Policy*> Matching(const Reference& ref, const std::string& namespace_name,
                                      Source source) const;
  // Hex SHA-256 over the policies' canonical content and trust material:
  // part of the verification cache key.
  const std::string& hash() const { return hash_; }

 private:
  std::vector<Policy> policies_;
  std::string hash_;
};

// Why a reference or a policy was decided as it was, for machines
// (`reasonCode` of check / verify -o json; docs/decision-rules.md#reason-codes).
// A closed set; each code is set where its readable reason is made.
enum class ReasonCode {
  kPassed,                 // "passed": every matching policy passed
  kNoSignature,            // "no-signature": the artifact has no signature at all
  kUntrustedSigner,        // "untrusted-signer": signatures / attestations / model signatures are there,
                           //   but too few verify by the policy's (or the rule's) authorities
  kNoAttestation,          // "no-attestation": an attestation rule, and no attestation at all
  kPredicateTypeMismatch,  // "predicate-type-mismatch": attestations, none of the rule's predicateType
  kConditionFailed,        // "condition-failed": an attestation's or the metadata's conditions are false
  kNoModelSignature,       // "no-model-signature": modelSigning, and no model signature
  kModelFilesNotCovered,   // "model-files-not-covered": the signed files are not the layers
  kDigestRequired,         // "digest-required": requireDigest, and the reference names a tag only
  kNotFound,               // "not-found": the tag or repository is not there (decided)
  kBoundExceeded,          // "bound-exceeded": a size or count bound of provgate's (decided)
  kRegistryUnavailable,    // "registry-unavailable": unreachable, timed out, refused credentials (undecided)
  kDigestMismatch,         // "digest-mismatch": served content does not hash to its digest (undecided)
  kInvalidReference,       // "invalid-reference": the reference does not parse
  kUnmatched,              // "unmatched": no policy matches the reference
  kInternal,               // "internal": a policy was not evaluated (a bug)
};
const char* ReasonCodeName(ReasonCode c);

// The outcome of evaluating one policy against one artifact.
struct PolicyResult {
  std::string name;
  Mode mode = Mode::kEnforce;
  bool passed = false;
  std::vector<std::string> reasons;  // why it failed; informational notes when passed
  ReasonCode code = ReasonCode::kPassed;  // the code of reasons[0] when it failed; kPassed when passed
};

// Evaluates decision rule 2 of docs/decision-rules.md over verified facts: signature
// threshold over distinct signers (authorities sharing a key count once),
// every attestation rule satisfied by one verified attestation (signer among
// its authorities, predicateType equal, subject digest checked by the
// verifier, conditions true — facts of different attestations never
// combine), the model-signing rule satisfied by one verified model
// signature whose resources cover the layers, metadata conditions true. Condition documents hold only what is
// there: {predicateType, predicate} per attestation, {config, annotations}
// for metadata, with a null predicate or config left out (missing). Every
// failure adds a reason naming the rule, the authority or attestation,
// expected and found.
PolicyResult EvaluatePolicy(const Policy& policy, const VerifiedArtifact& artifact);

// The policies matching one reference (PolicySet::Matching), each evaluated
// on the reference's verified facts, in order: what the decision step
// combines (CombineResults).
std::vector<PolicyResult> EvaluatePolicySet(const std::vector<const Policy*>& policies,
                                            const VerifiedArtifact& facts);

// The result for a policy that could not be evaluated because the artifact
// could not be fetched: not passed, with `reason` (e.g.
// "registry-unavailable: ...").
PolicyResult FailedPolicy(const Policy& policy, ReasonCode code, const std::string& reason);

// The digest rule (spec.requireDigest, or --require-digest for every
// policy): when `required` and `ref` (the matched reference, normalised)
// carries no digest, `result` fails with the reason "digest-required: the
// reference names a tag, not a digest", followed, when `resolved_digest`
// (what the tag resolved to) is known, by the pin to write:
// `; write "<written>@<resolved_digest>"`. The reason replaces a pass's
// notes, or leads a failure's reasons. Otherwise `result` as is.
// Applied per admitted reference, not cached with the verification: two
// references to one digest, one pinned and one not, share a verification.
PolicyResult ApplyDigestRequirement(PolicyResult result, bool required, const Reference& ref,
                                    const std::string& written, const std::string& resolved_digest);

// The decision for one reference (`decision` in `check -o json`, docs/cli.md).
enum class Decision { kAllow, kDeny, kWarn, kAudit, kUnmatched };
const char* DecisionName(Decision d);  // "allow" | "deny" | "warn" | "audit" | "unmatched"

enum class UnmatchedAction { kAllow, kDeny };

// Combines policy results (decision rules 1, 3, 4): no results -> unmatched
// (or deny when `unmatched` is kDeny); any failed enforce -> deny; else any
// failed warn -> warn; else any failed audit -> audit; else allow.
Decision CombineResults(const std::vector<PolicyResult>& results, UnmatchedAction unmatched);

// The code of `decision` (what CombineResults made of `results`): the code
// of the first failed result of the mode that decided it (enforce for deny,
// warn for warn, audit for audit); kPassed for allow; kUnmatched for no
// results.
ReasonCode DecidingCode(const std::vector<PolicyResult>& results, Decision decision);

}  // namespace provgate
