#include "verifier/registry/publish_artifact.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <openssl/evp.h>

#include "base/encoding.h"
#include "verifier/digest.h"
#include "verifier/dsse.h"
#include "verifier/in_toto.h"
#include "verifier/registry/fetch_artifact.h"
#include "verifier/simple_signing.h"

namespace provgate {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxModelFiles = 1000;

struct FileBlob {
  std::string path;
  std::string title;
  std::string digest;
  uint64_t size = 0;
};

StatusOr<std::string> Sha256File(const std::string& path, uint64_t* size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read " + path);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 20);
  *size = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto n = in.gcount();
    if (n > 0) {
      EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(n));
      *size += static_cast<uint64_t>(n);
    }
  }
  unsigned char out[32];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, out, &len);
  EVP_MD_CTX_free(ctx);
  if (in.bad()) return InvalidArgument("error reading " + path);
  return "sha256:" + HexEncode(std::string_view(reinterpret_cast<char*>(out), len));
}

StatusOr<std::vector<FileBlob>> CollectFiles(const std::vector<std::string>& paths) {
  std::vector<FileBlob> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        if (!it->is_regular_file()) continue;
        std::string rel = fs::relative(it->path(), p).generic_string();
        if (rel.rfind(".", 0) == 0) continue;  // hidden files
        files.push_back({it->path().string(), rel, "", 0});
        if (files.size() > kMaxModelFiles) return InvalidArgument("more than 1000 files under " + p);
      }
      if (ec) return InvalidArgument("cannot list " + p + ": " + ec.message());
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back({p, fs::path(p).filename().string(), "", 0});
    } else {
      return InvalidArgument(p + " is not a readable file or directory");
    }
  }
  if (files.empty()) return InvalidArgument("no model files to push");
  std::sort(files.begin(), files.end(), [](const FileBlob& a, const FileBlob& b) { return a.title < b.title; });
  for (auto& f : files) {
    ASSIGN_OR_RETURN(f.digest, Sha256File(f.path, &f.size));
  }
  return files;
}

Json DescriptorJson(const std::string& media_type, const std::string& digest, uint64_t size,
                    const std::map<std::string, std::string>& annotations = {}) {
  Json d = {{"mediaType", media_type}, {"digest", digest}, {"size", size}};
  if (!annotations.empty()) d["annotations"] = annotations;
  return d;
}

}  // namespace

StatusOr<std::string> PushModel(RegistryClient& client, const Reference& ref, const PushRequest& request,
                                Deadline deadline) {
  if (ref.tag.empty()) return InvalidArgument("push needs a tag in the reference");
  ASSIGN_OR_RETURN(std::vector<FileBlob> files, CollectFiles(request.paths));
  Json metadata = request.metadata.value_or(Json::object());
  if (!metadata.is_object()) return InvalidArgument("model metadata must be a JSON object");
  std::string config = metadata.dump();

  Json layers = Json::array();
  for (const auto& f : files) {
    RETURN_IF_ERROR(client.PushBlobFile(ref, f.path, f.digest, f.size, deadline));
    layers.push_back(DescriptorJson(kModelLayerMediaType, f.digest, f.size,
                                    {{"org.opencontainers.image.title", f.title}}));
  }
  RETURN_IF_ERROR(client.PushBlob(ref, config, deadline));
  layers.push_back(DescriptorJson(kOmlmdConfigMediaType, Sha256Digest(config), config.size(),
                                  {{"org.opencontainers.image.title", "model_metadata.omlmd.json"}}));

  std::map<std::string, std::string> annotations;
  for (auto it = metadata.begin(); it != metadata.end(); ++it) {
    if (it.value().is_string()) {
      annotations[it.key()] = it.value().get<std::string>();
    } else {
      annotations[it.key() + "+json"] = it.value().dump();  // omlmd's convention
    }
  }
  for (const auto& [k, v] : request.annotations) annotations[k] = v;

  Json manifest = {{"schemaVersion", 2},
                   {"mediaType", kOciManifest},
                   {"config", DescriptorJson(kOmlmdConfigMediaType, Sha256Digest(config), config.size())},
                   {"layers", layers}};
  if (!annotations.empty()) manifest["annotations"] = annotations;
  return client.PushManifest(ref, ref.tag, kOciManifest, manifest.dump(), deadline);
}

