"""The daemon's HTTP side: health, metrics, live state and the pages, behind logins.

Routes (on `web.host:web.port`; who may use each: docs/security.md):
    /healthz            open: {"status": "ok" | "degraded" | "down"} and nothing else; 200
                        while the daemon works (a camera or the broker down is "degraded",
                        not fatal), 503 when it does not.
    /login, /logout     the login form (POST: rate-limited) and the way out.
    /api/health         admin: the details behind /healthz.
    /metrics            admin, or a scrape token (`Authorization: Bearer ...`).
    /api/state          JSON: every camera's status, live state and recent reps (of the
                        cameras the login may see).
    /api/events         Server-sent events: `status`, `state`, `rep`, `rep_update` and
                        `set` messages as they happen (the same payloads as MQTT, of the
                        cameras the login may see), after a `snapshot`; a `ping`
                        ({"every_s": 5}) after 5-6 s without one, so a page can tell a
                        quiet feed from a dead one.
    /api/still/<camera> The last rep's still (PNG), only for cameras with `images: true`.
    /                   The trainers' dashboard; /display/<camera> a platform's display
                        (`?token=` of a display link signs the display in for good).

aiohttp on one asyncio loop in one thread: an open connection or event stream costs a
few kilobytes, not a thread, so the daemon stays inside its pid limit however many
connect. Connections are bounded (`web.max_connections`), one that sends no whole request
within `web.idle_timeout_s` is closed, and an event-stream client that falls
`web.event_queue` messages behind is disconnected (its page reconnects from a snapshot).
"""

from __future__ import annotations

import asyncio
import collections
import html
import json
import logging
import resource
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from edge.contract import Payload
from edge.daemon.access import HostCheck, LoginLimiter, Sessions
from edge.daemon.auth import Role, UserStore, users_path, verify_password
from edge.daemon.config import WebConfig
from edge.errors import EdgeError

logger = logging.getLogger(__name__)

PING_S = 5.0
"""Silence on an event stream after which a `ping` follows (within `_TICK_S`)."""
SESSION_COOKIE = "hinge_session"
DISPLAY_COOKIE = "hinge_display"
_TICK_S = 1.0  # how often quiet streams are looked at (pings, closed connections)
# A named event, not an SSE comment: a page's EventSource never sees comments.
_PING = f'event: ping\ndata: {{"every_s":{PING_S:g}}}\n\n'.encode()
_STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
_PUBLIC_FILES = ("hinge.css", "hinge.js")  # no data in them; the login page needs the css
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # a display link's token must not leak in a Referer
}
_STREAM_BUFFER = 32 * 1024  # bytes an event stream may have unsent, in user and kernel space
_LOGIN_BODY_MAX = 4096
_LOGIN_READ_S = 5.0
_KDF_WORKERS = 2  # password checks at once (each ~0.3 s of CPU): a flood cannot take more
_KDF_QUEUE = 8  # login checks waiting at most; more are answered 503
# Never a real hash: unknown names cost as much as known ones (no user enumeration).
_DUMMY_HASH = "pbkdf2_sha256$600000$" + "A" * 22 + "==$" + "A" * 43 + "="
_REFUSED = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class WebBackend(Protocol):
    """What the web side asks of the daemon."""

    def health(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, details): details["status"] is "ok", "degraded" or "down"."""

    def snapshot(self) -> dict[str, Any]:
        """Everything /api/state shows (`cameras` keyed by camera id)."""

    def metrics(self) -> bytes:
        """The Prometheus exposition."""

    def still(self, camera_id: str) -> bytes | None:
        """The last rep's still of a camera (PNG), None if off or none yet."""


@dataclass(frozen=True)
class Principal:
    """Who a request is: a user's login, a display, or everyone (auth off)."""

    name: str
    role: Role
    cameras: tuple[str, ...] = ()  # empty: every camera (admin, unrestricted trainer)

    def may_see(self, camera_id: str) -> bool:
        """Whether this login may see a camera's data."""
        return self.role is Role.ADMIN or not self.cameras or camera_id in self.cameras


OPEN = Principal("anyone", Role.ADMIN)  # web.auth.enabled: false


