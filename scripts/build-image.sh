#!/usr/bin/env bash
# Builds the provgate runtime image (Containerfile, FROM scratch) with buildah,
# no daemon, and proves it: `provgate --version` and `provgate serve` run from
# inside the image, then the image is pushed and its digest printed.
#   scripts/build-image.sh                          push to a throwaway docker-registry
#                                                   on loopback and read the manifest back
#   scripts/build-image.sh --push HOST[:PORT]/REPO[:TAG] [--insecure]
#                                                   push to your registry (TAG: the version;
#                                                   log in first: buildah login HOST)
# --insecure: plain HTTP or unverified TLS for --push (always so for 127.x / localhost).
# The image is named like the chart's default: image.repository of
# charts/provgate/values.yaml, tagged with the CMake project VERSION, which
# must equal Chart.yaml's appVersion.
# Environment: SOURCE_DATE_EPOCH (default: the time of the HEAD commit) is the
# build date `--version` prints and every timestamp in the image: the same
# binary gives the same image digest. PROVGATE_COMMIT overrides the commit;
# PROVGATE_IMAGE_SOURCE the org.opencontainers.image.source label.
# Release build in build-image/, root filesystem staged in build-image/image/.
# Runs as root (vfs storage, chroot isolation). Idempotent; every container,
# mount and server it starts is removed at exit.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
umask 022   # the staged files keep their modes in the image: nonroot must read them

push_target=""
insecure=0
while [ $# -gt 0 ]; do
  case "$1" in
    --push) push_target="${2:-}"; [ -n "$push_target" ] || { echo "build-image: --push needs HOST[:PORT]/REPO[:TAG]" >&2; exit 2; }; shift 2 ;;
    --insecure) insecure=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
    *) echo "build-image: unknown argument '$1' (--help)" >&2; exit 2 ;;
  esac
done

fail() { echo "build-image: FAIL: $*" >&2; exit 1; }
need=(buildah cmake ninja readelf ldd strip chroot curl openssl python3)
[ -z "$push_target" ] && need+=(docker-registry)
for tool in "${need[@]}"; do
  command -v "$tool" >/dev/null || fail "$tool not found: run scripts/install-deps.sh"
done
[ "$(id -u)" = 0 ] || fail "needs root (buildah vfs storage, chroot)"

B=(buildah --storage-driver vfs)
build="build-image"
stage="$build/image"
check_name=provgate-image-check
work="$(mktemp -d /tmp/provgate-image.XXXXXX)"
pids=()
containers=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for c in "${containers[@]}"; do "${B[@]}" rm "$c" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
t0=$SECONDS
timings=()
phase_done() { timings+=("$1 $((SECONDS - t0))s"); t0=$SECONDS; }

# --- names: the chart's image.repository, the CMake version ---
repository="$(awk '/^image:/{on=1; next} on && /^[^ #]/{exit} on && $1 == "repository:" {print $2; exit}' charts/provgate/values.yaml)"
app_version="$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' charts/provgate/Chart.yaml)"
[ -n "$repository" ] || fail "no image.repository in charts/provgate/values.yaml"
revision=unknown
if git rev-parse --show-toplevel >/dev/null 2>&1; then
  revision="$(git rev-parse HEAD)"
  # GIT_OPTIONAL_LOCKS=0: look only, never refresh the index under someone else's git.
  if [ -n "$(GIT_OPTIONAL_LOCKS=0 git status --porcelain --untracked-files=no)" ]; then
    echo "build-image: warning: uncommitted changes; the image is labelled with commit $revision all the same" >&2
  fi
  : "${SOURCE_DATE_EPOCH:=$(git log -1 --format=%ct)}"
fi
: "${SOURCE_DATE_EPOCH:=$(date +%s)}"
export SOURCE_DATE_EPOCH
source_url="${PROVGATE_IMAGE_SOURCE:-https://github.com/provgate/provgate}"

# --- the binary: Release, in build-image/ ---
jobs=2
if pgrep -x ninja >/dev/null; then jobs=1; fi   # someone else is compiling: leave them a core
echo "== building provgate (Release, $build/, -j$jobs)"
# -ffile-prefix-map: OpenSSL's macros put __FILE__ in the binary; relative
# paths keep the image independent of where the checkout is.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
  -DCMAKE_CXX_FLAGS="-ffile-prefix-map=$root/=" -DPROVGATE_COMMIT="${PROVGATE_COMMIT:-}" >/dev/null
