#!/usr/bin/env bash
# bench/run.sh: the admission server benchmarks of issue 4, in one command.
#
#   bench/run.sh            # from the repository root; writes bench/RESULTS.md
#
# 1. builds provgate and the bench binaries (own build dir, -j2),
# 2. starts a docker-registry on loopback, pushes + signs + attests a model
#    with the provgate CLI, writes a policy requiring both, makes a test CA,
# 3. starts bench_noop_server and `provgate serve` (TLS), 4. warms provgate,
# 5. wrk with keep-alive at the same concurrency against both, alternating,
# 6. burst: 1,000 reviews of one unverified model at once against a fresh
#    server, then /metrics: verifications and registry requests,
# 7. cold: COLD_MODELS fresh models admitted once each (p50/p99, registry
#    round trips per verification, duplicates from the registry access log),
# 8. RSS of a fresh server after RSS_MODELS distinct cached digests,
# 9. prints the Markdown table and writes bench/RESULTS.md.
#
# Knobs (environment): BUILD_DIR, WRK_THREADS (2), WRK_CONNECTIONS (32),
# WRK_DURATION (15s), ROUNDS (3), BURST (1000), COLD_MODELS (200),
# RSS_MODELS (10000), KA_IDLE (idle connections; default the server's worker count),
# QUIET_WAIT (0: seconds to wait for a quiet machine),
# RESULTS (bench/RESULTS.md), KEEP_WORK=1 keeps the temporary directory.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-32}
WRK_DURATION=${WRK_DURATION:-15s}
ROUNDS=${ROUNDS:-3}
BURST=${BURST:-1000}
COLD_MODELS=${COLD_MODELS:-200}
RSS_MODELS=${RSS_MODELS:-10000}
RESULTS=${RESULTS:-$ROOT/bench/RESULTS.md}

WORK=$(mktemp -d /tmp/provgate-bench.XXXXXX)
PIDS=()

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

stop_pid() {  # stops one process we started, by pid
  local pid=$1
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  if [[ ${KEEP_WORK:-0} == 1 || $rc != 0 ]]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_until() {  # wait_until SECONDS COMMAND...
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { log "timed out waiting for: $*"; return 1; }
    sleep 0.05
  done
}

# Sum of all series of a counter on a server's /metrics.
metric() {  # metric PORT NAME
  curl -sf --cacert "$WORK/ca.pem" "https://127.0.0.1:$1/metrics" |
    awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%d\n", s }'
}
metric_value() {  # metric_value PORT EXACT-SERIES (e.g. histogram _sum)
  curl -sf --cacert "$WORK/ca.pem" "https://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n { print $2 }'
}
listen_overflows() {  # the kernel's count of connections dropped because an accept queue was full
  awk '$1 == "TcpExt:" { if (!n) { for (i = 2; i <= NF; i++) if ($i == "ListenOverflows") c = i; n = 1 } else print $c }' \
    /proc/net/netstat
}
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
json_field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
fmt() { awk -v v="$1" -v d="${2:-1}" 'BEGIN { printf "%.*f", d, v }'; }
review_for() {  # review_for REF UID > file
  sed -e "s|@@REF@@|$1|" -e "s|@@UID@@|$2|" "$ROOT/bench/pod-review.json.in"
}

# ---------------------------------------------------------------- 1. build
log "building in $BUILD_DIR"
if [[ ! -f $BUILD_DIR/CMakeCache.txt ]]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
fi
cmake --build "$BUILD_DIR" -j2 --target provgate bench_noop_server bench_publish bench_admit >"$WORK/build.log" 2>&1 ||
  { tail -30 "$WORK/build.log" >&2; exit 1; }
# What was built: the commit and any local changes at build time.
COMMIT=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo "(not a git checkout)")
DIRTY_LIST=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null || true)
DIRTY=$(grep -c . <<<"$DIRTY_LIST" || true)
DIRTY_FILES=$(awk '{ printf "%s%s", (NR > 1 ? ", " : ""), $2 }' <<<"$DIRTY_LIST")
PROVGATE=$BUILD_DIR/webhook/provgate
NOOP=$BUILD_DIR/bench/bench_noop_server
PUBLISH=$BUILD_DIR/bench/bench_publish
ADMIT=$BUILD_DIR/bench/bench_admit
BUILD_TYPE=$(awk -F= '/^CMAKE_BUILD_TYPE:/ { print $2 }' "$BUILD_DIR/CMakeCache.txt")

