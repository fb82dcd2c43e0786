"""Options and topic names: validation names the key and the fix."""

from contextlib import nullcontext as DoesNotRaise

import pytest

from edge.errors import ConfigError
from edge.publish import MqttOptions, TlsOptions, Topics


def test_topic_layout():
    topics = Topics("gym-3/hinge")
    assert topics.status == "gym-3/hinge/status"
    assert topics.stats == "gym-3/hinge/stats"
    assert topics.camera_status("p1") == "gym-3/hinge/p1/status"
    assert topics.state("p1") == "gym-3/hinge/p1/state"
    assert topics.rep("p1") == "gym-3/hinge/p1/rep"
    assert topics.set("p1") == "gym-3/hinge/p1/set"


@pytest.mark.parametrize(
    ("prefix", "expectation"),
    [
        ("hinge", DoesNotRaise()),  # the default
        ("site/gym-3/hinge", DoesNotRaise()),  # several levels
        ("", pytest.raises(ConfigError, match="non-empty")),  # nothing
        ("hinge/+", pytest.raises(ConfigError, match="wildcards")),  # single-level wildcard
        ("hinge/#", pytest.raises(ConfigError, match="wildcards")),  # multi-level wildcard
        ("/hinge", pytest.raises(ConfigError, match="empty topic level")),  # leading /
        ("hinge/", pytest.raises(ConfigError, match="empty topic level")),  # trailing /
        ("a//b", pytest.raises(ConfigError, match="empty topic level")),  # double /
        ("$SYS/hinge", pytest.raises(ConfigError, match=r"start with \$")),  # broker's own
    ],
)
def test_prefix_validation(prefix, expectation):
    with expectation:
        Topics(prefix)


@pytest.mark.parametrize(
    ("camera", "expectation"),
    [
        ("platform-1", DoesNotRaise()),
        ("a/b", pytest.raises(ConfigError, match="cannot contain '/'")),  # two levels
        ("cam+", pytest.raises(ConfigError, match="wildcards")),
        ("cam#", pytest.raises(ConfigError, match="wildcards")),
        ("", pytest.raises(ConfigError, match="empty topic level")),
    ],
)
def test_camera_id_validation(camera, expectation):
    with expectation:
        Topics("hinge").rep(camera)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"port": 0}, "port must be 1-65535"),
        ({"qos": 3}, "qos must be 0, 1 or 2"),
        ({"keepalive_s": 1}, "keepalive_s must be at least 5"),
        ({"reconnect_min_s": 10, "reconnect_max_s": 5}, "reconnect_min_s <= reconnect_max_s"),
        ({"password": "x"}, "a password needs a username"),
        ({"topic_prefix": "a/+"}, "wildcards"),
    ],
)
def test_bad_options_are_refused(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        MqttOptions("broker.local", **kwargs)


def test_password_is_not_in_repr():
    options = MqttOptions("broker.local", username="edge", password="hunter2")
    assert "hunter2" not in repr(options)


def test_tls_cert_needs_its_key(tmp_path):
    with pytest.raises(ConfigError, match="cert_file and key_file go together"):
        TlsOptions(cert_file=tmp_path / "c.pem")