class _Client:
    """One event stream: where it writes, the cameras it may see, what it has not sent.

    The hub writes each message straight into the client's transport: a message costs
    500 streams one write each, not a task woken each (the same loop answers /healthz).
    Until the stream's snapshot is out, messages wait in `pending`.
    """

    def __init__(self, principal: Principal, behind_max: int, transport: asyncio.Transport) -> None:
        self.principal = principal
        self.transport = transport
        self.behind_max = behind_max
        self.pending: list[bytes] | None = []  # None once the snapshot is out
        self.sizes: collections.deque[int] = collections.deque(maxlen=behind_max)
        self.sent_at = time.monotonic()
        self.ended = asyncio.get_running_loop().create_future()

    def behind(self) -> int:
        """Messages written but not yet (wholly) handed to the kernel."""
        unsent = self.transport.get_write_buffer_size()
        count = 0
        for size in reversed(self.sizes):
            if unsent <= 0:
                break
            unsent -= size
            count += 1
        return count

    def send(self, text: bytes, now: float) -> bool:
        """Writes one message; False if the client is gone or `behind_max` behind."""
        if self.pending is not None:
            self.pending.append(text)
            return len(self.pending) < self.behind_max
        if self.transport.is_closing() or self.behind() >= self.behind_max:
            return False
        self.transport.write(text)
        self.sizes.append(len(text))
        self.sent_at = now
        return True

    def end(self) -> None:
        """Lets the stream's handler return (its connection then closes)."""
        if not self.ended.done():
            self.ended.set_result(None)


class Hub:
    """Fans live messages out to every open /api/events stream.

    `publish` is called from the daemon's threads; the messages are handed to the server's
    loop (`call_soon_threadsafe`), which owns the clients and writes each message into
    every client's transport. A client `web.event_queue` messages behind (its socket full)
    is disconnected rather than buffered without bound; it never blocks the daemon. A
    stream quiet for `PING_S` gets a `ping`.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clients: set[_Client] = set()
        self._ticker: asyncio.TimerHandle | None = None
        self.dropped = 0

    def attach(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Delivers through `loop` from now on (None: nobody is served); in its thread."""
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        self._loop = loop
        if loop is not None:
            self._ticker = loop.call_later(_TICK_S, self._tick)

    def publish(self, kind: str, payload: Payload) -> None:
        """Sends one message to every client that may see its camera, as SSE `kind`."""
        loop = self._loop
        if loop is None or not self._clients:  # nobody watching: no serialising
            return
        text = f"event: {kind}\ndata: {payload.to_json()}\n\n".encode()
        camera = getattr(payload, "camera", None)
        try:
            loop.call_soon_threadsafe(self._deliver, camera, text)
        except RuntimeError:  # the loop closed meanwhile (stopping)
            pass

    def _deliver(self, camera: str | None, text: bytes) -> None:
        now = time.monotonic()
        for client in list(self._clients):
            if camera is not None and not client.principal.may_see(camera):
                continue
            if not client.send(text, now):
                self._drop(client)

    def _tick(self) -> None:
        """Pings quiet streams and ends those whose connection closed."""
        assert self._loop is not None
        self._ticker = self._loop.call_later(_TICK_S, self._tick)
        now = time.monotonic()
        for client in list(self._clients):
            quiet = client.pending is None and now - client.sent_at >= PING_S
            if client.transport.is_closing() or (quiet and not client.send(_PING, now)):
                self._drop(client)

    def _drop(self, client: _Client) -> None:
        self._clients.discard(client)
        if client.transport.is_closing():  # gone by itself: not a slow client
            client.end()
            return
        self.dropped += 1
        logger.info(
            "event stream of %s dropped: %d messages behind",
            client.principal.name,
            client.behind_max,
        )
        client.transport.abort()
        client.end()

    def subscribe(
        self, principal: Principal, behind_max: int, transport: asyncio.Transport
    ) -> _Client:
        """A new client (in the loop's thread); messages wait until `started`."""
        client = _Client(principal, behind_max, transport)
        self._clients.add(client)
        return client

    def started(self, client: _Client) -> None:
        """The client's snapshot is out: what waited is written, the rest as it comes."""
        pending, client.pending = client.pending or [], None
        if client not in self._clients:  # dropped while it waited
            return
        now = time.monotonic()
        for text in pending:
            if not client.send(text, now):
                self._drop(client)
                return

    def unsubscribe(self, client: _Client) -> None:
        """Forgets a client (in the loop's thread)."""
        self._clients.discard(client)
        client.end()

    def close_all(self) -> None:
        """Ends every stream (stopping)."""
        for client in list(self._clients):
            self.unsubscribe(client)

    def __len__(self) -> int:
        """Open streams."""
        return len(self._clients)