Status AppendAttachmentLayer(RegistryClient& client, const Reference& ref, const std::string& tag,
                             const std::string& media_type, const std::string& blob,
                             const std::map<std::string, std::string>& annotations, Deadline deadline,
                             const std::function<bool(const Json& layer)>& is_duplicate) {
  Json layers = Json::array();
  auto existing = client.GetManifest(ref, tag, deadline);
  if (existing.ok()) {
    auto j = ParseJson(existing->bytes, "attachment manifest");
    if (j.ok() && j->contains("layers") && (*j)["layers"].is_array()) layers = (*j)["layers"];
  } else if (existing.status().code() != StatusCode::kNotFound) {
    return existing.status();
  }
  std::string digest = Sha256Digest(blob);
  Json layer = DescriptorJson(media_type, digest, blob.size(), annotations);
  for (const auto& l : layers) {
    if (l == layer || (is_duplicate && is_duplicate(l))) return Status::Ok();  // already attached
  }
  layers.push_back(layer);
  RETURN_IF_ERROR(client.PushBlob(ref, blob, deadline));

  // cosign writes an image config whose rootfs lists the layer digests.
  Json diff_ids = Json::array();
  for (const auto& l : layers) diff_ids.push_back(l.value("digest", ""));
  Json config = {{"architecture", ""},
                 {"created", "0001-01-01T00:00:00Z"},
                 {"history", Json::array({{{"created", "0001-01-01T00:00:00Z"}}})},
                 {"os", ""},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}},
                 {"config", Json::object()}};
  std::string config_bytes = config.dump();
  RETURN_IF_ERROR(client.PushBlob(ref, config_bytes, deadline));
  Json manifest = {{"schemaVersion", 2},
                   {"mediaType", kOciManifest},
                   {"config", DescriptorJson("application/vnd.oci.image.config.v1+json", Sha256Digest(config_bytes),
                                             config_bytes.size())},
                   {"layers", layers}};
  auto pushed = client.PushManifest(ref, tag, kOciManifest, manifest.dump(), deadline);
  return pushed.status();
}

StatusOr<std::string> SignArtifact(RegistryClient& client, const Reference& ref, const PrivateKey& key,
                                   const std::map<std::string, std::string>& annotations, Deadline deadline) {
  ASSIGN_OR_RETURN(std::string digest, client.ResolveDigest(ref, deadline));
  std::string payload = MakeSimpleSigningPayload(ref.Name(), digest, annotations);
  ASSIGN_OR_RETURN(std::string sig, key.Sign(payload));
  // ECDSA signatures are randomised: a layer with the same payload that this
  // key already signed is the same signature for every verifier.
  PublicKey pub = key.Public();
  std::string payload_digest = Sha256Digest(payload);
  auto same_signer = [&](const Json& l) {
    if (l.value("digest", "") != payload_digest || !l.contains("annotations")) return false;
    const Json& a = l["annotations"];
    if (!a.contains("dev.cosignproject.cosign/signature") || !a["dev.cosignproject.cosign/signature"].is_string()) {
      return false;
    }
    auto existing = Base64Decode(a["dev.cosignproject.cosign/signature"].get<std::string>());
    return existing && pub.Verify(payload, *existing);
  };
  RETURN_IF_ERROR(AppendAttachmentLayer(client, ref, AttachmentTag(digest, "sig"), kSimpleSigningMediaType, payload,
                                        {{"dev.cosignproject.cosign/signature", Base64Encode(sig)}}, deadline,
                                        same_signer));
  return digest;
}

StatusOr<std::string> AttestArtifact(RegistryClient& client, const Reference& ref, const PrivateKey& key,
                                     const std::string& predicate_type, const Json& predicate, Deadline deadline) {
  if (!predicate.is_object()) return InvalidArgument("predicate must be a JSON object");
  ASSIGN_OR_RETURN(std::string digest, client.ResolveDigest(ref, deadline));
  DsseEnvelope env;
  env.payload_type = kInTotoPayloadType;
  env.payload = MakeStatementV1(ref.Name(), digest, predicate_type, predicate);
  ASSIGN_OR_RETURN(std::string sig, key.Sign(PreAuthEncoding(env.payload_type, env.payload)));
  env.signatures.push_back({"", sig});
  RETURN_IF_ERROR(AppendAttachmentLayer(client, ref, AttachmentTag(digest, "att"), kDsseMediaType,
                                        SerializeDsseEnvelope(env),
                                        {{"dev.cosignproject.cosign/signature", ""}, {"predicateType", predicate_type}},
                                        deadline));
  return digest;
}

}  // namespace provgate
