#!/usr/bin/env bash
# The Helm chart, with the real helm: lint; renders in its main
# configurations; the render refused without policies and for every bad
# value (values.schema.json and the template checks); the toggles
# (NetworkPolicy, HPA, matchConditions, the ServiceMonitor on the plain-HTTP
# metrics port, the PrometheusRule and the Grafana dashboard, the shutdown
# delay and the grace period above it); the chart-generated certificate
# reused across renders through `lookup`; every rendered manifest applied
# with `kubectl apply --dry-run=client` and checked against the Kubernetes
# OpenAPI schemas; the matchConditions' CEL evaluated on real objects and
# compared with the references the binary finds in them; and the rendered
# configuration fed to the real binary: the policies ConfigMap passes
# `provgate policy lint`, the Deployment's args start `provgate serve` with
# the chart's own TLS Secret, the `helm test` Pod's script gets an
# "allowed" answer from it, checked with the caBundle of a later render, and
# its metrics port exports every series the alerts and the dashboard use.
#
# No cluster: two stand-ins, said where they are used. fake_apiserver.py
# answers discovery and GETs on loopback so helm's lookup and kubectl's
# client-side apply run for real; tests/chart/tools (a CEL evaluator and the
# kubernetes-models schemas, from npm) is installed into
# tests/tools/helm/chart-tools on first use.
# Usage: chart_test.sh PROVGATE_BINARY
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
here="$root/tests/chart"
chart="$root/charts/provgate"
P="$1"
HELM="${HELM:-$root/tests/tools/helm/layer/helm/helm}"
KUBECTL="${KUBECTL:-$root/tests/tools/helm/layer/kubectl/kubectl}"
if [ ! -x "$HELM" ]; then
  echo "FAIL: helm not found at $HELM; run scripts/install-deps.sh" >&2
  exit 1
fi
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
checks=0
ok() { checks=$((checks + 1)); }

render() { "$HELM" template t "$chart" --namespace provgate "$@"; }
POLICIES=(--set-file 'policies.production\.yaml'="$root/examples/policies/tekton-chains-slsa-v02.yaml"
          --set-file 'policies.metadata\.yaml'="$root/examples/policies/omlmd-accuracy-gate.yaml")
# expect_refused MESSAGE_SUBSTRING HELM_ARGS...: the render fails, saying MESSAGE.
expect_refused() {
  local want="$1"; shift
  if render "$@" > "$work/refused.out" 2> "$work/refused.err"; then
    fail "render accepted $* (expected: $want)"
  fi
  grep -qF -- "$want" "$work/refused.err" || fail "render of $* failed without '$want': $(cat "$work/refused.err")"
  ok
}
# doc KIND FILE: the first rendered document of that kind.
doc() { awk -v kind="kind: $1" '/^---/{if (on) exit; buf=""; next} {buf = buf $0 "\n"} $0 == kind {on=1} END{if (on) printf "%s", buf}' "$2"; }

# --- lint ---
# Plain lint passes (helm lint reports a template's `fail` without failing).
"$HELM" lint "$chart" > "$work/lint.out" 2>&1 || fail "helm lint: $(cat "$work/lint.out")"
"$HELM" lint --strict "$chart" "${POLICIES[@]}" > "$work/lint.out" 2>&1 || fail "helm lint --strict with policies: $(cat "$work/lint.out")"
ok

# --- no lockout: no policies, no render ---
expect_refused "provgate: no policies given."
expect_refused "--set-file 'policies.production\\.yaml'=my-policy.yaml"
expect_refused "existingPolicyConfigMap"
# A file provgate would not read (no .yaml/.yml/.json) is no policy either.
expect_refused "provgate: no policies given." --set-file 'policies.production'="$root/examples/policies/tekton-chains-slsa-v02.yaml"
# The unescaped dot: a nested key, refused by the schema.
expect_refused "/policies/production" --set-file 'policies.production.yaml'="$root/examples/policies/tekton-chains-slsa-v02.yaml"
render --set allowEmptyPolicies=true > /dev/null || fail "allowEmptyPolicies=true does not render"
render --set existingPolicyConfigMap=my-policies > /dev/null || fail "existingPolicyConfigMap does not render"
ok