class WebServer:
    """Serves the routes above from an asyncio loop in a background thread."""

    def __init__(
        self,
        config: WebConfig,
        backend: WebBackend,
        hub: Hub,
        users: UserStore | None,
    ) -> None:
        """Binds the port (0: any free one; see `port`); nothing is served before `start()`.

        Args:
            config: The `web` section.
            backend: The daemon.
            hub: The live messages.
            users: The users file; None only with `web.auth.enabled: false`.

        Raises:
            OSError: The address cannot be bound (in use, or not allowed).
            EdgeError: The TLS certificate or key cannot be loaded.
        """
        self.config = config
        self.hub = hub
        self.stopping = threading.Event()
        self._ssl = _ssl_context(config) if config.tls.enabled else None
        _room_for(config.max_connections)
        self._sock = _listen(config.host, config.port, config.backlog)
        secure = config.auth.secure_cookies
        self._routes = _Routes(
            config,
            backend,
            hub,
            users,
            secure=self._ssl is not None if secure is None else secure,
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="web", daemon=True)
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None
        self._server: asyncio.Server | None = None
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        """The port actually bound."""
        return int(self._sock.getsockname()[1])

    @property
    def scheme(self) -> str:
        """The URL scheme: "http" or "https"."""
        return "https" if self._ssl is not None else "http"

    def start(self) -> None:
        """Starts serving (returns once the loop accepts connections)."""
        self._thread.start()
        self._ready.wait(10.0)
        if self._error is not None:
            raise self._error
        logger.info(
            "status page and metrics on %s://%s:%d/",
            self.scheme,
            self._sock.getsockname()[0],
            self.port,
        )

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._open())
        except BaseException as err:  # handed to start()
            self._error = err
            self._ready.set()
            return
        self.hub.attach(self._loop)
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._close())
        self._loop.close()

    async def _open(self) -> None:
        app = self._routes.app()
        self._runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            keepalive_timeout=self.config.idle_timeout_s,
            shutdown_timeout=2.0,
            max_field_size=8190,
            max_headers=64,
        )
        await self._runner.setup()
        server = self._runner.server
        assert server is not None
        self._routes.connections = lambda: len(server.connections)
        self._server = await self._loop.create_server(
            self._protocol,
            sock=self._sock,
            ssl=self._ssl,
            backlog=self.config.backlog,
            ssl_handshake_timeout=self.config.idle_timeout_s if self._ssl else None,
        )

    def _protocol(self) -> asyncio.BaseProtocol:
        """A new connection's protocol: aiohttp's, or a 503 past `max_connections`."""
        assert self._runner is not None and self._runner.server is not None
        server = self._runner.server
        if len(server.connections) >= self.config.max_connections:
            return _Refuse()
        return server()

    async def _close(self) -> None:
        self.hub.attach(None)
        self.hub.close_all()
        if self._server is not None:
            self._server.close()
        if self._runner is not None:
            await self._runner.cleanup()
        self._routes.close()

    def stop(self) -> None:
        """Closes event streams and stops serving."""
        self.stopping.set()
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10.0)
        else:  # never started
            self._routes.close()
            self._loop.close()
        self._sock.close()


class _Refuse(asyncio.Protocol):
    """Answers 503 and hangs up: the server is at `web.max_connections`."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(_REFUSED)
        transport.close()


def _room_for(connections: int) -> None:
    """Raises the soft open-files limit so `connections` sockets fit (within the hard one).

    Containers often start with a soft limit of 1024: the connection bound would then be
    the kernel's EMFILE, which also stops the daemon opening its cameras and spool.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 256  # cameras, spool, broker link, models
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        if new < wanted:
            logger.warning(
                "web.max_connections %d needs %d open files; the limit is %d",
                connections,
                wanted,
                hard,
            )


