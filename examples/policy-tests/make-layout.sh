#!/usr/bin/env bash
# Regenerates layout/ (an OCI image layout) and policies/release.pub with the
# provgate binary: three models pushed, two signed with a throwaway key whose
# private half is deleted afterwards. Usage: make-layout.sh PATH/TO/provgate
set -euo pipefail
provgate="${1:?usage: make-layout.sh PATH/TO/provgate}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

rm -rf "$here/layout"
"$provgate" keygen "$work/release"
printf 'weights of mnist\n' > "$work/mnist.bin"
printf 'weights of mnist, unsigned\n' > "$work/unsigned.bin"
printf 'weights of mnist, undertrained\n' > "$work/sloppy.bin"
printf '{"name":"mnist","customProperties":{"accuracy":0.97}}' > "$work/good.json"
printf '{"name":"mnist","customProperties":{"accuracy":0.81}}' > "$work/sloppy.json"

layout=(--oci-layout "$here/layout")
"$provgate" push "$work/mnist.bin" registry.example.com/models/mnist:v1 --metadata "$work/good.json" "${layout[@]}"
"$provgate" push "$work/unsigned.bin" registry.example.com/models/mnist-unsigned:v1 --metadata "$work/good.json" "${layout[@]}"
"$provgate" push "$work/sloppy.bin" registry.example.com/models/mnist-sloppy:v1 --metadata "$work/sloppy.json" "${layout[@]}"
"$provgate" sign registry.example.com/models/mnist:v1 --key "$work/release.key" "${layout[@]}"
"$provgate" sign registry.example.com/models/mnist-sloppy:v1 --key "$work/release.key" "${layout[@]}"
cp "$work/release.pub" "$here/policies/release.pub"
echo "layout written; the pin in provgate-test.yaml is:"
echo "registry.example.com/models/mnist:v1@$(python3 -c 'import json,sys; print([m["digest"] for m in json.load(open(sys.argv[1]))["manifests"] if m.get("annotations",{}).get("org.opencontainers.image.ref.name")=="registry.example.com/models/mnist:v1"][0])' "$here/layout/index.json")"
