"""deploy/config.example.yaml passes `hinge-edge check-config` as each deployment runs it.

The environment variables that the image, compose.yaml and the systemd unit set are set
here too: the settings reject an unknown HINGE_EDGE_ variable, so a stale name in any of
them would stop the daemon at start.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from edge.cli import main
from tests.deploy.broker import DAEMON_USER

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "config.example.yaml"


def _dockerfile_env() -> dict[str, str]:
    text = (ROOT / "Dockerfile.arm64").read_text(encoding="utf-8").replace("\\\n", " ")
    return dict(re.findall(r"\b(HINGE_EDGE_\w+)=(\S+)", text))


def _compose_env() -> dict[str, str]:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    environment = compose["services"]["hinge-edge"]["environment"]
    return {name: "from-dot-env" for name in environment}  # values come from deploy/.env


def _systemd_env() -> dict[str, str]:
    text = (ROOT / "deploy" / "hinge-edge.service").read_text(encoding="utf-8")
    return dict(re.findall(r"^Environment=(HINGE_EDGE_\w+)=(\S+)$", text, flags=re.M))


@pytest.mark.parametrize(
    "environment",
    [
        pytest.param(lambda: {}, id="plain"),
        pytest.param(lambda: {**_dockerfile_env(), **_compose_env()}, id="compose"),
        pytest.param(lambda: {**_systemd_env(), "HINGE_EDGE_MQTT__PASSWORD": "x"}, id="systemd"),
    ],
)
def test_example_config_checks_out(environment, monkeypatch, capsys) -> None:
    variables = environment()
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert main(["check-config", str(EXAMPLE)]) == 0, capsys.readouterr().err
    summary = capsys.readouterr().out
    assert "cameras: 2 (2 enabled)" in summary
    if "HINGE_EDGE_MQTT__PASSWORD" in variables:
        assert "with password" in summary


def test_deployments_set_the_variables_they_rely_on() -> None:
    assert "HINGE_EDGE_POSE__MODELS_DIR" in _dockerfile_env()
    assert "HINGE_EDGE_POSE__MODELS_DIR" in _systemd_env()
    assert "HINGE_EDGE_MQTT__PASSWORD" in _compose_env()


def test_example_has_two_cameras_with_zones_and_no_password() -> None:
    config = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    cameras = config["cameras"]
    assert len(cameras) == 2
    for camera in cameras.values():
        zone = camera["zone"]
        assert len(zone) >= 3 and all(0 <= v <= 1 for point in zone for v in point)
    assert "password" not in config["mqtt"]  # it comes from the environment
    assert config["mqtt"]["topic_prefix"] == "hinge"  # what make-passwd.sh's acl grants
    # The broker uses the account as client id (use_username_as_clientid): the same here.
    assert config["mqtt"]["client_id"] == config["mqtt"]["username"] == DAEMON_USER