# ------------------------------------------------- 2. registry, model, policy, TLS
REG_PORT=$(free_port)
REG=127.0.0.1:$REG_PORT
mkdir -p "$WORK/registry"
cat >"$WORK/registry.yml" <<EOF
version: 0.1
log: {level: info, formatter: text}
storage: {filesystem: {rootdirectory: $WORK/registry}, delete: {enabled: true}}
http: {addr: $REG}
EOF
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
PIDS+=($!)
# A second registry, without request logs, for the 10,000 models of the RSS
# phase: docker-registry spends ~3 ms of CPU per request, and logging adds to it.
BULK_PORT=$(free_port)
BULK=127.0.0.1:$BULK_PORT
mkdir -p "$WORK/bulk"
cat >"$WORK/bulk.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $WORK/bulk}, delete: {enabled: true}}
http: {addr: $BULK}
EOF
docker-registry serve "$WORK/bulk.yml" >"$WORK/bulk.log" 2>&1 &
PIDS+=($!)
wait_until 20 curl -sf "http://$REG/v2/"
wait_until 20 curl -sf "http://$BULK/v2/"
log "docker-registry on $REG (logging requests) and $BULK (bulk, quiet)"

printf 'registries:\n  - host: "%s"\n    insecure: true\n  - host: "%s"\n    insecure: true\n' "$REG" "$BULK" \
  >"$WORK/registries.yaml"
"$PROVGATE" keygen "$WORK/release" >/dev/null
head -c 4096 /dev/urandom >"$WORK/model.bin"
PREDICATE_TYPE=https://slsa.dev/provenance/v1
cat >"$WORK/provenance.json" <<'EOF'
{"buildDefinition": {"buildType": "https://provgate.dev/bench/v1",
  "externalParameters": {"workflow": {"repository": "https://github.com/acme/models", "ref": "refs/heads/main"}}},
 "runDetails": {"builder": {"id": "https://github.com/acme/models/.github/workflows/release.yml@refs/heads/main"}}}
EOF
mkdir -p "$WORK/policies"
cat >"$WORK/policies/bench.yaml" <<EOF
apiVersion: provgate.dev/v1alpha1
kind: ModelPolicy
metadata:
  name: bench-signed-and-attested
spec:
  mode: enforce
  match:
    references: ["$REG/bench/**", "$BULK/bench/**"]
  authorities:
    - name: release
      key: {file: $WORK/release.pub}
  signatures:
    require: 1
  attestations:
    - name: provenance
      predicateType: $PREDICATE_TYPE
      conditions:
        all:
          - path: predicate.buildDefinition.buildType
            equals: https://provgate.dev/bench/v1
          - path: predicate.runDetails.builder.id
            startsWith: https://github.com/acme/models/
EOF
"$PROVGATE" policy lint "$WORK/policies" >/dev/null

publish_cli() {  # publish_cli REF: provgate push + sign + attest
  local common=(--registry-config "$WORK/registries.yaml")
  "$PROVGATE" push "$WORK/model.bin" "$1" "${common[@]}" >/dev/null
  "$PROVGATE" sign "$1" --key "$WORK/release.key" "${common[@]}" >/dev/null
  "$PROVGATE" attest "$1" --key "$WORK/release.key" --predicate "$WORK/provenance.json" \
    --type "$PREDICATE_TYPE" "${common[@]}" >/dev/null
}
WARM_REF=$REG/bench/warm:v1
publish_cli "$WARM_REF"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=provgate-bench-ca \
  -keyout "$WORK/ca.key" -out "$WORK/ca.pem" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' \
  >"$WORK/server.ext"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=provgate-bench \
  -keyout "$WORK/server.key" -out "$WORK/server.csr" 2>/dev/null
openssl x509 -req -in "$WORK/server.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial -days 2 \
  -extfile "$WORK/server.ext" -out "$WORK/server.pem" 2>/dev/null

start_provgate() {  # start_provgate NAME [extra flags]; sets PG_PORT, PG_PID
  local name=$1; shift
  PG_PORT=$(free_port)
  "$PROVGATE" serve --listen "127.0.0.1:$PG_PORT" --tls-cert "$WORK/server.pem" --tls-key "$WORK/server.key" \
    --policies "$WORK/policies" --registry-config "$WORK/registries.yaml" --exclude-namespaces kube-system \
    "$@" 2>"$WORK/provgate-$name.log" &
  PG_PID=$!
  PIDS+=($PG_PID)
  wait_until 20 curl -sf --cacert "$WORK/ca.pem" "https://127.0.0.1:$PG_PORT/readyz"
  log "provgate serve ($name) on 127.0.0.1:$PG_PORT, pid $PG_PID"
}

