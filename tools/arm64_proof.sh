#!/usr/bin/env bash
# Proof that the arm64 image builds and works, without an arm64 board or a registry.
#
#   1. a Debian bookworm arm64 root made with debootstrap (qemu-user-static runs its
#      second stage), turned into a local base image;
#   2. Dockerfile.arm64 built for linux/arm64 with buildah on that base (every RUN step
#      runs emulated; the pinned aarch64 wheels are fetched by pip, hash-checked);
#   3. a short rendered clip made on the host (x86, seconds);
#   4. inside the built image, under emulation: `hinge-edge check-config` on
#      deploy/config.example.yaml and `hinge-edge replay` on the clip; the rep events it
#      prints must include reps;
#   5. every landmark model of the manifest (FP32 and the INT8 ones) on the same rendered
#      crops inside the image and on the host (tools/arm64_landmarks.py): FP32 must agree
#      to float rounding; INT8 differs by the integer kernels' rounding, reported;
#   6. the daemon itself in the image, under emulation: `hinge-edge run` on the clip with
#      a local broker; /healthz must answer, hinge/status go `online`, and SIGTERM stop it
#      cleanly (`stopped`, exit 0);
#   7. a report: step times, image and installed size, the aarch64 wheel versions.
#
# Usage (as root; minutes, most of it emulated inference at ~230x slower than native):
#   make arm64-proof          or   bash tools/arm64_proof.sh
# Env: ARM64_CACHE (default .cache/arm64: debootstrap root, buildah storage, clip; kept so
#      reruns skip finished steps), DEBIAN_MIRROR, ARM64_THREADS (onnxruntime threads for
#      the replay, default 2), ARM64_MAX_FRAMES (cut the replay short, for a quick look),
#      ARM64_STORAGE_DRIVER (overlay where it mounts, else vfs), ARM64_CROPS (crops for the
#      landmark comparison, default 12).
# Needs: apt-get install buildah qemu-user-static debootstrap binfmt-support
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$(realpath -m "${ARM64_CACHE:-${root}/.cache/arm64}")"
rootfs="${cache}/rootfs"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
base_image="localhost/hinge-edge-base:bookworm-arm64"
image="localhost/hinge-edge:arm64"
workdir="${cache}/work"
threads="${ARM64_THREADS:-2}"
# Packages the base needs beyond minbase: what python:3.11-slim-bookworm has and we use.
base_packages="python3,python3-venv,passwd"

started=$(date +%s)
step_no=0
step_log=()

step() {  # step "name": announces a step and starts its clock
  step_no=$((step_no + 1))
  step_name="$1"
  step_start=$(date +%s)
  printf '\n==> [%d] %s\n' "${step_no}" "${step_name}"
}

done_step() {  # done_step ["note"]: records the step's wall time
  local seconds=$(($(date +%s) - step_start))
  step_log+=("$(printf '%4ds  %s %s' "${seconds}" "${step_name}" "${1:-}")")
  printf '    done in %ds %s\n' "${seconds}" "${1:-}"
}

die() { echo "arm64-proof: $*" >&2; exit 1; }

storage_driver=""
bah() {  # buildah with this proof's own image storage under the cache
  buildah --root "${cache}/storage-${storage_driver}" --runroot "${cache}/run-${storage_driver}" \
    --storage-driver "${storage_driver}" "$@"
}

pick_storage_driver() {  # overlay where the kernel allows it here, else vfs (copies: slow)
  local probe
  probe="$(mktemp -d)"
  mkdir -p "${probe}"/{lower,upper,work,merged}
  if mount -t overlay overlay -o "lowerdir=${probe}/lower,upperdir=${probe}/upper,workdir=${probe}/work" \
      "${probe}/merged" 2>/dev/null; then
    umount "${probe}/merged"
    storage_driver="${ARM64_STORAGE_DRIVER:-overlay}"
  else
    storage_driver="${ARM64_STORAGE_DRIVER:-vfs}"
  fi
  rm -rf "${probe}"
}

