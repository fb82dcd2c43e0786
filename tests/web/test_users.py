"""The users file: hashed passwords, the first start's admin, and the commands that edit it."""

from __future__ import annotations

import io
import json
import logging
import stat
from pathlib import Path

import pytest

from edge import cli
from edge.daemon.auth import (
    PBKDF2_ITERATIONS,
    Role,
    UserStore,
    hash_password,
    verify_password,
)
from edge.daemon.config import WebConfig
from edge.daemon.web import open_users
from edge.errors import EdgeError


def test_a_password_is_stored_as_a_salted_pbkdf2_hash():
    stored = hash_password("a long password", iterations=1000)
    scheme, rounds, salt, _ = stored.split("$")
    assert scheme == "pbkdf2_sha256" and rounds == "1000" and len(salt) >= 22
    assert verify_password("a long password", stored)
    assert not verify_password("a long passwore", stored)
    assert hash_password("a long password", 1000) != stored  # salted
    assert not verify_password("x", "garbage") and not verify_password("x", "md5$1$a$b")


def test_the_first_start_makes_an_admin_and_shows_its_password_once(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    config = WebConfig()
    users = open_users(config, tmp_path)
    assert users is not None and users.path == tmp_path / "web-users.json"
    lines = [r.getMessage() for r in caplog.records if "password" in r.getMessage()]
    assert len(lines) == 1 and "web user 'admin' created with password" in lines[0]
    password = lines[0].split("with password ", 1)[1].split(" ", 1)[0]
    assert len(password) >= 16
    text = users.path.read_text()
    assert password not in text  # only its hash
    assert f"pbkdf2_sha256${PBKDF2_ITERATIONS}$" in text
    assert stat.S_IMODE(users.path.stat().st_mode) == 0o600
    admin = users.user("admin")
    assert admin is not None and admin.role is Role.ADMIN
    assert verify_password(password, admin.password)
    caplog.clear()
    assert open_users(config, tmp_path) is not None  # second start: nothing shown
    assert "password" not in caplog.text


def test_a_broken_users_file_stops_the_start(tmp_path):
    (tmp_path / "web-users.json").write_text("{not json")
    with pytest.raises(EdgeError, match="not a hinge-edge users file"):
        open_users(WebConfig(), tmp_path)


def test_users_file_refuses_short_passwords_bad_names_and_display_users(tmp_path):
    store = UserStore(tmp_path / "u.json")
    with pytest.raises(ValueError, match="at least 10"):
        store.add_user("coach", Role.TRAINER, "short")
    with pytest.raises(ValueError, match="invalid user name"):
        store.add_user("Coach Bob", Role.TRAINER, "long enough pw")
    with pytest.raises(ValueError, match="display link"):
        store.add_user("tv", Role.DISPLAY, "long enough pw")


def _cli(monkeypatch, capsys, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_commands_manage_users_and_tokens(tmp_path: Path, monkeypatch, capsys):
    where = ("--users-file", str(tmp_path / "users.json"))
    code, out, _ = _cli(monkeypatch, capsys, "users", *where, "add", "coach", "--role",
                        "trainer", "--cameras", "a", "--password-stdin",
                        stdin="coach's password\n")  # fmt: skip
    assert code == 0 and "coach: trainer, cameras a" in out
    store = UserStore(tmp_path / "users.json")
    coach = store.user("coach")
    assert coach is not None and coach.cameras == ("a",)
    assert verify_password("coach's password", coach.password)

    code, out, _ = _cli(monkeypatch, capsys, "users", *where, "passwd", "coach", "--generate")
    new = out.split("password: ", 1)[1].split()[0]
    assert code == 0 and verify_password(new, store.user("coach").password)  # type: ignore[union-attr]

    code, link, _ = _cli(monkeypatch, capsys, "display-token", *where, "a",
                         "--base-url", "http://box:8080/")  # fmt: skip
    assert code == 0 and link.startswith("http://box:8080/display/a?token=")
    token = link.strip().split("token=", 1)[1]
    entry = store.display_token(token)
    assert entry is not None and entry.camera == "a"

    code, scrape, _ = _cli(monkeypatch, capsys, "scrape-token", *where)
    assert code == 0 and store.scrape_ok(scrape.strip())

    code, listing, _ = _cli(monkeypatch, capsys, "users", *where, "list")
    rows = [json.loads(line) for line in listing.splitlines()]
    assert {"user": "coach", "role": "trainer", "cameras": ["a"]} in rows
    assert {"display_token": entry.id, "camera": "a", "created": entry.created} in rows
    assert token not in listing and "pbkdf2" not in listing and scrape.strip() not in listing

    code, out, _ = _cli(monkeypatch, capsys, "display-token", *where, "a", "--revoke")
    assert code == 0 and "revoked 1" in out and store.display_token(token) is None
    code, _, err = _cli(monkeypatch, capsys, "users", *where, "remove", "nobody")
    assert code == 1 and "no" in err
    code, _, _ = _cli(monkeypatch, capsys, "users", *where, "remove", "coach")
    assert code == 0 and store.user("coach") is None


def test_the_commands_check_cameras_against_the_config(tmp_path: Path, monkeypatch, capsys):
    config = tmp_path / "gym.yaml"
    config.write_text("cameras:\n  platform-1: {source: rtsp://cam/1}\nspool: {path: data}\n")
    code, _, err = _cli(monkeypatch, capsys, "display-token", "--config", str(config), "nope")
    assert code == 1 and "no camera nope" in err
    code, link, _ = _cli(monkeypatch, capsys, "display-token", "--config", str(config),
                         "platform-1")  # fmt: skip
    assert code == 0 and ":8080/display/platform-1?token=" in link
    assert (tmp_path / "data" / "web-users.json").is_file()  # in the spool folder