# --- the schema refuses bad values; the template checks what it cannot ---
expect_refused "additional properties 'bogus' not allowed" "${POLICIES[@]}" --set bogus=1
expect_refused "additional properties 'bogus' not allowed" "${POLICIES[@]}" --set webhook.bogus=1
expect_refused "additional properties 'bogus' not allowed" "${POLICIES[@]}" --set webhook.matchConditions.bogus=1
expect_refused "additional properties 'bogus' not allowed" "${POLICIES[@]}" --set networkPolicy.bogus=1
expect_refused "/webhook/failurePolicy" "${POLICIES[@]}" --set webhook.failurePolicy=Maybe
expect_refused "/webhook/timeoutSeconds" "${POLICIES[@]}" --set webhook.timeoutSeconds=31
expect_refused "/webhook/timeoutSeconds" "${POLICIES[@]}" --set webhook.timeoutSeconds=0
expect_refused "/webhook/timeoutSeconds" "${POLICIES[@]}" --set-json webhook.timeoutSeconds=9.5
expect_refused "/unmatched" "${POLICIES[@]}" --set unmatched=sometimes
expect_refused "/replicaCount" "${POLICIES[@]}" --set replicaCount=0
expect_refused "/webhook/reinvocationPolicy" "${POLICIES[@]}" --set webhook.reinvocationPolicy=Sometimes
expect_refused "/image/pullPolicy" "${POLICIES[@]}" --set image.pullPolicy=Whenever
expect_refused "/image/digest" "${POLICIES[@]}" --set image.digest=latest
expect_refused "/image/digest" "${POLICIES[@]}" --set image.digest=sha256:abc
expect_refused "/verifyTimeoutSeconds" "${POLICIES[@]}" --set verifyTimeoutSeconds=31
expect_refused "/tls/certDays" "${POLICIES[@]}" --set tls.certDays=soon
expect_refused "/networkPolicy/egress/0/ports/0/protocol" "${POLICIES[@]}" --set 'networkPolicy.egress[0].ports[0].protocol=HTTP'
expect_refused "verifyTimeoutSeconds (10) must be below webhook.timeoutSeconds (10)" "${POLICIES[@]}" --set verifyTimeoutSeconds=10
expect_refused "verifyTimeoutSeconds (12) must be below webhook.timeoutSeconds (10)" "${POLICIES[@]}" --set verifyTimeoutSeconds=12
expect_refused "must be below webhook.timeoutSeconds (5)" "${POLICIES[@]}" --set webhook.timeoutSeconds=5
render "${POLICIES[@]}" --set-json verifyTimeoutSeconds=9.5 > /dev/null || fail "verifyTimeoutSeconds 9.5 under timeoutSeconds 10 refused"
expect_refused "podDisruptionBudget.minAvailable (2) must be below the number of pods (2" "${POLICIES[@]}" --set podDisruptionBudget.minAvailable=2
expect_refused "autoscaling.minReplicas (5) is above autoscaling.maxReplicas (3)" "${POLICIES[@]}" \
  --set autoscaling.enabled=true --set autoscaling.minReplicas=5 --set autoscaling.maxReplicas=3
expect_refused "may select container images" "${POLICIES[@]}" --set webhook.matchConditions.containerImages=false
ok

# --- default values: generated CA, both webhooks, fail-closed, matchConditions ---
render "${POLICIES[@]}" > "$work/default.yaml"
for kind in ServiceAccount Deployment Service PodDisruptionBudget ValidatingWebhookConfiguration MutatingWebhookConfiguration Secret Pod; do
  grep -q "^kind: $kind\$" "$work/default.yaml" || fail "default render lacks $kind"
done
for kind in NetworkPolicy HorizontalPodAutoscaler Certificate ServiceMonitor; do
  if grep -q "^kind: $kind\$" "$work/default.yaml"; then fail "default render has a $kind"; fi
done
grep -q 'failurePolicy: Fail' "$work/default.yaml" || fail "failurePolicy is not Fail"
grep -q 'caBundle: ' "$work/default.yaml" || fail "no caBundle with the generated CA"
grep -q 'values: \[provgate, kube-system\]' "$work/default.yaml" || fail "release namespace and kube-system not excluded"
grep -q 'readOnlyRootFilesystem: true' "$work/default.yaml" || fail "root filesystem is writable"
grep -q 'runAsNonRoot: true' "$work/default.yaml" || fail "may run as root"
grep -q 'pods/ephemeralcontainers' "$work/default.yaml" || fail "ephemeral containers bypass the webhook"
grep -q 'replicas: 2' "$work/default.yaml" || fail "not 2 replicas"
# The image: the appVersion tag by default; image.digest pins repository@digest.
app_version="$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$chart/Chart.yaml")"
grep -qF "image: \"ghcr.io/provgate/provgate:$app_version\"" "$work/default.yaml" || fail "the default image is not the appVersion tag"
pin="sha256:$(printf pinned | sha256sum | cut -d' ' -f1)"
render "${POLICIES[@]}" --set image.digest="$pin" --set image.tag=moved > "$work/digest.yaml"
grep -qF "image: \"ghcr.io/provgate/provgate@$pin\"" "$work/digest.yaml" || fail "image.digest does not pin repository@digest"
for kind in ValidatingWebhookConfiguration MutatingWebhookConfiguration; do
  doc $kind "$work/default.yaml" > "$work/$kind.yaml"
  grep -q '^    matchConditions:$' "$work/$kind.yaml" || fail "$kind has no matchConditions"
  grep -q -- '- name: may-hold-model-reference' "$work/$kind.yaml" || fail "$kind lacks the candidate-reference condition"
  for needle in "request.resource.group == 'serving.kserve.io'" 'object.spec.template.spec.containers' \
                'object.spec.jobTemplate.spec.template.spec.volumes' 'object.spec.volumes.exists(v, has(v.image))' \
                'object.template.spec' '"provgate.dev/model"' 'k in object.spec.template.metadata.annotations'; do
    grep -qF "$needle" "$work/$kind.yaml" || fail "$kind matchCondition does not look at $needle"
  done
  if grep -q 'DELETE' "$work/$kind.yaml"; then fail "$kind is sent DELETE"; fi
  [ "$(grep -c 'operations: \["CREATE", "UPDATE"\]' "$work/$kind.yaml")" = 4 ] || fail "$kind rules are not CREATE/UPDATE"
done
ok

# matchConditions toggles: off by value, left out below Kubernetes 1.28, extra ones appended.
render "${POLICIES[@]}" --set webhook.matchConditions.enabled=false > "$work/nomc.yaml"
if grep -q 'matchConditions' "$work/nomc.yaml"; then fail "matchConditions rendered with webhook.matchConditions.enabled=false"; fi
render "${POLICIES[@]}" --kube-version 1.27.0 > "$work/old.yaml"
if grep -q 'matchConditions' "$work/old.yaml"; then fail "matchConditions rendered for Kubernetes 1.27"; fi
render "${POLICIES[@]}" --kube-version 1.30.0 > "$work/k130.yaml"
grep -q '^    matchConditions:$' "$work/k130.yaml" || fail "no matchConditions for Kubernetes 1.30"
render "${POLICIES[@]}" --set 'webhook.matchConditions.additional[0].name=not-batch' \
  --set 'webhook.matchConditions.additional[0].expression=request.namespace != "batch"' > "$work/extra.yaml"
