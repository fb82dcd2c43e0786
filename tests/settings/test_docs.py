"""docs/config.md: the key reference matches the models, and the full example is valid."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from edge.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "config.md"


def load_tool():
    spec = importlib.util.spec_from_file_location("config_docs", ROOT / "tools" / "config_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_is_up_to_date() -> None:
    tool = load_tool()
    current = DOC.read_text(encoding="utf-8")
    assert tool.splice(current, tool.render_reference()) == current, (
        "docs/config.md is stale: run .venv/bin/python -m tools.config_docs"
    )


def test_reference_covers_every_camera_and_mqtt_key() -> None:
    text = DOC.read_text(encoding="utf-8")
    for key in (
        "mqtt.tls.key_file",
        "cameras.<id>.stall_timeout_s",
        "spool.when_full",
        "web.port",
        "log.format",
        "stats_interval_s",
        "hinge.faults.weights.partial_rep",
    ):
        assert f"| `{key}` |" in text, key


def test_full_example_is_valid(tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    example = re.search(r"## A full example.*?```yaml\n(.*?)```", text, re.S)
    assert example is not None
    path = tmp_path / "config.yaml"
    path.write_text(example.group(1), encoding="utf-8")
    settings = load_settings(path)
    assert set(settings.cameras) == {"platform-1", "platform-2"}
    assert settings.mqtt.host == "broker.gym.lan" and settings.mqtt.topic_prefix == "gym-3/hinge"
    assert settings.hinge_for("platform-2").exercise == "deadlift"
    assert settings.log.format == "json"
