"""`hinge-edge check-config FILE`: exit codes and output, through edge.cli.main."""

from __future__ import annotations

import pytest

from edge.cli import main

GOOD = """
mqtt: {username: edge, password: "mqtt-Pw-7731"}
cameras:
  platform-1:
    source: rtsp://admin:cam-Pw-4402@10.0.0.5/stream1
    zone: [[0.2, 0.1], [0.8, 0.1], [0.8, 0.95], [0.2, 0.95]]
  platform-2:
    source: clips/p2.mp4
    loop: true
    exercise: deadlift
    enabled: false
web: {port: 8081}
"""


@pytest.fixture(autouse=True)
def _logging(restore_logging) -> None:
    """main() installs its own log handler; put the root logger back afterwards."""


def test_valid_file_prints_a_summary_and_exits_0(write_config, tmp_path, capsys) -> None:
    assert main(["check-config", str(write_config(GOOD))]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"config OK: {tmp_path / 'config.yaml'}"
    assert "cameras: 2 (1 enabled)" in lines
    cam1 = next(line for line in lines if line.startswith("  platform-1:"))
    assert "rtsp://admin:***@10.0.0.5/stream1 (stream)" in cam1
    assert "zone (0.2,0.1) (0.8,0.1) (0.8,0.95) (0.2,0.95)" in cam1
    cam2 = next(line for line in lines if line.startswith("  platform-2:"))
    assert f"{tmp_path / 'clips' / 'p2.mp4'} (file, looped)" in cam2 and "DISABLED" in cam2
    assert any(line.startswith("mqtt: local broker on port 1883") for line in lines)
    assert f"spool: {tmp_path / 'spool'} (at most 100000 events, drop_oldest when full)" in lines
    assert "web: 0.0.0.0:8081, logins on" in lines
    assert (
        f"warning: cameras.platform-2.source: no such file (yet): {tmp_path}/clips/p2.mp4" in lines
    )
    assert "mqtt-Pw-7731" not in out and "cam-Pw-4402" not in out


def test_remote_broker_and_environment_overrides_are_shown(write_config, capsys, monkeypatch):
    monkeypatch.setenv("HINGE_EDGE_MQTT__HOST", "broker.lan")
    monkeypatch.setenv("HINGE_EDGE_MQTT__PASSWORD", "env-pw-55")
    assert main(["check-config", str(write_config(GOOD))]) == 0
    out = capsys.readouterr().out
    assert "mqtt: broker.lan:1883, topics hinge/<camera>/..." in out
    assert "environment overrides: HINGE_EDGE_MQTT__HOST, HINGE_EDGE_MQTT__PASSWORD" in out
    assert "env-pw-55" not in out


def test_invalid_file_lists_each_problem_and_exits_1(write_config, capsys) -> None:
    path = write_config(
        'mqtt:\n  port: 70000\n  pasword: "mqtt-Pw-7731"\ncameras:\n  Bad Id: {source: a.mp4}\n'
    )
    assert main(["check-config", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0] == f"{path}: invalid configuration (3 problems)"
    assert "mqtt.port: Input should be less than or equal to 65535 (got 70000; line 2)" in lines
    assert any(
        line.startswith("mqtt.pasword: unknown key; did you mean 'password'?") for line in lines
    )
    assert any(line.startswith("cameras.Bad Id: invalid camera id") for line in lines)
    assert "mqtt-Pw-7731" not in captured.err


def test_yaml_syntax_error_exits_1_with_file_line_column(write_config, capsys) -> None:
    path = write_config("mqtt:\n  host: a\n   port: 3\n")
    assert main(["check-config", str(path)]) == 1
    assert f"{path}:3:8: YAML syntax error: mapping values are not allowed here" in (
        capsys.readouterr().err
    )


def test_missing_file_exits_1(tmp_path, capsys) -> None:
    assert main(["check-config", str(tmp_path / "nope.yaml")]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'nope.yaml'}: the config file does not exist" in err


def test_bad_environment_value_exits_1_naming_the_variable(write_config, capsys, monkeypatch):
    monkeypatch.setenv("HINGE_EDGE_WEB__PORT", "http")
    assert main(["check-config", str(write_config(GOOD))]) == 1
    assert "web.port: Input should be a valid integer" in (err := capsys.readouterr().err)
    assert "(got 'http'; from HINGE_EDGE_WEB__PORT)" in err
