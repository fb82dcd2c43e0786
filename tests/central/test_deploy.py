"""deploy/central: the compose file, make-users.py's accounts, nats-server's verdict on both.

No server runs here (`nats-server -t` only checks a config), so this stays in the fast tier.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from devkit.broker import make_tls_files
from devkit.cluster import CENTRAL, NATS_SERVER, make_users

SCHEMA = Path(__file__).parents[1] / "deploy" / "compose-spec" / "compose-spec.json"
needs_nats = pytest.mark.skipif(
    not NATS_SERVER.is_file(), reason=f"{NATS_SERVER} absent: Debian package `nats-server`"
)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((CENTRAL / "compose.yaml").read_text(encoding="utf-8"))


def _variables() -> set[str]:
    return set(re.findall(r"\$(NATS_\w+)", (CENTRAL / "nats.conf").read_text()))


def test_compose_file_matches_the_compose_spec(compose: dict) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert [e.message for e in validator.iter_errors(compose)] == []


def test_three_nodes_run_the_shipped_files_with_every_variable_set(compose: dict) -> None:
    services = compose["services"]
    assert len(services) == 3
    names = {service["environment"]["NATS_NAME"] for service in services.values()}
    assert len(names) == 3
    for name, service in services.items():
        environment = service["environment"]
        assert set(environment) >= _variables(), f"{name}: unset {_variables() - set(environment)}"
        others = {f"nats-route://{other}:6222" for other in services if other != name}
        assert set(environment["NATS_ROUTES"].strip("[]").split(", ")) == others
        mounts = {entry.split(":")[1]: entry.split(":")[0] for entry in service["volumes"]}
        for shipped in ("nats.conf", "mqtt-tls.conf"):
            assert mounts[f"/etc/nats/{shipped}"] == f"./{shipped}"
            assert (CENTRAL / shipped).is_file()
        assert mounts["/etc/nats/auth.conf"] == "./auth.conf"  # made by make-users.py
        assert mounts[environment["NATS_STORE"]] in compose["volumes"]
    host_ports = [port.split(":")[-2] for s in services.values() for port in s["ports"]]
    assert len(host_ports) == len(set(host_ports))


def test_secrets_are_ignored_by_git() -> None:
    ignored = (CENTRAL / ".gitignore").read_text().split()
    assert {"/auth.conf", "/users.json", "/credentials/", "/certs/"} <= set(ignored)


def _make_users(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CENTRAL / "make-users.py"), "--out", str(out), "--cost", "4", *args],
        capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip


def test_make_users_writes_private_files_with_hashes_only(tmp_path: Path) -> None:
    boxes = tmp_path / "boxes.txt"
    boxes.write_text("# gym box\ngym-1 box-a\ngym-1 box-b  # the back room\n\ngym-2 box-a\n")
    result = _make_users(tmp_path, str(boxes))
    assert result.returncode == 0, result.stderr
    users = json.loads((tmp_path / "users.json").read_text())
    assert [u["user"] for u in users] == [
        "box.gym-1.box-a", "box.gym-1.box-b", "box.gym-2.box-a", "hub"
    ]  # fmt: skip
    assert users[0]["publish"] == ["hinge.gym-1.box-a.>"]
    assert users[3]["subscribe"] == ["hinge", "hinge.>", "$MQTT.sub.>"]
    credentials = sorted((tmp_path / "credentials").iterdir())
    assert len(credentials) == 4
    for path in [tmp_path / "auth.conf", tmp_path / "users.json", *credentials]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    auth = (tmp_path / "auth.conf").read_text()
    for path in credentials:
        password = path.read_text().split("PASSWORD=")[1].strip()
        assert len(password) == 24 and password not in auth
    assert auth.count('"$2b$04$') == 4
    assert 'subscribe: { deny: [">"] }' in auth  # boxes read nothing (an empty allow: all)


def test_make_users_add_keeps_the_others(tmp_path: Path) -> None:
    (tmp_path / "boxes.txt").write_text("gym-1 box-a\n")
    assert _make_users(tmp_path, str(tmp_path / "boxes.txt")).returncode == 0
    before = (tmp_path / "users.json").read_text()
    result = _make_users(tmp_path, "--add", "gym-1", "box-b", "--hub", "hub-2")
    assert result.returncode == 0, result.stderr
    after = json.loads((tmp_path / "users.json").read_text())
    assert after[:2] == json.loads(before)
    assert [u["user"] for u in after[2:]] == ["box.gym-1.box-b", "hub-2"]
    again = _make_users(tmp_path, "--add", "gym-1", "box-b")
    assert again.returncode == 2 and "already has an account" in again.stderr
    removed = _make_users(tmp_path, "--remove", "gym-1", "box-a")
    assert removed.returncode == 0, removed.stderr
    users = [u["user"] for u in json.loads((tmp_path / "users.json").read_text())]
    assert users == ["hub", "box.gym-1.box-b", "hub-2"]
    assert "box.gym-1.box-a" not in (tmp_path / "auth.conf").read_text()


@pytest.mark.parametrize(
    "line",
    [
        "Gym-1 box-a",  # upper case
        "gym.1 box-a",  # a dot: NATS would read two topic levels
        "gym-1",  # no box
        "gym-1 box-a extra",
        "gym-1 " + "b" * 33,  # longer than 32
    ],
)
def test_make_users_refuses_bad_lines(tmp_path: Path, line: str) -> None:
    (tmp_path / "boxes.txt").write_text(line + "\n")
    result = _make_users(tmp_path, str(tmp_path / "boxes.txt"))
    assert result.returncode == 2 and not (tmp_path / "auth.conf").exists()


@needs_nats
@pytest.mark.parametrize("tls", [False, True])
def test_nats_server_accepts_the_shipped_config(tmp_path: Path, tls: bool) -> None:
    users = make_users()
    accounts = [users.box_account("gym-1", "box-a", "pw", cost=4),
                users.hub_account("hub", "pw", cost=4)]  # fmt: skip
    shutil.copy(CENTRAL / "nats.conf", tmp_path / "nats.conf")
    (tmp_path / "auth.conf").write_text(users.render_auth(accounts))
    tls_conf = ""
    if tls:
        files = make_tls_files(tmp_path / "certs")
        tls_conf = (CENTRAL / "mqtt-tls.conf").read_text()
        tls_conf = tls_conf.replace("/etc/nats/certs/server.pem", str(files.cert))
        tls_conf = tls_conf.replace("/etc/nats/certs/server.key", str(files.key))
    (tmp_path / "mqtt-tls.conf").write_text(tls_conf)
    env = {name: "127.0.0.1:1" for name in _variables()}
    env |= {"NATS_NAME": "n1", "NATS_ROUTES": "[nats-route://127.0.0.1:2]",
            "NATS_STORE": str(tmp_path / "store"), "NATS_MQTT_ACK_WAIT": "30s"}  # fmt: skip
    result = subprocess.run([str(NATS_SERVER), "-t", "-c", str(tmp_path / "nats.conf")],
                            capture_output=True, text=True, env={**os.environ, **env},
                            check=False, timeout=30)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "is valid" in result.stderr