def _listen(host: str, port: int, backlog: int) -> socket.socket:
    """A listening socket, bound now so a taken port is an error at start."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _ssl_context(config: WebConfig) -> ssl.SSLContext:
    """The server's TLS context (TLS 1.2 at least).

    Raises:
        EdgeError: The certificate or key cannot be read or do not match.
    """
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(str(config.tls.cert), str(config.tls.key))
    except OSError as err:  # ssl.SSLError is one too
        raise EdgeError(
            f"web.tls: cannot load the certificate {config.tls.cert} with the key "
            f"{config.tls.key} ({err.strerror or err})"
        ) from err
    return context


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _Routes:
    """The request handlers and the checks every request passes (Host, login, role)."""

    def __init__(
        self,
        config: WebConfig,
        backend: WebBackend,
        hub: Hub,
        users: UserStore | None,
        secure: bool,
    ) -> None:
        self.config = config
        self.backend = backend
        self.hub = hub
        self.users = users if config.auth.enabled else None
        self.secure = secure
        self.hosts = HostCheck(config.allowed_hosts)
        self.sessions = Sessions(config.auth.session_hours * 3600)
        self.limiter = LoginLimiter()
        self._kdf = ThreadPoolExecutor(_KDF_WORKERS, thread_name_prefix="web-login")
        self._kdf_waiting = 0
        self.connections: Callable[[], int] = lambda: 0  # set by the server

    def close(self) -> None:
        self._kdf.shutdown(wait=False, cancel_futures=True)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=_LOGIN_BODY_MAX, middlewares=[self._guard])
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/login", self.login_page)
        app.router.add_post("/login", self.login)
        app.router.add_route("*", "/logout", self.logout)
        app.router.add_get("/api/health", self.api_health)
        app.router.add_get("/metrics", self.metrics)
        app.router.add_get("/api/state", self.state)
        app.router.add_get("/api/events", self.events)
        app.router.add_get("/api/still/{camera}", self.still)
        app.router.add_get("/", self.dashboard)
        app.router.add_get("/display/{camera}", self.display)
        for name in _PUBLIC_FILES:
            app.router.add_get(f"/{name}", self.public_file)
        return app

    # ------------------------------------------------------------ checks
    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The Host check and the common headers, on every route."""
        if not self.hosts.allows(request.headers.get("Host")):
            return _text(
                421, "misdirected request: this host name is not served here (web.allowed_hosts)\n"
            )
        try:
            response = await handler(request)
        except web.HTTPException as err:
            for key, value in _HEADERS.items():
                err.headers.setdefault(key, value)
            raise
        if not response.prepared:
            for key, value in _HEADERS.items():
                response.headers.setdefault(key, value)
        return response

    def principal(self, request: web.Request) -> Principal | None:
        """Who sent the request, from its cookies; None: nobody signed in."""
        if self.users is None:
            return OPEN
        now = time.monotonic()
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            session = self.sessions.get(token, now)
            user = self.users.user(session.user) if session is not None else None
            if session is not None and user is not None and user.password == session.password_hash:
                return Principal(user.name, user.role, user.cameras)
        display = request.cookies.get(DISPLAY_COOKIE)
        if display:
            entry = self.users.display_token(display)
            if entry is not None:
                return Principal(f"display {entry.id}", Role.DISPLAY, (entry.camera,))
        return None

    def require(
        self, request: web.Request, roles: tuple[Role, ...], page: bool = False
    ) -> Principal:
        """The request's principal if it has one of `roles`.

        Raises:
            web.HTTPException: 401 (API) or a redirect to /login (page) without a login;
                403 with the wrong role.
        """
        who = self.principal(request)
        if who is None:
            if page:
                raise web.HTTPSeeOther(f"/login?next={request.path}")
            raise _http(web.HTTPUnauthorized, "sign in first (/login)\n")
        if who.role not in roles:
            raise _http(web.HTTPForbidden, "not allowed for this login\n")
        return who

    def require_camera(self, request: web.Request, camera_id: str, page: bool = False) -> Principal:
        """A principal who may see `camera_id` (403 otherwise)."""
        who = self.require(request, tuple(Role), page)
        if not who.may_see(camera_id):
            raise _http(web.HTTPForbidden, "this login may not see that camera\n")
        return who

    # ------------------------------------------------------------ open routes
    async def healthz(self, request: web.Request) -> web.Response:
        healthy, details = self.backend.health()
        body = {"status": details.get("status", "ok" if healthy else "down")}
        return _json(body, status=200 if healthy else 503)

    async def public_file(self, request: web.Request) -> web.Response:
        return _static(request.path.lstrip("/"))

    async def login_page(self, request: web.Request) -> web.Response:
        if self.users is None:
            raise web.HTTPSeeOther(_safe_next(request.query.get("next")))
        return _login_form(request.query.get("next", "/"), "", 200)

    async def login(self, request: web.Request) -> web.StreamResponse:
        if self.users is None:
            raise web.HTTPSeeOther("/")
        origin = request.headers.get("Origin")
        if origin not in (None, "null") and origin.split("://", 1)[-1] != request.host:
            raise _http(web.HTTPForbidden, "login from another site refused\n")
        try:
            async with asyncio.timeout(_LOGIN_READ_S):
                form = await request.post()
        except (TimeoutError, ValueError, web.HTTPRequestEntityTooLarge):
            raise _http(web.HTTPBadRequest, "bad login form\n") from None
        name, password = str(form.get("user", "")), str(form.get("password", ""))
        target = _safe_next(str(form.get("next", "/")))
        keys = (f"addr:{request.remote}", f"user:{name}")
        now = time.monotonic()
        wait = self.limiter.retry_after(keys, now)
        if wait > 0:
            response = _login_form(target, "Too many failed logins: wait and try again.", 429)
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        user = self.users.user(name)
        if not await self._check(password, user.password if user is not None else _DUMMY_HASH):
            self.limiter.failed(keys, time.monotonic())
            logger.warning("web: failed login for %r from %s", name[:32], request.remote)
            return _login_form(target, "Wrong user name or password.", 401)
        assert user is not None
        self.limiter.succeeded(keys)
        token = self.sessions.open(user.name, user.role, user.password, time.monotonic())
        logger.info("web: %s (%s) signed in from %s", user.name, user.role, request.remote)
        redirect = web.HTTPSeeOther(target)
        self._cookie(redirect, SESSION_COOKIE, token, self.sessions.lifetime_s)
        raise redirect

    async def _check(self, password: str, stored: str) -> bool:
        if self._kdf_waiting >= _KDF_QUEUE:
            raise _http(web.HTTPServiceUnavailable, "busy checking logins: try again\n")
        self._kdf_waiting += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._kdf, verify_password, password, stored)
        finally:
            self._kdf_waiting -= 1

    async def logout(self, request: web.Request) -> web.StreamResponse:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            self.sessions.close(token)
        redirect = web.HTTPSeeOther("/login")
        redirect.del_cookie(SESSION_COOKIE, path="/")
        raise redirect

    def _cookie(self, response: web.StreamResponse, name: str, value: str, max_age: float) -> None:
        response.set_cookie(
            name,
            value,
            max_age=int(max_age),
            path="/",
            httponly=True,
            samesite="Strict",
            secure=self.secure,
        )

    # ------------------------------------------------------------ admin
    async def api_health(self, request: web.Request) -> web.Response:
        self.require(request, (Role.ADMIN,))
        healthy, details = self.backend.health()
        web_side = {
            "connections": self.connections(),
            "event_streams": len(self.hub),
            "event_streams_dropped": self.hub.dropped,
            "sessions": len(self.sessions),
        }
        return _json({**details, "web": web_side}, status=200 if healthy else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        if self.users is not None and auth.lower().startswith("bearer "):
            if not self.users.scrape_ok(auth[7:].strip()):
                raise _http(
                    web.HTTPUnauthorized, "unknown scrape token\n", {"WWW-Authenticate": "Bearer"}
                )
        else:
            self.require(request, (Role.ADMIN,))
        return web.Response(
            body=self.backend.metrics(), headers={"Content-Type": "text/plain; version=0.0.4"}
        )

    # ------------------------------------------------------------ data
    async def state(self, request: web.Request) -> web.Response:
        who = self.require(request, tuple(Role))
        return _json(self._snapshot(who))

    def _snapshot(self, who: Principal) -> dict[str, Any]:
        snap = self.backend.snapshot()
        if who.role is Role.ADMIN:
            return snap
        cameras = {c: v for c, v in snap.get("cameras", {}).items() if who.may_see(c)}
        # The broker link (its address in an error, its counters) is the admin's business
        return {k: v for k, v in snap.items() if k != "mqtt"} | {"cameras": cameras}

    async def still(self, request: web.Request) -> web.Response:
        camera_id = request.match_info["camera"]
        self.require_camera(request, camera_id)
        png = self.backend.still(camera_id)
        if png is None:
            return _text(404, "no still (images are off, or no rep yet)\n")
        return web.Response(body=png, content_type="image/png")

    async def events(self, request: web.Request) -> web.StreamResponse:
        who = self.require(request, tuple(Role))
        transport = request.transport
        assert transport is not None
        response = _EventStream(
            headers={"Content-Type": "text/event-stream", **_HEADERS, "Connection": "close"}
        )
        response.force_close()
        await response.prepare(request)
        # Small buffers per client, ours and the kernel's: a stalled one fills its queue, and
        # is dropped, long before it holds much memory.
        transport.set_write_buffer_limits(high=_STREAM_BUFFER)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _STREAM_BUFFER)
        client = self.hub.subscribe(who, self.config.event_queue, transport)
        try:
            snapshot = json.dumps(self._snapshot(who), separators=(",", ":"))
            await response.write(f"retry: 2000\nevent: snapshot\ndata: {snapshot}\n\n".encode())
            self.hub.started(client)
            await client.ended
        except (ConnectionError, asyncio.CancelledError):
            pass  # the browser went away, or we are stopping
        finally:
            self.hub.unsubscribe(client)
        return response

    # ------------------------------------------------------------ pages
    async def dashboard(self, request: web.Request) -> web.Response:
        self.require(request, (Role.ADMIN, Role.TRAINER), page=True)
        return _static("dashboard.html")

    async def display(self, request: web.Request) -> web.Response:
        camera_id = request.match_info["camera"]
        token = request.query.get("token")
        if token is not None and self.users is not None:
            entry = self.users.display_token(token)
            if entry is None or entry.camera != camera_id:
                raise _http(web.HTTPForbidden, "this display link is wrong or was revoked\n")
            # The TV keeps this cookie; the link (bookmarked on it) renews it.
            response = _static("display.html")
            self._cookie(response, DISPLAY_COOKIE, token, self.config.auth.display_days * 86400)
            return response
        self.require_camera(request, camera_id, page=True)
        return _static("display.html")


