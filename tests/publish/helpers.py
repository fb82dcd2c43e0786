"""Helpers for the publisher tests: a publisher on a test broker, deadlines, event ids."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from devkit.broker import child_env
from edge.publish import MqttConfig, Publisher, Spool


def wait_until(predicate: Callable[[], bool], timeout_s: float = 10.0, what: str = "") -> None:
    """Polls `predicate` until true; raises AssertionError naming `what` at the deadline."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout_s}s: {what or predicate}")
        time.sleep(0.01)


def make_publisher(
    port: int, spool: Spool, run_id: str = "run-1", memory_messages: int | None = None, **kwargs
) -> Publisher:
    """A started publisher on 127.0.0.1:port with fast reconnects and its own client id.

    `memory_messages`: the publisher's memory queue (its default when None); `kwargs` go
    to its `MqttConfig`.
    """
    config = MqttConfig(
        host="127.0.0.1",
        port=port,
        client_id=unique_client_id(),
        reconnect_min_s=0.1,
        reconnect_max_s=0.5,
        keepalive_s=5,
        **kwargs,
    )
    memory = {} if memory_messages is None else {"memory_messages": memory_messages}
    publisher = Publisher(config, spool, run_id=run_id, **memory)
    publisher.start()
    return publisher


def unique_client_id() -> str:
    """A client id of its own (two clients with one id throw each other off the broker)."""
    return f"edge-test-{secrets.token_hex(4)}"


def publish_events(publisher: Publisher, keys: Iterable[str], camera: str = "cam1") -> None:
    """One rep-like event per key, its `id` = key."""
    for key in keys:
        publisher.publish_event(key, publisher.topics.rep(camera), json.dumps({"id": key}))


def ids_of(messages, topic_suffix: str = "/rep") -> Counter[str]:
    """How many times each event id arrived (duplicates > 1)."""
    return Counter(json.loads(m.payload)["id"] for m in messages if m.topic.endswith(topic_suffix))


def start_child(port: int, spool_dir: Path, run_id: str, events: int = 0) -> subprocess.Popen:
    """`tests/publish/child.py` in its own process; returns once it has spooled `events`."""
    args = ["--port", str(port), "--spool", str(spool_dir), "--run-id", run_id]
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.publish.child", *args, "--events", str(events)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=child_env(),
        text=True,
    )
    line = child.stdout.readline().strip()
    if line != f"spooled {events}":
        child.kill()
        raise AssertionError(f"child said {line!r}, expected 'spooled {events}'")
    return child


def kill_child(child: subprocess.Popen) -> None:
    """SIGKILL: no goodbye, no clean disconnect."""
    child.kill()
    child.wait(5)


def tell_child(child: subprocess.Popen, command: str, expect: str) -> None:
    """Sends one stdin command and checks the child's one-line answer."""
    child.stdin.write(command + "\n")
    child.stdin.flush()
    line = child.stdout.readline().strip()
    assert line == expect, f"child answered {line!r} to {command!r}, expected {expect!r}"
