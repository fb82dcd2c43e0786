"""One credential cleaner (`edge.redact`), and no place that shows a source URL bypasses it.

Every place a camera source is printed or published gets a URL with secrets in its
userinfo, its query and its path (both `key=value` and `/key/value/` forms): the cleaner
itself, `hinge-edge check-config`, config reprs and errors, the capture's display form,
error messages and status snapshots, the daemon's status payloads, web snapshot, stats
and metrics, and log lines. None may show a secret.
"""

from __future__ import annotations

import ast
import json
import logging
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from edge.capture.config import CaptureConfig, ReaderTuning
from edge.capture.reader import CameraReader
from edge.capture.snapshot import CaptureState
from edge.capture.source import parse_source
from edge.cli import main
from edge.daemon.app import Daemon
from edge.daemon.pipeline import PipelineCounters
from edge.errors import ConfigError
from edge.log import setup_logging
from edge.redact import redact_url, url_secrets
from edge.settings import load_settings, summarize

pytestmark = pytest.mark.usefixtures("clean_env")  # no machine's HINGE_EDGE_* leaks in

ROOT = Path(__file__).resolve().parents[1]

USERINFO, QUERY, TOKEN, PATH_PARAM, PATH_SEGMENT = (
    "Ui-Secret-4411",
    "Query-Secret-5522",
    "Token-Secret-8855",
    "Path-Secret-6633",
    "Segment-Secret-7744",
)
SECRETS = (USERINFO, QUERY, TOKEN, PATH_PARAM, PATH_SEGMENT)
# One source per form, and one with all of them (port 9: nothing listens, opening fails).
SOURCES = {
    "userinfo": f"rtsp://admin:{USERINFO}@127.0.0.1:9/live",
    "query": f"rtsp://127.0.0.1:9/live?user=admin&password={QUERY}&access_token={TOKEN}",
    "path": f"rtsp://127.0.0.1:9/user=admin_password={PATH_PARAM}_channel=1_stream=0.sdp",
    "segment": f"http://127.0.0.1:9/cgi-bin/user/admin/password/{PATH_SEGMENT}/video.mjpg",
    "all": (
        f"rtsp://admin:{USERINFO}@127.0.0.1:9/user=admin_password={PATH_PARAM}_channel=1"
        f"/key/{PATH_SEGMENT}/live?user=admin&pwd={QUERY}&access_token={TOKEN}"
    ),
}
MASKED = {
    "userinfo": "rtsp://admin:***@127.0.0.1:9/live",
    "query": "rtsp://127.0.0.1:9/live?user=admin&password=***&access_token=***",
    "path": "rtsp://127.0.0.1:9/user=admin_password=***_channel=1_stream=0.sdp",
    "segment": "http://127.0.0.1:9/cgi-bin/user/admin/password/***/video.mjpg",
    "all": (
        "rtsp://admin:***@127.0.0.1:9/user=admin_password=***_channel=1"
        "/key/***/live?user=admin&pwd=***&access_token=***"
    ),
}
FAST = CaptureConfig(open_timeout_s=1.0, read_timeout_s=0.5, stall_timeout_s=1.0)
FAST_RETRY = ReaderTuning(backoff_min_s=0.1, backoff_max_s=0.2)


