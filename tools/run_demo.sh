#!/usr/bin/env bash
# The main job on its embedded default: the daemon with a rendered athlete as its camera
# and a local mosquitto, plus a subscriber printing the rep and set events as they
# arrive over MQTT. The dashboard is on http://localhost:8080/. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT="${HINGE_EDGE_MQTT__PORT:-1883}"
$BIN/hinge-edge run &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null' EXIT INT TERM
for _ in $(seq 1 600); do  # the first run renders the demo clip (about half a minute)
    if (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null; then break; fi
    kill -0 $daemon 2>/dev/null || exit 1
    sleep 0.2
done
echo "--- rep and set events on MQTT (hinge/+/rep, hinge/+/set); dashboard: http://localhost:8080/"
mosquitto_sub -h 127.0.0.1 -p "$PORT" -t 'hinge/+/rep' -t 'hinge/+/set' -v