preflight() {
  step "preflight"
  [[ $(id -u) == 0 ]] || die "run as root (debootstrap, chroot and buildah's vfs storage)"
  local tool
  for tool in buildah debootstrap qemu-aarch64-static update-binfmts; do
    command -v "${tool}" >/dev/null \
      || die "${tool} missing: apt-get install buildah qemu-user-static debootstrap binfmt-support"
  done
  if [[ ! -e /proc/sys/fs/binfmt_misc/register ]]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  fi
  if ! grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64; then
    update-binfmts --enable qemu-aarch64
  fi
  # F flag: the kernel holds the emulator open, so it works inside chroots and containers.
  grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 \
    || die "qemu-aarch64 binfmt lacks the F flag (Debian's qemu-user-static sets it)"
  mkdir -p "${cache}" "${workdir}"
  pick_storage_driver
  bah rm --all >/dev/null  # working containers an interrupted run left behind
  done_step "($(qemu-aarch64-static --version | head -1), $(buildah --version), ${storage_driver})"
}

make_rootfs() {
  step "debootstrap bookworm arm64 root"
  local marker="${rootfs}/.hinge-edge-rootfs"
  if [[ -f "${marker}" ]]; then
    done_step "(cached: ${rootfs})"
    return
  fi
  rm -rf "${rootfs}"
  mkdir -p "${cache}/debs"
  debootstrap --arch=arm64 --foreign --variant=minbase --include="${base_packages}" \
    --cache-dir="${cache}/debs" bookworm "${rootfs}" "${mirror}"
  chroot "${rootfs}" /debootstrap/debootstrap --second-stage
  chroot "${rootfs}" apt-get clean
  rm -rf "${rootfs}"/var/lib/apt/lists/*
  date -u +%FT%TZ >"${marker}"
  done_step "($(du -sh --exclude=proc --exclude=sys "${rootfs}" | cut -f1))"
}

make_base_image() {
  step "local base image ${base_image}"
  local made
  made="$(cat "${rootfs}/.hinge-edge-rootfs")"
  if [[ "$(bah inspect --type image --format '{{index .OCIv1.Config.Labels "hinge-edge.rootfs"}}' \
        "${base_image}" 2>/dev/null)" == "${made}" ]]; then
    done_step "(cached)"
    return
  fi
  local ctr mnt
  ctr="$(bah from scratch)"
  mnt="$(bah mount "${ctr}")"
  # The root as debootstrap made it, minus its mount points' contents.
  tar -C "${rootfs}" --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* \
    --exclude=./.hinge-edge-rootfs -cf - . | tar -C "${mnt}" -xf -
  bah umount "${ctr}" >/dev/null
  bah config --arch arm64 --os linux --label "hinge-edge.rootfs=${made}" \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd /bin/bash "${ctr}"
  bah commit --quiet --format docker "${ctr}" "${base_image}" >/dev/null
  bah rm "${ctr}" >/dev/null
  bah rmi --prune >/dev/null || true
  done_step
}

build_image() {
  step "buildah build Dockerfile.arm64 for linux/arm64"
  local secret=() bundle=/etc/ssl/certs/ca-certificates.crt
  # Where TLS is inspected on the way out, pip needs the machine's CA bundle.
  [[ -s "${bundle}" ]] && secret=(--secret "id=pip-ca,src=${bundle}")
  bah build --layers --pull=never --platform linux/arm64 --format docker \
    --isolation chroot "${secret[@]}" --build-arg "BASE=${base_image}" \
    -f "${root}/Dockerfile.arm64" -t "${image}" "${root}"
  done_step
}

make_clip() {
  step "render a short clip on the host"
  local clip="${workdir}/clip.mp4"
  if [[ -s "${clip}" ]]; then
    done_step "(cached)"
    return
  fi
  [[ -x "${root}/.venv/bin/hinge-edge" ]] || make -C "${root}" setup
  # 2 reps at 320x180, 15 fps: about 150 frames, the least that still holds two clean reps.
  "${root}/.venv/bin/hinge-edge" --log-level warning synth "${clip}" --exercise rdl \
    --reps 2 --size 320x180 --fps 15
  done_step
}

emulated() {  # emulated CMD...: runs a command in a fresh container of the image
  # Not `buildah run`: it always bind-mounts the host's /sys, and onnxruntime segfaults
  # under qemu 7.2 when both /proc and /sys are there (FIELD-NOTES). So the container's
  # root is entered by hand, in a private mount namespace, with /proc but no /sys, as the
  # image's user, with the image's environment, config mounted read-only as compose does.
  local ctr mnt status=0 env_lines cwd
  ctr="$(bah from --pull=never --arch arm64 "${image}")"
  mnt="$(bah mount "${ctr}")"
  env_lines="$(bah inspect --type container \
    --format '{{range .OCIv1.Config.Env}}{{println .}}{{end}}' "${ctr}")"
  cwd="$(bah inspect --type container --format '{{.OCIv1.Config.WorkingDir}}' "${ctr}")"
  mkdir -p "${mnt}/work"
  touch "${mnt}/config/hinge.yaml"
  # shellcheck disable=SC2016  # the inner bash expands these
  unshare --mount --fork -- bash -euc '
    mnt=$1 work=$2 config=$3 env_lines=$4 cwd=$5; shift 5
    echo $$ >"${work}/emulated.pid"  # exec keeps the pid: the daemon gets signals here
    mount --make-rprivate /
    mount -t proc proc "${mnt}/proc"
    mount --rbind /dev "${mnt}/dev"
    mount -t tmpfs -o size=64m tmpfs "${mnt}/tmp"
    mount --bind "${work}" "${mnt}/work"
    mount --bind "${config}" "${mnt}/config/hinge.yaml"
    mount -o remount,bind,ro "${mnt}/config/hinge.yaml"
    mapfile -t environment <<<"${env_lines}"
    cd "${mnt}"
    exec chroot --userspec=10001:10001 "${mnt}" \
      /usr/bin/env -i -C "${cwd:-/}" "${environment[@]}" "$@"
  ' _ "${mnt}" "${workdir}" "${EMULATED_CONFIG:-${root}/deploy/config.example.yaml}" \
    "${env_lines}" "${cwd}" "$@" \
    2> >(grep -v cpuinfo >&2) || status=$?
  bah umount "${ctr}" >/dev/null
  bah rm "${ctr}" >/dev/null
  return "${status}"
}

check_config() {
  step "emulated: hinge-edge check-config deploy/config.example.yaml"
  emulated python3 -c 'import platform, sys; print("machine:", platform.machine(), sys.version.split()[0])'
  emulated hinge-edge check-config /config/hinge.yaml
  done_step
}

replay_clip() {
  step "emulated: hinge-edge replay (${threads} threads${ARM64_MAX_FRAMES:+, ${ARM64_MAX_FRAMES} frames})"
  rm -f "${workdir}/events.jsonl"
  chmod 0777 "${workdir}"  # the image's user (10001) writes the events here
  emulated hinge-edge --log-level warning replay /work/clip.mp4 --camera-id platform-1 \
    --models-dir /opt/hinge-edge/models --events /work/events.jsonl --threads "${threads}" \
    ${ARM64_MAX_FRAMES:+--max-frames "${ARM64_MAX_FRAMES}"}
  done_step
  echo "events seen under emulation:"
  python3 - "${workdir}/events.jsonl" <<'EOF'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
for e in events:
    if e["event"] == "rep":
        faults = ", ".join(f["code"] for f in e["faults"]) or "none"
        print(f"  rep {e['rep']}: {e['exercise']} score {e['score']} faults {faults}")
    else:
        print(f"  {e['event']}: {json.dumps({k: e[k] for k in ('reps', 'mean_score') if k in e})}")
reps = sum(e["event"] == "rep" for e in events)
print(f"  -> {reps} rep events")
sys.exit(0 if reps else 1)
EOF
}

landmarks_agree() {
  step "emulated: every landmark model (FP32, INT8) on arm64 vs x86, same crops"
  local dir="${workdir}/landmarks"
  rm -rf "${dir}"
  (cd "${root}" && .venv/bin/python -m tools.arm64_landmarks write "${dir}" \
    --count "${ARM64_CROPS:-12}")
  chmod -R a+rwX "${dir}"  # the image's user (10001) writes its outputs here
  emulated python3 /work/landmarks/arm64_landmarks.py run /work/landmarks
  (cd "${root}" && .venv/bin/python -m tools.arm64_landmarks compare "${dir}")
  done_step
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

run_daemon() {
  step "emulated: hinge-edge run, /healthz, MQTT, SIGTERM"
  if ! command -v mosquitto >/dev/null && [[ ! -x /usr/sbin/mosquitto ]] \
      || ! command -v mosquitto_sub >/dev/null; then
    done_step "(skipped: no mosquitto / mosquitto_sub on this host)"
    return
  fi
  local mqtt_port web_port broker sub daemon health status=0 deadline
  mqtt_port="$(free_port)"
  web_port="$(free_port)"
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "${mqtt_port}" \
    >"${workdir}/broker.conf"
  cat >"${workdir}/daemon.yaml" <<EOF_CONFIG
mqtt: {host: 127.0.0.1, port: ${mqtt_port}, client_id: arm64-proof}
cameras:
  platform-1: {source: /work/clip.mp4, loop: true, analysis_fps: 2}
spool: {path: /var/lib/hinge-edge/spool}
web: {host: 127.0.0.1, port: ${web_port}}
log: {level: info, format: text}
stats_interval_s: 10
EOF_CONFIG
  "$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "${workdir}/broker.conf" \
    2>"${workdir}/broker.log" &
  broker=$!
  sleep 0.5
  mosquitto_sub -h 127.0.0.1 -p "${mqtt_port}" -t 'hinge/#' -v >"${workdir}/mqtt.log" &
  sub=$!
  rm -f "${workdir}/emulated.pid"
  EMULATED_CONFIG="${workdir}/daemon.yaml" emulated hinge-edge run --config /config/hinge.yaml \
    2>"${workdir}/daemon.log" &
  daemon=$!
  deadline=$(($(date +%s) + 600))  # model loading and warm-up are slow under emulation
  until health="$(curl -fsS "http://127.0.0.1:${web_port}/healthz" 2>/dev/null)"; do
    if ! kill -0 "${daemon}" 2>/dev/null || (($(date +%s) > deadline)); then
      status=1
      break
    fi
    sleep 2
  done
  echo "healthz after $(($(date +%s) - step_start))s: ${health:-no answer}"
  # SIGTERM to the daemon itself (its pid, written before exec), as docker stop does.
  [[ -s "${workdir}/emulated.pid" ]] && kill -TERM "$(cat "${workdir}/emulated.pid")"
  wait "${daemon}" || status=$?
  echo "daemon exit status after SIGTERM: ${status}"
  sleep 1
  kill "${sub}" "${broker}"
  wait "${sub}" "${broker}" 2>/dev/null || true
  echo "MQTT seen:"
  sed -e 's/^/  /' "${workdir}/mqtt.log" | cut -c1-160 | head -n 12
  grep -q '^hinge/status .*"online"' "${workdir}/mqtt.log" || status=1
  grep -q '^hinge/status .*"stopped"' "${workdir}/mqtt.log" || status=1
  if ((status != 0)); then
    echo "daemon log (tail):" >&2
    tail -n 30 "${workdir}/daemon.log" >&2
    die "the daemon did not start, answer /healthz, publish and stop cleanly"
  fi
  done_step
}

report() {
  step "report"
  local versions
  versions="$(emulated python3 -c 'import importlib.metadata as m; print(" ".join(sorted(f"{d.name}=={d.version}" for d in m.distributions())))')"
  echo "image ${image}: $(bah images --format '{{.Size}}' "${image}" | head -1)"
  echo "installed: $(emulated du -sh /opt/hinge-edge | cut -f1) in /opt/hinge-edge (venv + models)"
  echo "aarch64 packages: ${versions}"
  done_step
  printf '\nstep times:\n'
  printf '  %s\n' "${step_log[@]}"
  printf 'arm64 proof passed in %ds wall\n' "$(($(date +%s) - started))"
}

main() {
  preflight
  make_rootfs
  make_base_image
  build_image
  make_clip
  check_config
  replay_clip
  landmarks_agree
  run_daemon
  report
}

# Sourcing the file (to run one step by hand) defines the steps without running them.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
