#!/usr/bin/env bash
# The Helm chart: helm lint, helm template in its main configurations, and
# the rendered configuration fed to the real binary — the policies ConfigMap
# passes `provgate policy lint`, the registries ConfigMap parses, and the
# Deployment's args start `provgate serve`. Usage: chart_test.sh PROVGATE_BINARY
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
P="$1"
HELM="${HELM:-$root/tests/tools/helm/layer/helm/helm}"
if [ ! -x "$HELM" ]; then
  echo "FAIL: helm not found at $HELM; run scripts/install-deps.sh" >&2
  exit 1
fi
work="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$HELM" lint "$root/charts/provgate" >/dev/null || fail "helm lint"

render() { "$HELM" template t "$root/charts/provgate" --namespace provgate "$@"; }

# Default values: generated CA, both webhooks, fail-closed.
render --set-file 'policies.production\.yaml'="$root/examples/policies/tekton-chains-slsa-v02.yaml" \
       --set-file 'policies.metadata\.yaml'="$root/examples/policies/omlmd-accuracy-gate.yaml" > "$work/default.yaml"
for kind in Deployment Service PodDisruptionBudget ValidatingWebhookConfiguration MutatingWebhookConfiguration Secret; do
  grep -q "^kind: $kind\$" "$work/default.yaml" || fail "default render lacks $kind"
done
grep -q 'failurePolicy: Fail' "$work/default.yaml" || fail "failurePolicy is not Fail"
grep -q 'caBundle: ' "$work/default.yaml" || fail "no caBundle with the generated CA"
grep -q 'values: \[provgate, kube-system\]' "$work/default.yaml" || fail "release namespace and kube-system not excluded"
grep -q 'readOnlyRootFilesystem: true' "$work/default.yaml" || fail "root filesystem is writable"
grep -q 'runAsNonRoot: true' "$work/default.yaml" || fail "may run as root"
grep -q 'pods/ephemeralcontainers' "$work/default.yaml" || fail "ephemeral containers bypass the webhook"
grep -q 'replicas: 2' "$work/default.yaml" || fail "not 2 replicas"

# cert-manager, ServiceMonitor, credentials.
render --set tls.certManager.enabled=true --set serviceMonitor.enabled=true \
       --set registryCredentials.existingSecret=creds --set 'registries[0].host=registry.example.com' \
       --set existingPolicyConfigMap=my-policies > "$work/full.yaml"
for kind in Certificate Issuer ServiceMonitor; do
  grep -q "^kind: $kind\$" "$work/full.yaml" || fail "full render lacks $kind"
done
grep -q 'cert-manager.io/inject-ca-from: provgate/t-provgate' "$work/full.yaml" || fail "no CA injection"
grep -q 'name: my-policies' "$work/full.yaml" || fail "existing policy ConfigMap not used"
if grep -q 'name: t-provgate-policies' "$work/full.yaml"; then fail "policy ConfigMap rendered despite existingPolicyConfigMap"; fi

# The rendered ConfigMaps are what the binary accepts. Extract the files the
# ConfigMaps carry (literal blocks indented by 4) with awk.
extract() {  # file key -> stdout
  awk -v key="  $2: |" '
    $0 == key {on=1; next}
    on && /^    / {print substr($0, 5); next}
    on {exit}' "$1"
}
mkdir -p "$work/policies"
extract "$work/default.yaml" "production.yaml" > "$work/policies/production.yaml"
extract "$work/default.yaml" "metadata.yaml" > "$work/policies/metadata.yaml"
"$P" policy lint "$work/policies" >/dev/null || fail "rendered policies do not lint"
extract "$work/full.yaml" "registries.yaml" > "$work/registries.yaml"
grep -q 'host: "registry.example.com"' "$work/registries.yaml" || fail "registry host not rendered"

# The Deployment's args start the server (paths mapped to temp files).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=t \
  -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null
extract "$work/default.yaml" "registries.yaml" > "$work/default-registries.yaml"
mapfile -t args < <(awk '/^          args:/{on=1; next} on && /^            - /{sub(/^            - /, ""); print; next} on{exit}' "$work/default.yaml")
[ "${args[0]}" = serve ] || fail "first arg is not serve"
mapped=()
for a in "${args[@]:1}"; do
  case "$a" in
    --listen=*) mapped+=(--listen=127.0.0.1:0) ;;
    --tls-cert=*) mapped+=(--tls-cert="$work/tls.crt") ;;
    --tls-key=*) mapped+=(--tls-key="$work/tls.key") ;;
    --policies=*) mapped+=(--policies="$work/policies") ;;
    --registry-config=*) mapped+=(--registry-config="$work/default-registries.yaml") ;;
    *) mapped+=("$a") ;;
  esac
done
"$P" serve "${mapped[@]}" > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 50); do
  grep -q '"msg":"serving"' "$work/serve.log" && break
  kill -0 $pid 2>/dev/null || fail "provgate serve exited with the chart's args: $(cat "$work/serve.log")"
  sleep 0.1
done
grep -q '"msg":"serving"' "$work/serve.log" || fail "provgate serve did not start with the chart's args"
grep -q '"policies":2' "$work/serve.log" || fail "the chart's policies were not loaded"
echo "chart OK"