admit_once() {  # admit_once PORT REF: one review; fails unless allowed
  review_for "$2" "warmup-$RANDOM" >"$WORK/one.json"
  curl -sf --cacert "$WORK/ca.pem" -H 'Content-Type: application/json' --data-binary "@$WORK/one.json" \
    "https://127.0.0.1:$1/validate" >"$WORK/one.out"
  grep -q '"allowed":true' "$WORK/one.out" || { log "review not allowed: $(cat "$WORK/one.out")"; return 1; }
}

# ------------------------------------------------- 3. servers, 4. warm-up
NOOP_PORT=$(free_port)
"$NOOP" --listen "127.0.0.1:$NOOP_PORT" --tls-cert "$WORK/server.pem" --tls-key "$WORK/server.key" \
  2>"$WORK/noop.log" &
NOOP_PID=$!
PIDS+=($NOOP_PID)
wait_until 20 curl -sf --cacert "$WORK/ca.pem" "https://127.0.0.1:$NOOP_PORT/healthz"
log "bench_noop_server on 127.0.0.1:$NOOP_PORT, pid $NOOP_PID"

start_provgate warm
WARM_PORT=$PG_PORT WARM_PID=$PG_PID
admit_once "$WARM_PORT" "$WARM_REF"
review_for "$WARM_REF" "0b8a4c1e-2f3d-4a5b-9c6d-7e8f9a0b1c2d" >"$WORK/review-warm.json"
# Sanity: all warm answers are allowed (wrk cannot tell a denial from an allow).
wrk -t1 -c4 -d1s -s "$ROOT/bench/validate.lua" "https://127.0.0.1:$WARM_PORT/validate" -- \
  "$WORK/review-warm.json" check >"$WORK/wrk-check.txt"
grep -q '^not_allowed: 0$' "$WORK/wrk-check.txt" || { cat "$WORK/wrk-check.txt" >&2; exit 1; }

# ------------------------------------------------- 5. warm throughput, side by side
to_ms='function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; if (v ~ /m$/) return v * 60000; return v }'
wrk_field() {  # wrk_field FILE rps|p50|p90|p99|errors
  case $2 in
    rps) awk '/^Requests\/sec:/ { print $2 }' "$1" ;;
    p50) awk "$to_ms"' $1 == "50%" { print ms($2) }' "$1" ;;
    p90) awk "$to_ms"' $1 == "90%" { print ms($2) }' "$1" ;;
    p99) awk "$to_ms"' $1 == "99%" { print ms($2) }' "$1" ;;
    requests) awk '/requests in/ { print $1 }' "$1" ;;
    errors) awk '/Socket errors|Non-2xx/ { $1 = $1; printf "%s; ", $0 }' "$1" ;;
  esac
}
WRK_CMD="wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION --latency -s bench/validate.lua URL/validate -- review.json"
declare -a NOOP_RUNS PG_RUNS
PG_REG_BEFORE=$(metric "$WARM_PORT" provgate_registry_requests_total)
PG_VER_BEFORE=$(metric "$WARM_PORT" provgate_verifications_total)
PG_ADM_BEFORE=$(metric "$WARM_PORT" provgate_admission_requests_total)
# Other users' builds share this machine: optionally wait (QUIET_WAIT seconds
# at most) for the 1-minute load average to drop below 1.5 first.
quiet_deadline=$((SECONDS + ${QUIET_WAIT:-0}))
while awk '{ exit !($1 >= 1.5) }' /proc/loadavg && ((SECONDS < quiet_deadline)); do sleep 10; done
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average before the warm runs: $LOAD_AT_START"

