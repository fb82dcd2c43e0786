"""A box's WAN link on loopback: a TCP forwarder that can be cut and restored.

On loopback there is no network boundary to pull a cable from, so `WanLink` stands in for
one: the box connects to `link.port` instead of the central broker, and the link forwards
each connection to the first reachable of several targets (the cluster's nodes, in order:
a box keeps working while one node is down, as a DNS name or a load balancer over the
nodes would give it). `cut()` closes every open connection both ways and, until
`restore()`, turns new ones away; `restore()` lets them through again.

What it simulates and what it does not: the broker and the box both see their TCP
connection end at once (the broker publishes the box's last will, the box's client
reconnects and is refused), like a router that resets connections when its uplink drops.
A silent outage, where packets vanish and each side only learns from its keepalive, is
`cut(blackhole=True)`: new connections are accepted and then get no answer (what an MQTT
client sees when its SYN-ACK comes from a proxy whose far side is unreachable).

Threads: one accepting, two per forwarded connection (one each way), all blocking on their
sockets (no polling); closing a socket is what ends its threads.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from devkit.broker import HOST

CHUNK = 65536


@dataclass
class WanStats:
    """What went through the link: connections and bytes each way."""

    accepted: int = 0  # connections from the box side, all of them
    forwarded: int = 0  # of those, connected to a target
    refused: int = 0  # turned away while cut, or with no target reachable
    bytes_up: int = 0  # box -> broker
    bytes_down: int = 0  # broker -> box


class WanLink:
    """A TCP forwarder on a free loopback port in front of one or more targets."""

    def __init__(
        self,
        targets: Sequence[tuple[str, int]] | Sequence[int],
        *,
        connect_timeout_s: float = 1.0,
    ) -> None:
        """Listens at once (`port`); forwards until `close()`.

        Args:
            targets: (host, port) pairs, or ports on 127.0.0.1, tried in order for each
                new connection: the first that accepts gets it.
            connect_timeout_s: How long to wait for one target before trying the next.
        """
        self.targets = [(HOST, t) if isinstance(t, int) else (t[0], t[1]) for t in targets]
        self.connect_timeout_s = connect_timeout_s
        self.stats = WanStats()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()  # every socket of a live connection
        self._held: set[socket.socket] = set()  # black-holed while cut
        self._cut = False
        self._blackhole = False
        self._listener = socket.create_server((HOST, 0))
        self.port: int = self._listener.getsockname()[1]
        self._closed = False
        self._acceptor = threading.Thread(target=self._accept_loop, name=f"wan:{self.port}",
                                          daemon=True)  # fmt: skip
        self._acceptor.start()

    @property
    def is_cut(self) -> bool:
        """True between `cut()` and `restore()`."""
        return self._cut

    @property
    def open_connections(self) -> int:
        """Connections being forwarded now."""
        with self._lock:
            return len(self._open) // 2

    def cut(self, *, blackhole: bool = False) -> None:
        """Drops every open connection (both ways) and turns new ones away until `restore()`.

        Args:
            blackhole: New connections are accepted and then ignored (no answer, nothing
                forwarded) instead of reset at once.
        """
        with self._lock:
            self._cut, self._blackhole = True, blackhole
            doomed = list(self._open)
            self._open.clear()
        for sock in doomed:
            _close(sock)

    def restore(self) -> None:
        """Lets connections through again; black-holed ones are closed so clients retry."""
        with self._lock:
            self._cut = False
            held = list(self._held)
            self._held.clear()
        for sock in held:
            _close(sock)

    def close(self) -> None:
        """Stops listening and drops everything."""
        self._closed = True
        _close(self._listener)
        self.cut()
        self.restore()
        self._acceptor.join(5)

    def __enter__(self) -> WanLink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # listener closed
            with self._lock:
                self.stats.accepted += 1
            threading.Thread(target=self._serve, args=(client,), name=f"wan:{self.port}:open",
                             daemon=True).start()  # fmt: skip

    def _serve(self, client: socket.socket) -> None:
        if self._turned_away(client):
            return
        upstream = self._connect()
        with self._lock:
            if upstream is None or self._cut:
                self.stats.refused += 1
                refuse = True
            else:
                self.stats.forwarded += 1
                self._open.update((client, upstream))
                refuse = False
        if refuse:
            _reset(client)
            if upstream is not None:
                _close(upstream)
            return
        assert upstream is not None
        threading.Thread(target=self._pump, args=(upstream, client, False),
                         name=f"wan:{self.port}:down", daemon=True).start()  # fmt: skip
        self._pump(client, upstream, True)

    def _turned_away(self, client: socket.socket) -> bool:
        with self._lock:
            if not self._cut:
                return False
            self.stats.refused += 1
            if self._blackhole:
                self._held.add(client)
        if not self._blackhole:
            _reset(client)
            return True
        # Read and drop whatever comes until restore() or close() closes the socket.
        with contextlib.suppress(OSError):
            while client.recv(CHUNK):
                pass
        return True

    def _connect(self) -> socket.socket | None:
        for target in self.targets:
            try:
                return socket.create_connection(target, timeout=self.connect_timeout_s)
            except OSError:
                continue
        return None

    def _pump(self, source: socket.socket, sink: socket.socket, up: bool) -> None:
        source.settimeout(None)
        try:
            while data := source.recv(CHUNK):
                with self._lock:  # counted before sending: whoever got it sees it counted
                    if up:
                        self.stats.bytes_up += len(data)
                    else:
                        self.stats.bytes_down += len(data)
                sink.sendall(data)
        except OSError:
            pass  # closed by cut(), or by the other side
        with self._lock:
            self._open.discard(source)
            self._open.discard(sink)
        _close(source)
        _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def _reset(sock: socket.socket) -> None:
    """Closes with a TCP RST (SO_LINGER 0): the client sees the connection refused at once."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