[ "$(grep -c -- '- name: not-batch' "$work/extra.yaml")" = 2 ] || fail "additional matchConditions not on both webhooks"
render "${POLICIES[@]}" --set 'modelAnnotations={example.com/model}' > "$work/annotations.yaml"
grep -qF '["example.com/model"].exists' "$work/annotations.yaml" || fail "modelAnnotations not used by the matchCondition"
ok

# pinKinds and requireDigest: Pods only and no digest requirement by default.
grep -qFx -- '            - --pin-kinds=Pod' "$work/default.yaml" || fail "default pinKinds is not --pin-kinds=Pod"
if grep -qF -- '--require-digest' "$work/default.yaml"; then fail "--require-digest rendered by default"; fi
render "${POLICIES[@]}" --set 'pinKinds={Pod,Deployment,StatefulSet}' --set requireDigest=true > "$work/pinning.yaml"
grep -qFx -- '            - --pin-kinds=Pod,Deployment,StatefulSet' "$work/pinning.yaml" || fail "pinKinds not rendered as --pin-kinds"
grep -qFx -- '            - --require-digest' "$work/pinning.yaml" || fail "requireDigest=true does not render --require-digest"
render "${POLICIES[@]}" --set-json 'pinKinds=[]' > "$work/nopin.yaml"
grep -A1 -Fx -- '            - --pin-kinds' "$work/nopin.yaml" | grep -qFx -- '            - ""' \
  || fail "pinKinds=[] does not render --pin-kinds with an empty argument"
expect_refused "/pinKinds/0" "${POLICIES[@]}" --set 'pinKinds={pods}'
expect_refused "/pinKinds" "${POLICIES[@]}" --set 'pinKinds={Pod,Pod}'
expect_refused "/requireDigest" "${POLICIES[@]}" --set-string requireDigest=yes
ok

# Toggles: NetworkPolicy, HPA, new pod and service-account values.
render "${POLICIES[@]}" --set networkPolicy.enabled=true --set 'networkPolicy.egress[0].ports[0].port=5000' > "$work/netpol.yaml"
doc NetworkPolicy "$work/netpol.yaml" > "$work/np.yaml"
[ -s "$work/np.yaml" ] || fail "networkPolicy.enabled renders no NetworkPolicy"
grep -q 'policyTypes: \[Ingress, Egress\]' "$work/np.yaml" || fail "NetworkPolicy does not restrict both directions"
grep -q -- '- {port: 8443, protocol: TCP}' "$work/np.yaml" || fail "NetworkPolicy does not admit the webhook port"
grep -q -- '- {port: 53, protocol: UDP}' "$work/np.yaml" || fail "NetworkPolicy blocks DNS"
grep -q 'port: 5000' "$work/np.yaml" || fail "networkPolicy.egress not rendered"
render "${POLICIES[@]}" --set networkPolicy.enabled=true > "$work/netpol-default.yaml"
doc NetworkPolicy "$work/netpol-default.yaml" | grep -A1 -- '- port: 443$' | grep 'protocol: TCP' >/dev/null || fail "NetworkPolicy default egress is not 443"
render "${POLICIES[@]}" --set autoscaling.enabled=true --set autoscaling.minReplicas=3 --set autoscaling.maxReplicas=7 \
  --set autoscaling.targetCPUUtilizationPercentage=60 > "$work/hpa.yaml"
doc HorizontalPodAutoscaler "$work/hpa.yaml" > "$work/h.yaml"
[ -s "$work/h.yaml" ] || fail "autoscaling.enabled renders no HorizontalPodAutoscaler"
grep -q 'minReplicas: 3' "$work/h.yaml" && grep -q 'maxReplicas: 7' "$work/h.yaml" && grep -q 'averageUtilization: 60' "$work/h.yaml" \
  || fail "HPA bounds or CPU target not rendered"
doc Deployment "$work/hpa.yaml" > "$work/hpa-deployment.yaml"
if grep -q '^  replicas:' "$work/hpa-deployment.yaml"; then fail "Deployment sets replicas under an HPA"; fi
expect_refused "needs resources.requests.cpu" "${POLICIES[@]}" --set autoscaling.enabled=true --set resources.requests.cpu=null
render "${POLICIES[@]}" --set podAnnotations.team=ml --set podLabels.tier=gate \
  --set 'serviceAccount.annotations.eks\.amazonaws\.com/role-arn=arn:aws:iam::1:role/provgate' \
  --set 'topologySpreadConstraints[0].maxSkew=1' --set 'topologySpreadConstraints[0].topologyKey=topology.kubernetes.io/zone' \
  --set 'topologySpreadConstraints[0].whenUnsatisfiable=ScheduleAnyway' > "$work/pod.yaml"
doc Deployment "$work/pod.yaml" > "$work/d.yaml"
grep -q '        team: ml' "$work/d.yaml" || fail "podAnnotations not on the pod template"
grep -q '        tier: gate' "$work/d.yaml" || fail "podLabels not on the pod template"
awk '/topologySpreadConstraints:/{on=1} on' "$work/d.yaml" | head -8 > "$work/tsc.yaml"
grep -q 'app.kubernetes.io/instance: t' "$work/tsc.yaml" && grep -q 'topologyKey: topology.kubernetes.io/zone' "$work/tsc.yaml" \
  || fail "topologySpreadConstraints not rendered with provgate's labelSelector"