# CPU accounting per run (clock ticks): the server, wrk, and everything else
# on the machine (other users' builds share these cores too).
declare -A CPU=([noop_srv]=0 [noop_wrk]=0 [noop_other]=0 [noop_all]=0 [noop_req]=0
                [provgate_srv]=0 [provgate_wrk]=0 [provgate_other]=0 [provgate_all]=0 [provgate_req]=0)
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
all_ticks() { awk '/^cpu / { s = 0; for (i = 2; i <= 9; i++) s += $i; print s }' /proc/stat; }
TICK=$(getconf CLK_TCK)
for round in $(seq "$ROUNDS"); do
  for target in noop provgate; do
    if [[ $target == noop ]]; then port=$NOOP_PORT pid=$NOOP_PID; else port=$WARM_PORT pid=$WARM_PID; fi
    out=$WORK/wrk-$target-$round.txt
    c0=$(cpu_ticks "$pid") b0=$(busy_ticks) a0=$(all_ticks)
    /usr/bin/time -f '%U %S' -o "$WORK/wrk-time.txt" \
      wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$WRK_DURATION" --latency -s "$ROOT/bench/validate.lua" \
      "https://127.0.0.1:$port/validate" -- "$WORK/review-warm.json" >"$out"
    c1=$(cpu_ticks "$pid") b1=$(busy_ticks) a1=$(all_ticks)
    w=$(awk -v k="$TICK" '{ printf "%.0f", ($1 + $2) * k }' "$WORK/wrk-time.txt")
    CPU[${target}_srv]=$((CPU[${target}_srv] + c1 - c0))
    CPU[${target}_wrk]=$((CPU[${target}_wrk] + w))
    CPU[${target}_other]=$((CPU[${target}_other] + (b1 - b0) - (c1 - c0) - w))
    CPU[${target}_all]=$((CPU[${target}_all] + a1 - a0))
    CPU[${target}_req]=$((CPU[${target}_req] + $(wrk_field "$out" requests)))
    line="$(wrk_field "$out" rps) $(wrk_field "$out" p50) $(wrk_field "$out" p99) $(wrk_field "$out" p90)"
    if [[ $target == noop ]]; then NOOP_RUNS+=("$line"); else PG_RUNS+=("$line"); fi
    log "round $round $target: req/s p50 p99 p90 (ms) = $line; server $((c1 - c0)), wrk $w, others $(((b1 - b0) - (c1 - c0) - w)) of $((a1 - a0)) ticks $(wrk_field "$out" errors)"
  done
done
per_req_us() { awk -v t="${CPU[$1]}" -v n="${CPU[$2]}" -v k="$TICK" 'BEGIN { printf "%.0f", t / k * 1e6 / n }'; }
pct() { awk -v t="${CPU[$1]}" -v a="${CPU[$2]}" 'BEGIN { printf "%.0f", 100 * t / a }'; }
NOOP_CPU_US=$(per_req_us noop_srv noop_req) PG_CPU_US=$(per_req_us provgate_srv provgate_req)
NOOP_WRK_US=$(per_req_us noop_wrk noop_req) PG_WRK_US=$(per_req_us provgate_wrk provgate_req)
NOOP_OTHER_PCT=$(pct noop_other noop_all) PG_OTHER_PCT=$(pct provgate_other provgate_all)
# Throughput if these two cores did nothing but serve and generate load:
# what the CPU cost per request alone predicts, insensitive to other users.
CPU_RATIO=$(awk -v a="$NOOP_CPU_US" -v b="$NOOP_WRK_US" -v c="$PG_CPU_US" -v d="$PG_WRK_US" \
  'BEGIN { printf "%.2f", (a + b) / (c + d) }')

# ------------------------------------------------- 5b. keep-alive connections beyond the thread pool
# As many idle connections as the pool has threads (the no-op server logs ServerOptions::threads).
KA_IDLE=${KA_IDLE:-$(sed -n 's/.* with \([0-9]*\) workers.*/\1/p' "$WORK/noop.log")}
KA_JSON=$(python3 "$ROOT/bench/keepalive_probe.py" "$NOOP_PORT" "$WORK/ca.pem" "$WORK/review-warm.json" "$KA_IDLE" 45)
KA_SECS=$(json_field "$KA_JSON" seconds)
log "keep-alive probe (no-op server, $KA_IDLE idle connections): $KA_JSON"
PG_REG_DELTA=$(($(metric "$WARM_PORT" provgate_registry_requests_total) - PG_REG_BEFORE))
PG_VER_DELTA=$(($(metric "$WARM_PORT" provgate_verifications_total) - PG_VER_BEFORE))
PG_ADM_DELTA=$(($(metric "$WARM_PORT" provgate_admission_requests_total) - PG_ADM_BEFORE))
PG_DENIED=$(curl -sf --cacert "$WORK/ca.pem" "https://127.0.0.1:$WARM_PORT/metrics" |
  awk '/^provgate_admission_requests_total\{/ && !/decision="allow"/ { s += $2 } END { print s + 0 }')
