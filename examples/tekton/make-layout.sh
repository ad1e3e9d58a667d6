#!/usr/bin/env bash
# Regenerates layout/ (an OCI image layout) and policies/chains.pub with the
# provgate binary: five omlmd-style models, signed and attested the way Tekton
# Chains would, with a throwaway key standing in for Chains' signing-secrets
# (its private half is deleted afterwards). The provenance predicates are
# predicates/slsa-v0.2.json and predicates/slsa-v1.json with each model's
# values filled in. Usage: make-layout.sh PATH/TO/provgate
set -euo pipefail
provgate="${1:?usage: make-layout.sh PATH/TO/provgate}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

chains=https://tekton.dev/chains/v2
acme=https://github.com/acme/mnist-training
mallory=https://github.com/mallory/mnist-training
commit=3f9c2a7d1e4b8c6f0a5d2e9b7c1f4a8d6e3b0c92
pipeline_commit=8e1d5b3a9c7f2e4d6b0a1c3e5f7d9b2a4c6e8f01
layout=(--oci-layout "$here/layout")

# predicate TEMPLATE OUT REPOSITORY GIT_URL BUILDER_ID: fills in a template.
predicate() {
  python3 - "$@" "$commit" "$pipeline_commit" <<'PY'
import base64, json, sys
template, out, repository, git_url, builder, commit, pipeline_commit = sys.argv[1:]
b64 = lambda v: base64.b64encode(json.dumps(v).encode()).decode()
text = open(template).read()
for key, value in {"@REPOSITORY@": repository, "@GIT_URL@": git_url, "@BUILDER_ID@": builder,
                   "@GIT_COMMIT@": commit, "@PIPELINE_COMMIT@": pipeline_commit,
                   "@COMMIT_B64@": b64(commit), "@URL_B64@": b64(git_url)}.items():
    text = text.replace(key, value)
json.dump(json.loads(text), open(out, "w"), indent=2)
PY
}

# model NAME: pushes registry.example.com/models/NAME:v1 with omlmd metadata.
model() {
  printf '{"weights": "of %s"}\n' "$1" > "$work/weights.json"
  printf '{"name":"mnist","author":"acme ML platform","customProperties":{"accuracy":0.97}}' > "$work/md.json"
  "$provgate" push "$work/weights.json" "registry.example.com/models/$1:v1" --metadata "$work/md.json" "${layout[@]}"
}

attest() {  # attest NAME PREDICATE TYPE
  "$provgate" attest "registry.example.com/models/$1:v1" --key "$work/chains.key" \
    --predicate "$2" --type "$3" "${layout[@]}"
}
sign() { "$provgate" sign "registry.example.com/models/$1:v1" --key "$work/chains.key" "${layout[@]}"; }

rm -rf "$here/layout"
"$provgate" keygen "$work/chains"
v02=https://slsa.dev/provenance/v0.2
v1=https://slsa.dev/provenance/v1
t02="$here/predicates/slsa-v0.2.json"
t1="$here/predicates/slsa-v1.json"

# Admitted: SLSA v0.2, trained from acme.
predicate "$t02" "$work/mnist.json" registry.example.com/models/mnist "$acme" "$chains"
model mnist; sign mnist; attest mnist "$work/mnist.json" "$v02"
# Denied: signed and attested by Chains, but trained from mallory's fork.
predicate "$t02" "$work/forked.json" registry.example.com/models/mnist-forked "$mallory" "$chains"
model mnist-forked; sign mnist-forked; attest mnist-forked "$work/forked.json" "$v02"
# Admitted: SLSA v1.0, trained from acme.
predicate "$t1" "$work/v1.json" registry.example.com/models/slsa-v1/mnist "$acme" "$chains"
model slsa-v1/mnist; sign slsa-v1/mnist; attest slsa-v1/mnist "$work/v1.json" "$v1"
# Denied: SLSA v1.0 from acme, signed with the key, but another builder.
predicate "$t1" "$work/other.json" registry.example.com/models/slsa-v1/mnist-other-builder "$acme" \
  https://ci.example.com/chains-dev
model slsa-v1/mnist-other-builder; sign slsa-v1/mnist-other-builder
attest slsa-v1/mnist-other-builder "$work/other.json" "$v1"
# Denied: SLSA v1.0 from acme, attested, but the model itself is unsigned
# (what artifacts.oci.storage: "" gives).
predicate "$t1" "$work/unsigned.json" registry.example.com/models/slsa-v1/mnist-unsigned "$acme" "$chains"
model slsa-v1/mnist-unsigned; attest slsa-v1/mnist-unsigned "$work/unsigned.json" "$v1"

cp "$work/chains.pub" "$here/policies/chains.pub"
echo "layout written; the pins in provgate-test.yaml are:"
python3 - "$here/layout/index.json" <<'PY'
import json, sys
for m in json.load(open(sys.argv[1]))["manifests"]:
    name = m.get("annotations", {}).get("org.opencontainers.image.ref.name", "")
    if name.endswith("/mnist:v1"):
        print(f"{name}@{m['digest']}")
PY