doc ServiceAccount "$work/pod.yaml" > "$work/sa.yaml"
grep -q 'eks.amazonaws.com/role-arn: arn:aws:iam::1:role/provgate' "$work/sa.yaml" || fail "serviceAccount.annotations not rendered"
ok

# cert-manager, ServiceMonitor, credentials.
render --set tls.certManager.enabled=true --set serviceMonitor.enabled=true \
       --set prometheusRule.enabled=true --set grafanaDashboard.enabled=true \
       --set registryCredentials.existingSecret=creds --set 'registries[0].host=registry.example.com' \
       --set existingPolicyConfigMap=my-policies > "$work/full.yaml"
for kind in Certificate Issuer ServiceMonitor PrometheusRule; do
  grep -q "^kind: $kind\$" "$work/full.yaml" || fail "full render lacks $kind"
done
grep -q 'cert-manager.io/inject-ca-from: provgate/t-provgate' "$work/full.yaml" || fail "no CA injection"
grep -q 'name: my-policies' "$work/full.yaml" || fail "existing policy ConfigMap not used"
if grep -q 'name: t-provgate-policies' "$work/full.yaml"; then fail "policy ConfigMap rendered despite existingPolicyConfigMap"; fi
if grep -q 'caBundle:' "$work/full.yaml"; then fail "a generated caBundle next to cert-manager's injection"; fi
ok

# --- metrics: the plain-HTTP metrics port, the ServiceMonitor on it, alerts, dashboard ---
doc Deployment "$work/default.yaml" > "$work/metrics-deployment.yaml"
grep -qFx -- '            - --metrics-port=9090' "$work/metrics-deployment.yaml" || fail "metrics.port 9090 is not the default --metrics-port"
grep -qF -- '- {name: metrics, containerPort: 9090, protocol: TCP}' "$work/metrics-deployment.yaml" || fail "the container does not expose the metrics port"
doc Service "$work/default.yaml" | grep -qF -- '- {name: metrics, port: 9090, targetPort: metrics, protocol: TCP}' \
  || fail "the Service does not expose the metrics port"
doc ServiceMonitor "$work/full.yaml" > "$work/sm.yaml"
grep -qx -- '    - port: metrics' "$work/sm.yaml" || fail "the ServiceMonitor does not scrape the metrics port: $(cat "$work/sm.yaml")"
grep -qx -- '      scheme: http' "$work/sm.yaml" || fail "the ServiceMonitor does not scrape plain HTTP"
if grep -qE 'port: https|tlsConfig' "$work/sm.yaml"; then fail "the ServiceMonitor still scrapes the TLS webhook port"; fi
render "${POLICIES[@]}" --set metrics.port=0 > "$work/nometrics.yaml"
if grep -qE -- '--metrics-port|name: metrics' "$work/nometrics.yaml"; then fail "metrics.port=0 still renders a metrics port"; fi
expect_refused "serviceMonitor.enabled needs metrics.port" "${POLICIES[@]}" --set metrics.port=0 --set serviceMonitor.enabled=true
expect_refused "prometheusRule.enabled needs metrics.port" "${POLICIES[@]}" --set metrics.port=0 --set prometheusRule.enabled=true
if grep -qE '^kind: PrometheusRule$|name: t-provgate-dashboard$' "$work/default.yaml"; then fail "alerts or dashboard rendered by default"; fi
doc PrometheusRule "$work/full.yaml" > "$work/rule.yaml"
for alert in ProvgateAdmissionErrors ProvgateDenialSpike ProvgateRegistryUnavailable ProvgateNoPolicySet ProvgatePolicyReloadFailing; do
  grep -qx -- "        - alert: $alert" "$work/rule.yaml" || fail "PrometheusRule lacks $alert"
done
grep -qF 'namespace="provgate",job="t-provgate"' "$work/rule.yaml" || fail "the alerts do not select the release's series"
grep -qF '{{ $labels.host }}' "$work/rule.yaml" || fail "the alert templates were not passed through to Prometheus"
render "${POLICIES[@]}" --set prometheusRule.enabled=true --set-json prometheusRule.denialRatio=0.4 \
  --set-json prometheusRule.registryErrorRatio=0.9 > "$work/rule-thresholds.yaml"
grep -qx -- '            > 0.4' "$work/rule-thresholds.yaml" && grep -qx -- '            > 0.9' "$work/rule-thresholds.yaml" \
  || fail "prometheusRule thresholds not rendered"
render "${POLICIES[@]}" --set grafanaDashboard.enabled=true --set grafanaDashboard.annotations.grafana_folder=provgate > "$work/dashboard.yaml"
python3 - "$work/dashboard.yaml" "$work/dashboard.json" <<'PY' || fail "the dashboard ConfigMap is not valid"
import json, re, sys
text = open(sys.argv[1]).read()
doc = next(d for d in text.split("\n---\n") if "name: t-provgate-dashboard" in d)
assert '    grafana_dashboard: "1"' in doc, "no grafana_dashboard label"
assert "    grafana_folder: provgate" in doc, "no annotation"
body = doc.split("  provgate.json: |-\n", 1)[1]
lines = [l[4:] for l in body.split("\n") if l.startswith("    ") or l == ""]
dashboard = json.loads("\n".join(lines))
assert dashboard["uid"] == "provgate" and len(dashboard["panels"]) >= 10
open(sys.argv[2], "w").write(json.dumps(dashboard))
PY
# Every series name the alerts and the dashboard use; checked against the
# binary's own /metrics below.
cat "$work/rule.yaml" "$work/dashboard.json" | grep -oE '\b(provgate|process)_[a-z_]+' \
  | sed -E 's/_(bucket|sum|count)$//' | sort -u > "$work/used-metrics.txt"
