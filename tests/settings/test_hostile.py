"""Hostile configuration files: refused by `check-config` (and so by `run`) with a clear
error, no traceback, no memory blow-up.

`run` loads the file with the same `load_settings`, so what check-config refuses here the
daemon refuses at start.
"""

from __future__ import annotations

import tracemalloc

import pytest

from edge.cli import main

CAM = "cameras:\n  platform-1:\n    source: a.mp4\n"
LAUGHS = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
)


def _check_config(path, capsys) -> tuple[int, str]:
    code = main(["check-config", str(path)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        # an alias inside its own anchor: before, a RecursionError traceback
        ("a: &a [*a]\n" + CAM, ":1:4:", "refers back to it (a loop)"),
        ("a: &a {b: *a}\n" + CAM, ":1:4:", "refers back to it (a loop)"),
        # aliases of aliases, 9^9 strings: before, 7.9 GB and growing until killed
        (
            'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + LAUGHS,
            ":",
            'expand to more than 10000 values (aliases of aliases, a "billion laughs")',
        ),
        # nesting deeper than pyyaml's composer can recurse: before, a RecursionError
        ("a: " + "[" * 1000 + "]" * 1000 + "\n" + CAM, ":1:67:", "nested more than 64 levels"),
        # an address no socket can take: before, accepted until the daemon dialled it
        ('mqtt: {host: "not a host!!"}\n' + CAM, "mqtt.host:", "is neither a host name"),
        ("mqtt: {host: 'mqtt://broker:1883'}\n" + CAM, "mqtt.host:", "no scheme, port or path"),
    ],
    ids=["alias-loop", "alias-loop-mapping", "billion-laughs", "deep", "host", "host-url"],
)
def test_refused_with_a_clear_error(write_config, capsys, text, where, message) -> None:
    code, out = _check_config(write_config(text), capsys)
    assert code != 0
    assert where in out and message in out, out
    assert "Traceback" not in out and "RecursionError" not in out


def test_billion_laughs_is_refused_before_it_grows(write_config, capsys) -> None:
    text = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + LAUGHS
    tracemalloc.start(1)
    try:
        code, out = _check_config(write_config(text + CAM), capsys)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code != 0 and "billion laughs" in out
    assert peak < 20 * 2**20  # bytes: nothing was expanded


def test_aliases_that_expand_a_little_are_still_fine(write_config, capsys) -> None:
    # Merge keys and a shared zone are what aliases are for in a gym's file.
    text = """
    cameras:
      platform-1: &camera
        source: a.mp4
        zone: &zone [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]
      platform-2:
        <<: *camera
        source: b.mp4
    """
    code, out = _check_config(write_config(text), capsys)
    assert code == 0, out
    assert "platform-2" in out
