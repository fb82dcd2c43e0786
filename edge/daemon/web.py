"""The daemon's HTTP side: health, Prometheus metrics, live state and the pages.

Routes (all GET, on `web.host:web.port`):
    /healthz            200 while the daemon works (even with a camera or the broker
                        down: that is reported, not fatal), 503 when it does not.
    /metrics            Prometheus text format.
    /api/state          JSON: every camera's status, live state and recent reps.
    /api/events         Server-sent events: `status`, `state`, `rep`, `rep_update` and
                        `set` messages as they happen (the same payloads as MQTT), after a
                        `snapshot`; a `ping` ({"every_s": 5}) after 5 s without one, so a
                        page can tell a quiet feed from a dead one.
    /api/still/<camera> The last rep's still (PNG), only for cameras with `images: true`.
    /                   The trainers' dashboard; /display/<camera> a platform's display.
Standard library only: a ThreadingHTTPServer, one thread per open connection.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any, Protocol

from edge.contract import Payload

logger = logging.getLogger(__name__)

PING_S = 5.0
"""Longest silence on an event stream: a `ping` message follows it."""
_SSE_QUEUE = 256
# A named event, not an SSE comment: a page's EventSource never sees comments.
_PING = f'event: ping\ndata: {{"every_s":{PING_S:g}}}\n\n'
_STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


class WebBackend(Protocol):
    """What the web side asks of the daemon."""

    def health(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, details) for /healthz."""

    def snapshot(self) -> dict[str, Any]:
        """Everything /api/state shows."""

    def metrics(self) -> bytes:
        """The Prometheus exposition."""

    def still(self, camera_id: str) -> bytes | None:
        """The last rep's still of a camera (PNG), None if off or none yet."""


class Hub:
    """Fans live messages out to every open /api/events stream.

    A slow client loses its oldest messages; it never blocks the daemon.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: list[queue.Queue] = []

    def publish(self, kind: str, payload: Payload) -> None:
        """Sends one message to every client, as an SSE event named `kind`."""
        with self._lock:
            clients = list(self._clients)
        if not clients:  # nobody watching: no serialising on the pose workers' path
            return
        text = f"event: {kind}\ndata: {payload.to_json()}\n\n"
        for q in clients:
            try:
                q.put_nowait(text)
            except queue.Full:
                try:
                    q.get_nowait()
                    q.put_nowait(text)
                except (queue.Empty, queue.Full):
                    pass

    def subscribe(self) -> queue.Queue:
        """A new client's queue."""
        q: queue.Queue = queue.Queue(_SSE_QUEUE)
        with self._lock:
            self._clients.append(q)
        return q

    def unsubscribe(self, q: queue.Queue) -> None:
        """Forgets a client."""
        with self._lock:
            if q in self._clients:
                self._clients.remove(q)


class WebServer:
    """Serves the routes above in a background thread."""

    def __init__(self, host: str, port: int, backend: WebBackend, hub: Hub) -> None:
        """Binds the port (0: any free one; see `port`).

        Raises:
            OSError: The address cannot be bound (in use, or not allowed).
        """
        self.stopping = threading.Event()
        handler = type(
            "Handler", (_Handler,), {"backend": backend, "hub": hub, "stopping": self.stopping}
        )
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="web", daemon=True)

    @property
    def port(self) -> int:
        """The port actually bound."""
        return self._server.server_address[1]

    def start(self) -> None:
        """Starts serving."""
        self._thread.start()
        logger.info("status page and metrics on http://%s:%d/", *self._server.server_address[:2])

    def stop(self) -> None:
        """Closes event streams and stops serving."""
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    backend: WebBackend
    hub: Hub
    stopping: threading.Event
    server_version = "hinge-edge"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            healthy, details = self.backend.health()
            status = HTTPStatus.OK if healthy else HTTPStatus.SERVICE_UNAVAILABLE
            self._send(status, json.dumps(details).encode(), "application/json")
        elif path == "/metrics":
            self._send(HTTPStatus.OK, self.backend.metrics(), "text/plain; version=0.0.4")
        elif path == "/api/state":
            self._send(
                HTTPStatus.OK, json.dumps(self.backend.snapshot()).encode(), "application/json"
            )
        elif path == "/api/events":
            self._events()
        elif path.startswith("/api/still/"):
            png = self.backend.still(path.rsplit("/", 1)[-1])
            if png is None:
                self._send(HTTPStatus.NOT_FOUND, b"no still (images are off, or no rep yet)\n")
            else:
                self._send(HTTPStatus.OK, png, "image/png")
        else:
            self._static(path)

    def _static(self, path: str) -> None:
        name = "dashboard.html" if path in ("/", "/index.html") else path.lstrip("/")
        if path.startswith("/display/"):
            name = "display.html"
        suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
        if "/" in name or suffix not in _STATIC_TYPES:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n")
            return
        resource = resources.files("edge.daemon").joinpath("static", name)
        if not resource.is_file():
            self._send(HTTPStatus.NOT_FOUND, b"not found\n")
            return
        self._send(HTTPStatus.OK, resource.read_bytes(), _STATIC_TYPES[suffix])

    def _send(self, status: HTTPStatus, body: bytes, kind: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _events(self) -> None:
        q = self.hub.subscribe()
        try:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "close")
            self.end_headers()
            snapshot = json.dumps(self.backend.snapshot(), separators=(",", ":"))
            self.wfile.write(f"retry: 2000\nevent: snapshot\ndata: {snapshot}\n\n".encode())
            self.wfile.flush()
            while not self.stopping.is_set():
                try:
                    text = q.get(timeout=PING_S)
                except queue.Empty:
                    text = _PING
                self.wfile.write(text.encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away
        finally:
            self.hub.unsubscribe(q)
            self.close_connection = True
