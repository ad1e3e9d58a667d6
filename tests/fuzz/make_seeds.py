#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/<name>/ from the repository's
own fixtures (tests/testdata, examples/, bench/) and a few hand-written
inputs, so that every seed says where it came from. Run from anywhere:

    python3 tests/fuzz/make_seeds.py [--out DIR]

It writes into DIR (default tests/fuzz/corpus-seeds, not committed); the
committed corpus is these seeds merged with a campaign's finds and
minimised (`scripts/fuzz.sh --merge-into-repo`). The hostile_registry seeds
are signed with tests/testdata/keys/ec-p256.key (openssl), so their
signatures verify under the harness's test keys.
"""
import argparse
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KEY = os.path.join(ROOT, "tests/testdata/keys/ec-p256.key")


def read(rel, mode="r"):
    with open(os.path.join(ROOT, rel), mode) as f:
        return f.read()


def sha256(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def sign(data):
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        return subprocess.run(["openssl", "dgst", "-sha256", "-sign", KEY, f.name], check=True,
                              capture_output=True).stdout


class Corpus:
    def __init__(self, out):
        self.out = out

    def add(self, harness, name, data):
        d = os.path.join(self.out, harness)
        os.makedirs(d, exist_ok=True)
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)

    def copy(self, harness, rel, name=None):
        self.add(harness, name or rel.replace("/", "_"), read(rel, "rb"))


def review(obj, operation="CREATE", namespace="serving", uid="u-1", group="", dry_run=None):
    kind = obj.get("kind", "Pod") if isinstance(obj, dict) else "Pod"
    req = {"uid": uid, "kind": {"group": group, "version": "v1", "kind": kind}, "operation": operation,
           "namespace": namespace, "name": (obj.get("metadata") or {}).get("name", "x") if isinstance(obj, dict) else "x",
           "object": obj}
    if dry_run is not None:
        req["dryRun"] = dry_run
    return json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}, indent=1)


def pod(*images, volumes=(), annotations=None, namespace="serving"):
    p = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": namespace},
         "spec": {"containers": [{"name": "c%d" % i, "image": im} for i, im in enumerate(images)]}}
    if volumes:
        p["spec"]["volumes"] = [{"name": "v%d" % i, "image": {"reference": r}} for i, r in enumerate(volumes)]
    if annotations:
        p["metadata"]["annotations"] = annotations
    return p


def admission(c):
    import yaml
    d = "sha256:" + "a" * 64
    c.add("admission_review", "pod-enforced", review(pod("registry.example.com/models/m:v1")))
    c.add("admission_review", "pod-image-volume-warn-audit",
          review(pod("ghcr.io/acme/server:1", volumes=["warn.example.com/m:v1", "audit.example.com/m@" + d])))
    c.add("admission_review", "pod-invalid-reference", review(pod("registry.example.com/Models/M:v1", "bad ref")))
    c.add("admission_review", "pod-oci-annotation",
          review(pod("busybox", annotations={"provgate.dev/model": "oci://registry.example.com/models/m:v2"})))
    c.add("admission_review", "delete", json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                                                    "request": {"uid": "u-2", "operation": "DELETE", "object": None,
                                                                "oldObject": pod("x")}}))
    c.add("admission_review", "kube-system", review(pod("registry.example.com/m:1"), namespace="kube-system"))
    c.add("admission_review", "dry-run-update", review(pod("registry.example.com/m:1"), operation="UPDATE",
                                                         dry_run=True))
    for rel in ["examples/manifests/deployment.yaml", "examples/manifests/cronjob.yaml",
                "examples/manifests/inferenceservice.yaml", "examples/manifests/pod-image-volume.yaml"]:
        for i, obj in enumerate(yaml.safe_load_all(read(rel))):
            if not obj:
                continue
            group = obj.get("apiVersion", "").split("/")[0] if "/" in obj.get("apiVersion", "") else ""
            c.add("admission_review", os.path.basename(rel).replace(".yaml", "") + "-%d" % i,
                  review(obj, group=group))
    bench = read("bench/pod-review.json.in").replace("@@UID@@", "bench-1").replace(
        "@@REF@@", "registry.example.com/models/mnist:v1")
    c.add("admission_review", "bench-pod-review", bench)


def manifests(c):
    for rel in ["examples/manifests/deployment.yaml", "examples/manifests/cronjob.yaml",
                "examples/manifests/inferenceservice.yaml", "examples/manifests/pod-image-volume.yaml",
                "examples/try-it/pod.yaml"]:
        c.copy("read_manifests", rel)
    c.add("read_manifests", "list.json", json.dumps({"apiVersion": "v1", "kind": "PodList", "items": [
        {"metadata": {"name": "a"}, "spec": {"containers": [{"image": "registry.example.com/m:1"}]}},
        pod("oci://registry.example.com/m:2")]}))
    c.add("read_manifests", "flow.yaml", "{kind: Pod, apiVersion: v1, spec: {containers: [{image: a/b:1}]}}\n---\n"
                                         "kind: List\nitems:\n- kind: Pod\n  spec: {volumes: [{image: {reference: r.io/m:1}}]}\n")
    c.add("read_manifests", "anchors.yaml", "base: &b {image: reg.example.com/m:1}\nkind: Pod\napiVersion: v1\n"
                                            "spec:\n  containers: [*b, *b]\n  initContainers:\n  - <<: *b\n")
    c.add("read_manifests", "two-json.yaml", '{"kind":"Pod"}\n---\n{"kind":"Pod","apiVersion":"v1"}\n')


def policies(c):
    for d in ["tests/testdata/policies/valid", "tests/testdata/policies/invalid", "tests/testdata/policies/dir-duplicate"]:
        for f in sorted(os.listdir(os.path.join(ROOT, d))):
            c.copy("policy_yaml", d + "/" + f, os.path.basename(d) + "_" + f)
    for f in sorted(os.listdir(os.path.join(ROOT, "examples/policies"))):
        if f.endswith(".yaml"):
            c.copy("policy_yaml", "examples/policies/" + f)
    c.copy("policy_yaml", "examples/try-it/policy.yaml")


def conditions(c):
    prov = read("examples/try-it/provenance.json")
    meta = read("examples/try-it/model-metadata.json")
    doc = json.dumps({"predicateType": "https://slsa.dev/provenance/v1", "predicate": json.loads(prov)})
    rows = {
        "all-equals-matches": ("all:\n  - path: predicate.runDetails.builder.id\n    equals: https://github.com/actions/runner/github-hosted\n"
                               "  - path: predicate.buildDefinition.externalParameters.workflow.ref\n"
                               "    matches: '^refs/(heads/main|tags/v[0-9.]+)$'\n", doc),
        "any-contains": ("any:\n  - path: predicate.buildDefinition.resolvedDependencies[*].uri\n    contains: acme\n"
                         "  - not: {path: predicateType, startsWith: https://slsa.dev/}\n", doc),
        "numeric": ("path: config.customProperties.accuracy\ngreaterOrEqual: 0.95\n",
                    json.dumps({"config": json.loads(meta)})),
        "in-notin": ("all: [{path: 'a[0]', in: [1, \"1\", 1.0]}, {path: b, notIn: [x]}, {path: c, exists: false}]\n",
                     '{"a":[1,2],"b":"y","c":null}'),
        "quoted-key": ("path: annotations[\"org.opencontainers.image.source\"]\nexists: true\n",
                       '{"annotations":{"org.opencontainers.image.source":"https://github.com/acme"}}'),
        "big-integers": ("path: n\nlessThan: \"9007199254740993\"\n", '{"n":9007199254740992}'),
        "not-undecidable": ("not:\n  path: missing.field\n  equals: 1\n", '{"present":1}'),
        "notequals-fanout": ("path: m[*].uri\nnotEquals: git+https://evil\n", '{"m":[{"uri":"a"},{"uri":"b"}]}'),
    }
    for name, (yaml_text, json_text) in rows.items():
        c.add("condition", name, yaml_text + "\n%%\n" + json_text)


def references(c):
    text = read("tests/verifier/reference_test.cc")
    seen = set()
    for s in re.findall(r'\{"([^"\\]*)",', text):
        if s not in seen:
            seen.add(s)
            c.add("reference", "ref-%02d" % len(seen), s)
    for s in ["registry.example.com/models/m:v1@sha256:" + "a" * 64, "oci+fetch://ACME:0443/m/n:t",
              "[::1]:5000/m@sha512:" + "0" * 128, "localhost", "a" * 255 + "/b", "docker.io/library/busybox:latest"]:
        seen.add(s)
        c.add("reference", "ref-%02d" % len(seen), s)


def manifest_seeds(c):
    cfg = {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + "1" * 64, "size": 2}
    layer = {"mediaType": "application/octet-stream", "digest": "sha256:" + "2" * 64, "size": 100,
             "annotations": {"org.opencontainers.image.title": "weights.bin"}}
    image = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": cfg,
             "layers": [layer, dict(layer, annotations={"org.opencontainers.image.title": "model.sig"})],
             "annotations": {"org.opencontainers.image.created": "2026-01-01T00:00:00Z"}}
    c.add("oci_manifest", "oci-image", "application/vnd.oci.image.manifest.v1+json\n" + json.dumps(image))
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [dict(cfg, mediaType="application/vnd.oci.image.manifest.v1+json",
                                artifactType="application/vnd.dev.sigstore.bundle.v0.3+json")]}
    c.add("oci_manifest", "oci-index", "\n" + json.dumps(index))
    kitops = {"schemaVersion": 2, "config": cfg, "layers": [layer],
              "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + "3" * 64,
                          "size": 10}, "artifactType": "application/vnd.kitops.modelkit.config.v1+json"}
    c.add("oci_manifest", "kitops-no-media-type", "\n" + json.dumps(kitops))
    docker = dict(image, mediaType="application/vnd.docker.distribution.manifest.v2+json")
    c.add("oci_manifest", "docker-v2", "application/vnd.docker.distribution.manifest.v2+json; charset=utf-8\n" +
          json.dumps(docker))
    c.add("oci_manifest", "docker-list", "application/vnd.docker.distribution.manifest.list.v2+json\n" +
          json.dumps({"schemaVersion": 2, "manifests": []}))


def signing(c):
    d = "independent/containers-image-cosign-raw/"
    c.copy("simple_signing", "tests/testdata/" + d + "ampersand.payload")
    c.copy("simple_signing", "tests/testdata/" + d + "empty-object.payload")
    c.copy("simple_signing", "tests/testdata/independent/cosign-keyless-simplesigning/payload.json")
    c.add("simple_signing", "with-optional", json.dumps(
        {"critical": {"identity": {"docker-reference": "registry.example.com/m"},
                      "image": {"docker-manifest-digest": "sha256:" + "a" * 64},
                      "type": "cosign container image signature"}, "optional": {"creator": "ci", "n": "1"}}))


def bundles(c):
    statements = []
    for d in sorted(os.listdir(os.path.join(ROOT, "tests/testdata/independent"))):
        rel = "tests/testdata/independent/" + d + "/bundle.sigstore.json"
        if not os.path.exists(os.path.join(ROOT, rel)):
            continue
        c.copy("sigstore_bundle", rel, d + ".json")
        b = json.loads(read(rel))
        env = b.get("dsseEnvelope")
        if env:
            c.add("dsse", d + "-envelope.json", json.dumps(env))
            statements.append((d, base64.b64decode(env["payload"])))
        for i, e in enumerate(b.get("verificationMaterial", {}).get("tlogEntries", [])):
            cp = e.get("inclusionProof", {}).get("checkpoint", {}).get("envelope")
            if cp:
                c.add("checkpoint", "%s-%d" % (d, i), cp)
            c.add("sigstore_bundle", "%s-cosign-annotation-%d.json" % (d, i), json.dumps({
                "SignedEntryTimestamp": e.get("inclusionPromise", {}).get("signedEntryTimestamp", "AA=="),
                "Payload": {"body": e["canonicalizedBody"], "integratedTime": int(e.get("integratedTime", "0")),
                            "logIndex": int(e.get("logIndex", "0")),
                            "logID": base64.b64decode(e["logId"]["keyId"]).hex()}}))
    c.add("sigstore_bundle", "cosign-timestamp-annotation.json", json.dumps({"SignedRFC3161Timestamp": "MAA="}))
    c.copy("dsse", "tests/testdata/independent/dsse-protocol-ecdsa-example/envelope.json")
    vectors = json.loads(read("tests/testdata/independent/dsse-spec-vectors/vectors.json"))
    found = []

    def walk(v):
        if isinstance(v, dict):
            if "payloadType" in v and "signatures" in v:
                found.append(v)
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(vectors)
    for i, env in enumerate(found[:6]):
        c.add("dsse", "spec-vector-%d.json" % i, json.dumps(env))
    for d, st in statements:
        c.add("in_toto", d + "-statement.json", st)
    c.add("in_toto", "v01-statement.json", json.dumps({
        "_type": "https://in-toto.io/Statement/v0.1", "subject": [{"name": "m", "digest": {"sha256": "a" * 64}}],
        "predicateType": "https://slsa.dev/provenance/v0.2", "predicate": {"builder": {"id": "https://tekton.dev/chains/v2"}}}))
    c.add("in_toto", "v1-provenance.json", json.dumps({
        "_type": "https://in-toto.io/Statement/v1", "subject": [{"digest": {"sha256": "b" * 64, "sha512": "c" * 128}}],
        "predicateType": "https://slsa.dev/provenance/v1", "predicate": json.loads(read("examples/try-it/provenance.json"))}))
    c.add("checkpoint", "hand-written",
          "rekor.example - 1234\n10\n" + base64.b64encode(b"\x01" * 32).decode() + "\n\n"
          "\u2014 rekor.example " + base64.b64encode(b"\xab\xcd\xef\x01" + b"s" * 64).decode() + "\n"
          "\u2014 witness " + base64.b64encode(b"\x00\x00\x00\x00sig").decode() + "\n")


def oms_statement(files, v01=False):
    if v01:
        return json.dumps({"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://model_signing/Digests/v0.1",
                           "subject": [{"name": n, "digest": {"sha256": hashlib.sha256(b).hexdigest()}} for n, b in files]})
    resources = [{"name": n, "algorithm": "sha256", "digest": hashlib.sha256(b).hexdigest()} for n, b in files]
    root = hashlib.sha256(b"".join(bytes.fromhex(r["digest"]) for r in resources)).hexdigest()
    return json.dumps({"_type": "https://in-toto.io/Statement/v1", "subject": [{"name": "model", "digest": {"sha256": root}}],
                       "predicateType": "https://model_signing/signature/v1.0",
                       "predicate": {"serialization": {"method": "files", "hash_type": "sha256", "allow_symlinks": False,
                                                       "ignore_paths": ["README.md"]},
                                     "resources": resources}})


def model_signing(c):
    files = [("weights.bin", b"weights\n"), ("config/params.json", b"{}\n")]
    c.add("model_signing_statement", "v1-files", oms_statement(files))
    c.add("model_signing_statement", "v1-empty", oms_statement([]))
    c.add("model_signing_statement", "v01", oms_statement(files, v01=True))
    st = json.loads(oms_statement(files))
    st["predicate"]["serialization"].update(method="shards", shard_size=1000000)
    c.add("model_signing_statement", "v1-shards", json.dumps(st))


def trusted_roots(c):
    for f in ["trusted_root.json", "trusted_root_bad_log_id.json"]:
        c.copy("trusted_root", "tests/testdata/policies/roots/" + f, f)


def www_authenticate(c):
    for i, h in enumerate([
            'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:m:pull"',
            'Basic realm="Registry Realm"', 'bearer realm=https://a/t, error="insufficient_scope"',
            'Bearer realm="a\\"b,c", Basic realm="x"', '  Bearer   ', 'Negotiate abc==']):
        c.add("www_authenticate", "h%d" % i, h)


def registry_config(c):
    c.copy("registry_config", "examples/try-it/registries.yaml")
    c.add("registry_config", "with-docker-config",
          "registries:\n  - host: Registry.Example.COM:443\n    dockerConfig: @DOCKERCONFIG@\n    caFile: /etc/ca.pem\n"
          "  - host: 127.0.0.1:5000\n    insecure: true\nmirrors: {}\n%%\n" +
          json.dumps({"auths": {"https://registry.example.com/v1/": {"auth": base64.b64encode(b"user:pass").decode()},
                                "ghcr.io": {"identitytoken": "refresh"}}}))
    c.add("registry_config", "legacy-dockercfg", "registries: []\n%%\n" +
          json.dumps({"index.docker.io": {"username": "u", "password": "p"}}))


class Script:
    """A hostile_registry script, with the harness's placeholder semantics."""

    def __init__(self, ref="registry.example.com/models/m:v1"):
        self.lines = ["ref " + ref]
        self.objects = {}

    def sub(self, text):
        def repl(m):
            key, field = m.group(1).rsplit(".", 1) if "." in m.group(1) else (m.group(1), "")
            if key not in self.objects or field not in ("", "size", "hex"):
                return m.group(0)
            body = self.objects[key]
            return {"": sha256(body), "size": str(len(body)), "hex": sha256(body)[7:]}[field]
        return re.sub(r"\{([A-Za-z0-9_.\-]{1,64})\}", repl, text)

    def obj(self, name, body, content_type=""):
        lines = body.split("\n")
        self.lines.append("object %s %s" % (name, content_type))
        self.lines += lines
        self.lines.append(".")
        self.objects[name] = self.sub("".join(l + "\n" for l in lines)).encode()
        return self.objects[name]

    def respond(self, route, status, headers=(), body=None):
        self.lines.append("respond %s %s" % (route, status))
        self.lines += ["%s: %s" % h for h in headers]
        if body:
            self.lines.append("body " + body)
        self.lines.append(".")

    def text(self):
        return "\n".join(self.lines) + "\n"


