"""A publishing process for tests that kill it: `python -m tests.publish.child ...`.

Starts a `Publisher` on a spool, spools `--events` events (`<run-id>-<i>` on
`<prefix>/cam1/rep`), prints `spooled N`, then obeys stdin lines: `events FIRST COUNT`
publishes more (prints `published COUNT`), `stop` stops cleanly (prints `stopped`).
Tests SIGKILL it at will; it never exits on its own.
"""

from __future__ import annotations

import argparse
import json
import logging
import secrets
import sys

from edge.publish import MqttConfig, Publisher, Spool, SpoolConfig


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--spool", required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--events", type=int, default=0)
    parser.add_argument("--prefix", default="hinge")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    config = MqttConfig(
        host="127.0.0.1",
        port=args.port,
        topic_prefix=args.prefix,
        client_id=f"edge-test-{secrets.token_hex(4)}",  # its own: see helpers.unique_client_id
        reconnect_min_s=0.1,
        reconnect_max_s=0.5,
    )
    spool = Spool(SpoolConfig(path=args.spool))
    publisher = Publisher(config, spool, run_id=args.run_id)
    publisher.start()
    _publish(publisher, args.run_id, range(args.events))
    print(f"spooled {spool.count()}", flush=True)
    for line in sys.stdin:
        command, *rest = line.split()
        if command == "events":  # `events FIRST COUNT`
            first, count = map(int, rest)
            _publish(publisher, args.run_id, range(first, first + count))
            print(f"published {count}", flush=True)
        elif command == "stop":
            publisher.stop(5.0)
            spool.close()
            print("stopped", flush=True)
            return


def _publish(publisher: Publisher, run_id: str, numbers: range) -> None:
    for i in numbers:
        key = f"{run_id}-{i}"
        publisher.publish_event(key, publisher.topics.rep("cam1"), json.dumps({"id": key}))


if __name__ == "__main__":
    main()
