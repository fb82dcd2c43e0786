"""deploy/compose.yaml is a valid Compose file and keeps the promises of the operator guide.

Validity is checked against the Compose Specification's own JSON schema (vendored, see
compose-spec/SOURCE.md); no Docker engine is needed. The rest are the checks `docker
compose config` would add (every named volume declared, every bind-mounted file either
shipped or made by a documented step) and the deployment's own rules.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SCHEMA = Path(__file__).with_name("compose-spec") / "compose-spec.json"
# Files the operator makes before `docker compose up` (deploy/README.md, "Install").
MADE_BY_OPERATOR = {
    "./config.yaml": "cp config.example.yaml config.yaml",
    "./mosquitto/passwd": "mosquitto/make-passwd.sh",
    "./mosquitto/acl": "mosquitto/make-passwd.sh",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_compose_file_matches_the_compose_spec(compose: dict, validator) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("services", "hinge-edge", "restrat"), "always"),  # misspelt key
        (("services", "hinge-edge", "deploy", "resources", "limits", "cpu"), "2"),  # not cpus
        (("services", "hinge-edge", "depends_on", "mosquitto", "condition"), "ready"),  # enum
        (("volumes", "spool", "driver_opts"), "local"),  # must be a mapping
    ],
)
def test_schema_rejects_a_broken_variant(compose: dict, validator, path, value) -> None:
    broken = copy.deepcopy(compose)
    node = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert list(validator.iter_errors(broken)), f"schema accepted {path} = {value!r}"


def _short_volumes(service: dict) -> list[tuple[str, str]]:
    """(source, target) of each short-syntax volume entry."""
    return [tuple(entry.split(":")[:2]) for entry in service.get("volumes", [])]


def test_named_volumes_are_declared_and_bind_mounts_exist(compose: dict) -> None:
    declared = set(compose.get("volumes", {}))
    for name, service in compose["services"].items():
        for source, target in _short_volumes(service):
            if source.startswith("."):
                exists = (DEPLOY / source).exists() or source in MADE_BY_OPERATOR
                assert exists, f"{name}: {source} is neither shipped nor made by the operator"
            else:
                assert source in declared, f"{name}: volume {source} ({target}) not declared"


def test_operator_steps_named_for_missing_files_are_in_the_guide() -> None:
    guide = (DEPLOY / "README.md").read_text(encoding="utf-8")
    for step in MADE_BY_OPERATOR.values():
        assert step in guide


def test_daemon_service_is_locked_down_and_limited(compose: dict) -> None:
    daemon = compose["services"]["hinge-edge"]
    assert daemon["read_only"] is True
    assert daemon["restart"] in ("always", "unless-stopped")
    assert daemon["user"] == "10001:10001"
    assert daemon["cap_drop"] == ["ALL"]
    assert ("spool", "/var/lib/hinge-edge") in _short_volumes(daemon)
    assert ("./config.yaml", "/config/hinge.yaml") in _short_volumes(daemon)
    limits = daemon["deploy"]["resources"]["limits"]
    assert 0 < float(limits["cpus"]) <= 4  # a Pi 5 has 4 cores
    assert _mebibytes(limits["memory"]) <= 4096  # and at least 4 GB
    broker = compose["services"]["mosquitto"]
    assert broker["restart"] in ("always", "unless-stopped")
    assert "deploy" in broker


def _mebibytes(text: str) -> float:
    number, unit = re.fullmatch(r"(\d+(?:\.\d+)?)([kmg])b?", text.lower()).groups()
    return float(number) * {"k": 1 / 1024, "m": 1, "g": 1024}[unit]


def test_password_variable_is_written_by_make_passwd(compose: dict) -> None:
    environment = compose["services"]["hinge-edge"]["environment"]
    variables = re.findall(r"\$\{(\w+)", json.dumps(environment))
    script = (DEPLOY / "mosquitto" / "make-passwd.sh").read_text(encoding="utf-8")
    assert variables == ["HINGE_MQTT_PASSWORD"]
    assert "HINGE_MQTT_PASSWORD=" in script
    assert "HINGE_EDGE_MQTT__PASSWORD" in environment


def test_generated_secrets_are_ignored_by_git() -> None:
    ignored = (DEPLOY / ".gitignore").read_text(encoding="utf-8").split()
    for path in (".env", "config.yaml", "mosquitto/passwd", "mosquitto/acl", "mosquitto/certs/"):
        assert path in ignored or f"/{path}" in ignored
