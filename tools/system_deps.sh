#!/usr/bin/env bash
# Debian packages the daemon and its tests use: a real broker, FFmpeg, a local RTSP server
# (GStreamer through the system Python's gi), a headless browser for the page tests, and
# for the chain (issue 17) the clustered central broker (nats-server, run by
# devkit/cluster.py) and PostgreSQL for the hub.
# Installs what is missing when it can (root, or sudo without a password); otherwise says
# what is missing: the tests that need it then skip, naming the package.
set -euo pipefail
PACKAGES=(
    mosquitto mosquitto-clients ffmpeg openssl shellcheck
    python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-bad
    gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-libav
    chromium
    nats-server postgresql
)
command -v dpkg-query >/dev/null || { echo "system-deps: not a Debian system; install: ${PACKAGES[*]}"; exit 0; }
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "system-deps: missing ${missing[*]} (not root): tests needing them will skip"; exit 0
fi
echo "system-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