def assert_clean(text: str) -> None:
    leaked = [secret for secret in SECRETS if secret in text]
    assert not leaked, f"{leaked} in {text}"


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A config with one camera per source form."""
    cameras = "".join(f"  {name}:\n    source: '{url}'\n" for name, url in SOURCES.items())
    path = tmp_path / "hinge-edge.yaml"
    path.write_text(f"mqtt: {{host: 127.0.0.1}}\ncameras:\n{cameras}", encoding="utf-8")
    return path


# --- the function ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # userinfo: everything up to the last "@" before the query, so raw "@", "/", "?" too
        ("rtsp://user:pass@10.0.0.5/stream1", "rtsp://user:***@10.0.0.5/stream1"),
        ("rtsps://u:p%40ss@cam:322/x", "rtsps://u:***@cam:322/x"),
        ("rtsp://user:p@ss@10.0.0.5/s", "rtsp://user:***@10.0.0.5/s"),
        ("rtsp://user:p@ss/w@rd@host:554/s", "rtsp://user:***@host:554/s"),
        ("rtsp://user:p?ss@host/s", "rtsp://user:***@host/s"),
        ("http://user:pw@host/p?email=a@b.c", "http://user:***@host/p?email=a@b.c"),
        ("rtsp://user@host/s", "rtsp://user@host/s"),  # no password
        ("rtsp://10.0.0.5/s?u=a:b@c", "rtsp://10.0.0.5/s?u=a:b@c"),  # "@" in the query
        ("rtsp://host:554/s?x=a@b", "rtsp://host:554/s?x=a@b"),  # a port, then a path
        # query: secret keys by their ending; user names stay
        ("rtsp://host/s?channel=1&password=hunter2", "rtsp://host/s?channel=1&password=***"),
        ("srt://host:9000?passphrase=abc&latency=20", "srt://host:9000?passphrase=***&latency=20"),
        (
            "http://cam:88/cgi-bin/CGIStream.cgi?cmd=GetMJStream&usr=admin&pwd=x1",
            "http://cam:88/cgi-bin/CGIStream.cgi?cmd=GetMJStream&usr=admin&pwd=***",
        ),
        (
            "http://cam/videostream.cgi?loginuse=admin&loginpas=12345",
            "http://cam/videostream.cgi?loginuse=admin&loginpas=***",
        ),
        (
            "https://h/x?API_KEY=k1&X-Amz-Signature=s1&keyframe=1&auth=a1&secret=s2",
            "https://h/x?API_KEY=***&X-Amz-Signature=***&keyframe=1&auth=***&secret=***",
        ),
        ("rtsp://h/s?password=&user=x", "rtsp://h/s?password=&user=x"),  # nothing to hide
        # path: key=value between "_", "&" or ";", and /key/value/ segments
        (
            "rtsp://nvr:554/user=admin_password=tlJw_channel=1_stream=0.sdp?real_stream",
            "rtsp://nvr:554/user=admin_password=***_channel=1_stream=0.sdp?real_stream",
        ),
        (
            "rtsp://nvr:554/user=admin&password=xyz&channel=1&stream=0.sdp?",
            "rtsp://nvr:554/user=admin&password=***&channel=1&stream=0.sdp?",
        ),
        ("http://cam/a;user=u;pwd=x2/b", "http://cam/a;user=u;pwd=***/b"),
        ("http://cam/cgi/password/xyz/snap.jpg", "http://cam/cgi/password/***/snap.jpg"),
        ("rtmp://h/live/streamkey/abc", "rtmp://h/live/streamkey/***"),
        # in free text: every URL, up to its whitespace or quote
        (
            "open RTSP://a:b@h failed; http://c:d@e/f?token=t",
            "open RTSP://a:***@h failed; http://c:***@e/f?token=***",
        ),
        ("source='rtsp://h/s?pwd=x', other='y'", "source='rtsp://h/s?pwd=***', other='y'"),
        ('{"src": "rtsp://a:b@h/s?pwd=x", "n": 1}', '{"src": "rtsp://a:***@h/s?pwd=***", "n": 1}'),
        ("offline (rtsp://h/s?token=t): refused", "offline (rtsp://h/s?token=***): refused"),
        ("see http://h/password/xyz.", "see http://h/password/***."),
        # not URLs: unchanged
        ("/clips/a.mp4", "/clips/a.mp4"),
        ("/videos/a:b@c.mp4", "/videos/a:b@c.mp4"),
        ("password=x without a scheme", "password=x without a scheme"),
        ("12:30:00 note:the C:/Users/x fe80::1", "12:30:00 note:the C:/Users/x fe80::1"),
        # a stream scheme short of its "//" (the config refuses it, showing the value)
        ("got 'rtsp:/h/s?password=x'", "got 'rtsp:/h/s?password=***'"),
        ("rtsp:admin:pw@h/s", "rtsp:admin:***@h/s"),
    ],
)  # fmt: skip
def test_redact_url(text: str, expected: str) -> None:
    assert redact_url(text) == expected
    assert redact_url(expected) == expected  # masking twice changes nothing


@pytest.mark.parametrize("form", list(SOURCES))
def test_every_form_is_masked_and_its_secrets_listed(form: str) -> None:
    assert redact_url(SOURCES[form]) == MASKED[form]
    assert redact_url(SOURCES[form], whole=True) == MASKED[form]
    assert url_secrets(MASKED[form]) == []
    secrets = url_secrets(SOURCES[form])
    assert secrets and all(secret in SECRETS for secret in secrets)


def test_a_whole_source_keeps_blanks_inside_its_url() -> None:
    source = "rtsp://user:pass word@cam/my stream?password=a b&x=1"
    assert redact_url(source, whole=True) == "rtsp://user:***@cam/my stream?password=***&x=1"
    assert url_secrets(source) == ["pass word", "a b"]
    assert url_secrets("rtsp://u:p%40ss@cam/s") == ["p%40ss", "p@ss"]  # as written and decoded


def test_redact_url_is_defined_in_exactly_one_module() -> None:
    """The cleaner is `edge.redact`; any other module imports it, never writes its own."""
    defined: dict[str, list[str]] = {}
    for path in sorted((ROOT / "edge").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                name = getattr(node, "name", "<lambda>")
                if name in ("redact_url", "url_secrets", "url_password"):
                    defined.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert defined == {"redact_url": ["edge/redact.py"], "url_secrets": ["edge/redact.py"]}


# --- the configuration -------------------------------------------------------------------


def test_check_config_prints_no_secret(config, capsys, restore_logging) -> None:
    assert main(["check-config", str(config)]) == 0
    out, err = capsys.readouterr()
    assert_clean(out + err)
    for form, masked in MASKED.items():
        assert f"  {form}: {masked} (" in out


def test_check_config_errors_print_no_secret(config, capsys, restore_logging) -> None:
    # Invalid: `loop` on a stream names the camera; an unknown key sits beside it.
    text = config.read_text().replace("    source: ", "    loop: true\n    source: ", 1)
    config.write_text(text + "    typo_key: 1\n", encoding="utf-8")
    assert main(["check-config", str(config)]) == 1
    out, err = capsys.readouterr()
    assert "invalid configuration" in err
    assert_clean(out + err)


def test_settings_reprs_and_summary_show_no_secret(config) -> None:
    settings = load_settings(config)
    texts = [repr(settings), str(settings), repr(settings.cameras), *summarize(settings)]
    assert_clean("\n".join(texts))
    assert MASKED["all"] in repr(settings.cameras["all"])


def test_a_bad_source_value_is_not_shown_in_clear(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    # A stream source with `loop` is refused; the value shown (if any) must be clean.
    path.write_text(f"cameras: {{a: {{source: '{SOURCES['all']}', loop: true}}}}\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert_clean(str(info.value))


# --- capture, status payloads, metrics, logs ----------------------------------------------


def test_capture_display_and_error_messages_show_no_secret() -> None:
    source = parse_source(SOURCES["all"])
    assert source.display == MASKED["all"]
    assert "Ui-Secret" not in repr(source)
    # An error naming the raw URL, and one naming it another way (no userinfo, as FFmpeg
    # prints it): both come out clean.
    raw = f"avformat_open_input failed on {SOURCES['all']}: 401 Unauthorized"
    other = SOURCES["all"].replace(f"admin:{USERINFO}@", "")
    assert_clean(source.scrub(raw) + source.scrub(f"cannot read {other}: EOF"))
    assert MASKED["all"] in source.scrub(raw)


def test_reader_daemon_payloads_and_logs_show_no_secret(config, capfd, restore_logging) -> None:
    """The real reader fails to open the URL; everything it and the daemon publish is clean."""
    settings = load_settings(config)  # registers the known secrets with the log filter
    setup_logging("debug")  # to stderr, where capfd reads it with OpenCV's and FFmpeg's
    daemon = Daemon(settings)  # not started: no broker, no models, no web server
    # What the pages get on their event streams: each payload's JSON, as the hub sends it
    shown: list[str] = []
    daemon.hub.publish = lambda kind, payload: shown.append(payload.to_json())  # type: ignore[method-assign]
    reader = CameraReader(
        "all", settings.cameras["all"].source, FAST, daemon._on_capture_state, FAST_RETRY
    )
    daemon._cameras["all"] = (reader, SimpleNamespace(counters=PipelineCounters()))
    reader.start()
    try:
        deadline = time.monotonic() + 10.0
        while reader.snapshot().state is not CaptureState.OFFLINE:
            assert time.monotonic() < deadline, reader.snapshot()
            time.sleep(0.05)
        snap = reader.snapshot()
        published = list(shown)
        texts = [
            json.dumps(snap.as_dict()),
            *published,  # the status payloads, as the pages get them (and MQTT, same builder)
            daemon._camera_status("all", snap).to_json(),
            json.dumps(daemon.snapshot()),
            daemon.publish_stats().to_json(),
            json.dumps(daemon.health()),
            daemon.metrics().decode(),
        ]
    finally:
        assert reader.stop(timeout_s=3.0)
    assert snap.source == MASKED["all"]
    assert snap.last_error.startswith(f"cannot open {MASKED['all']} within 1 s")
    assert any('"camera":"all"' in text and "last_error" in text for text in published)
    assert 'hinge_camera_up{camera="all"} 0.0' in texts[-1]
    # Log lines: the reader's, and the secrets written by hand, with or without their URL.
    log = logging.getLogger("edge.test")
    log.warning("opening %s", SOURCES["all"])
    log.warning("bare values: %s", " ".join(SECRETS))
    log.error("a URL the settings never saw: %s", SOURCES["all"].replace("127.0.0.1", "h"))
    captured = capfd.readouterr()
    assert_clean("\n".join([*texts, captured.out, captured.err]))
    assert f"all: offline ({MASKED['all']})" in captured.err
    assert f"opening {MASKED['all']}" in captured.err
    assert "bare values: *** *** *** *** ***" in captured.err
