#!/usr/bin/env bash
# examples/tekton: the provgate test suite passes over the committed layout,
# fails when a layout blob is tampered with, and fails when an expectation is
# changed; the Tekton and Chains resources render offline with
# `kubectl kustomize` (and the PipelineRun beside them), and the Pipeline's
# references to Tasks, params and results name things that exist.
# kubectl: $KUBECTL, else on PATH, else the one scripts/install-deps.sh
# unpacks; without any, the YAML checks are skipped, saying so.
# Usage: tekton_test.sh PROVGATE_BINARY
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
example="$root/examples/tekton"
P="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
checks=0
ok() { checks=$((checks + 1)); }

# 1. The suite as committed: every expectation holds (exit 0).
"$P" test "$example" > "$work/pass.out" 2>&1 || fail "provgate test examples/tekton: $(cat "$work/pass.out")"
grep -q '^6 passed, 0 failed, 6 expectations in 1 files$' "$work/pass.out" || fail "unexpected summary: $(tail -1 "$work/pass.out")"
ok

# 2. A tampered blob in a copy of the layout: the models can no longer be
# read as they were recorded, and the suite fails (exit 1: expectations
# missed, the reasons name the digest mismatch).
cp -r "$example" "$work/tampered"
mnist_manifest="$(python3 -c 'import json,sys; print([m["digest"] for m in json.load(open(sys.argv[1]))["manifests"] if m.get("annotations",{}).get("org.opencontainers.image.ref.name")=="registry.example.com/models/mnist:v1"][0].split(":")[1])' "$example/layout/index.json")"
printf ' ' >> "$work/tampered/layout/blobs/sha256/$mnist_manifest"
set +e
"$P" test "$work/tampered" > "$work/tampered.out" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "tampered layout: exit $rc, expected 1: $(cat "$work/tampered.out")"
grep -q 'digest-mismatch' "$work/tampered.out" || fail "tampered layout: no digest-mismatch reason: $(cat "$work/tampered.out")"
ok

# 3. A changed expectation fails (exit 1): the suite really decides.
cp -r "$example" "$work/changed"
sed -i 's|mallory/mnist-training"|acme/mnist-training"|' "$work/changed/provgate-test.yaml"
cmp -s "$example/provgate-test.yaml" "$work/changed/provgate-test.yaml" && fail "the expectation edit changed nothing"
set +e
"$P" test "$work/changed" > "$work/changed.out" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "changed expectation: exit $rc, expected 1: $(cat "$work/changed.out")"
grep -q '^5 passed, 1 failed' "$work/changed.out" || fail "changed expectation: $(tail -1 "$work/changed.out")"
ok

# 4. The policies load on their own.
"$P" policy lint "$example/policies" > /dev/null || fail "policy lint examples/tekton/policies"
ok

# 5. The Kubernetes YAML, offline.
KUBECTL="${KUBECTL:-$(command -v kubectl || true)}"
[ -n "$KUBECTL" ] || KUBECTL="$root/tests/tools/helm/layer/kubectl/kubectl"
if [ ! -x "$KUBECTL" ]; then
  echo "SKIP: kubectl not found (set KUBECTL or run scripts/install-deps.sh); the Tekton YAML was not checked"
  echo "PASS: $checks checks (YAML checks skipped)"
  exit 0
fi
"$KUBECTL" kustomize "$example" > "$work/rendered.yaml" 2> "$work/kustomize.err" ||
  fail "kubectl kustomize examples/tekton: $(cat "$work/kustomize.err")"
for want in "Namespace ml-builds" "Task ml-builds/fetch-source" "Task ml-builds/train-model" \
            "Task ml-builds/push-model" "Pipeline ml-builds/train-and-push-model" \
            "ConfigMap tekton-chains/chains-config" "Secret tekton-chains/signing-secrets"; do
  kind="${want%% *}" name="${want#* }"
  awk -v kind="kind: $kind" -v name="  name: ${name##*/}" '
    /^---/ {k = 0; n = 0; next} $0 == kind {k = 1} $0 == name {n = 1} k && n {found = 1} END {exit !found}
  ' "$work/rendered.yaml" || fail "the rendered resources lack $want"
