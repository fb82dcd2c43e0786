"""Loading valid files: values, defaults, relative paths, the embedded default."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from edge.errors import ConfigError
from edge.pose.config import PoseConfig
from edge.settings import AppSettings, default_settings, load_settings, source_kind
from tests.settings.conftest import MINIMAL

FULL = """
mqtt:
  host: broker.gym.lan
  port: 8883
  topic_prefix: gym-3/hinge
  username: edge
  password: "mqtt-secret-9"
  qos: 2
  client_id: box-3
  keepalive_s: 60
  reconnect_min_s: 0.5
  reconnect_max_s: 10
  tls: {enabled: true, ca_file: certs/ca.pem, cert_file: certs/c.pem, key_file: certs/c.key}
cameras:
  platform-1:
    source: rtsp://cam:cam-secret-1@10.0.0.5/stream1
    zone: [[0.2, 0.1], [0.8, 0.1], [0.8, 0.95], [0.2, 0.95]]
    analysis_fps: 12.5
    images: true
    open_timeout_s: 3
    read_timeout_s: 1
    stall_timeout_s: 4
  rack_2:
    source: clips/rack.mp4
    loop: true
    exercise: swing
    enabled: false
  usb:
    source: "0"
spool: {path: ../var/spool, max_messages: 50, when_full: reject_new}
web: {host: 127.0.0.1, port: 0}
pose: {models_dir: models, threads: 2}
hinge: {exercise: rdl, sets: {idle_s: 20}}
log: {level: DEBUG, format: json}
stats_interval_s: 5
"""


@pytest.fixture
def full(write_config, tmp_path: Path) -> AppSettings:
    for name in ("ca.pem", "c.pem", "c.key"):
        (tmp_path / "certs").mkdir(exist_ok=True)
        (tmp_path / "certs" / name).write_text("pem")
    return load_settings(write_config(FULL))


def test_full_file_values(full: AppSettings, tmp_path: Path) -> None:
    assert (full.mqtt.host, full.mqtt.port, full.mqtt.qos) == ("broker.gym.lan", 8883, 2)
    assert full.mqtt.password is not None
    assert full.mqtt.password.get_secret_value() == "mqtt-secret-9"
    assert full.mqtt.client_id == "box-3"
    assert full.mqtt.tls.enabled and full.mqtt.tls.ca_file == tmp_path / "certs" / "ca.pem"
    cam = full.cameras["platform-1"]
    assert cam.zone == ((0.2, 0.1), (0.8, 0.1), (0.8, 0.95), (0.2, 0.95))
    assert (cam.analysis_fps, cam.images, cam.stall_timeout_s) == (12.5, True, 4.0)
    assert full.cameras["rack_2"].enabled is False
    assert full.spool.when_full == "reject_new" and full.spool.max_messages == 50
    assert (full.web.port, full.log.level, full.log.format) == (0, "debug", "json")
    assert full.pose.threads == 2 and full.stats_interval_s == 5


def test_relative_paths_follow_the_config_folder(full: AppSettings, tmp_path: Path) -> None:
    assert full.cameras["rack_2"].source == str(tmp_path / "clips" / "rack.mp4")
    assert full.spool.path == tmp_path.parent / "var" / "spool"  # normalised, no ".."
    assert full.pose.models_dir == tmp_path / "models"
    # streams and device indices are left alone
    assert full.cameras["platform-1"].source.startswith("rtsp://")
    assert full.cameras["usb"].source == "0"


def test_relative_paths_do_not_depend_on_the_working_folder(
    write_config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(MINIMAL)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_settings(Path("..") / path.name).spool.path == tmp_path / "spool"


def test_camera_exercise_overrides_hinge_exercise(full: AppSettings) -> None:
    assert full.hinge_for("rack_2").exercise == "swing"
    assert full.hinge_for("platform-1").exercise == "rdl"  # camera null: hinge.exercise
    assert full.hinge_for("rack_2").sets.idle_s == 20


def test_defaults(write_config, tmp_path: Path) -> None:
    settings = load_settings(write_config(MINIMAL))
    assert settings.mqtt.host is None  # no broker given: the daemon starts a local one
    assert settings.mqtt.port == 1883 and settings.mqtt.topic_prefix == "hinge"
    assert settings.mqtt.client_id == f"hinge-edge-{socket.gethostname()}"
    cam = settings.cameras["platform-1"]
    assert (cam.zone, cam.analysis_fps, cam.loop, cam.exercise) == (None, 10.0, False, None)
    assert cam.images is False and cam.enabled is True
    assert settings.spool.path == tmp_path / "spool"
    assert settings.web.port == 8080 and settings.log.format == "text"
    assert settings.pose == PoseConfig()


def test_settings_are_frozen(write_config) -> None:
    settings = load_settings(write_config(MINIMAL))
    with pytest.raises(ValueError, match="frozen"):
        settings.stats_interval_s = 1  # type: ignore[misc]


def test_source_kinds() -> None:
    assert source_kind("rtsp://a/b") == "stream"
    assert source_kind("https://cam/mjpeg") == "stream"
    assert source_kind("/dev/video0") == "device"
    assert source_kind("2") == "device"
    assert source_kind("clips/a.mp4") == "file"


def test_default_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clip = tmp_path / "sample.mp4"
    settings = default_settings(clip, tmp_path / "spool")
    assert list(settings.cameras) == ["demo"]
    assert settings.cameras["demo"].source == str(clip) and settings.cameras["demo"].loop
    assert settings.mqtt.host is None and settings.web.port == 8080
    assert settings.spool.path == tmp_path / "spool"
    # the environment overrides the embedded default like a file
    monkeypatch.setenv("HINGE_EDGE_MQTT__HOST", "broker.lan")
    assert default_settings(clip, tmp_path / "spool").mqtt.host == "broker.lan"


def test_no_file_reads_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HINGE_EDGE_CAMERAS__A__SOURCE", "a.mp4")
    settings = load_settings(None)
    assert settings.cameras["a"].source == str(tmp_path / "a.mp4")
    monkeypatch.delenv("HINGE_EDGE_CAMERAS__A__SOURCE")
    with pytest.raises(ConfigError, match=r"^cameras: required"):
        load_settings(None)


def test_yaml_anchors_and_merge_keys_work(write_config) -> None:
    settings = load_settings(
        write_config(
            """
            cameras:
              a: &cam {source: a.mp4, analysis_fps: 5}
              b:
                <<: *cam
                analysis_fps: 7
            """
        )
    )
    assert settings.cameras["b"].analysis_fps == 7 and settings.cameras["a"].analysis_fps == 5


def test_sources_are_read_as_the_camera_reader_reads_them(write_config) -> None:
    settings = load_settings(
        write_config('cameras:\n  a: {source: "usb:0"}\n  b: {source: "rtsp://u:p/w@cam/x"}\n')
    )
    assert settings.cameras["a"].source == "usb:0"  # a device, not a file path
    assert source_kind("usb:0") == "device"
    assert "p/w" not in repr(settings.cameras["b"])  # a '/' in the password is masked too
