#!/usr/bin/env bash
# The local demo: a real OCI registry, a signed and attested model, the
# webhook over HTTPS, and AdmissionReviews for pods that are allowed and
# denied. Everything runs on 127.0.0.1 and is cleaned up at exit.
#   examples/demo/run.sh          (after scripts/install-deps.sh)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

if [ ! -x build/webhook/provgate ]; then
  echo "== building provgate"
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build --target provgate -j"$(nproc)"
fi
P="$root/build/webhook/provgate"

work="$(mktemp -d /tmp/provgate-demo.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

echo "== starting a docker-registry on loopback"
reg_port=$(free_port)
REG="127.0.0.1:$reg_port"
cat > "$work/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/registry}, delete: {enabled: true}}
http: {addr: $REG}
YAML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
wait_port "$reg_port"
cat > "$work/registries.yaml" <<YAML
registries:
  - host: "$REG"
    insecure: true
YAML
RC=(--registry-config "$work/registries.yaml")

echo "== pushing, signing and attesting models"
"$P" keygen "$work/release" >/dev/null
echo '{"name":"mnist","author":"ml-team","customProperties":{"accuracy":0.977,"license":"Apache-2.0"}}' > "$work/good.json"
echo '{"name":"mnist","author":"ml-team","customProperties":{"accuracy":0.81}}' > "$work/weak.json"
cat > "$work/provenance.json" <<JSON
{"builder":{"id":"https://tekton.dev/chains/v2"},"buildType":"tekton.dev/v1/TaskRun",
 "invocation":{"configSource":{"uri":"git+https://github.com/acme/models","digest":{"sha1":"8f3c2a1"},"entryPoint":"train.yaml"}},
 "materials":[{"uri":"git+https://github.com/acme/models","digest":{"sha1":"8f3c2a1"}}]}
JSON
for m in good weak unsigned; do
  meta="$work/good.json"; [ "$m" = weak ] && meta="$work/weak.json"
  head -c 4096 /dev/urandom > "$work/$m.onnx"   # distinct weights, distinct digests
  d=$("$P" push "$work/$m.onnx" "$REG/models/mnist:$m" --metadata "$meta" "${RC[@]}")
  echo "   $REG/models/mnist:$m -> $d"
  if [ "$m" != unsigned ]; then
    "$P" sign "$REG/models/mnist:$m" --key "$work/release.key" "${RC[@]}" >/dev/null
    "$P" attest "$REG/models/mnist:$m" --key "$work/release.key" --predicate "$work/provenance.json" \
      --type https://slsa.dev/provenance/v0.2 "${RC[@]}" >/dev/null
  fi
done

echo "== the policy"
mkdir -p "$work/policies"
cat > "$work/policies/production.yaml" <<YAML
apiVersion: provgate.dev/v1alpha1
kind: ModelPolicy
metadata:
  name: production-models
spec:
  mode: enforce
  match:
    references: ["$REG/models/**"]
  authorities:
    - name: tekton-chains
      key:
        file: $work/release.pub
  signatures:
    require: 1
  attestations:
    - name: built-by-chains
      predicateType: https://slsa.dev/provenance/v0.2
      conditions:
        all:
          - path: predicate.builder.id
            equals: https://tekton.dev/chains/v2
          - path: predicate.materials[*].uri
            contains: github.com/acme
  metadata:
    conditions:
      all:
        - path: config.customProperties.accuracy
          greaterOrEqual: 0.95
YAML
sed 's/^/   /' "$work/policies/production.yaml" | head -8
"$P" policy lint "$work/policies"

echo "== provgate verify"
"$P" verify "$REG/models/mnist:good" --key "$work/release.pub" "${RC[@]}" | sed 's/^/   /'

echo "== TLS for the webhook (a throwaway CA)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=demo-ca \
  -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=provgate \
  -keyout "$work/tls.key" -out "$work/tls.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$work/ext"
openssl x509 -req -in "$work/tls.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 1 \
  -extfile "$work/ext" -out "$work/tls.pem" 2>/dev/null

echo "== provgate serve"
port=$(free_port)
"$P" serve --listen "127.0.0.1:$port" --tls-cert "$work/tls.pem" --tls-key "$work/tls.key" \
  --policies "$work/policies" "${RC[@]}" 2>"$work/serve.log" &
pids+=($!)
wait_port "$port"
curl -sf --cacert "$work/ca.pem" "https://127.0.0.1:$port/readyz" >/dev/null && echo "   ready on https://127.0.0.1:$port"

review() {  # uid model-tag
  cat <<JSON
{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"$1",
 "kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},
 "namespace":"serving","operation":"CREATE","userInfo":{"username":"demo"},"dryRun":false,
 "object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"predictor-$2","namespace":"serving"},
  "spec":{"containers":[{"name":"server","image":"ghcr.io/acme/server:1.0"}],
          "volumes":[{"name":"model","image":{"reference":"$REG/models/mnist:$2"}}]}}}}
JSON
}
for tag in good weak unsigned; do
  out=$(review "demo-$tag" "$tag" | curl -s --cacert "$work/ca.pem" -H 'Content-Type: application/json' \
        --data-binary @- "https://127.0.0.1:$port/validate")
  allowed=$(echo "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin)["response"]; print("ALLOWED" if r["allowed"] else "DENIED: " + r["status"]["message"])')
  echo "   pod with models/mnist:$tag -> $allowed"
done
out=$(review demo-mutate good | curl -s --cacert "$work/ca.pem" --data-binary @- "https://127.0.0.1:$port/mutate")
echo "   /mutate patch: $(echo "$out" | python3 -c 'import json,sys,base64; print(base64.b64decode(json.load(sys.stdin)["response"]["patch"]).decode())')"

echo "== provgate check on a Deployment (what the webhook would decide, from the command line)"
cat > "$work/deployment.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: predictor, namespace: serving}
spec:
  template:
    spec:
      containers: [{name: server, image: "ghcr.io/acme/server:1.0"}]
      volumes:
        - {name: model, image: {reference: "$REG/models/mnist:good"}}
        - {name: candidate, image: {reference: "$REG/models/mnist:weak"}}
YAML
set +e
"$P" check -f "$work/deployment.yaml" --policies "$work/policies" "${RC[@]}" | sed 's/^/   /'
echo "   (exit code $? — 1 means denied)"
set -e
echo "== decision log lines from the webhook"
grep '"msg":"decision"' "$work/serve.log" | head -3 | sed 's/^/   /'
echo "== done"
