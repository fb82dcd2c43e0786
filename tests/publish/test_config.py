"""The publish sections and topic names: each rule once, in the section, naming the key."""

from contextlib import nullcontext as DoesNotRaise

import pytest
from pydantic import ValidationError

from edge.errors import ConfigError
from edge.publish import MqttConfig, Publisher, Spool, SpoolConfig, TlsConfig, Topics


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
        ("", pytest.raises(ValidationError, match="non-empty")),  # nothing
        ("hinge/+", pytest.raises(ValidationError, match="no '\\+', '#'")),  # one-level wildcard
        ("hinge/#", pytest.raises(ValidationError, match="no '\\+', '#'")),  # multi-level one
        ("/hinge", pytest.raises(ValidationError, match="non-empty levels")),  # leading /
        ("hinge/", pytest.raises(ValidationError, match="non-empty levels")),  # trailing /
        ("a//b", pytest.raises(ValidationError, match="non-empty levels")),  # double /
        ("$SYS/hinge", pytest.raises(ValidationError, match=r"not start with '\$'")),  # broker's
    ],
)
def test_prefix_validation(prefix, expectation):
    with expectation:
        MqttConfig(topic_prefix=prefix)


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
    ("kwargs", "loc", "match"),
    [
        ({"host": ""}, "host", "at least 1 character"),
        ({"port": 0}, "port", "greater than or equal to 1"),
        ({"qos": 3}, "qos", "less than or equal to 2"),
        ({"keepalive_s": 1}, "keepalive_s", "greater than or equal to 5"),
        ({"reconnect_min_s": 10, "reconnect_max_s": 5}, "", "must not exceed reconnect_max_s"),
        ({"password": "x"}, "", "set mqtt.username too"),
        ({"topic_prefix": "a/+"}, "topic_prefix", "no '\\+', '#'"),
    ],
)
def test_bad_sections_are_refused(kwargs, loc, match):
    with pytest.raises(ValidationError, match=match) as info:
        MqttConfig(**{"host": "broker.local", **kwargs})
    assert ".".join(str(part) for part in info.value.errors()[0]["loc"]) == loc


def test_password_is_not_in_repr():
    config = MqttConfig(host="broker.local", username="edge", password="hunter2")
    assert "hunter2" not in repr(config)


def test_tls_cert_needs_its_key(tmp_path):
    with pytest.raises(ValidationError, match="cert_file and key_file go together"):
        TlsConfig(cert_file=tmp_path / "c.pem")


def test_the_publisher_needs_a_host(tmp_path):
    with Spool(SpoolConfig(path=tmp_path)) as spool:
        with pytest.raises(ValueError, match=r"mqtt\.host is null"):
            Publisher(MqttConfig(), spool, run_id="r")
