"""deploy/mosquitto/make-passwd.sh: accounts and ACL made per install, displays added alone."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.broker import DAEMON_USER, SHIPPED, make_accounts

pytestmark = pytest.mark.skipif(
    shutil.which("mosquitto_passwd") is None, reason="mosquitto_passwd not installed"
)


def _run(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    script = folder / "deploy" / "mosquitto" / "make-passwd.sh"
    return subprocess.run(
        ["sh", str(script), *args], capture_output=True, text=True, check=False, env=env or None
    )


def _acl(folder: Path) -> str:
    return (folder / "deploy" / "mosquitto" / "acl").read_text(encoding="utf-8")


def test_daemon_writes_and_displays_read_nothing_shipped(tmp_path: Path) -> None:
    passwords = make_accounts(tmp_path, ["display-1"])
    assert set(passwords) == {DAEMON_USER, "display-1"}
    assert len(set(passwords.values())) == 2  # random per account and per install
    entries = [line for line in _acl(tmp_path).splitlines() if line and line[0] != "#"]
    assert entries == [
        "user hinge-edge",
        "topic write hinge/#",  # no read: the daemon subscribes to nothing
        "user display-1",
        "topic read hinge/#",
    ]
    assert "pattern" not in _acl(tmp_path)  # a pattern would grant every account, daemon too
    assert not (SHIPPED / "passwd").exists() and not (SHIPPED / "acl").exists()


def test_add_keeps_the_other_accounts(tmp_path: Path) -> None:
    make_accounts(tmp_path, ["display-1"])
    passwd = tmp_path / "deploy" / "mosquitto" / "passwd"
    before = passwd.read_text(encoding="utf-8")
    result = _run(tmp_path, "--add", "display-2")
    assert result.returncode == 0, result.stderr
    assert passwd.read_text(encoding="utf-8").startswith(before)  # old hashes untouched
    assert "display-2:" in passwd.read_text(encoding="utf-8")
    assert _acl(tmp_path).endswith("user display-2\ntopic read hinge/#\n")
    again = _run(tmp_path, "--add", "display-1")
    assert again.returncode == 2
    assert "display-1 already has an account" in again.stderr


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["hinge-edge"], {}, "hinge-edge is the daemon's account"),
        (["tv one"], {}, "account names use A-Z a-z 0-9 _ - only"),
        (["--add"], {}, "usage:"),
        (["d1"], {"HINGE_TOPIC_PREFIX": "hinge/#"}, "HINGE_TOPIC_PREFIX must be topic levels"),
    ],
)
def test_bad_input_is_refused(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    make_accounts(tmp_path, [])
    result = _run(tmp_path, *args, **{"PATH": "/usr/bin:/bin", **env})
    assert result.returncode == 2
    assert message in result.stderr
