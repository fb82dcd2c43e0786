"""The test tiers: what marks a test `model`, `server`, `browser`, `data` or `slow`.

A test is marked after what it uses, so a new test lands in its tier without a hand mark:
a fixture it requests (directly or through another fixture), or a helper its module
imports. `slow` is also set by hand on tests that take seconds on the CPU alone (long
synthetic sets, files played in real time); `fast_first` keeps the first cases of a long
parametrisation in the fast tier. `make check` runs the fast tier,
`-m "not (model or server or browser or slow)"`; `make test` runs everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pytest

FIXTURE_TIERS = {
    "pose_models": "model",
    "replay_run": "model",  # tests/report: the replay command on the real models
    "mosquitto_factory": "server",
    "daemons": "server",
    "daemon_factory": "server",
    "nats_cluster": "server",  # tests/central: three nats-server processes
    "pg_server": "server",  # tests/hub: a PostgreSQL per session
    "browser": "browser",
    "shared_data": "data",
    "swing_clip": "slow",  # tests/daemon and tests/web: a clip rendered per session
    "rendered_clip": "slow",  # tests/report: the same
}
HELPER_TIERS = {  # by qualified name: nothing is imported to look them up
    "edge.pose.estimator.PoseEstimator": "model",
    "edge.pose.estimator.load_pose_models": "model",
    "edge.pose.estimator.load_mask_model": "model",
    "edge.pose.runtime.OnnxModel": "model",
    "edge.daemon.broker.LocalBroker": "server",
    "devkit.broker.Mosquitto": "server",
    "devkit.cluster.NatsCluster": "server",
    "devkit.wan.WanLink": "server",
    "devkit.postgres.Postgres": "server",
    "tests.servers.streams.mjpeg_server": "server",
    "tests.servers.streams.rtsp_server": "server",
    "tests.deploy.broker.running_broker": "server",
    "devkit.browser.Browser": "browser",
}


def mark_tiers(items: Iterable[pytest.Item]) -> None:
    """Adds the tier markers of the fixtures and helpers each test uses."""
    by_module: dict[str, set[str]] = {}
    for item in items:
        tiers = {FIXTURE_TIERS[f] for f in getattr(item, "fixturenames", ()) if f in FIXTURE_TIERS}
        module = getattr(item, "module", None)
        if module is not None:
            if module.__name__ not in by_module:
                by_module[module.__name__] = _helper_tiers(vars(module).values())
            tiers |= by_module[module.__name__]
        for tier in sorted(tiers - {mark.name for mark in item.iter_markers()}):
            item.add_marker(tier)


def _helper_tiers(values: Iterable[object]) -> set[str]:
    names = (f"{getattr(v, '__module__', '')}.{getattr(v, '__qualname__', '')}" for v in values)
    return {HELPER_TIERS[name] for name in names if name in HELPER_TIERS}


def fast_first(cases: Sequence[Any], fast: int = 1) -> list[Any]:
    """`parametrize` values: the first `fast` cases in both tiers, the others `slow`.

    For tests whose every case takes about a second: the fast tier tries one, the full
    tier all (ids are unchanged). A tuple case is one value per argument name, as in
    `parametrize` itself (so a single argument taking tuples cannot use this).
    """
    return [
        case if i < fast else pytest.param(*_values(case), marks=pytest.mark.slow)
        for i, case in enumerate(cases)
    ]


def _values(case: Any) -> tuple[Any, ...]:
    return case if isinstance(case, tuple) else (case,)
