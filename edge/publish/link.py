"""The paho client as the publisher uses it: built from its section, and its connection state.

`create_client` sets up paho-mqtt 2.x (callback API 2, MQTT 3.1.1, clean session): auth,
TLS, the retained last will and reconnect backoff. `LinkState` holds what the health
endpoint shows (`connected`, `connecting`, `refused:<reason>`, `unreachable:<reason>`,
`stopped`) and logs each change once, so a broker that refuses us every second does not
flood the log. Nothing here logs a password (paho's own log lines show only flags).
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading

import paho.mqtt.client as mqtt

from edge.publish.config import MqttConfig

logger = logging.getLogger(__name__)


class _DropReconnectNoise(logging.Filter):
    """Drops paho's "Client is not connected" error, logged on every failed reconnect.

    `LinkState` already reports the state once per change; paho's line would repeat at
    ERROR level every few seconds for as long as the broker is away.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Client is not connected")


_PAHO_LOGGER = logging.getLogger("edge.publish.paho")
_PAHO_LOGGER.addFilter(_DropReconnectNoise())


def create_client(config: MqttConfig, will_topic: str, will_payload: str) -> mqtt.Client:
    """A paho client configured from the `mqtt` section, not yet connected.

    Args:
        config: The section (its `host` set: see `Publisher`).
        will_topic: Topic of the last will (retained, QoS 1).
        will_payload: The will's payload (the `offline` status).
    """
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=config.client_id,
        clean_session=True,  # we only publish; what must survive is in our own spool
        protocol=mqtt.MQTTv311,
    )
    client.enable_logger(_PAHO_LOGGER)
    apply_credentials(client, config)
    client.will_set(will_topic, will_payload, qos=1, retain=True)
    return client


def apply_credentials(client: mqtt.Client, config: MqttConfig) -> None:
    """A section's user name, password, TLS and reconnect backoff on a paho client.

    The box's publishers and the hub's subscriber (its section is an `MqttConfig` too).
    """
    if config.username is not None:
        password = config.password.get_secret_value() if config.password is not None else None
        client.username_pw_set(config.username, password)
    tls = config.tls
    if tls.enabled:
        client.tls_set(
            ca_certs=str(tls.ca_file) if tls.ca_file else None,
            certfile=str(tls.cert_file) if tls.cert_file else None,
            keyfile=str(tls.key_file) if tls.key_file else None,
        )
        client.tls_insecure_set(tls.insecure)
    client.reconnect_delay_set(config.reconnect_min_s, config.reconnect_max_s)  # type: ignore[arg-type]


def describe_connect_error(err: BaseException | None) -> str:
    """Short words for why a TCP/TLS connection failed (no host names or credentials)."""
    if err is None:
        return "connection failed"
    if isinstance(err, socket.gaierror):
        return f"unknown host ({err.strerror})"
    if isinstance(err, ssl.SSLCertVerificationError):
        return f"TLS certificate not accepted ({err.verify_message})"
    if isinstance(err, ssl.SSLError):
        return f"TLS handshake failed ({err.reason or err})"
    if isinstance(err, TimeoutError):
        return "timed out"
    if isinstance(err, OSError) and err.strerror:
        return err.strerror.lower()
    return type(err).__name__


class LinkState:
    """The connection state shown to the health endpoint; logs each change once."""

    def __init__(self, config: MqttConfig) -> None:
        self._where = f"{config.host}:{config.port}"
        self._retry = f"retrying with backoff up to {config.reconnect_max_s:g} s"
        self._lock = threading.Lock()
        self.state = "connecting"
        self.last_error: str | None = None

    def at(self, host: str, port: int) -> None:
        """The node tried next (a clustered broker's failover): named in the log lines."""
        self._where = f"{host}:{port}"

    def connected(self) -> None:
        """CONNACK accepted."""
        if self._change("connected"):
            logger.info("connected to MQTT broker %s", self._where)

    def refused(self, reason: str) -> None:
        """CONNACK refused (bad credentials, not authorised, ...)."""
        reason = reason.lower()
        if self._change(f"refused:{reason}", f"broker refused the connection: {reason}"):
            logger.error(
                "MQTT broker %s refused the connection: %s; check mqtt.username / "
                "mqtt.password and the broker's ACL (%s)",
                self._where,
                reason,
                self._retry,
            )

    def unreachable(self, err: BaseException | None) -> None:
        """TCP or TLS connection failed."""
        reason = describe_connect_error(err)
        if self._change(f"unreachable:{reason}", f"cannot reach the broker: {reason}"):
            logger.warning("cannot reach MQTT broker %s: %s (%s)", self._where, reason, self._retry)

    def lost(self, reason: str) -> None:
        """The connection dropped (only meaningful after `connected`)."""
        with self._lock:
            if self.state != "connected":
                return
        if self._change("connecting", f"connection lost: {reason}"):
            logger.warning(
                "lost the connection to MQTT broker %s (%s); events are spooled, %s",
                self._where,
                reason,
                self._retry,
            )

    def stopped(self) -> None:
        """The publisher was stopped."""
        self._change("stopped")

    def _change(self, state: str, error: str | None = None) -> bool:
        with self._lock:
            if state == self.state:
                return False
            self.state = state
            if error is not None:
                self.last_error = error
            return True
