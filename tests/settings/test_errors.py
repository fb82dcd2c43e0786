"""Invalid files: each problem is reported with its key path, message, value and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.errors import ConfigError, ConfigIssue
from edge.settings import load_settings

CAM = "cameras:\n  platform-1:\n    source: a.mp4\n"


def issues_of(path: Path) -> list[ConfigIssue]:
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    return list(info.value.issues)


def only_issue(path: Path) -> ConfigIssue:
    issues = issues_of(path)
    assert len(issues) == 1, [str(i) for i in issues]
    return issues[0]


@pytest.mark.parametrize(
    ("text", "key", "hint"),
    [
        # a typo at every level names the key and suggests the right one
        ("stats_intervall_s: 5\n" + CAM, "stats_intervall_s", "did you mean 'stats_interval_s'"),
        ("mqtt: {hots: x}\n" + CAM, "mqtt.hots", "did you mean 'host'"),
        ("mqtt: {tls: {enable: true}}\n" + CAM, "mqtt.tls.enable", "did you mean 'enabled'"),
        (CAM + "    fps: 5\n", "cameras.platform-1.fps", "did you mean 'analysis_fps'"),
        (CAM + "    zones: null\n", "cameras.platform-1.zones", "did you mean 'zone'"),
        ("spool: {max_message: 5}\n" + CAM, "spool.max_message", "did you mean 'max_messages'"),
        ("web: {prot: 1}\n" + CAM, "web.prot", "did you mean 'port'"),
        ("pose: {thread: 2}\n" + CAM, "pose.thread", "did you mean 'threads'"),
        ("hinge: {reps: {min_rep: 1}}\n" + CAM, "hinge.reps.min_rep", "did you mean 'min_rep_s'"),
        ("log: {formatt: json}\n" + CAM, "log.formatt", "did you mean 'format'"),
    ],
)
def test_unknown_keys_are_rejected_with_their_path(write_config, text, key, hint) -> None:
    issue = only_issue(write_config(text))
    assert issue.key == key
    assert "unknown key" in issue.message and hint in issue.message
    assert "allowed here:" in issue.message


@pytest.mark.parametrize(
    ("text", "key", "fragment", "value"),
    [
        # port out of range, both ways
        ("mqtt: {port: 70000}\n" + CAM, "mqtt.port", "less than or equal to 65535", "70000"),
        ("mqtt: {port: 0}\n" + CAM, "mqtt.port", "greater than or equal to 1", "0"),
        ("web: {port: -1}\n" + CAM, "web.port", "greater than or equal to 0", "-1"),
        ("mqtt: {port: eighty}\n" + CAM, "mqtt.port", "valid integer", "'eighty'"),
        # qos is 0, 1 or 2
        ("mqtt: {qos: 3}\n" + CAM, "mqtt.qos", "less than or equal to 2", "3"),
        # topic prefix: no wildcards, no empty levels
        ("mqtt: {topic_prefix: 'a/+/b'}\n" + CAM, "mqtt.topic_prefix", "'+', '#'", "'a/+/b'"),
        ("mqtt: {topic_prefix: 'gym#'}\n" + CAM, "mqtt.topic_prefix", "'+', '#'", "'gym#'"),
        ("mqtt: {topic_prefix: 'a//b'}\n" + CAM, "mqtt.topic_prefix", "non-empty levels", None),
        ("mqtt: {topic_prefix: 'a/'}\n" + CAM, "mqtt.topic_prefix", "non-empty levels", None),
        # camera ids are topic levels
        ("cameras: {Platform 1: {source: a.mp4}}", "cameras.Platform 1", "invalid camera id", None),
        ("cameras: {a/b: {source: a.mp4}}", "cameras.a/b", "invalid camera id", None),
        ("cameras: {-a: {source: a.mp4}}", "cameras.-a", "invalid camera id", None),
        (f"cameras: {{{'a' * 33}: {{source: a.mp4}}}}", f"cameras.{'a' * 33}", "1 to 32", None),
        # zones: >= 3 points in [0, 1] with some area
        (
            CAM + "    zone: [[0, 0], [1, 0]]\n",
            "cameras.platform-1.zone",
            "at least 3 [x, y] points, got 2",
            None,
        ),
        (
            CAM + "    zone: [[0, 0], [1.5, 0], [1, 1]]\n",
            "cameras.platform-1.zone.1.0",
            "less than or equal to 1",
            "1.5",
        ),
        (
            CAM + "    zone: [[0, 0], [1, 0], [1, -0.1]]\n",
            "cameras.platform-1.zone.2.1",
            "greater than or equal to 0",
            "-0.1",
        ),
        (
            CAM + "    zone: [[0, 0], [0.5, 0.5], [1, 1]]\n",
            "cameras.platform-1.zone",
            "no area",
            None,
        ),
        (
            CAM + "    zone: [[0, 0, 0], [1, 0], [1, 1]]\n",
            "cameras.platform-1.zone.0",
            "at most 2",
            None,
        ),
        # other camera keys
        (CAM + "    analysis_fps: 0\n", "cameras.platform-1.analysis_fps", "greater than 0", "0"),
        (CAM + "    exercise: bench\n", "cameras.platform-1.exercise", "'rdl'", "'bench'"),
        (CAM + "    loop: maybe\n", "cameras.platform-1.loop", "valid boolean", "'maybe'"),
        ("cameras: {a: {source: 'rtsp:10.0.0.5'}}", "cameras.a.source", "without '//'", None),
        ("cameras: {a: {source: rtsp://h/s, loop: true}}", "cameras.a", "video files only", None),
        ("cameras: {a: {zone: null}}", "cameras.a.source", "required", None),
        ("cameras: {}", "cameras", "at least one camera", None),
        ("mqtt: {}", "cameras", "required", None),
        # other sections
        ("spool: {when_full: explode}\n" + CAM, "spool.when_full", "'drop_oldest'", "'explode'"),
        ("log: {level: loud}\n" + CAM, "log.level", "'debug'", "'loud'"),
        ("pose: {threads: 0}\n" + CAM, "pose.threads", "greater than or equal to 1", "0"),
        ("hinge: {reps: {min_amplitude_norm: 0.05}}\n" + CAM, "hinge.reps", "lockout_margin", None),
        ("stats_interval_s: 0\n" + CAM, "stats_interval_s", "greater than 0", "0"),
        # cross-field checks
        ("mqtt: {password: pw}\n" + CAM, "mqtt", "username", None),
        (
            "mqtt: {reconnect_min_s: 60, reconnect_max_s: 5}\n" + CAM,
            "mqtt",
            "reconnect_min_s",
            None,
        ),
        ("mqtt: {tls: {cert_file: c.pem}}\n" + CAM, "mqtt.tls", "cert_file and key_file", None),
        (
            "mqtt: {tls: {enabled: true, ca_file: no.pem}}\n" + CAM,
            "mqtt.tls.ca_file",
            "no such file",
            None,
        ),
        ("mqtt: {port: 8080}\n" + CAM, "web", "local broker", None),
        ("mqtt: {username: 5}\n" + CAM, "mqtt.username", "quote it in YAML", "5"),
    ],
)
def test_bad_values(write_config, text, key, fragment, value) -> None:
    issue = only_issue(write_config(text))
    assert issue.key == key
    assert fragment in issue.message
    if value is not None:
        assert issue.value == value


def test_tls_files_need_not_exist_while_tls_is_off(write_config) -> None:
    settings = load_settings(write_config("mqtt: {tls: {ca_file: no.pem}}\n" + CAM))
    assert settings.mqtt.tls.ca_file is not None and not settings.mqtt.tls.enabled


def test_username_without_password_is_allowed(write_config) -> None:
    assert load_settings(write_config("mqtt: {username: edge}\n" + CAM)).mqtt.password is None


def test_every_problem_is_reported_with_its_line(write_config) -> None:
    path = write_config(
        """\
        mqtt:
          port: 70000
          qos: 7
        cameras:
          platform-1:
            source: a.mp4
            analysis_fps: -1
        web: {port: 99999}
        """
    )
    found = {issue.key: issue for issue in issues_of(path)}
    assert set(found) == {"mqtt.port", "mqtt.qos", "cameras.platform-1.analysis_fps", "web.port"}
    assert found["mqtt.port"].origin == "line 2"
    assert found["cameras.platform-1.analysis_fps"].origin == "line 7"
    assert str(found["mqtt.qos"]) == (
        "mqtt.qos: Input should be less than or equal to 2 (got 7; line 3)"
    )


@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        (
            "mqtt:\n  host: a\n   port: 3\n",
            ":3:8",
            "YAML syntax error: mapping values are not allowed",
        ),
        ("cameras: [a, b\n", ":2:1", "YAML syntax error: expected ',' or ']'"),
        ("mqtt: {host: 'a}\n", ":2:1", "YAML syntax error: found unexpected end of stream"),
        ("a: 1\n\tb: 2\n", ":2:1", "YAML syntax error"),
        # pyyaml would silently keep the second entry
        (
            "cameras:\n  a: {source: x}\n  a: {source: y}\n",
            ":3:3",
            "duplicate key 'a' (first given on line 2)",
        ),
    ],
)
def test_yaml_errors_name_file_line_and_column(write_config, text, where, fragment) -> None:
    path = write_config(text)
    issue = only_issue(path)
    assert issue.key == f"{path}{where}"
    assert fragment in issue.message


def test_missing_file_and_folder_and_wrong_shape(write_config, tmp_path: Path) -> None:
    missing = only_issue(tmp_path / "nope.yaml")
    assert missing.key == str(tmp_path / "nope.yaml") and "does not exist" in missing.message
    assert "folder" in only_issue(tmp_path).message
    listed = only_issue(write_config("- a\n- b\n"))
    assert "must be a mapping" in listed.message and "list" in listed.message
    empty = only_issue(write_config("# nothing yet\n"))
    assert empty.key == "cameras" and "required" in empty.message


def test_config_error_text_lists_every_issue(write_config) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write_config("mqtt: {port: 0, qos: 9}\n" + CAM))
    lines = str(info.value).splitlines()
    assert lines == [str(issue) for issue in info.value.issues] and len(lines) == 2
