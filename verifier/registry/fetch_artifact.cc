#include "verifier/registry/fetch_artifact.h"

#include <algorithm>
#include <functional>
#include <future>

#include "verifier/model_signing.h"

namespace provgate {
namespace {

constexpr char kBundlePrefix[] = "application/vnd.dev.sigstore.bundle";

struct Attachments {
  std::vector<AttachedLayer> layers;
  std::shared_ptr<const ByteBudget::Reservation> memory;  // the layers' bytes in the client's budget
};

// Reserves `total` bytes of `client`'s budget for the blobs of one kind of
// attachment, before any is downloaded.
StatusOr<std::shared_ptr<const ByteBudget::Reservation>> Reserve(RegistryClient& client, uint64_t total,
                                                                 const char* kind, Deadline deadline) {
  auto r = client.memory_budget().Acquire(static_cast<size_t>(total), deadline);
  if (!r.ok()) return r.status().WithPrefix(std::string(kind) + " layers");
  return std::make_shared<const ByteBudget::Reservation>(std::move(*r));
}

// RegistryLimits::parallel_fetches: how many requests run at once, and
// whether on threads of their own (std::async) or in order on the caller's
// (deferred: run by get()).
size_t Parallelism(const RegistryClient& client) { return std::max<size_t>(1, client.limits().parallel_fetches); }
std::launch Launch(const RegistryClient& client) {
  return Parallelism(client) > 1 ? std::launch::async : std::launch::deferred;
}

// Runs fetch(0) .. fetch(n-1), at most Parallelism() at a time, and returns
// their results in order. Stops starting batches after one with an error
// other than InvalidArgument (the rest are reported as not attempted).
template <typename T>
std::vector<StatusOr<T>> InBatches(const RegistryClient& client, size_t n,
                                   const std::function<StatusOr<T>(size_t)>& fetch) {
  std::vector<StatusOr<T>> out;
  out.reserve(n);
  bool failed = false;
  const size_t batch = Parallelism(client);
  for (size_t start = 0; start < n; start += batch) {
    size_t end = std::min(n, start + batch);
    if (failed) {
      for (size_t i = start; i < end; ++i) out.push_back(Status(StatusCode::kInternal, "not attempted"));
      continue;
    }
    std::vector<std::future<StatusOr<T>>> futures;
    for (size_t i = start; i < end; ++i) futures.push_back(std::async(Launch(client), fetch, i));
    for (auto& f : futures) {
      out.push_back(f.get());
      if (!out.back().ok() && out.back().status().code() != StatusCode::kInvalidArgument) failed = true;
    }
  }
  return out;
}

// Fetches the manifest at `tag` and each of its layers. 404 -> no layers.
StatusOr<Attachments> FetchAttachments(RegistryClient& client, const Reference& ref, const std::string& tag,
                                       const char* kind, Deadline deadline) {
  Attachments out;
  const auto& limits = client.limits();
  auto m = client.GetManifest(ref, tag, deadline, limits.max_attached_layers);
  if (!m.ok()) {
    if (m.status().code() == StatusCode::kNotFound) return out;
    if (m.status().code() == StatusCode::kResourceExhausted) {
      return ResourceExhausted(std::string(kind) + " manifest " + tag + ": " + m.status().message() +
                               " (max " + std::to_string(limits.max_attached_layers) + " " + kind + " layers)");
    }
    return m.status();
  }
  if (m->manifest.kind != Manifest::Kind::kImage) {
    return InvalidArgument(std::string(kind) + " tag " + tag + " is an index, not a manifest");
  }
  const auto& layers = m->manifest.layers;
  uint64_t total = 0;
  for (const auto& d : layers) {
    if (static_cast<uint64_t>(d.size) > limits.max_attachment_bytes) {
      return ResourceExhausted(std::string(kind) + " layer " + d.digest + " of " + std::to_string(d.size) +
                               " bytes exceeds the limit of " + std::to_string(limits.max_attachment_bytes) +
                               " bytes");
    }
    total += static_cast<uint64_t>(d.size);
  }
  if (total > limits.max_attachment_total_bytes) {
    return ResourceExhausted(std::string(kind) + " layers total " + std::to_string(total) +
                             " bytes, more than the limit of " + std::to_string(limits.max_attachment_total_bytes));
  }
  ASSIGN_OR_RETURN(out.memory, Reserve(client, total, kind, deadline));
  std::vector<StatusOr<std::string>> blobs = InBatches<std::string>(client, layers.size(), [&](size_t i) {
    return client.GetBlob(ref, layers[i].digest, static_cast<size_t>(layers[i].size), deadline);
  });
  for (size_t i = 0; i < layers.size(); ++i) {
    if (!blobs[i].ok()) return blobs[i].status();
    out.layers.push_back(AttachedLayer{layers[i], std::move(*blobs[i])});
  }
  return out;
}

// Sigstore bundles attached as referrers: select by artifactType, fetch the
// referrer manifests (by digest, hashed), bound their layers' total size
// before reading any, then fetch each bundle layer. A few requests at a time:
// a hostile index must not buy one thread and 16 MiB per referrer at once.
StatusOr<Attachments> FetchBundles(RegistryClient& client, const Reference& ref, const std::string& digest,
                                   Deadline deadline) {
  Attachments out;
  const auto& limits = client.limits();
  ASSIGN_OR_RETURN(std::vector<Descriptor> referrers,
                   client.GetReferrers(ref, digest, deadline, limits.max_manifest_entries));
  std::vector<Descriptor> bundles;
  for (auto& d : referrers) {
    if (d.artifact_type.rfind(kBundlePrefix, 0) == 0) bundles.push_back(std::move(d));
  }
  if (bundles.size() > limits.max_attached_layers) {
    return ResourceExhausted("artifact has " + std::to_string(bundles.size()) +
                             " sigstore bundle referrers, more than the limit of " +
                             std::to_string(limits.max_attached_layers));
  }
  auto fetch_layer_descriptor = [&](size_t i) -> StatusOr<Descriptor> {
    const Descriptor& d = bundles[i];
    ASSIGN_OR_RETURN(FetchedManifest m, client.GetManifest(ref, d.digest, deadline, 4));
    if (m.manifest.kind != Manifest::Kind::kImage || m.manifest.layers.empty()) {
      return InvalidArgument("bundle referrer " + d.digest + " has no layers");
    }
    if (m.manifest.subject && m.manifest.subject->digest != digest) {
      return InvalidArgument("bundle referrer " + d.digest + " has subject " + m.manifest.subject->digest);
    }
    return m.manifest.layers[0];
  };
  std::vector<StatusOr<Descriptor>> found = InBatches<Descriptor>(client, bundles.size(), fetch_layer_descriptor);
  std::vector<Descriptor> layers;
  uint64_t total = 0;
  for (auto& layer : found) {
    if (!layer.ok()) {
      // A referrer that does not belong to this artifact is ignored, not fatal;
      // registry failures and bounds are.
      if (layer.status().code() == StatusCode::kInvalidArgument) continue;
      return layer.status();
    }
    if (static_cast<uint64_t>(layer->size) > limits.max_attachment_bytes) {
      return ResourceExhausted("bundle layer " + layer->digest + " of " + std::to_string(layer->size) +
                               " bytes exceeds the limit of " + std::to_string(limits.max_attachment_bytes) + " bytes");
    }
    total += static_cast<uint64_t>(layer->size);
    layers.push_back(std::move(*layer));
  }
  if (total > limits.max_attachment_total_bytes) {
    return ResourceExhausted("sigstore bundle layers total " + std::to_string(total) +
                             " bytes, more than the limit of " + std::to_string(limits.max_attachment_total_bytes));
  }
  ASSIGN_OR_RETURN(out.memory, Reserve(client, total, "sigstore bundle", deadline));
  std::vector<StatusOr<std::string>> blobs = InBatches<std::string>(client, layers.size(), [&](size_t i) {
    return client.GetBlob(ref, layers[i].digest, static_cast<size_t>(layers[i].size), deadline);
  });
  for (size_t i = 0; i < layers.size(); ++i) {
    if (!blobs[i].ok()) return blobs[i].status();
    out.layers.push_back(AttachedLayer{layers[i], std::move(*blobs[i])});
  }
  return out;
}

}  // namespace

std::string AttachmentTag(std::string_view digest, std::string_view suffix) {
  std::string tag(digest);
  if (auto colon = tag.find(':'); colon != std::string::npos) tag[colon] = '-';
  return tag + "." + std::string(suffix);
}

StatusOr<ArtifactMaterial> FetchArtifact(RegistryClient& client, const Reference& ref, Deadline deadline) {
  // One request: by digest when the reference pins one, else by tag, hashing
  // the bytes to learn the digest the tag points to right now.
  ASSIGN_OR_RETURN(FetchedManifest m, client.GetManifest(ref, ref.TagOrDigest(), deadline));
  return FetchAttachedMaterial(client, ref, std::move(m), deadline);
}

StatusOr<ArtifactMaterial> FetchAttachedMaterial(RegistryClient& client, const Reference& ref, FetchedManifest m,
                                                 Deadline deadline) {
  ArtifactMaterial mat;
  mat.digest = m.digest;
  mat.reference = ref.WithDigest(m.digest);
  mat.manifest_bytes = std::move(m.bytes);
  mat.manifest = std::move(m.manifest);

  auto sig = std::async(Launch(client), [&] {
    return FetchAttachments(client, ref, AttachmentTag(mat.digest, "sig"), "signature", deadline);
  });
  auto att = std::async(Launch(client), [&] {
    return FetchAttachments(client, ref, AttachmentTag(mat.digest, "att"), "attestation", deadline);
  });
  auto bundles = std::async(Launch(client), [&] { return FetchBundles(client, ref, mat.digest, deadline); });
  Status config_status;
  if (mat.manifest.kind == Manifest::Kind::kImage) {
    const Descriptor& c = mat.manifest.config;
    if (static_cast<uint64_t>(c.size) > client.limits().max_config_bytes) {
      mat.notes.push_back("config blob of " + std::to_string(c.size) + " bytes exceeds the limit of " +
                          std::to_string(client.limits().max_config_bytes) + " bytes; not read");
    } else {
      auto blob = client.GetBlob(ref, c.digest, static_cast<size_t>(c.size), deadline);
      if (blob.ok()) {
        mat.config_bytes = std::move(*blob);
      } else {
        config_status = blob.status().WithPrefix("config blob");
      }
    }
  }
  // An OpenSSF model signature shipped inside the model: the layer titled
  // model.sig (a small bundle; the weights beside it are never read).
  if (config_status.ok() && mat.manifest.kind == Manifest::Kind::kImage) {
    for (const Descriptor& d : mat.manifest.layers) {
      auto title = d.annotations.find(kTitleAnnotation);
      if (title == d.annotations.end() || title->second != kModelSigFileName) continue;
      if (mat.model_signature_layers.size() == client.limits().max_attached_layers) {
        config_status = ResourceExhausted("more than " + std::to_string(client.limits().max_attached_layers) +
                                          " layers titled model.sig");
        break;
      }
      if (static_cast<uint64_t>(d.size) > client.limits().max_attachment_bytes) {
        config_status = ResourceExhausted("model.sig layer " + d.digest + " of " + std::to_string(d.size) +
                                          " bytes exceeds the limit of " +
                                          std::to_string(client.limits().max_attachment_bytes) + " bytes");
        break;
      }
      auto memory = Reserve(client, static_cast<uint64_t>(d.size), "model.sig", deadline);
      if (!memory.ok()) {
        config_status = memory.status();
        break;
      }
      mat.memory.push_back(std::move(*memory));
      auto blob = client.GetBlob(ref, d.digest, static_cast<size_t>(d.size), deadline);
      if (!blob.ok()) {
        config_status = blob.status().WithPrefix("model.sig layer");
        break;
      }
      mat.model_signature_layers.push_back(AttachedLayer{d, std::move(*blob)});
    }
  }
  auto sig_result = sig.get();
  auto att_result = att.get();
  auto bundle_result = bundles.get();
  RETURN_IF_ERROR(config_status);
  if (!sig_result.ok()) return sig_result.status();
  if (!att_result.ok()) return att_result.status();
  if (!bundle_result.ok()) return bundle_result.status().WithPrefix("sigstore bundles");
  mat.bundle_layers = std::move(bundle_result->layers);
  for (auto* r : {&sig_result->memory, &att_result->memory, &bundle_result->memory}) {
    if (*r) mat.memory.push_back(std::move(*r));
  }
  mat.signature_layers = std::move(sig_result->layers);
  mat.attestation_layers = std::move(att_result->layers);
  return mat;
}

}  // namespace provgate