WARM_RSS_KIB=$(rss_kib "$WARM_PID")
# Median round by throughput; its p50/p99 go in the table.
median() { printf '%s\n' "$@" | sort -n -k1,1 | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'; }
read -r NOOP_RPS NOOP_P50 NOOP_P99 NOOP_P90 <<<"$(median "${NOOP_RUNS[@]}")"
read -r PG_RPS PG_P50 PG_P99 PG_P90 <<<"$(median "${PG_RUNS[@]}")"
stop_pid "$NOOP_PID"
stop_pid "$WARM_PID"

# ------------------------------------------------- 6. burst of one unverified model
BURST_REF=$REG/bench/burst:v1
publish_cli "$BURST_REF"
start_provgate burst
BURST_PORT=$PG_PORT BURST_PID=$PG_PID
B_REG0=$(metric "$BURST_PORT" provgate_registry_requests_total)
B_VER0=$(metric "$BURST_PORT" provgate_verifications_total)
B_HIT0=$(metric "$BURST_PORT" provgate_cache_hits_total)
B_OVF0=$(listen_overflows)
BURST_CMD="bench_admit --ref $BURST_REF --requests $BURST --connections $BURST --fresh"
BURST_JSON=$("$ADMIT" --port "$BURST_PORT" --ca "$WORK/ca.pem" --template "$ROOT/bench/pod-review.json.in" \
  --ref "$BURST_REF" --requests "$BURST" --connections "$BURST" --fresh --label burst) ||
  { log "burst: unexpected answers: $BURST_JSON"; exit 1; }
B_OVF=$(($(listen_overflows) - B_OVF0))
B_REG=$(($(metric "$BURST_PORT" provgate_registry_requests_total) - B_REG0))
B_VER=$(($(metric "$BURST_PORT" provgate_verifications_total) - B_VER0))
B_HIT=$(($(metric "$BURST_PORT" provgate_cache_hits_total) - B_HIT0))
log "burst: $BURST_JSON; verifications $B_VER, registry requests $B_REG, cache hits $B_HIT, listen overflows $B_OVF"

# ------------------------------------------------- 7. cold verification
"$PUBLISH" --registry-config "$WORK/registries.yaml" --repository "$REG/bench/cold" --count "$COLD_MODELS" \
  --file "$WORK/model.bin" --key "$WORK/release.key" --predicate "$WORK/provenance.json" \
  --type "$PREDICATE_TYPE" --tag-prefix c --threads 4 --out "$WORK/cold.refs" 2>>"$WORK/publish.log"
C_REG0=$(metric "$BURST_PORT" provgate_registry_requests_total)
C_VER0=$(metric "$BURST_PORT" provgate_verifications_total)
C_RSUM0=$(metric_value "$BURST_PORT" provgate_registry_duration_seconds_sum)
C_VSUM0=$(metric_value "$BURST_PORT" provgate_verification_duration_seconds_sum)
REGLOG_BEFORE=$(wc -l <"$WORK/registry.log")
COLD_CMD="bench_admit --refs cold.refs --connections 1"
COLD_JSON=$("$ADMIT" --port "$BURST_PORT" --ca "$WORK/ca.pem" --template "$ROOT/bench/pod-review.json.in" \
  --refs "$WORK/cold.refs" --connections 1 --label cold) || { log "cold: unexpected answers: $COLD_JSON"; exit 1; }
C_REG=$(($(metric "$BURST_PORT" provgate_registry_requests_total) - C_REG0))
C_VER=$(($(metric "$BURST_PORT" provgate_verifications_total) - C_VER0))
C_RSUM=$(awk -v a="$(metric_value "$BURST_PORT" provgate_registry_duration_seconds_sum)" -v b="$C_RSUM0" 'BEGIN { print a - b }')
C_VSUM=$(awk -v a="$(metric_value "$BURST_PORT" provgate_verification_duration_seconds_sum)" -v b="$C_VSUM0" 'BEGIN { print a - b }')
sleep 0.5  # let the registry flush its log
REGLOG_JSON=$(python3 "$ROOT/bench/registry_log_summary.py" "$WORK/registry.log" "$((REGLOG_BEFORE + 1))" \
  /v2/bench/cold/ c)
C_LOGGED=$(json_field "$REGLOG_JSON" requests)
C_REPEATS=$(json_field "$REGLOG_JSON" repeated_across_the_phase)
C_SPAN=$(json_field "$REGLOG_JSON" median_span_ms)
C_SUMDUR=$(json_field "$REGLOG_JSON" median_sum_of_durations_ms)
C_KINDS=$(python3 -c 'import json,sys; print("; ".join("%s: %d" % kv for kv in json.loads(sys.argv[1])["kinds"].items()))' "$REGLOG_JSON")
log "cold: $COLD_JSON; verifications $C_VER, registry requests $C_REG; registry log: $REGLOG_JSON"
stop_pid "$BURST_PID"

# ------------------------------------------------- 8. RSS after RSS_MODELS cached digests
"$PUBLISH" --registry-config "$WORK/registries.yaml" --repository "$BULK/bench/many" --count "$RSS_MODELS" \
  --file "$WORK/model.bin" --key "$WORK/release.key" --predicate "$WORK/provenance.json" \
  --type "$PREDICATE_TYPE" --tag-prefix r --threads 4 --distinct-config 0 --out "$WORK/many.refs" 2>>"$WORK/publish.log"
log "$(tail -1 "$WORK/publish.log")"
start_provgate rss --cache-ttl 3600
RSS_PORT=$PG_PORT RSS_PID=$PG_PID
RSS_START_KIB=$(rss_kib "$RSS_PID")
admit_once "$RSS_PORT" "$WARM_REF"
RSS_ONE_KIB=$(rss_kib "$RSS_PID")
RSS_CMD="bench_admit --refs many.refs --connections 8"
# In four parts, sampling VmRSS after each: growth per entry, not just the end point.
split -n l/4 -d "$WORK/many.refs" "$WORK/many.part."
RSS_STEPS="" R_DONE=0 R_SECS=0 RSS_FAILURE=""
for part in "$WORK"/many.part.*; do
  RSS_JSON=$("$ADMIT" --port "$RSS_PORT" --ca "$WORK/ca.pem" --template "$ROOT/bench/pod-review.json.in" \
    --refs "$part" --connections 8 --label fill) || {
    # A server that died is a result to report, not a reason to lose the others.
    RSS_FAILURE="the fill failed after $R_DONE cached digests: $(json_field "$RSS_JSON" first_problem)"
    kill -0 "$RSS_PID" 2>/dev/null || RSS_FAILURE="$RSS_FAILURE; provgate exited: $(grep -v '"msg"' "$WORK/provgate-rss.log" | tail -2 | tr '\n' ' ')"
    log "fill: $RSS_FAILURE; $RSS_JSON"
    break
  }
  R_DONE=$((R_DONE + $(wc -l <"$part")))
  R_SECS=$(awk -v a="$R_SECS" -v b="$(json_field "$RSS_JSON" seconds)" 'BEGIN { print a + b }')
  RSS_STEPS="$RSS_STEPS${RSS_STEPS:+, }$R_DONE: $(awk -v k="$(rss_kib "$RSS_PID")" 'BEGIN { printf "%.1f", k / 1024 }') MB"
  log "fill: $R_DONE cached, VmRSS $(rss_kib "$RSS_PID") KiB; $RSS_JSON"
done
R_VER=$(metric "$RSS_PORT" provgate_verifications_total || echo 0)
R_VERIFIED=$(curl -sf --cacert "$WORK/ca.pem" "https://127.0.0.1:$RSS_PORT/metrics" |
  awk '/^provgate_verifications_total\{result="verified"\}/ { print $2 }' || true)
RSS_END_KIB=$(rss_kib "$RSS_PID" 2>/dev/null || echo 0)
RSS_HWM_KIB=$(hwm_kib "$RSS_PID" 2>/dev/null || echo 0)
RSS_THREADS=$(awk '/^Threads/ { print $2 }' "/proc/$RSS_PID/status" 2>/dev/null || echo 0)
log "fill: $RSS_JSON; verifications $R_VER ($R_VERIFIED verified); VmRSS $RSS_START_KIB -> $RSS_ONE_KIB -> $RSS_END_KIB KiB (HWM $RSS_HWM_KIB)"
stop_pid "$RSS_PID"

# ------------------------------------------------- 9. the table
pass() { if awk "BEGIN { exit !($1) }"; then echo "**met**"; else echo "**missed**"; fi; }
TP_RATIO=$(awk -v a="$PG_RPS" -v b="$NOOP_RPS" 'BEGIN { printf "%.2f", a / b }')
P99_RATIO=$(awk -v a="$PG_P99" -v b="$NOOP_P99" 'BEGIN { printf "%.2f", a / b }')
RSS_MB=$(awk -v k="$RSS_END_KIB" 'BEGIN { printf "%.1f", k / 1024 }')
PER_ENTRY=$(awk -v a="$RSS_END_KIB" -v b="$RSS_ONE_KIB" -v n="$RSS_MODELS" 'BEGIN { printf "%.0f", (a - b) * 1024 / n }')
C_RT=$(awk -v r="$C_REG" -v v="$C_VER" 'BEGIN { printf "%.2f", r / v }')
C_MEAN_RT_MS=$(awk -v s="$C_RSUM" -v n="$C_REG" 'BEGIN { printf "%.2f", s * 1000 / n }')
C_MEAN_V_MS=$(awk -v s="$C_VSUM" -v n="$C_VER" 'BEGIN { printf "%.2f", s * 1000 / n }')
B_P50=$(json_field "$BURST_JSON" p50_ms); B_P99=$(json_field "$BURST_JSON" p99_ms); B_MAX=$(json_field "$BURST_JSON" max_ms)
B_SECS=$(json_field "$BURST_JSON" seconds); B_ALLOWED=$(json_field "$BURST_JSON" allowed)
C_P50=$(json_field "$COLD_JSON" p50_ms); C_P99=$(json_field "$COLD_JSON" p99_ms); C_MAX=$(json_field "$COLD_JSON" max_ms)
R_RPS=$(awk -v n="$R_DONE" -v t="$R_SECS" 'BEGIN { print n / t }')
round_lines() {
  local i=1
  for r in "$@"; do
    read -r a b c _ <<<"$r"
    if ((i++ > 1)); then printf '; '; fi
    printf '%s req/s (p50 %s, p99 %s ms)' "$(fmt "$a" 0)" "$(fmt "$b" 2)" "$(fmt "$c" 2)"
  done
}

{
cat <<EOF
# Admission server benchmarks

Produced by \`bench/run.sh\` on $(date -u +%Y-%m-%dT%H:%M:%SZ), built from commit \`$COMMIT\`$( ((DIRTY)) && echo " with local changes to $DIRTY tracked files ($DIRTY_FILES)"),
$(nproc) cores ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(uname -sr), $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM,
g++ $(g++ -dumpfullversion), $BUILD_TYPE build, Boost $(sed -n 's/^#define BOOST_LIB_VERSION "\(.*\)"/\1/p' /usr/include/boost/version.hpp | tr _ .) (Asio, Beast), $(openssl version | cut -d' ' -f1-2), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2).
The load generator, the registry and the servers share these cores, so
absolute latencies mean little; the ratios are what the targets are about.

| measure | result | target | |
| --- | --- | --- | --- |
| no-op HTTPS server (transport ceiling), keep-alive, $WRK_CONNECTIONS connections | $(fmt "$NOOP_RPS" 0) req/s, p50 $(fmt "$NOOP_P50" 2) ms, p99 $(fmt "$NOOP_P99" 2) ms | | |
| \`provgate serve\`, warm (model verified and cached), same load | $(fmt "$PG_RPS" 0) req/s, p50 $(fmt "$PG_P50" 2) ms, p99 $(fmt "$PG_P99" 2) ms | | |
| warm throughput / no-op throughput | $TP_RATIO | ≥ 0.70 | $(pass "$TP_RATIO >= 0.70") |
| warm p99 / no-op p99 | $P99_RATIO | ≤ 1.5 | $(pass "$P99_RATIO <= 1.5") |
| CPU per request: server (no-op / provgate), wrk (no-op / provgate) | $NOOP_CPU_US / $PG_CPU_US µs, $NOOP_WRK_US / $PG_WRK_US µs | provgate ≤ 100 µs | $(pass "$PG_CPU_US <= 100") |
| throughput ratio predicted by CPU per request ((no-op + wrk) / (provgate + wrk)) | $CPU_RATIO | ≥ 0.70 | $(pass "$CPU_RATIO >= 0.70") |
| one more connection while $KA_IDLE keep-alive connections are idle (no-op server: the same HTTPS shell as provgate) | answered after $( [[ $KA_SECS == None ]] && echo "no answer within 45" || fmt "$KA_SECS" 1) s | | |
| burst: $BURST reviews of one unverified model, all at once ($BURST fresh TLS connections) | $B_VER verification(s), $B_REG registry requests, $B_HIT cache/in-flight hits, $B_ALLOWED/$BURST allowed; p50 $(fmt "$B_P50" 0) ms, p99 $(fmt "$B_P99" 0) ms, max $(fmt "$B_MAX" 0) ms, all answered in $(fmt "$B_SECS" 2) s | exactly 1 verification | $(pass "$B_VER == 1") |
| cold verification (signature + one attestation, by tag), $COLD_MODELS fresh models admitted one after another | p50 $(fmt "$C_P50" 2) ms, p99 $(fmt "$C_P99" 2) ms, max $(fmt "$C_MAX" 2) ms | report | |
| registry round trips per cold verification | $C_RT ($C_REG requests / $C_VER verifications; mean registry request $C_MEAN_RT_MS ms, mean verification $C_MEAN_V_MS ms) | no request twice, independent ones in parallel | $(pass "$C_REPEATS == 0") ($C_REPEATS URIs repeated) |
| VmRSS after $RSS_MODELS distinct cached digests | ${RSS_FAILURE:+**$RSS_FAILURE** — }$RSS_MB MB (started at $(fmt "$(awk -v k="$RSS_START_KIB" 'BEGIN { print k / 1024 }')" 1) MB, $(fmt "$(awk -v k="$RSS_ONE_KIB" 'BEGIN { print k / 1024 }')" 1) MB after the first review; ≈ $PER_ENTRY bytes per entry; peak $(fmt "$(awk -v k="$RSS_HWM_KIB" 'BEGIN { print k / 1024 }')" 1) MB; $RSS_THREADS threads) | < 50 MB | $(if [[ -n $RSS_FAILURE ]]; then echo "**not measured**"; else pass "$RSS_END_KIB < 51200"; fi) |

## Details

- Warm runs, alternating no-op / provgate, $ROUNDS rounds of $WRK_DURATION each; the table shows the median round by throughput.
  - no-op: $(round_lines "${NOOP_RUNS[@]}")
  - provgate: $(round_lines "${PG_RUNS[@]}")
  - Load average before the warm runs: $LOAD_AT_START. Other processes on the machine used $NOOP_OTHER_PCT% (no-op runs) and $PG_OTHER_PCT% (provgate runs) of the CPU time.
  - During provgate's warm runs: $PG_ADM_DELTA reviews answered, $PG_DENIED not allowed, $PG_VER_DELTA verifications,
    $PG_REG_DELTA registry requests (the tag is re-resolved when its ${VERIFY_RESOLVE_TTL:-5} s resolution expires).
    provgate's VmRSS after the warm runs: $(fmt "$(awk -v k="$WARM_RSS_KIB" 'BEGIN { print k / 1024 }')" 1) MB.
- Burst: \`$(echo "$BURST_JSON")\`
  The kernel counted $B_OVF listen-queue overflows (TcpExtListenOverflows) during the burst (the servers listen
  with a backlog of SOMAXCONN; a connection that finds the queue full waits for a TCP retransmission, 1 s then 2 s).
- Cold: \`$(echo "$COLD_JSON")\`
  Registry log of the cold phase (\`bench/registry_log_summary.py\`): $C_LOGGED requests under /v2/bench/cold/ — $C_KINDS;
  $C_REPEATS requests repeated. Registry-side time per verification (median): span from the first request's
  start to the last one's end $(fmt "$C_SPAN" 1) ms, sum of request durations $(fmt "$C_SUMDUR" 1) ms.
- Cache fill: $R_VER verifications ($R_VERIFIED verified) at $(fmt "$R_RPS" 0) cold reviews/s over 8 connections;
  VmRSS by number of cached digests: $RSS_STEPS. Last part: \`$(echo "$RSS_JSON")\`

## Commands

\`\`\`sh
bench/run.sh   # BUILD_DIR=$(realpath --relative-to="$ROOT" "$BUILD_DIR") WRK_THREADS=$WRK_THREADS WRK_CONNECTIONS=$WRK_CONNECTIONS WRK_DURATION=$WRK_DURATION ROUNDS=$ROUNDS BURST=$BURST COLD_MODELS=$COLD_MODELS RSS_MODELS=$RSS_MODELS
\`\`\`

What it runs (ports are free loopback ports picked at run time):

\`\`\`sh
cmake --build $(realpath --relative-to="$ROOT" "$BUILD_DIR") -j2 --target provgate bench_noop_server bench_publish bench_admit
docker-registry serve registry.yml                         # 127.0.0.1, filesystem storage in a temp dir
provgate keygen release
provgate push model.bin REG/bench/warm:v1 --registry-config registries.yaml   # 4 KiB model
provgate sign REG/bench/warm:v1 --key release.key --registry-config registries.yaml
provgate attest REG/bench/warm:v1 --key release.key --predicate provenance.json --type $PREDICATE_TYPE --registry-config registries.yaml
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 ...       # test CA + server cert for 127.0.0.1
bench_noop_server --listen 127.0.0.1:P1 --tls-cert server.pem --tls-key server.key
provgate serve --listen 127.0.0.1:P2 --tls-cert server.pem --tls-key server.key --policies policies/ \\
  --registry-config registries.yaml --exclude-namespaces kube-system
curl --cacert ca.pem --data-binary @review.json https://127.0.0.1:P2/validate   # warm-up: one review
$WRK_CMD   # against P1 and P2, alternating
$BURST_CMD   # fresh server, model pushed+signed+attested with the CLI just before
bench_publish --count $COLD_MODELS ...; $COLD_CMD
bench_publish --count $RSS_MODELS --distinct-config 0 ...   # into a second, quiet registry
provgate serve ... --cache-ttl 3600; $RSS_CMD (in 4 parts); grep VmRSS /proc/PID/status
\`\`\`

Why targets are missed, with profiles, and earlier runs: \`bench/README.md\`.

The policy requires one signature by \`release\` and an SLSA v1 provenance
attestation with two conditions; the review is a Pod (as the API server
sends it, ~3.4 KB) with the model as an image volume (\`bench/pod-review.json.in\`).
EOF
} >"$RESULTS.tmp"
mv "$RESULTS.tmp" "$RESULTS"
cat "$RESULTS"
