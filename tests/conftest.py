"""Shared fixtures (the shipped models, the optional real footage, brokers); the tiers.

Tests are marked `model`, `server`, `browser`, `data` and `slow` after what they use
(tests/tiers.py); `make check` runs the fast tier, `make test` everything.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devkit.browser import Browser, missing_chromium
from edge.log import forget_secrets, registered_secrets
from edge.pose import load_pose_models
from edge.pose.config import PoseConfig
from edge.pose.manifest import default_models_dir
from edge.settings import ENV_PREFIX
from tests.tiers import mark_tiers

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks each test with the tiers of what it uses (tests/tiers.py)."""
    mark_tiers(items)


@pytest.fixture(autouse=True)
def _isolated_secrets():
    """Secrets one test registers for redaction must not mask another test's text."""
    kept = registered_secrets()
    yield
    forget_secrets(kept)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No HINGE_EDGE_* variable from the machine running the tests leaks in."""
    for name in list(os.environ):
        if name.upper().startswith(ENV_PREFIX):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return default_models_dir()


@pytest.fixture(scope="session")
def pose_models():
    """The real detector and FP32 landmark model, loaded once for the whole run."""
    return load_pose_models(PoseConfig())


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real test footage; tests using it skip where a checkout has none."""
    if not (SHARED_DATA / "labels.csv").is_file():
        pytest.skip(f"real footage not available: {SHARED_DATA} is absent (only in dev checkouts)")
    return SHARED_DATA


@pytest.fixture
def mosquitto_factory(tmp_path):
    """Builds real mosquitto brokers (`devkit/broker.py::Mosquitto` kwargs); all killed after."""
    from devkit.broker import Mosquitto, skip_reason

    if (reason := skip_reason()) is not None:
        pytest.skip(reason)
    brokers = []

    def make(start: bool = True, **kwargs):
        broker = Mosquitto(tmp_path / f"mosquitto-{len(brokers)}", **kwargs)
        brokers.append(broker)
        return broker.start() if start else broker

    yield make
    for broker in brokers:
        broker.kill()


@pytest.fixture
def mosquitto(mosquitto_factory):
    """A running anonymous mosquitto on a free 127.0.0.1 port, killed after the test."""
    return mosquitto_factory()


@pytest.fixture
def browser(tmp_path):
    """Headless Debian Chromium over the DevTools pipe; skips where it is not installed."""
    if (reason := missing_chromium()) is not None:
        pytest.skip(reason)
    with Browser(tmp_path / "chromium") as chromium:
        yield chromium
