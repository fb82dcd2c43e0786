"""The hub's configuration: YAML and HINGE_HUB_* variables, each problem named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edge.cli import main
from edge.errors import ConfigError
from edge.hub.config import BrokerNode, load_hub_settings
from edge.log import redact

GOOD = """\
broker:
  host: nats1.chain.lan
  failover: ["nats2.chain.lan:1884", "10.0.0.3:1885"]
  username: hub
  password: s3cret-broker
database:
  dsn: postgresql://hub:s3cret-db@db.chain.lan/hinge
hub:
  name: worker-1
  timezone: Europe/Berlin
"""


@pytest.fixture
def hub_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [n for n in os.environ if n.startswith("HINGE_HUB_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "hub.yaml"
    path.write_text(GOOD)
    return path


def issues_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_hub_settings(path)
    return [str(issue) for issue in caught.value.issues]


def test_a_hub_file_gives_the_nodes_in_order_and_the_client_id(hub_yaml):
    settings = load_hub_settings(hub_yaml)
    assert settings.broker.nodes == (
        BrokerNode(host="nats1.chain.lan", port=1883),
        BrokerNode(host="nats2.chain.lan", port=1884),
        BrokerNode(host="10.0.0.3", port=1885),
    )
    assert settings.client_id == "hub-worker-1"
    assert settings.database.conninfo().endswith("/hinge?connect_timeout=5")
    assert settings.web.port == 8090


def test_the_passwords_never_reach_a_log_line(hub_yaml):
    load_hub_settings(hub_yaml)
    line = redact("dsn postgresql://hub:s3cret-db@db/hinge, broker s3cret-broker")
    assert "s3cret" not in line


def test_the_environment_overrides_the_file(hub_yaml, monkeypatch):
    monkeypatch.setenv("HINGE_HUB_DATABASE__DSN", "host=db2 dbname=hinge user=hub")
    monkeypatch.setenv("HINGE_HUB_HUB__NAME", "worker-2")
    settings = load_hub_settings(hub_yaml)
    assert settings.database.conninfo() == "host=db2 dbname=hinge user=hub connect_timeout=5"
    assert settings.client_id == "hub-worker-2"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("  timezone: Europe/Berlin", "  timezone: Mars/Olympus"), "unknown time zone"),
        (("  host: nats1.chain.lan", "  port: 1883"), "broker.host is required"),
        (("  username: hub", "  client_id: x\n  username: hub"), "its client id is hub-<hub.name>"),
        (('"10.0.0.3:1885"', '"10.0.0.3"'), "host:port"),
        (("  name: worker-1", "  name: 'a b'"), "hub.name"),
        (("database:\n  dsn: postgresql://hub:s3cret-db@db.chain.lan/hinge\n", ""), "database"),
        (("  timezone: Europe/Berlin", "  timezne: UTC"), "did you mean 'timezone'"),
    ],
)
def test_each_mistake_is_named(hub_yaml, change, expected):
    hub_yaml.write_text(GOOD.replace(*change))
    found = issues_of(hub_yaml)
    assert any(expected in issue for issue in found), found
    assert not any("s3cret" in issue for issue in found)


def test_hub_with_a_bad_config_exits_1_naming_the_problem(tmp_path, capsys):
    assert main(["hub", "--config", str(tmp_path / "missing.yaml")]) == 1
    assert "the config file does not exist" in capsys.readouterr().err
