"""Prints the daemon's rep and set events as they arrive over MQTT (the printer of `make run`).

One line per message, `topic payload`, as `mosquitto_sub -v` prints them. Unlike
mosquitto_sub, it ends when the broker closes the connection (the demo's local broker goes
with the daemon, after the daemon has delivered its last set event) instead of retrying
forever, so `tools/run_demo.sh` can tell a finished demo from a broker that died.

Until it first connects it keeps trying (the daemon may still be rendering the demo clip).

Exit status: 0 when the connection ended, 1 when the broker refused the connection.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading

import paho.mqtt.client as mqtt


def main(argv: list[str] | None = None) -> int:
    """Subscribes to `<prefix>/+/rep` and `<prefix>/+/set` and prints until disconnected."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--prefix", default="hinge", help="the daemon's mqtt.topic_prefix")
    args = parser.parse_args(argv)
    topics = [f"{args.prefix}/+/rep", f"{args.prefix}/+/set"]
    ended = threading.Event()
    refused: list[str] = []

    def on_connect(client, _userdata, _flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            refused.append(str(reason_code))
            ended.set()
            return
        client.subscribe([(topic, 1) for topic in topics])

    def on_disconnect(_client, _userdata, _flags, _reason_code, _properties) -> None:
        ended.set()

    def on_message(_client, _userdata, msg: mqtt.MQTTMessage) -> None:
        print(msg.topic, msg.payload.decode(errors="replace"), flush=True)

    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=f"hinge-edge-printer-{os.getpid()}"
    )
    client.on_connect, client.on_disconnect = on_connect, on_disconnect
    client.on_message = on_message
    client.reconnect_delay_set(0.2, 1.0)
    client.connect_async(args.host, args.port, keepalive=30)
    client.loop_start()  # retries a refused TCP connection until the broker listens
    ended.wait()
    client.loop_stop()
    if refused:
        print(f"{args.host}:{args.port} refused the connection: {refused[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