done
ok
# The PipelineRun is not part of the kustomization (it is created, with a
# generated name); render it through one of its own.
mkdir "$work/run"
sed 's/^  generateName: train-mnist-$/  name: train-mnist-check/' "$example/pipelinerun.yaml" > "$work/run/pipelinerun.yaml"
printf 'resources: [pipelinerun.yaml]\n' > "$work/run/kustomization.yaml"
"$KUBECTL" kustomize "$work/run" > /dev/null 2> "$work/run.err" || fail "kubectl kustomize pipelinerun.yaml: $(cat "$work/run.err")"
ok

# 6. What kustomize does not know about Tekton: every taskRef names a Task
# here, every param passed is declared by its Task, every $(params.X) and
# $(tasks.T.results.R) names a declared param or result, and the
# PipelineRun's params are the Pipeline's. Needs PyYAML.
if ! python3 -c 'import yaml' 2> /dev/null; then
  echo "SKIP: python3 has no yaml module; the Pipeline's references were not checked"
else
  python3 - "$work/rendered.yaml" "$example/pipelinerun.yaml" <<'PY' || fail "Pipeline references (above)"
import re, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
run = yaml.safe_load(open(sys.argv[2]))
tasks = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "Task"}
pipeline = next(d["spec"] for d in docs if d["kind"] == "Pipeline")
errors = []
def strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values(): yield from strings(v)
    elif isinstance(node, list):
        for v in node: yield from strings(v)
for name, spec in tasks.items():
    params = {p["name"] for p in spec.get("params", [])}
    results = {r["name"] for r in spec.get("results", [])}
    for s in strings(spec["steps"]):
        errors += [f"Task {name}: $(params.{p}) undeclared" for p in re.findall(r"\$\(params\.([\w-]+)\)", s) if p not in params]
        errors += [f"Task {name}: $(results.{r}.path) undeclared" for r in re.findall(r"\$\(results\.([\w-]+)\.path\)", s) if r not in results]
declared = {p["name"] for p in pipeline.get("params", [])}
by_task = {t["name"]: t["taskRef"]["name"] for t in pipeline["tasks"]}
for t in pipeline["tasks"]:
    ref = t["taskRef"]["name"]
    if ref not in tasks:
        errors.append(f"pipeline task {t['name']}: no Task {ref}"); continue
    task_params = {p["name"]: p for p in tasks[ref].get("params", [])}
    given = {p["name"] for p in t.get("params", [])}
    errors += [f"pipeline task {t['name']}: Task {ref} has no param {p}" for p in given - set(task_params)]
    errors += [f"pipeline task {t['name']}: required param {p} not given" for p, s in task_params.items() if p not in given and "default" not in s]
for s in strings(pipeline):
    errors += [f"Pipeline: $(params.{p}) undeclared" for p in re.findall(r"\$\(params\.([\w-]+)\)", s) if p not in declared]
    for task, result in re.findall(r"\$\(tasks\.([\w-]+)\.results\.([\w-]+)", s):
        if task not in by_task or result not in {r["name"] for r in tasks.get(by_task[task], {}).get("results", [])}:
            errors.append(f"Pipeline: $(tasks.{task}.results.{result}) names no declared result")
required = {p["name"] for p in pipeline.get("params", []) if "default" not in p}
given = {p["name"] for p in run["spec"].get("params", [])}
errors += [f"PipelineRun: param {p} is not the Pipeline's" for p in given - declared]
errors += [f"PipelineRun: required param {p} missing" for p in required - given]
for e in errors: print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
  ok
fi
echo "PASS: $checks checks"