grep -qx provgate_policy_results_total "$work/used-metrics.txt" || fail "the dashboard does not show policy results"
[ "$(wc -l < "$work/used-metrics.txt")" -ge 15 ] || fail "too few metric names found in the alerts and dashboard: $(cat "$work/used-metrics.txt")"
# Shutdown: --shutdown-delay, and a grace period above the delay plus the drain.
grep -qFx -- '            - --shutdown-delay=5' "$work/metrics-deployment.yaml" || fail "shutdownDelaySeconds 5 is not the default --shutdown-delay"
grep -qx -- '      terminationGracePeriodSeconds: 20' "$work/metrics-deployment.yaml" || fail "grace period is not 5 + 8 + 7"
for combo in "0 8" "12.5 9" "60 29.5" "1 0.1"; do
  set -- $combo
  render "${POLICIES[@]}" --set-json shutdownDelaySeconds="$1" --set-json verifyTimeoutSeconds="$2" --set webhook.timeoutSeconds=30 > "$work/grace.yaml"
  grace="$(sed -n 's/^      terminationGracePeriodSeconds: \([0-9]*\)$/\1/p' "$work/grace.yaml")"
  grep -qFx -- "            - --shutdown-delay=$1" "$work/grace.yaml" || fail "shutdownDelaySeconds $1 not rendered"
  python3 -c "import sys; sys.exit(0 if $grace > $1 + $2 + 2 else 1)" || fail "grace period $grace is not above delay $1 + verify $2 + 2 s drain"
done
expect_refused "/shutdownDelaySeconds" "${POLICIES[@]}" --set shutdownDelaySeconds=61
expect_refused "/shutdownDelaySeconds" "${POLICIES[@]}" --set-json shutdownDelaySeconds=-1
expect_refused "/shutdownDelaySeconds" "${POLICIES[@]}" --set-string shutdownDelaySeconds=5s
expect_refused "/prometheusRule/denialRatio" "${POLICIES[@]}" --set prometheusRule.denialRatio=0
expect_refused "/prometheusRule/denialRatio" "${POLICIES[@]}" --set-json prometheusRule.denialRatio=1.5
expect_refused "/prometheusRule/registryErrorRatio" "${POLICIES[@]}" --set-string prometheusRule.registryErrorRatio=half
expect_refused "additional properties 'bogus' not allowed" "${POLICIES[@]}" --set prometheusRule.bogus=1
expect_refused "additional properties 'bogus' not allowed" "${POLICIES[@]}" --set grafanaDashboard.bogus=1
expect_refused "/grafanaDashboard/labels/grafana_dashboard" "${POLICIES[@]}" --set-json grafanaDashboard.labels.grafana_dashboard=1
expect_refused "/metrics/port" "${POLICIES[@]}" --set metrics.port=8443
ok

# NOTES.txt (helm install --dry-run=client renders it; no cluster is contacted).
notes() { "$HELM" install t "$chart" --namespace provgate --dry-run=client "$@" | sed -n '/^NOTES:/,$p'; }
notes "${POLICIES[@]}" > "$work/notes.txt"
for needle in 'kubectl -n provgate get pods -l app.kubernetes.io/name=provgate,app.kubernetes.io/instance=t' \
              '/readyz' 'port-forward service/t-provgate' 'helm test t -n provgate' 'reason=FailedCreate' \
              "kubectl -n provgate logs -l app.kubernetes.io/name=provgate,app.kubernetes.io/instance=t" \
              '"decision":"deny"' 'Fail closed' 'port-forward service/t-provgate 9090:9090'; do
  grep -qF -- "$needle" "$work/notes.txt" || fail "NOTES.txt lacks: $needle"
done
if grep -q 'Ignore is safe' "$work/notes.txt"; then fail "NOTES call Ignore safe with enforcing policies"; fi
notes --set-file 'policies.rollout\.yaml'="$root/examples/policies/warn-only-rollout.yaml" > "$work/notes-warn.txt"
grep -q 'failurePolicy Ignore is safe' "$work/notes-warn.txt" || fail "NOTES do not say Ignore is safe with only warn policies"
notes --set-file 'policies.rollout\.yaml'="$root/examples/policies/warn-only-rollout.yaml" --set unmatched=deny > "$work/notes-deny.txt"
if grep -q 'Ignore is safe' "$work/notes-deny.txt"; then fail "NOTES call Ignore safe although unmatched=deny denies"; fi
notes --set-file 'policies.rollout\.yaml'="$root/examples/policies/warn-only-rollout.yaml" \
      --set-file 'policies.production\.yaml'="$root/examples/policies/tekton-chains-slsa-v02.yaml" > "$work/notes-mixed.txt"
if grep -q 'Ignore is safe' "$work/notes-mixed.txt"; then fail "NOTES call Ignore safe with one enforcing policy among warn ones"; fi
notes --set allowEmptyPolicies=true > "$work/notes-empty.txt"
grep -q 'WARNING: installed without any policy' "$work/notes-empty.txt" || fail "no warning in NOTES without policies"
ok