cmake --build "$build" --target provgate -j"$jobs"
bin="$build/webhook/provgate"
version="$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")"
[ "$version" = "$app_version" ] \
  || fail "CMake project VERSION $version is not Chart.yaml's appVersion $app_version: the chart would pull a tag this does not build"
version_line="$("$bin" --version)"
name="$repository:$version"
phase_done build

# --- the root filesystem: the binary, what ldd says it loads, the loader ---
echo "== staging the root filesystem ($stage/rootfs)"
rm -rf "$stage"
rootfs="$stage/rootfs"
mkdir -p "$rootfs/usr/local/bin" "$rootfs/etc/ssl/certs"
strip --strip-unneeded -o "$rootfs/usr/local/bin/provgate" "$bin"
ldd "$bin" > "$work/ldd.txt"
if grep -q 'not found' "$work/ldd.txt"; then fail "unresolved libraries: $(grep 'not found' "$work/ldd.txt")"; fi
interp="$(readelf -l "$bin" | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]$/\1/p')"
[ -n "$interp" ] || fail "$bin names no program interpreter"
# "libx.so.1 => /lib/.../libx.so.1 (0x...)" and the loader's "/lib64/ld-linux-x86-64.so.2 (0x...)";
# linux-vdso has no file. Each is copied (symlinks resolved) to the path the loader found it at.
mapfile -t libs < <({ awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' "$work/ldd.txt"; echo "$interp"; } | sort -u)
for lib in "${libs[@]}"; do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L --preserve=mode "$lib" "$rootfs$lib"
done
[ -f /etc/ssl/certs/ca-certificates.crt ] || fail "no /etc/ssl/certs/ca-certificates.crt (Debian's ca-certificates)"
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$rootfs/etc/group"
# Without this file glibc asks DNS before /etc/hosts (where the kubelet puts hostAliases).
printf 'hosts: files dns\n' > "$rootfs/etc/nsswitch.conf"
mkdir -p "$rootfs/tmp" && chmod 1777 "$rootfs/tmp"
# One timestamp on every file (and buildah's --timestamp on the image): no build-time clock in the digest.
find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
echo "   $(( ${#libs[@]} - 1 )) libraries + $interp: $(du -sh "$rootfs" | cut -f1) unpacked"
phase_done stage

# --- the image ---
echo "== building $name"
old_id="$("${B[@]}" images --noheading --no-trunc --format '{{.ID}}' "$name" 2>/dev/null || true)"
"${B[@]}" bud --isolation chroot --timestamp "$SOURCE_DATE_EPOCH" \
  --build-arg VERSION="$version" --build-arg REVISION="$revision" --build-arg SOURCE="$source_url" \
  -t "$name" -f Containerfile "$stage"
image_id="$("${B[@]}" images --noheading --no-trunc --format '{{.ID}}' "$name")"
# The previous build under this name, now untagged (kept if something else still names it).
if [ -n "$old_id" ] && [ "$old_id" != "$image_id" ]; then "${B[@]}" rmi "$old_id" >/dev/null 2>&1 || true; fi
phase_done image

# --- the checks, inside the image ---
echo "== checking the image"
[ "$("${B[@]}" inspect --type image --format '{{.OCIv1.Config.User}}' "$image_id")" = 65532:65532 ] || fail "image user is not 65532:65532"
[ "$("${B[@]}" inspect --type image --format '{{.OCIv1.Config.Entrypoint}}' "$image_id")" = '[/usr/local/bin/provgate]' ] \
  || fail "entrypoint is not /usr/local/bin/provgate"
labels="$("${B[@]}" inspect --type image --format \
  '{{index .OCIv1.Config.Labels "org.opencontainers.image.version"}} {{index .OCIv1.Config.Labels "org.opencontainers.image.revision"}}' "$image_id")"
[ "$labels" = "$version $revision" ] || fail "labels say version and revision '$labels', not '$version $revision'"
"${B[@]}" rm "$check_name" >/dev/null 2>&1 || true   # left by a run that was killed
ctr="$("${B[@]}" from --name "$check_name" "$image_id")"
containers+=("$ctr")
in_image="$("${B[@]}" run --isolation chroot "$ctr" -- /usr/local/bin/provgate --version)"
[ "$in_image" = "$version_line" ] || fail "provgate --version in the image says '$in_image', the build says '$version_line'"
[[ "$in_image" =~ ^provgate\ $version\ \(commit\ [0-9A-Za-z._+-]+,\ built\ [0-9]{4}-[0-9]{2}-[0-9]{2}\)$ ]] \
  || fail "unexpected --version output: $in_image"
echo "   in the image: $in_image"
# `provgate serve` as the chart runs it (its TLS, policy and /tmp paths), as
# user 65532 in the image's root filesystem, answering /readyz over TLS:
# OpenSSL, the policy loader and the server start from what the image holds.
mnt="$("${B[@]}" mount "$ctr")"
mkdir -p "$mnt/etc/provgate/tls" "$mnt/etc/provgate/policies"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=provgate-image-check \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$mnt/etc/provgate/tls/tls.key" -out "$work/tls.crt" 2>/dev/null
cp "$work/tls.crt" "$mnt/etc/provgate/tls/tls.crt"
chmod 0644 "$mnt/etc/provgate/tls/tls.key"   # a throwaway key; the chart mounts it from a Secret
cp examples/policies/tekton-chains-slsa-v02.yaml "$mnt/etc/provgate/policies/"
port="$(free_port)"
env -i POD_NAMESPACE=provgate "$(command -v chroot)" --userspec=65532:65532 "$mnt" /usr/local/bin/provgate serve \
  --listen="127.0.0.1:$port" --tls-cert=/etc/provgate/tls/tls.crt --tls-key=/etc/provgate/tls/tls.key \
  --policies=/etc/provgate/policies > "$work/serve.log" 2>&1 &
serve_pid=$!
pids+=("$serve_pid")
ready=0
for _ in $(seq 100); do
  if curl -sf --cacert "$work/tls.crt" "https://127.0.0.1:$port/readyz" >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.1
done
[ "$ready" = 1 ] || fail "provgate serve in the image did not become ready: $(cat "$work/serve.log")"
[ "$(stat -c %u:%g "/proc/$serve_pid")" = 65532:65532 ] || fail "provgate serve in the image does not run as 65532:65532"
kill "$serve_pid"
wait "$serve_pid" 2>/dev/null || true
echo "   in the image: provgate serve (user 65532) answered /readyz over TLS"
"${B[@]}" rm "$ctr" >/dev/null
containers=()
phase_done check

# --- the push ---
tls=(--tls-verify=true)
if [ -n "$push_target" ]; then
  dest="$push_target"
  [[ "${dest##*/}" == *:* ]] || dest="$dest:$version"
  case "${dest%%/*}" in 127.*|localhost|localhost:*|"[::1]"*) tls=(--tls-verify=false) ;; esac
  [ "$insecure" = 1 ] && tls=(--tls-verify=false)
else
  reg_port="$(free_port)"
  REG="127.0.0.1:$reg_port"
  cat > "$work/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/registry}, delete: {enabled: true}}
http: {addr: $REG}
YAML
  docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
  pids+=($!)
  wait_port "$reg_port" || fail "docker-registry did not start: $(cat "$work/registry.log")"
  repo_path="${repository#*/}"
  dest="$REG/$repo_path:$version"
  tls=(--tls-verify=false)
fi
echo "== pushing to $dest"
"${B[@]}" push --quiet "${tls[@]}" --digestfile "$work/digest" "$image_id" "docker://$dest"
digest="$(cat "$work/digest")"
[[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "buildah push wrote no digest"
if [ -z "$push_target" ]; then
  # Read it back: the registry serves the manifest under that digest, and its bytes hash to it.
  curl -sf -D "$work/headers" -o "$work/manifest.json" \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REG/v2/$repo_path/manifests/$version" || fail "the registry does not serve $dest"
  served="$(tr -d '\r' < "$work/headers" | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p')"
  computed="sha256:$(sha256sum < "$work/manifest.json" | cut -d' ' -f1)"
  if [ "$served" != "$digest" ] || [ "$computed" != "$digest" ]; then
    fail "pushed $digest, the registry serves $served, its manifest hashes to $computed"
  fi
  layers="$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(sum(l["size"] for l in m["layers"]))' "$work/manifest.json")"
  echo "   read back: manifest $digest, $(( layers / 1024 )) KiB compressed"
fi
phase_done push

size="$("${B[@]}" images --noheading --format '{{.Size}}' "$name")"
echo "== $name: $size, $in_image"
echo "   pushed: $dest@$digest"
echo "   phases: ${timings[*]}"
if [ -n "$push_target" ]; then
  echo "   pin it: helm install ... --set image.repository=${dest%:*} --set image.digest=$digest"
fi