def desc(media_type, name, annotations=None, artifact_type=None):
    d = '{"mediaType":"%s","digest":"{%s}","size":{%s.size}' % (media_type, name, name)
    if artifact_type:
        d += ',"artifactType":"%s"' % artifact_type
    if annotations:
        d += ',"annotations":' + json.dumps(annotations)
    return d + "}"


OCI = "application/vnd.oci.image.manifest.v1+json"


def model(s, extra_layers=""):
    s.obj("cfg", '{"customProperties":{"accuracy":0.97}}', "application/x-config")
    s.obj("w", "weights", "application/octet-stream")
    layers = desc("application/octet-stream", "w", {"org.opencontainers.image.title": "weights.bin"}) + extra_layers
    return s.obj("m", '{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":[%s]}' % (
        OCI, desc("application/x-config", "cfg"), layers), OCI)


def hostile_registry(c):
    # 1. A model with a cosign simple-signing signature by the test key.
    s = Script()
    m = model(s)
    payload = json.dumps({"critical": {"identity": {"docker-reference": "registry.example.com/models/m"},
                                       "image": {"docker-manifest-digest": sha256(m)},
                                       "type": "cosign container image signature"}, "optional": None},
                         separators=(",", ":"))
    s.obj("payload", payload, "application/octet-stream")
    sig = base64.b64encode(sign(s.objects["payload"])).decode()
    s.obj("emptycfg", "{}")
    s.obj("sigm", '{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":[%s]}' % (
        OCI, desc("application/vnd.oci.image.config.v1+json", "emptycfg"),
        desc("application/vnd.dev.cosign.simplesigning.v1+json", "payload",
             {"dev.cosignproject.cosign/signature": sig})), OCI)
    s.respond("tag", 200, body="m")
    s.respond("sig", 200, body="sigm")
    c.add("hostile_registry", "cosign-signed", s.text())
    c.add("hostile_registry", "cosign-signed-parallel", "parallel\n" + s.text())  # fetched on threads

    # 2. An in-toto attestation (.att, DSSE signed by the test key).
    s = Script()
    m = model(s)
    st = json.dumps({"_type": "https://in-toto.io/Statement/v1", "subject": [{"name": "m", "digest": {"sha256": sha256(m)[7:]}}],
                     "predicateType": "https://slsa.dev/provenance/v1", "predicate": {"runDetails": {"builder": {"id": "b"}}}})
    pae = b"DSSEv1 %d application/vnd.in-toto+json %d " % (len("application/vnd.in-toto+json"), len(st)) + st.encode()
    env = json.dumps({"payloadType": "application/vnd.in-toto+json", "payload": base64.b64encode(st.encode()).decode(),
                      "signatures": [{"keyid": "", "sig": base64.b64encode(sign(pae)).decode()}]})
    s.obj("env", env.rstrip("\n"), "application/octet-stream")
    # The harness adds a newline to each body line: the envelope is JSON, which allows it.
    s.obj("emptycfg", "{}")
    s.obj("attm", '{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":[%s]}' % (
        OCI, desc("application/vnd.oci.image.config.v1+json", "emptycfg"),
        desc("application/vnd.dsse.envelope.v1+json", "env", {"predicateType": "https://slsa.dev/provenance/v1"})), OCI)
    s.respond("tag", 200, body="m")
    s.respond("att", 200, body="attm")
    c.add("hostile_registry", "attestation", s.text())
    c.add("hostile_registry", "attestation-parallel", "parallel\n" + s.text())

    # 3. A Sigstore bundle attached as a referrer (referrers API), message signature over the manifest.
    for api in (True, False):
        s = Script()
        m = model(s)
        bundle = json.dumps({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                             "verificationMaterial": {"publicKey": {"hint": "k"}, "tlogEntries": []},
                             "messageSignature": {"messageDigest": {"algorithm": "SHA2_256",
                                                                    "digest": base64.b64encode(hashlib.sha256(m).digest()).decode()},
                                                  "signature": base64.b64encode(sign(m)).decode()}})
        s.obj("bundle", bundle, "application/vnd.dev.sigstore.bundle.v0.3+json")
        s.obj("emptycfg", "{}")
        s.obj("bm", '{"schemaVersion":2,"mediaType":"%s","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json",'
                    '"config":%s,"layers":[%s],"subject":%s}' % (
                        OCI, desc("application/vnd.oci.empty.v1+json", "emptycfg"),
                        desc("application/vnd.dev.sigstore.bundle.v0.3+json", "bundle"), desc(OCI, "m")), OCI)
        s.obj("idx", '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}' %
              desc(OCI, "bm", artifact_type="application/vnd.dev.sigstore.bundle.v0.3+json"),
              "application/vnd.oci.image.index.v1+json")
        s.respond("tag", 200, body="m")
        if api:
            s.obj("empty", '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}',
                  "application/vnd.oci.image.index.v1+json")
            s.respond("referrers", 200, [("Link", '</v2/models/m/referrers/{m}?n=1&last=x>; rel="next"')], body="idx")
            s.respond("referrers", 200, body="empty")
        else:
            s.respond("referrers", 404)
            s.respond("referrers-tag", 200, body="idx")
        c.add("hostile_registry", "bundle-referrer-" + ("api" if api else "tag"), s.text())

    # 4. A model.sig layer (OpenSSF model signing, DSSE bundle by the test key).
    s = Script()
    s.obj("cfg", "{}", "application/x-config")
    s.obj("w", "weights", "application/octet-stream")
    st = oms_statement([("weights.bin", s.objects["w"])])
    pae = b"DSSEv1 %d application/vnd.in-toto+json %d " % (len("application/vnd.in-toto+json"), len(st)) + st.encode()
    bundle = json.dumps({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                         "verificationMaterial": {"publicKey": {"hint": "k"}, "tlogEntries": []},
                         "dsseEnvelope": {"payloadType": "application/vnd.in-toto+json",
                                          "payload": base64.b64encode(st.encode()).decode(),
                                          "signatures": [{"sig": base64.b64encode(sign(pae)).decode()}]}})
    s.obj("msig", bundle)
    s.obj("m", '{"schemaVersion":2,"mediaType":"%s","config":%s,"layers":[%s,%s]}' % (
        OCI, desc("application/x-config", "cfg"),
        desc("application/octet-stream", "w", {"org.opencontainers.image.title": "weights.bin"}),
        desc("application/vnd.dev.sigstore.bundle.v0.3+json", "msig", {"org.opencontainers.image.title": "model.sig"})),
          OCI)
    s.respond("tag", 200, body="m")
    c.add("hostile_registry", "model-sig-layer", s.text())

    # 5. Token auth, a redirect to a CDN and a pinned reference.
    s = Script()
    m = model(s)
    s.lines[0] = "ref registry.example.com/models/m@{m}"
    s.lines.insert(1, "creds user secret")
    s.respond("digest=m", 401, [("WWW-Authenticate",
                                 'Bearer realm="https://auth.example.com/token",service="registry.example.com"')])
    s.obj("tok", '{"access_token":"abc","expires_in":60}', "application/json")
    s.respond("token", 200, body="tok")
    s.respond("blob=cfg", 307, [("Location", "https://cdn.example.com/blobs/{cfg}")])
    c.add("hostile_registry", "token-redirect-pinned", s.text())

    # 6. Hostile answers: bounds, digests that lie, an index, transport failures.
    s = Script()
    s.lines.insert(1, "limits 2 64 100 4 16")
    m = model(s)
    s.respond("tag", 200, [("Docker-Content-Digest", "sha256:" + "0" * 64)], body="m")
    s.respond("tag", 200, body="m")
    s.respond("sig", "unavailable")
    s.respond("att", 500, [("Content-Type", "application/json")], body="cfg")
    s.respond("referrers", "deadline")
    s.respond("blob=cfg", 200, body="w")
    c.add("hostile_registry", "hostile-answers", s.text())

    s = Script()
    s.obj("cfg", "{}")
    s.obj("img", '{"schemaVersion":2,"config":%s,"layers":[]}' % desc("application/x-config", "cfg"), OCI)
    s.obj("m", '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}' %
          desc(OCI, "img"), "application/vnd.oci.image.index.v1+json")
    s.respond("tag", 200, body="m")
    s.respond("sig", 200, body="m")
    s.respond("referrers", 301, [("Location", "http://registry.example.com/v2/models/m/referrers/x")])
    c.add("hostile_registry", "index-and-redirects", s.text())