# --- certificates stable across upgrades: helm's real lookup, against a stand-in API server ---
# `helm template` without a cluster cannot look anything up, so two plain
# renders give two CAs (checked first, so the reuse below is not a
# coincidence). `helm template --dry-run=server` runs the same lookup as
# install and upgrade; fake_apiserver.py answers it from files. Render 1 finds
# no Secret (an install) and generates; its Secret is then served as the
# existing one, and renders 2 and 3 (upgrades) must carry the same ca.crt,
# tls.crt, tls.key and caBundle. This proves the template reuses what lookup
# returns; it does not prove a real API server returns it (RBAC: helm's user
# must be allowed to get Secrets in the release namespace).
# (No early exit in a pipe's reader: with pipefail the writer's SIGPIPE would fail the pipe.)
secret_field() { doc Secret "$1" | awk -v k="$2:" '$1 == k && !done {print $2; done=1}'; }
ca_bundle() { doc "$2" "$1" | awk '/^      caBundle: / && !done {print $2; done=1}'; }
render "${POLICIES[@]}" > "$work/plain2.yaml"
[ "$(secret_field "$work/default.yaml" ca.crt)" != "$(secret_field "$work/plain2.yaml" ca.crt)" ] \
  || fail "two renders without a cluster gave the same CA: the reuse check below would prove nothing"
mkdir -p "$work/store"
python3 "$here/fake_apiserver.py" "$work/apiport" "$work/store" 2> "$work/fake-apiserver.log" &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/apiport" ] && break; sleep 0.1; done
[ -s "$work/apiport" ] || fail "fake API server did not start: $(cat "$work/fake-apiserver.log")"
cat > "$work/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: "http://127.0.0.1:$(cat "$work/apiport")"}}]
contexts: [{name: fake, context: {cluster: fake, user: fake, namespace: provgate}}]
current-context: fake
users: [{name: fake, user: {token: not-a-secret}}]
EOF
export KUBECONFIG="$work/kubeconfig"
server_render() { render --dry-run=server --disable-openapi-validation "${POLICIES[@]}" "$@"; }
server_render > "$work/install.yaml"
grep -q 'fake-apiserver: GET /api/v1/namespaces/provgate/secrets/t-provgate-tls' "$work/fake-apiserver.log" \
  || fail "helm did not look the TLS Secret up"
b64d() { printf '%s' "$1" | base64 -d; }
ca1="$(secret_field "$work/install.yaml" ca.crt)"; crt1="$(secret_field "$work/install.yaml" tls.crt)"; key1="$(secret_field "$work/install.yaml" tls.key)"
[ -n "$ca1" ] && [ -n "$crt1" ] && [ -n "$key1" ] || fail "install render has no TLS Secret data"
[ "$(ca_bundle "$work/install.yaml" ValidatingWebhookConfiguration)" = "$ca1" ] || fail "install: caBundle is not the Secret's ca.crt"
b64d "$ca1" > "$work/ca1.crt"; b64d "$crt1" > "$work/tls1.crt"; b64d "$key1" > "$work/tls1.key"
openssl verify -CAfile "$work/ca1.crt" "$work/tls1.crt" >/dev/null || fail "the generated certificate does not chain to the generated CA"
openssl x509 -in "$work/tls1.crt" -noout -ext subjectAltName | grep 'DNS:t-provgate.provgate.svc' >/dev/null || fail "certificate lacks the service name"
[ "$(openssl x509 -in "$work/tls1.crt" -noout -pubkey | openssl sha256)" = "$(openssl pkey -in "$work/tls1.key" -pubout | openssl sha256)" ] \
  || fail "tls.key is not the certificate's key"
# The Secret as the install left it (helm's ownership labels, or helm refuses to adopt it).
owned='"name":"t-provgate-tls","namespace":"provgate","labels":{"app.kubernetes.io/managed-by":"Helm"},"annotations":{"meta.helm.sh/release-name":"t","meta.helm.sh/release-namespace":"provgate"}'
printf '{"apiVersion":"v1","kind":"Secret","metadata":{%s},"type":"kubernetes.io/tls","data":{"ca.crt":"%s","tls.crt":"%s","tls.key":"%s"}}' \
  "$owned" "$ca1" "$crt1" "$key1" > "$work/store/provgate_secrets_t-provgate-tls.json"
for n in 2 3; do
  server_render --set webhook.timeoutSeconds=1$n --set verifyTimeoutSeconds=9 > "$work/upgrade$n.yaml"
  [ "$(secret_field "$work/upgrade$n.yaml" ca.crt)" = "$ca1" ] || fail "upgrade $n: new CA although the Secret exists"
  [ "$(secret_field "$work/upgrade$n.yaml" tls.crt)" = "$crt1" ] || fail "upgrade $n: new certificate although the Secret exists"
  [ "$(secret_field "$work/upgrade$n.yaml" tls.key)" = "$key1" ] || fail "upgrade $n: new key although the Secret exists"
  for kind in ValidatingWebhookConfiguration MutatingWebhookConfiguration; do
    [ "$(ca_bundle "$work/upgrade$n.yaml" $kind)" = "$ca1" ] || fail "upgrade $n: $kind caBundle changed"
  done
done
# A Secret missing one entry is not reused (a new, consistent pair instead).
printf '{"apiVersion":"v1","kind":"Secret","metadata":{%s},"data":{"ca.crt":"%s","tls.crt":"%s"}}' \
  "$owned" "$ca1" "$crt1" > "$work/store/provgate_secrets_t-provgate-tls.json"
server_render > "$work/partial.yaml"
[ "$(secret_field "$work/partial.yaml" ca.crt)" != "$ca1" ] || fail "a Secret without tls.key was reused"
[ "$(ca_bundle "$work/partial.yaml" ValidatingWebhookConfiguration)" = "$(secret_field "$work/partial.yaml" ca.crt)" ] \
  || fail "regenerated: caBundle is not the Secret's ca.crt"
