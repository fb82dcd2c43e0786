"""Secrets (the MQTT password, camera URL passwords) never show in reprs, errors or logs."""

from __future__ import annotations

import json
import logging

import pytest

from edge.errors import ConfigError
from edge.log import redact, register_secret, setup_logging
from edge.redact import redact_url
from edge.settings import load_settings, summarize

MQTT_PW = "mqtt-Pw-7731"
CAM_PW = "cam-Pw-4402"
FILE = f"""
mqtt: {{host: broker.lan, username: edge, password: "{MQTT_PW}"}}
cameras:
  platform-1:
    source: rtsp://admin:{CAM_PW}@10.0.0.5:554/stream1
"""


def assert_clean(text: str) -> None:
    assert MQTT_PW not in text and CAM_PW not in text, text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rtsp://user:pass@10.0.0.5/stream1", "rtsp://user:***@10.0.0.5/stream1"),
        ("rtsps://u:p%40ss@cam:322/x", "rtsps://u:***@cam:322/x"),
        ("rtsp://user:p@ss@10.0.0.5/s", "rtsp://user:***@10.0.0.5/s"),  # unescaped "@"
        (
            "open RTSP://a:b@h failed; http://c:d@e/f",
            "open RTSP://a:***@h failed; http://c:***@e/f",
        ),
        ("rtsp://token@10.0.0.5/s", "rtsp://token@10.0.0.5/s"),  # no password part
        ("rtsp://10.0.0.5/s?u=a:b@c", "rtsp://10.0.0.5/s?u=a:b@c"),  # not userinfo
        ("/clips/a.mp4", "/clips/a.mp4"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_registered_secrets_are_masked_as_words_only() -> None:
    register_secret("zq9")
    assert redact("pw=zq9, 'zq9' zq9x") == "pw=***, '***' zq9x"
    register_secret("")  # ignored
    assert redact("a b") == "a b"


def test_repr_and_summary_hide_secrets(write_config) -> None:
    settings = load_settings(write_config(FILE))
    for text in (repr(settings), str(settings), repr(settings.cameras), repr(settings.mqtt)):
        assert_clean(text)
    assert "rtsp://admin:***@10.0.0.5:554/stream1" in repr(settings)
    summary = "\n".join(summarize(settings))
    assert_clean(summary)
    assert "rtsp://admin:***@10.0.0.5:554/stream1" in summary
    assert "user edge with password" in summary


@pytest.mark.parametrize(
    "text",
    [
        f'mqtt: {{username: edge, pasword: "{MQTT_PW}"}}\ncameras: {{a: {{source: a.mp4}}}}',
        f"mqtt: {{username: edge, password: [{MQTT_PW}]}}\ncameras: {{a: {{source: a.mp4}}}}",
        f'mqtt: {{password: "{MQTT_PW}"}}\ncameras: {{a: {{source: a.mp4}}}}',
        f"cameras: {{a: {{source: 'rtsp:admin:{CAM_PW}@h/s'}}}}",
        f"cameras: {{a: {{source: 'rtsp://admin:{CAM_PW}@h/s', loop: true}}}}",
        f"cameras: {{a: 'rtsp://admin:{CAM_PW}@h/s'}}",
    ],
)
def test_errors_never_show_secrets(write_config, text: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write_config(text))
    assert_clean(str(info.value))
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_bad_password_from_the_environment_is_not_shown(write_config, monkeypatch) -> None:
    monkeypatch.setenv("HINGE_EDGE_MQTT__PASSWORD", MQTT_PW)
    with pytest.raises(ConfigError) as info:  # password without username
        load_settings(write_config("cameras: {a: {source: a.mp4}}"))
    assert_clean(str(info.value))


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_log_lines_are_redacted(write_config, capsys, restore_logging, fmt: str) -> None:
    load_settings(write_config(FILE))  # registers both passwords
    setup_logging("debug", fmt)
    log = logging.getLogger("edge.test")
    log.info("connecting as edge/%s", MQTT_PW, extra={"camera": "platform-1"})
    log.warning("platform-1: cannot open rtsp://admin:%s@10.0.0.5:554/stream1", CAM_PW)
    log.warning("plain password: %s", CAM_PW)
    log.error("a URL never loaded: rtsp://x:other-secret@1.2.3.4/s")
    try:
        raise OSError(f"connect failed for rtsp://admin:{CAM_PW}@10.0.0.5 with {MQTT_PW}")
    except OSError:
        log.exception("reconnect")
    err = capsys.readouterr().err
    assert_clean(err)
    assert "other-secret" not in err and "rtsp://admin:***@10.0.0.5" in err
    if fmt == "json":
        records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        assert len(records) == 5
        first = records[0]
        assert set(first) == {"ts", "level", "logger", "msg", "camera"}
        assert first["msg"] == "connecting as edge/***" and first["camera"] == "platform-1"
        assert first["level"] == "info" and first["logger"] == "edge.test"
        assert first["ts"].endswith("+00:00") and "T" in first["ts"]
        assert "camera" not in records[1]
        assert "Traceback" in records[4]["exc"]
    else:
        assert "INFO    edge.test: connecting as edge/***" in err


def test_bad_log_arguments_do_not_crash(capsys, restore_logging) -> None:
    setup_logging("info")
    logging.getLogger("edge.test").warning("two %s %s", "only-one")
    assert "two %s %s (log arguments did not match the format)" in capsys.readouterr().err


def test_setup_logging_keeps_its_old_signature(restore_logging) -> None:
    setup_logging()
    setup_logging("warning")
    assert logging.getLogger().level == logging.WARNING
    with pytest.raises(ValueError, match="text, json"):
        setup_logging("info", "xml")
