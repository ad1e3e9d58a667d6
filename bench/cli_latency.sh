#!/usr/bin/env bash
# Wall time of `provgate verify` (one model, signature + attestation) and of
# `provgate check` on a Deployment with 3 model references, cold, against a
# docker-registry on loopback (64 KiB models). Usage: [P=path/to/provgate] bench/cli_latency.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
P=${P:-$ROOT/build/webhook/provgate}   # scripts/test.sh builds it
W=$(mktemp -d); trap 'kill $RPID 2>/dev/null; rm -rf $W' EXIT
fp() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
REG=127.0.0.1:$(fp)
printf 'version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\nstorage: {filesystem: {rootdirectory: %s/r}}\nhttp: {addr: %s}\n' $W $REG > $W/reg.yml
docker-registry serve $W/reg.yml >/dev/null 2>&1 & RPID=$!
for i in $(seq 50); do curl -sf http://$REG/v2/ >/dev/null && break; sleep 0.1; done
RC=(--registry-config $W/rc.yaml); printf 'registries:\n  - host: "%s"\n    insecure: true\n' $REG > $W/rc.yaml
$P keygen $W/k >/dev/null
echo '{"builder":{"id":"https://tekton.dev/chains/v2"}}' > $W/prov.json
for m in a b c; do
  head -c 65536 /dev/urandom > $W/$m.bin
  $P push $W/$m.bin $REG/models/$m:v1 "${RC[@]}" >/dev/null
  $P sign $REG/models/$m:v1 --key $W/k.key "${RC[@]}" >/dev/null
  $P attest $REG/models/$m:v1 --key $W/k.key --predicate $W/prov.json --type https://slsa.dev/provenance/v0.2 "${RC[@]}" >/dev/null
done
mkdir $W/pol; cat > $W/pol/p.yaml <<Y
apiVersion: provgate.dev/v1alpha1
kind: ModelPolicy
metadata: {name: models}
spec:
  match: {references: ["$REG/models/**"]}
  authorities: [{name: chains, key: {file: $W/k.pub}}]
  signatures: {require: 1}
  attestations:
    - {name: slsa, predicateType: https://slsa.dev/provenance/v0.2, conditions: {path: predicate.builder.id, equals: https://tekton.dev/chains/v2}}
Y
cat > $W/deploy.yaml <<Y
apiVersion: apps/v1
kind: Deployment
metadata: {name: predictor, namespace: serving}
spec:
  selector: {matchLabels: {app: p}}
  template:
    metadata:
      labels: {app: p}
      annotations: {provgate.dev/model: "oci://$REG/models/c:v1"}
    spec:
      containers: [{name: server, image: "$REG/models/a:v1"}]
      volumes: [{name: m, image: {reference: "$REG/models/b:v1"}}]
Y
$P check -f $W/deploy.yaml --policies $W/pol "${RC[@]}"
echo "verify (key only), 10 runs:"
for i in $(seq 10); do /usr/bin/time -f %e $P verify $REG/models/a:v1 --key $W/k.pub "${RC[@]}" 2>&1 >/dev/null; done | sort -n | tr '\n' ' '; echo
echo "verify --policies, 10 runs:"
for i in $(seq 10); do /usr/bin/time -f %e $P verify $REG/models/a:v1 --policies $W/pol "${RC[@]}" 2>&1 >/dev/null; done | sort -n | tr '\n' ' '; echo
echo "check Deployment with 3 refs (each run cold: new process, no cache), 10 runs:"
for i in $(seq 10); do /usr/bin/time -f %e $P check -f $W/deploy.yaml --policies $W/pol "${RC[@]}" 2>&1 >/dev/null; done | sort -n | tr '\n' ' '; echo