def open_users(config: WebConfig, spool_dir: Path) -> UserStore | None:
    """The users file the web side checks logins against; None with auth off.

    On first start (no file) it is created with user `admin` and a generated password,
    logged once (only its hash is kept: `hinge-edge users passwd admin` sets another).

    Raises:
        EdgeError: The file exists but is not a users file.
    """
    if not config.auth.enabled:
        logger.warning(
            "web.auth.enabled is false: the dashboard, event stream, stills and metrics are "
            "open to anyone who reaches port %d (docs/security.md)",
            config.port,
        )
        return None
    users = UserStore(users_path(config.auth.users_file, spool_dir))
    users.current()  # a broken file stops the start, not the first request
    password = users.bootstrap()
    if password is not None:
        logger.warning(
            "first start: web user 'admin' created with password %s (shown this once; "
            "stored hashed in %s; change it: hinge-edge users passwd admin)",
            password,
            users.path,
        )
    return users


class _EventStream(web.StreamResponse):
    """An event stream ended by closing the connection, not chunked.

    A chunked stream cut short (the daemon killed or restarted) is an
    ERR_INCOMPLETE_CHUNKED_ENCODING error in the page's console; a stream delimited by the
    connection's end is only a closed stream, which EventSource reconnects. aiohttp's
    WebSocketResponse turns the length check off the same way.
    """

    _length_check = False


def _safe_next(target: str | None) -> str:
    """A local path to go to after login (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _http(
    kind: type[web.HTTPException], text: str, headers: dict[str, str] | None = None
) -> web.HTTPException:
    return kind(text=text, headers={**_HEADERS, **(headers or {})})


def _json(document: dict[str, Any], status: int = 200) -> web.Response:
    body = json.dumps(document).encode()
    return web.Response(status=status, body=body, headers={"Content-Type": "application/json"})


def _text(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text)


def _static(name: str) -> web.Response:
    resource = resources.files("edge.daemon").joinpath("static", name)
    suffix = "." + name.rsplit(".", 1)[-1]
    return web.Response(body=resource.read_bytes(), headers={"Content-Type": _STATIC_TYPES[suffix]})


def _login_form(target: str, message: str, status: int) -> web.Response:
    page = resources.files("edge.daemon").joinpath("static", "login.html").read_text()
    page = page.replace("{{next}}", html.escape(_safe_next(target), quote=True))
    page = page.replace("{{message}}", html.escape(message))
    page = page.replace("{{hidden}}", "" if message else "hidden")
    return web.Response(status=status, text=page, content_type="text/html")
