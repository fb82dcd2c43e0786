"""Delivery to MQTT: the on-disk spool, the publisher, options and topic names."""

from edge.publish.mqtt import Publisher
from edge.publish.options import MqttOptions, TlsOptions, Topics, validate_camera_id
from edge.publish.spool import Spool, SpooledMessage

__all__ = [
    "MqttOptions",
    "Publisher",
    "Spool",
    "SpooledMessage",
    "TlsOptions",
    "Topics",
    "validate_camera_id",
]