def dict_literal(s):
    """A libFuzzer dictionary value: printable ASCII as is, backslash escapes for the rest."""
    out = '"'
    for b in s.encode():
        c = chr(b)
        if c in '"\\':
            out += "\\" + c
        elif 0x20 <= b < 0x7f:
            out += c
        else:
            out += "\\x%02X" % b
    return out + '"'


def dictionaries(out):
    dicts = {
        "json": ["{", "}", "[", "]", '":"', '","', '\\"', "true", "false", "null", "0", "-1", "1e999",
                 "9223372036854775808", "18446744073709551616", "\\u0000", "\\ud800", "\\u00e9"],
        "yaml": ["---", "...", ": ", "- ", "&a ", "*a", "<<: ", "!!str ", "|\n", ">-\n", "? ", "{", "}", "[", "]", "#",
                 '""', "'", "%YAML 1.2\n", "~", "null", "true", "\n  ", "\t", "\xff"],
    }
    words = {
        "admission_review": ["apiVersion", "admission.k8s.io/v1", "AdmissionReview", "request", "uid", "operation",
                             "CREATE", "UPDATE", "DELETE", "CONNECT", "object", "oldObject", "kind", "group", "dryRun",
                             "namespace", "kube-system", "Pod", "Deployment", "CronJob", "InferenceService",
                             "serving.kserve.io", "containers", "initContainers", "ephemeralContainers", "image",
                             "volumes", "reference", "template", "jobTemplate", "spec", "metadata", "annotations",
                             "storageUri", "predictor", "model", "provgate.dev/model",
                             "serving.kserve.io/storage-initializer-sourceuri", "oci://", "registry.example.com/",
                             "warn.example.com/", "audit.example.com/", "@sha256:", ":latest"],
        "read_manifests": ["apiVersion", "kind", "List", "PodList", "items", "spec", "template", "containers", "image",
                           "volumes", "reference", "metadata", "annotations", "storageUri", "oci://"],
        "policy_yaml": ["apiVersion: provgate.dev/v1alpha1", "kind: ModelPolicy", "metadata", "name", "spec", "mode",
                        "enforce", "warn", "audit", "match", "references", "namespaces", "sources", "container",
                        "image-volume", "storage-uri", "authorities", "key", "pem", "file", "keyless", "issuer",
                        "issuerRegExp", "subject", "subjectRegExp", "trustedRoot", "signatures", "require",
                        "attestations", "predicateType", "conditions", "modelSigning", "ignorePaths", "all", "any",
                        "not", "path", "equals", "notEquals", "in", "notIn", "matches", "exists", "contains",
                        "startsWith", "greaterThan", "greaterOrEqual", "lessThan", "lessOrEqual", "**",
                        "-----BEGIN PUBLIC KEY-----", "key.pub", "second.pub", "rsa.pub", "root.json"],
        "condition": ["all", "any", "not", "path", "equals", "notEquals", "in", "notIn", "matches", "exists",
                      "contains", "startsWith", "greaterThan", "greaterOrEqual", "lessThan", "lessOrEqual", "[*]",
                      "[0]", "[\"", "\"]", "\n%%\n", "9007199254740993", "1e308", "-0", "0.95"],
        "reference": ["oci://", "oci+native://", "oci+fetch://", "docker.io", "index.docker.io", "localhost", ":443",
                      ":5000", "[::1]", "@sha256:", "@sha512:", ":latest", "library/", "/", "__", "-", "."],
        "oci_manifest": ["schemaVersion", "mediaType", "artifactType", "config", "layers", "manifests", "subject",
                         "annotations", "digest", "size", "urls", "data", "platform", "sha256:",
                         "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
                         "application/vnd.docker.distribution.manifest.v2+json",
                         "application/vnd.docker.distribution.manifest.list.v2+json",
                         "application/vnd.docker.distribution.manifest.v1+prettyjws",
                         "org.opencontainers.image.title", "model.sig", "\u212a"],
        "simple_signing": ["critical", "identity", "docker-reference", "image", "docker-manifest-digest", "type",
                           "cosign container image signature", "optional", "sha256:", "\u017f", "\u212a"],
        "dsse": ["payloadType", "payload", "signatures", "keyid", "sig", "application/vnd.in-toto+json", "=", "-", "_"],
        "in_toto": ["_type", "https://in-toto.io/Statement/v0.1", "https://in-toto.io/Statement/v1", "subject", "name",
                    "digest", "uri", "sha256", "predicateType", "predicate"],
        "sigstore_bundle": ["mediaType", "application/vnd.dev.sigstore.bundle.v0.3+json",
                            "application/vnd.dev.sigstore.bundle+json;version=0.1", "verificationMaterial", "publicKey",
                            "hint", "rawBytes", "certificate", "x509CertificateChain", "certificates", "tlogEntries",
                            "logIndex", "logId", "keyId", "kindVersion", "kind", "version", "integratedTime",
                            "inclusionPromise", "signedEntryTimestamp", "inclusionProof", "treeSize", "rootHash",
                            "hashes", "checkpoint", "envelope", "canonicalizedBody", "timestampVerificationData",
                            "rfc3161Timestamps", "signedTimestamp", "dsseEnvelope", "messageSignature",
                            "messageDigest", "algorithm", "SHA2_256", "signature", "SignedEntryTimestamp", "Payload",
                            "body", "logID", "SignedRFC3161Timestamp", "hashedrekord", "dsse", "intoto", "0.0.1",
                            "0.0.2", "9999999999999999999"],
        "trusted_root": ["mediaType", "application/vnd.dev.sigstore.trustedroot.v0.1+json", "tlogs", "ctlogs",
                         "certificateAuthorities", "timestampAuthorities", "baseUrl", "hashAlgorithm", "publicKey",
                         "rawBytes", "keyDetails", "validFor", "start", "end", "logId", "keyId", "checkpointKeyId",
                         "certChain", "certificates", "uri", "subject", "2021-03-07T03:20:29Z", "+05:30", ".123456789Z"],
        "checkpoint": ["\n\n", "\u2014 ", "rekor.sigstore.dev - ", "\n", "=="],
        "model_signing_statement": ["https://model_signing/signature/v1.0", "https://model_signing/Digests/v0.1",
                                    "serialization", "method", "files", "shards", "hash_type", "sha256", "blake2",
                                    "allow_symlinks", "shard_size", "ignore_paths", "resources", "name", "algorithm",
                                    "digest", "../", "./", "//"],
        "www_authenticate": ["Bearer", "Basic", "realm", "service", "scope", "error", "=", "\"", ",", "\\", " ", "\t"],
        "registry_config": ["registries", "mirrors", "host", "insecure", "caFile", "dockerConfig", "@DOCKERCONFIG@",
                            "\n%%\n", "auths", "auth", "username", "password", "identitytoken",
                            "https://index.docker.io/v1/", "127.0.0.1", "localhost", "[::1]"],
        "hostile_registry": ["ref ", "insecure\n", "parallel\n", "creds ", "limits ", "object ", "respond ", "\n.\n", "body ",
                             "tag", "sig", "att", "referrers", "referrers-tag", "token", "digest=", "blob=", "other=",
                             " 200\n", " 301\n", " 307\n", " 401\n", " 404\n", " 500\n", "unavailable", "deadline",
                             "too-large", "Content-Type: ", "Docker-Content-Digest: ", "Location: ",
                             "WWW-Authenticate: ", "Link: ", "{m}", "{m.size}", "{cfg}", "{w}", "{w.size}",
                             "mediaType", "digest", "size", "layers", "manifests", "config", "subject",
                             "annotations", "org.opencontainers.image.title", "model.sig",
                             "application/vnd.oci.image.index.v1+json", "application/vnd.dev.sigstore.bundle.v0.3+json",
                             "application/vnd.dsse.envelope.v1+json", "application/vnd.dev.cosign.simplesigning.v1+json",
                             "dev.cosignproject.cosign/signature", "dev.sigstore.cosign/bundle"],
    }
    yaml_harnesses = {"read_manifests", "policy_yaml", "condition", "registry_config"}
    os.makedirs(out, exist_ok=True)
    for name, ws in words.items():
        lines = ["# Tokens for fuzz_%s (generated by tests/fuzz/make_seeds.py)." % name]
        lines += ["kw%d=%s" % (i, dict_literal(w)) for i, w in enumerate(ws)]
        base = dicts["yaml"] if name in yaml_harnesses else dicts["json"]
        lines += ["tok%d=%s" % (i, dict_literal(t)) for i, t in enumerate(base)]
        with open(os.path.join(out, name + ".dict"), "w") as f:
            f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "tests/fuzz/corpus-seeds"))
    ap.add_argument("--dict-out", default=os.path.join(ROOT, "tests/fuzz/dict"))
    args = ap.parse_args()
    c = Corpus(args.out)
    for f in (admission, manifests, policies, conditions, references, manifest_seeds, signing, bundles, model_signing,
              trusted_roots, www_authenticate, registry_config, hostile_registry):
        f(c)
    dictionaries(args.dict_out)
    for h in sorted(os.listdir(args.out)):
        print("%-26s %3d seeds" % (h, len(os.listdir(os.path.join(args.out, h)))))


if __name__ == "__main__":
    sys.exit(main())
