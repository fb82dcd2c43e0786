"""Environment overrides: nesting, priority, null, JSON sections, and errors naming the variable."""

from __future__ import annotations

import pytest

from edge.errors import ConfigError
from edge.settings import AppSettings, load_settings
from tests.settings.conftest import MINIMAL

FILE = """
mqtt: {host: file.lan, port: 1884, username: edge}
cameras:
  platform-1:
    source: a.mp4
    analysis_fps: 10
"""


def test_nested_variables_override_single_keys(write_config, monkeypatch) -> None:
    monkeypatch.setenv("HINGE_EDGE_MQTT__HOST", "env.lan")
    monkeypatch.setenv("HINGE_EDGE_MQTT__PASSWORD", "env-pw-1")
    monkeypatch.setenv("HINGE_EDGE_MQTT__TLS__INSECURE", "true")
    monkeypatch.setenv("HINGE_EDGE_CAMERAS__PLATFORM-1__ANALYSIS_FPS", "5")
    monkeypatch.setenv("HINGE_EDGE_LOG__LEVEL", "WARNING")
    monkeypatch.setenv("HINGE_EDGE_STATS_INTERVAL_S", "12")
    settings = load_settings(write_config(FILE))
    assert settings.mqtt.host == "env.lan"
    assert settings.mqtt.port == 1884 and settings.mqtt.username == "edge"  # rest of the file kept
    assert settings.mqtt.password is not None
    assert settings.mqtt.password.get_secret_value() == "env-pw-1"
    assert settings.mqtt.tls.insecure is True
    assert settings.cameras["platform-1"].analysis_fps == 5
    assert settings.cameras["platform-1"].source.endswith("a.mp4")  # file value kept
    assert settings.log.level == "warning" and settings.stats_interval_s == 12


def test_lower_case_names_work_too(write_config, monkeypatch) -> None:
    monkeypatch.setenv("hinge_edge_web__port", "9000")
    assert load_settings(write_config(FILE)).web.port == 9000


def test_null_json_and_new_cameras(write_config, monkeypatch) -> None:
    monkeypatch.setenv("HINGE_EDGE_MQTT__HOST", "null")  # back to the local broker
    monkeypatch.setenv("HINGE_EDGE_CAMERAS__PLATFORM-1__ZONE", "[[0,0],[1,0],[1,1]]")
    monkeypatch.setenv("HINGE_EDGE_CAMERAS__REAR__SOURCE", "rtsp://10.0.0.6/s")
    monkeypatch.setenv("HINGE_EDGE_SPOOL", '{"max_messages": 7, "when_full": "reject_new"}')
    settings = load_settings(write_config(FILE))
    assert settings.mqtt.host is None
    assert settings.cameras["platform-1"].zone == ((0, 0), (1, 0), (1, 1))
    assert settings.cameras["rear"].source == "rtsp://10.0.0.6/s"
    assert (settings.spool.max_messages, settings.spool.when_full) == (7, "reject_new")


def test_keyword_arguments_beat_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("HINGE_EDGE_WEB__PORT", "9000")
    monkeypatch.setenv("HINGE_EDGE_STATS_INTERVAL_S", "12")
    settings = AppSettings(cameras={"a": {"source": "a.mp4"}}, stats_interval_s=3)
    assert settings.stats_interval_s == 3 and settings.web.port == 9000


def one_issue(path, monkeypatch, name: str, value: str):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert len(info.value.issues) == 1, str(info.value)
    return info.value.issues[0]


@pytest.mark.parametrize(
    ("name", "value", "key", "fragment"),
    [
        ("HINGE_EDGE_MQTT__PORT", "abc", "mqtt.port", "valid integer"),
        ("HINGE_EDGE_MQTT__PORT", "99999", "mqtt.port", "less than or equal to 65535"),
        ("HINGE_EDGE_MQTT__HOST", "", "mqtt.host", "at least 1 character"),
        ("HINGE_EDGE_MQTT__TLS__ENABLED", "maybe", "mqtt.tls.enabled", "valid boolean"),
        (
            "HINGE_EDGE_CAMERAS__PLATFORM-1__ANALYSIS_FPS",
            "fast",
            "cameras.platform-1.analysis_fps",
            "valid number",
        ),
        (
            "HINGE_EDGE_CAMERAS__PLATFORM-1__ZONE",
            "[[0,0],[2,0],[1,1]]",
            "cameras.platform-1.zone.1.0",
            "less than",
        ),
        ("HINGE_EDGE_LOG__FORMAT", "xml", "log.format", "'text' or 'json'"),
        ("HINGE_EDGE_MQTT__HOTS", "x", "mqtt.hots", "did you mean 'host'"),
        ("HINGE_EDGE_STATS_INTERVAL", "5", "stats_interval", "did you mean 'stats_interval_s'"),
        ("HINGE_EDGE_MQTT", "not json", "mqtt", "must be a JSON object"),
    ],
)
def test_bad_values_name_the_variable(
    write_config, monkeypatch, name, value, key, fragment
) -> None:
    issue = one_issue(write_config(FILE), monkeypatch, name, value)
    assert issue.key == key and fragment in issue.message
    assert issue.origin == f"from {name}"
    assert f"from {name}" in str(issue)


def test_a_variable_beats_the_file_in_error_origins(write_config, monkeypatch) -> None:
    path = write_config(FILE.replace("port: 1884", "port: 0"))
    issue = one_issue(path, monkeypatch, "HINGE_EDGE_MQTT__PORT", "-5")
    assert issue.value == "'-5'" and issue.origin == "from HINGE_EDGE_MQTT__PORT"
    monkeypatch.delenv("HINGE_EDGE_MQTT__PORT")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.issues[0].origin == "line 2"


def test_environment_alone_can_configure(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HINGE_EDGE_CAMERAS", '{"a": {"source": "rtsp://h/s"}}')
    assert load_settings(None).cameras["a"].source == "rtsp://h/s"


def test_minimal_file_without_environment(write_config) -> None:
    assert list(load_settings(write_config(MINIMAL)).cameras) == ["platform-1"]
