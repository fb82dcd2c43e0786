#!/usr/bin/env bash
# The main job on its embedded default: the daemon with a rendered athlete as its camera
# and a local mosquitto, plus a subscriber printing the rep and set events as they arrive
# over MQTT. The dashboard is on http://localhost:8080/.
#
# Ctrl-C (or SIGTERM) stops the daemon the way systemd would: it closes the open set and
# publishes its set event, the printer prints it, and this script exits 0. If the daemon
# or the broker dies on its own, the script says so and exits 1 instead of waiting.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
BIN=.venv/bin
PORT="${HINGE_EDGE_MQTT__PORT:-1883}"
HOST="${HINGE_EDGE_MQTT__HOST:-}"
[ "$HOST" = null ] && HOST=""  # the daemon's spelling of "start a local broker"
PREFIX="${HINGE_EDGE_MQTT__TOPIC_PREFIX:-hinge}"
WEB_PORT="${HINGE_EDGE_WEB__PORT:-8080}"

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
alive() { kill -0 "$1" 2>/dev/null; }
reap() {  # waits for a child to end (a trapped signal interrupts `wait`); its status
    while alive "$1"; do wait "$1"; done
    wait "$1"
}
say() { echo "make run: $*" >&2; }

# Taken before we start: the daemon will refuse that port, and the hint below can say so.
mqtt_taken=0 web_taken=0
if [ -z "$HOST" ] && listening "$PORT"; then mqtt_taken=1; fi
if listening "$WEB_PORT"; then web_taken=1; fi

$BIN/hinge-edge run &
daemon=$!
# The printer ignores Ctrl-C (it ends when the daemon's broker goes), so it is still
# listening when the daemon publishes the set it closes on the way out.
(trap '' INT; exec $BIN/python -m tools.print_events --host "${HOST:-127.0.0.1}" \
    --port "$PORT" --prefix "$PREFIX") &
printer=$!
stopping=0
stop() { stopping=1; kill -TERM "$daemon" 2>/dev/null; }
trap stop INT TERM
trap 'kill -TERM "$daemon" "$printer" 2>/dev/null' EXIT
echo "--- rep and set events on MQTT ($PREFIX/+/rep, $PREFIX/+/set);" \
    "dashboard: http://localhost:$WEB_PORT/ (user admin; its password is logged once, at" \
    "the first run: '.venv/bin/hinge-edge users passwd admin' sets a new one); Ctrl-C stops"

while alive "$daemon" && alive "$printer"; do
    sleep 0.2
done

# Ctrl-C reaches the daemon too (one process group): it may close its broker, ending the
# printer, before this shell's trap has run. Give a stop under way a moment.
for _ in $(seq 1 15); do
    { alive "$daemon" && [ "$stopping" = 0 ]; } || break
    sleep 0.2
done
if alive "$daemon" && [ "$stopping" = 0 ]; then  # the broker went (or refused the printer)
    reap "$printer"
    say "lost the MQTT broker at ${HOST:-127.0.0.1}:$PORT while the daemon runs; stopping it"
    stop
    reap "$daemon"
    exit 1
fi
reap "$daemon"
status=$?
if { [ "$stopping" = 1 ] && [ "$status" = 143 ]; } || [ "$status" = 0 ]; then
    # Stopped as asked (0; 143: before the daemon took over SIGTERM). Its events are
    # acknowledged by the broker; the printer ends when the local broker closes.
    for _ in $(seq 1 10); do alive "$printer" || break; sleep 0.2; done
    exit 0
fi
say "the daemon exited with status $status (its reason is above)"
if [ "$mqtt_taken" = 1 ]; then
    say "port $PORT was taken before it started (another MQTT broker?): run the demo" \
        "on another port: HINGE_EDGE_MQTT__PORT=$((PORT + 1)) make run"
fi
if [ "$web_taken" = 1 ]; then
    say "the dashboard port $WEB_PORT was taken before it started: run the demo with" \
        "another: HINGE_EDGE_WEB__PORT=$((WEB_PORT + 1)) make run"
fi
exit 1
