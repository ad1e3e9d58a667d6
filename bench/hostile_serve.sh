#!/usr/bin/env bash
# bench/hostile_serve.sh: peak RSS of `provgate serve` (HTTPS) while it
# decides ARTIFACTS concurrent admissions of hostile artifacts (issue 11,
# defect 4): each artifact is a model signed by nobody whose cosign .sig and
# .att tags hold 4 layers of 16 MiB each (the per-layer and per-kind bounds),
# JSON a parser would read through. The registry is a real docker-registry on
# loopback; the reviews are sent at once with curl.
#
#   bench/hostile_serve.sh PATH/TO/provgate [ARTIFACTS (16)] [ROUNDS (3)]
#
# Prints the serve process's VmHWM (peak RSS) after each round, its VmRSS
# SETTLE seconds later (default 0), and a reason; bench/README.md records a
# run. With MAX_RSS_MIB=N it exits 1 unless every denial came and VmRSS
# after each round, and VmHWM, stay below N MiB (the ctest hostile_serve_rss
# runs it so). Needs docker-registry, openssl, curl and python3
# (scripts/install-deps.sh installs them).
set -euo pipefail
PROVGATE=$(realpath "${1:?usage: hostile_serve.sh PATH/TO/provgate [ARTIFACTS] [ROUNDS]}")
ARTIFACTS=${2:-16}
ROUNDS=${3:-3}
WORK=$(mktemp -d /tmp/provgate-hostile.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_until() {  # wait_until SECONDS CMD...
  local n=$(( $1 * 10 )); shift
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "timed out: $*" >&2; return 1
}

REG=127.0.0.1:$(free_port)
mkdir -p "$WORK/registry"
printf 'version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: %s}\n' \
  "$WORK/registry" "$REG" >"$WORK/registry.yml"
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
PIDS+=($!)
wait_until 20 curl -sf "http://$REG/v2/"
printf 'registries:\n  - host: "%s"\n    insecure: true\n' "$REG" >"$WORK/registries.yaml"

# The models (provgate push), then the hostile attachments (the registry API by hand).
"$PROVGATE" keygen "$WORK/release" >/dev/null
for i in $(seq "$ARTIFACTS"); do
  printf 'weights %s\n' "$i" >"$WORK/m$i.bin"
  "$PROVGATE" push "$WORK/m$i.bin" "$REG/hostile/m$i:v1" --registry-config "$WORK/registries.yaml" >/dev/null
done
python3 - "$REG" "$ARTIFACTS" <<'EOF'
import hashlib, json, sys, urllib.request
reg, n = sys.argv[1], int(sys.argv[2])
LAYER = 16 << 20
def req(method, url, body=b"", ctype=None):
    r = urllib.request.Request(url, data=body if method != "GET" and method != "HEAD" else None, method=method)
    if ctype: r.add_header("Content-Type", ctype)
    return urllib.request.urlopen(r)
def blob(repo, data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    loc = req("POST", f"http://{reg}/v2/{repo}/blobs/uploads/").headers["Location"]
    loc = loc if loc.startswith("http") else f"http://{reg}{loc}"
    req("PUT", loc + ("&" if "?" in loc else "?") + "digest=" + d, data, "application/octet-stream")
    return {"digest": d, "size": len(data)}
def manifest(repo, tag, body):
    return req("PUT", f"http://{reg}/v2/{repo}/manifests/{tag}", json.dumps(body).encode(),
               "application/vnd.oci.image.manifest.v1+json")
for i in range(1, n + 1):
    repo = f"hostile/m{i}"
    head = urllib.request.Request(f"http://{reg}/v2/{repo}/manifests/v1", method="HEAD")
    head.add_header("Accept", "application/vnd.oci.image.manifest.v1+json")
    digest = urllib.request.urlopen(head).headers["Docker-Content-Digest"]
    config = blob(repo, b"{}")
    sig, att = [], []
    for k in range(4):
        filler = bytes([65 + k]) * (LAYER - 400)
        s = (b'{"critical":{"identity":{"docker-reference":"x"},"image":{"docker-manifest-digest":"' +
             digest.encode() + b'"},"type":"cosign container image signature"},"optional":{"f":"' + filler + b'"}}')
        d = blob(repo, s)
        sig.append({"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", **d,
                    "annotations": {"dev.cosignproject.cosign/signature": "AAAA"}})
        env = json.dumps({"payloadType": "application/vnd.in-toto+json",
                          "payload": (bytes([97 + k]) * (LAYER // 4 * 3 - 400)).decode(),
                          "signatures": [{"keyid": "", "sig": "bm90IGEgc2lnbmF0dXJl"}]}).encode()
        att.append({"mediaType": "application/vnd.dsse.envelope.v1+json", **blob(repo, env)})
    base = digest.replace(":", "-")
    cfg = {"mediaType": "application/vnd.oci.image.config.v1+json", **config}
    manifest(repo, base + ".sig", {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                   "config": cfg, "layers": sig})
    manifest(repo, base + ".att", {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                   "config": cfg, "layers": att})
EOF

mkdir -p "$WORK/policies"
cat >"$WORK/policies/p.yaml" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ModelPolicy
metadata: {name: signed-models}
spec:
  mode: enforce
  match: {references: ["$REG/hostile/**"]}
  authorities:
    - name: release
      key: {file: $WORK/release.pub}
  signatures: {require: 1}
  attestations:
    - name: provenance
      predicateType: https://slsa.dev/provenance/v1
EOF
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=hostile-ca \
  -keyout "$WORK/ca.key" -out "$WORK/ca.pem" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$WORK/server.ext"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=provgate -keyout "$WORK/server.key" \
  -out "$WORK/server.csr" 2>/dev/null
openssl x509 -req -in "$WORK/server.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial -days 1 \
  -extfile "$WORK/server.ext" -out "$WORK/server.pem" 2>/dev/null

PORT=$(free_port)
# --cache-ttl 0 keeps nothing cached, so every round downloads again.
"$PROVGATE" serve --listen "127.0.0.1:$PORT" --tls-cert "$WORK/server.pem" --tls-key "$WORK/server.key" \
  --policies "$WORK/policies" --registry-config "$WORK/registries.yaml" --cache-ttl 0 2>"$WORK/serve.log" &
PG=$!
PIDS+=($PG)
wait_until 20 curl -sf --cacert "$WORK/ca.pem" "https://127.0.0.1:$PORT/readyz"
hwm() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$PG/status"; }
echo "serve ready: VmHWM $(hwm) MiB; $ARTIFACTS hostile artifacts at $REG"

for round in $(seq "$ROUNDS"); do
  start=$(date +%s.%N)
  curls=()
  for i in $(seq "$ARTIFACTS"); do
    printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"r%s-%s","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","namespace":"serving","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p%s"},"spec":{"containers":[{"name":"m","image":"%s/hostile/m%s:v1"}]}}}}' \
      "$round" "$i" "$i" "$REG" "$i" >"$WORK/review$i.json"
    curl -s --max-time 30 --cacert "$WORK/ca.pem" -H 'Content-Type: application/json' \
      --data-binary "@$WORK/review$i.json" "https://127.0.0.1:$PORT/validate" >"$WORK/answer$i.json" &
    curls+=($!)
  done
  wait "${curls[@]}" || true
  end=$(date +%s.%N)
  denied=$(grep -l '"allowed":false' "$WORK"/answer*.json | wc -l)
  echo "round $round: $denied of $ARTIFACTS denied in $(python3 -c "print(round($end - $start, 1))") s; VmHWM $(hwm) MiB"
  sleep "${SETTLE:-0}"
  rss=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$PG/status")
  echo "  after ${SETTLE:-0} s: VmRSS $rss MiB"
  if [ -n "${MAX_RSS_MIB:-}" ]; then
    if [ "$denied" -ne "$ARTIFACTS" ] || ! python3 -c "import sys; sys.exit(not ($rss < $MAX_RSS_MIB and $(hwm) < $MAX_RSS_MIB))"; then
      echo "FAILED: round $round: $denied of $ARTIFACTS denied, VmRSS $rss MiB, VmHWM $(hwm) MiB (bound $MAX_RSS_MIB MiB)" >&2
      exit 1
    fi
  fi
done
python3 -c 'import json,sys; print("a reason:", json.load(open(sys.argv[1]))["response"]["status"]["message"][:300])' \
  "$WORK/answer1.json"
