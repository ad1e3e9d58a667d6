#!/usr/bin/env bash
# bench/reload_rss.sh: what a policy reload of the largest file the bounds
# allow costs `provgate serve` in memory. The server starts on plain HTTP
# with the example policies; then a file of N one-letter scalars in one flow
# sequence (N + 3 nodes) is written beside them, which it reads on the next
# reload and refuses (it is no policy). Prints VmRSS before, VmHWM (peak
# RSS) and VmRSS after the reload, and the reload error's first line.
#
#   bench/reload_rss.sh PATH/TO/provgate [N (99997: the 100,000-node bound)]
#
# bench/README.md records a run. Needs curl and python3.
set -euo pipefail
PROVGATE=$(realpath "${1:?usage: reload_rss.sh PATH/TO/provgate [N]}")
N=${2:-99997}
HERE=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/provgate-reload.XXXXXX)
PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir "$WORK/policies"
cp "$HERE/examples/policies/namespace-scoping.yaml" "$HERE/examples/policies/example-key.pub" "$WORK/policies/"
"$PROVGATE" serve --insecure-http --listen "127.0.0.1:$port" --policies "$WORK/policies" \
  --policy-reload-interval 1 2>"$WORK/serve.log" &
PID=$!
ready() { curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; }
for _ in $(seq 50); do ready && break; sleep 0.1; done
ready || { echo "serve did not become ready" >&2; cat "$WORK/serve.log" >&2; exit 1; }
status() { grep -E "^$1:" "/proc/$PID/status" | awk '{print $2 / 1024 " MiB"}'; }
echo "before: VmRSS $(status VmRSS)"
python3 -c "import sys; open(sys.argv[1], 'w').write('x: [' + ','.join(['a'] * int(sys.argv[2])) + ']\n')" \
  "$WORK/big.yaml" "$N"
mv "$WORK/big.yaml" "$WORK/policies/big.yaml"
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/readyz" | grep -q lastReloadError && break
  sleep 0.1
done
echo "after:  VmHWM $(status VmHWM), VmRSS $(status VmRSS)"
curl -fs "http://127.0.0.1:$port/readyz" | python3 -c 'import json, sys; print("error: " + json.load(sys.stdin)["lastReloadError"].splitlines()[0])'
