"""Delivery to MQTT: its config sections, the on-disk spool, the publisher, topic names."""

from edge.publish.config import MqttConfig, SpoolConfig, TlsConfig
from edge.publish.mqtt import Publisher
from edge.publish.spool import Spool, SpooledMessage
from edge.publish.topics import Topics, validate_camera_id

__all__ = [
    "MqttConfig",
    "Publisher",
    "Spool",
    "SpoolConfig",
    "SpooledMessage",
    "TlsConfig",
    "Topics",
    "validate_camera_id",
]