ok

# --- every rendered manifest: kubectl apply --dry-run=client, then the OpenAPI schemas ---
# kubectl needs discovery to map each document to a resource: the stand-in
# API server gives it (for the kinds the chart renders, nothing else). With
# --validate=false kubectl checks YAML and that each document is a known
# kind, not the fields; the kubernetes-models schemas below check those
# (types, enums, required fields; they do not refuse unknown fields).
manifests=(default nomc old extra netpol hpa pod full install)
if [ -x "$KUBECTL" ]; then
  for m in "${manifests[@]}"; do
    "$KUBECTL" apply --dry-run=client --validate=false -f - < "$work/$m.yaml" > "$work/apply-$m.out" 2>&1 \
      || fail "kubectl apply --dry-run=client rejects the $m render: $(cat "$work/apply-$m.out")"
    [ "$(grep -c '(dry run)$' "$work/apply-$m.out")" = "$(grep -c '^kind: ' "$work/$m.yaml")" ] \
      || fail "kubectl did not apply every document of the $m render: $(cat "$work/apply-$m.out")"
  done
  ok
else
  echo "chart_test: no kubectl at $KUBECTL: kubectl apply --dry-run=client skipped" >&2
fi
unset KUBECONFIG

tools="$root/tests/tools/helm/chart-tools"
if [ "${CHART_TEST_NODE:-1}" != 0 ] && command -v npm >/dev/null 2>&1; then
  if ! cmp -s "$here/tools/package-lock.json" "$tools/package-lock.json" 2>/dev/null || [ ! -d "$tools/node_modules" ]; then
    rm -rf "$tools.new" && mkdir -p "$tools.new"
    cp "$here/tools/package.json" "$here/tools/package-lock.json" "$tools.new/"
    (cd "$tools.new" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
      || fail "npm ci of tests/chart/tools (set CHART_TEST_NODE=0 to skip the schema and CEL checks)"
    rm -rf "$tools" && mv "$tools.new" "$tools"
  fi
  cp "$here/check_manifests.mjs" "$tools/"
  for m in "${manifests[@]}"; do
    node "$tools/check_manifests.mjs" validate "$work/$m.yaml" > "$work/validate-$m.out" \
      || fail "the $m render fails the Kubernetes schemas: $(grep FAIL "$work/validate-$m.out")"
  done
  ok
  # matchConditions on real objects, against the references the binary finds.
  none_policy="$work/none.yaml"
  cat > "$none_policy" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ModelPolicy
metadata: {name: matches-nothing}
spec:
  match: {references: ["nothing.invalid/**"]}
  authorities: [{name: k, key: {file: $root/examples/policies/example-key.pub}}]
EOF
  for f in "$root"/examples/manifests/*.yaml "$here/objects.yaml"; do cat "$f"; printf '\n---\n'; done > "$work/objects.yaml"
  "$P" check -f "$work/objects.yaml" --policies "$none_policy" -o json > "$work/objects.json" || fail "provgate check on the test objects"
  node "$tools/check_manifests.mjs" cel "$work/default.yaml" "$work/objects.yaml" "$work/objects.json" default > "$work/cel-default.out" \
    || fail "matchConditions (default): $(grep FAIL "$work/cel-default.out")"
  cat > "$work/models-only.yaml" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ModelPolicy
metadata: {name: models-only}
spec:
  match:
    references: ["registry.example.com/models/**"]
    sources: [image-volume, storage-uri]
  authorities: [{name: k, key: {file: example-key.pub}}]
EOF
  render --set-file 'policies.models\.yaml'="$work/models-only.yaml" --set-file 'policies.example-key\.pub'="$root/examples/policies/example-key.pub" \
    --set webhook.matchConditions.containerImages=false > "$work/nocontainer.yaml"
  node "$tools/check_manifests.mjs" cel "$work/nocontainer.yaml" "$work/objects.yaml" "$work/objects.json" no-container > "$work/cel-nc.out" \
    || fail "matchConditions (containerImages=false): $(grep FAIL "$work/cel-nc.out")"
  grep -q 'plain-pod .*skipped' "$work/cel-nc.out" || fail "containerImages=false still sends a Pod with only container images"
  # The checker itself catches a fail-open condition: the models-only
  # conditions judged as if container images were candidates must fail.
  if node "$tools/check_manifests.mjs" cel "$work/nocontainer.yaml" "$work/objects.yaml" "$work/objects.json" default > /dev/null; then
    fail "the CEL check accepts conditions that skip container images as if they covered them"
  fi
  ok
else
  echo "chart_test: npm not found or CHART_TEST_NODE=0: schema and CEL checks skipped" >&2
fi

# --- the rendered configuration is what the binary accepts ---
# Extract the files the ConfigMaps carry (literal blocks indented by 4) with awk.
extract() {  # file key -> stdout
  awk -v key="  $2: |" '
    $0 == key {on=1; next}
    on && /^    / {print substr($0, 5); next}
    on {exit}' "$1"
}
mkdir -p "$work/policies"
extract "$work/install.yaml" "production.yaml" > "$work/policies/production.yaml"
extract "$work/install.yaml" "metadata.yaml" > "$work/policies/metadata.yaml"
"$P" policy lint "$work/policies" >/dev/null || fail "rendered policies do not lint"
extract "$work/full.yaml" "registries.yaml" > "$work/registries.yaml"
grep -q 'host: "registry.example.com"' "$work/registries.yaml" || fail "registry host not rendered"

# The Deployment's args start the server (paths mapped to temp files), with
# the TLS Secret of the "install" render above.
extract "$work/install.yaml" "registries.yaml" > "$work/default-registries.yaml"
mapfile -t args < <(awk '/^          args:/{on=1; next} on && /^            - /{sub(/^            - /, ""); print; next} on{exit}' "$work/install.yaml")
[ "${args[0]}" = serve ] || fail "first arg is not serve"
metrics_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mapped=()
for a in "${args[@]:1}"; do
  case "$a" in
    --listen=*) mapped+=(--listen=127.0.0.1:0) ;;
    --tls-cert=*) mapped+=(--tls-cert="$work/tls1.crt") ;;
    --tls-key=*) mapped+=(--tls-key="$work/tls1.key") ;;
    --policies=*) mapped+=(--policies="$work/policies") ;;
    --registry-config=*) mapped+=(--registry-config="$work/default-registries.yaml") ;;
    --metrics-port=*) mapped+=(--metrics-port="$metrics_port") ;;
    *) mapped+=("$a") ;;
  esac
done
"$P" serve "${mapped[@]}" > "$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
  grep -q '"msg":"serving"' "$work/serve.log" && break
  kill -0 "${pids[-1]}" 2>/dev/null || fail "provgate serve exited with the chart's args: $(cat "$work/serve.log")"
  sleep 0.1
done
grep -q '"msg":"serving"' "$work/serve.log" || fail "provgate serve did not start with the chart's args"
grep -q '"policies":2' "$work/serve.log" || fail "the chart's policies were not loaded"
port="$(sed -n 's/.*"msg":"serving".*"listen":"127.0.0.1:\([0-9]*\)".*/\1/p' "$work/serve.log" | head -1)"
[ -n "$port" ] || fail "no port in the serving line: $(cat "$work/serve.log")"
ok

# The `helm test` Pod's own script and review, run here: curl goes to the
# local server for the Service's name (--connect-to, so TLS still checks
# the certificate for t-provgate.provgate.svc), and the CA is the caBundle
# of upgrade render 3: what the API server would trust after an upgrade,
# checked against the certificate served since the install.
doc Pod "$work/upgrade3.yaml" > "$work/testpod.yaml"
grep -q 'helm.sh/hook: test' "$work/testpod.yaml" || fail "the test Pod is not a helm test hook"
grep -q "image: docker.io/curlimages/curl:" "$work/testpod.yaml" || fail "the test Pod does not use test.image"
grep -A3 'secretName: t-provgate-tls' "$work/testpod.yaml" | grep -- '- {key: ca.crt, path: ca.crt}' >/dev/null \
  || fail "the test Pod does not mount the TLS Secret's ca.crt"
grep -A1 -- '- name: CA_FILE' "$work/testpod.yaml" | grep 'value: /etc/provgate-test/ca.crt' >/dev/null \
  || fail "the test Pod's CA_FILE is not the mounted ca.crt"
if grep -q 'app.kubernetes.io/name: provgate$' "$work/testpod.yaml"; then fail "the test Pod carries the Service's selector labels"; fi
awk '/^      args:/{on=1; next} on && /^        - \|$/{blk=1; next} blk && /^          /{print substr($0, 11); next} blk{exit}' "$work/testpod.yaml" > "$work/helm-test.sh"
grep -q 'curl ' "$work/helm-test.sh" || fail "no script in the test Pod"
review="$(sed -n "s/^          value: '\(.*\)'$/\1/p" "$work/testpod.yaml")"
url="$(awk '/- name: PROVGATE_URL/{getline; sub(/^ *value: /, ""); print; exit}' "$work/testpod.yaml")"
[ "$url" = "https://t-provgate.provgate.svc:443/validate" ] || fail "test Pod URL is $url"
b64d "$(ca_bundle "$work/upgrade3.yaml" ValidatingWebhookConfiguration)" > "$work/cabundle.crt"
mkdir -p "$work/bin"
cat > "$work/bin/curl" <<EOF
#!/bin/sh
exec "$(command -v curl)" --connect-to "t-provgate.provgate.svc:443:127.0.0.1:$port" "\$@"
EOF
chmod +x "$work/bin/curl"
PATH="$work/bin:$PATH" CA_FILE="$work/cabundle.crt" PROVGATE_URL="$url" REVIEW="$review" \
  sh "$work/helm-test.sh" > "$work/helm-test.out" 2>&1 || fail "the helm test script failed: $(cat "$work/helm-test.out")"
grep -q 'OK: provgate answered the AdmissionReview' "$work/helm-test.out" || fail "helm test script: $(cat "$work/helm-test.out")"
# The server started with the chart's args exports every series the
# PrometheusRule and the dashboard use, on the metrics port over plain HTTP.
curl -sf "http://127.0.0.1:$metrics_port/metrics" > "$work/live-metrics.txt" || fail "no /metrics on the chart's metrics port"
while read -r name; do
  grep -q "^# TYPE $name " "$work/live-metrics.txt" || fail "the alerts or the dashboard use $name, which provgate does not export"
done < "$work/used-metrics.txt"
grep -q '^provgate_admission_requests_total{webhook="validate"' "$work/live-metrics.txt" || fail "the helm test review was not counted"
# And it fails with a CA that did not sign the served certificate.
b64d "$(secret_field "$work/partial.yaml" ca.crt)" > "$work/ca-other.crt"
if PATH="$work/bin:$PATH" CA_FILE="$work/ca-other.crt" PROVGATE_URL="$url" REVIEW="$review" sh "$work/helm-test.sh" > /dev/null 2>&1; then
  fail "the helm test script passed with a CA that did not sign the served certificate"
fi
ok
echo "chart OK ($checks groups of checks)"
