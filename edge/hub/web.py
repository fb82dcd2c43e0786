"""The chain dashboard: the hub's HTTP side, read-only over its PostgreSQL tables.

Routes (on `web.host:web.port`):
    /healthz                        open: {"status": "ok"} while PostgreSQL answers, else
                                    503 {"status": "down"}.
    /login, /logout                 the login form (rate-limited) and the way out.
    /api/chain                      JSON: gyms -> boxes -> cameras, health and live state
                                    (`edge.hub.views.Views.chain`).
    /api/gym/<gym>                  JSON: every camera of a gym across its boxes, with its
                                    latest reps today (404 for a gym never heard of).
    /api/platform/<gym>/<camera>    JSON: a platform's history, `?days=N` (1-366, default
                                    `web.history_days`) and today's reps.
    /                               the chain overview page; /gym/<gym> the trainers' floor
                                    view; /platform/<gym>/<camera> a platform's history.

The pages are plain HTML and one ES module (`static/`), no framework, nothing fetched
from elsewhere (Content-Security-Policy: scripts and styles from this origin only). They
ask the API again every `web.refresh_s` seconds: the tables are what is live here.

Logins are the daemon's (`edge.daemon.auth`: a users file, PBKDF2 hashes, sessions,
the login rate limit, the Host check): `admin` sees every gym; a `trainer` the gyms its
user entry names (the entry's `cameras` list holds gym ids on the hub; empty: all gyms).
The server itself is the daemon's `WebServer`: one asyncio loop in one thread, bounded
connections, idle timeouts, TLS when `web.tls` is set.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from importlib import resources
from typing import Any, cast

import psycopg
from aiohttp import web

from edge.daemon.auth import Role, UserStore
from edge.daemon.web import (
    OPEN,
    Handler,
    Hub,
    Principal,
    WebBackend,
    WebServer,
    _http,
    _json,
    _Routes,
    _static,
)
from edge.errors import EdgeError
from edge.hub.config import MAX_DAYS, HubWebConfig
from edge.hub.metrics import HubMetrics
from edge.hub.views import Database, Views

logger = logging.getLogger(__name__)

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
"""Gym, box and camera ids (docs/mqtt.md); anything else in a path is answered 404."""
CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
"""No script but this origin's files (no inline script, no eval); inline styles only."""
_HUB_FILES = ("chain.js", "chain.css")
_DAEMON_FILES = ("hinge.css", "hinge.js")  # the box dashboard's look and helpers
# The daemon-only routes (state, stills, metrics, event stream) are not registered here,
# so nothing asks the daemon's backend anything.
_NO_DAEMON = cast(WebBackend, object())


class HubWeb(WebServer):
    """Serves the chain dashboard from a background thread: `start()`, `stop()`, `port`."""

    def __init__(
        self,
        config: HubWebConfig,
        database: str | Views,
        users: UserStore | None = None,
        timezone: str = "UTC",
        metrics: HubMetrics | None = None,
    ) -> None:
        """Binds the port (0: any free one); nothing is served before `start()`.

        Args:
            config: The hub's `web` section.
            database: PostgreSQL's connection string (or ready `Views`, tests).
            users: The users file (`edge.daemon.web.open_users`); None only with
                `web.auth.enabled: false`.
            timezone: The hub's time zone (hub.timezone): what "today" is.
            metrics: The worker's figures for `/metrics` (admin or a scrape token); None
                serves no `/metrics`.

        Raises:
            OSError: The address cannot be bound.
            EdgeError: No users file while logins are on, or a bad TLS certificate.
        """
        if config.auth.enabled and users is None:
            raise EdgeError("web.auth is on: the hub's dashboard needs its users file")
        views = (
            database
            if isinstance(database, Views)
            else Views(Database(database), timezone, config.stale_after_s)
        )
        super().__init__(config, _NO_DAEMON, Hub(), users)
        secure = self._routes.secure
        self._routes.close()  # the daemon's routes, built by WebServer: replaced by ours
        self.views = views
        self._routes = _HubRoutes(config, views, users, secure, metrics)

    async def _close(self) -> None:
        await self.views.database.close()
        await super()._close()


class _HubRoutes(_Routes):
    """The chain's handlers; logins, the Host check and the headers are the daemon's."""

    def __init__(
        self,
        config: HubWebConfig,
        views: Views,
        users: UserStore | None,
        secure: bool,
        metrics: HubMetrics | None = None,
    ) -> None:
        # the daemon's /metrics handler (logins, scrape tokens) asks its backend
        backend = cast(WebBackend, metrics) if metrics is not None else _NO_DAEMON
        super().__init__(config, backend, Hub(), users, secure)
        self.hub_config = config
        self.views = views
        self.has_metrics = metrics is not None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4096, middlewares=[self._guard, self._policy])
        add = app.router.add_get
        add("/healthz", self.healthz)
        add("/login", self.login_page)
        app.router.add_post("/login", self.login)
        app.router.add_route("*", "/logout", self.logout)
        add("/api/chain", self.api_chain)
        add("/api/gym/{gym}", self.api_gym)
        add("/api/platform/{gym}/{camera}", self.api_platform)
        if self.has_metrics:
            add("/metrics", self.metrics)
        add("/", self.page)
        add("/gym/{gym}", self.page)
        add("/platform/{gym}/{camera}", self.page)
        for name in (*_HUB_FILES, *_DAEMON_FILES):
            add(f"/{name}", self.public_file)
        return app

    @web.middleware
    async def _policy(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The Content-Security-Policy, on every answer (errors included)."""
        try:
            response = await handler(request)
        except web.HTTPException as err:
            err.headers.setdefault("Content-Security-Policy", CSP)
            raise
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response

    def principal(self, request: web.Request) -> Principal | None:
        """A user's login (displays have nothing to see on the hub)."""
        who = super().principal(request)
        return None if who is not None and who.role is Role.DISPLAY else who

    def viewer(self, request: web.Request, gym: str | None = None, page: bool = False) -> Principal:
        """An admin or trainer who may see `gym` (if given): 401/redirect, 403 otherwise."""
        who = self.require(request, (Role.ADMIN, Role.TRAINER), page)
        if gym is not None and not who.may_see(gym):
            raise _http(web.HTTPForbidden, "this login may not see that gym\n")
        return who

    # ------------------------------------------------------------ routes
    async def healthz(self, request: web.Request) -> web.Response:
        try:
            await self.views.database.rows("SELECT 1")
        except psycopg.Error as err:
            logger.warning("hub web: PostgreSQL does not answer: %s", err)
            return _json({"status": "down"}, status=503)
        return _json({"status": "ok"})

    async def public_file(self, request: web.Request) -> web.Response:
        name = request.path.lstrip("/")
        return _hub_static(name) if name in _HUB_FILES else _static(name)

    async def page(self, request: web.Request) -> web.Response:
        names = [request.match_info.get(k) for k in ("gym", "camera")]
        _ids(*(n for n in names if n is not None))
        self.viewer(request, names[0], page=True)
        return _hub_static("chain.html")  # one page; its script draws what the path asks

    async def api_chain(self, request: web.Request) -> web.Response:
        who = self.viewer(request)
        return await self._answer(self.views.chain(_now(), _gyms_of(who)))

    async def api_gym(self, request: web.Request) -> web.Response:
        gym = _ids(request.match_info["gym"])[0]
        self.viewer(request, gym)
        return await self._answer(self.views.gym(gym, _now()))

    async def api_platform(self, request: web.Request) -> web.Response:
        gym, camera = _ids(request.match_info["gym"], request.match_info["camera"])
        self.viewer(request, gym)
        days = request.query.get("days", str(self.hub_config.history_days))
        if not days.isdigit() or not 1 <= int(days) <= MAX_DAYS:
            raise _http(web.HTTPBadRequest, f"days: a whole number from 1 to {MAX_DAYS}\n")
        return await self._answer(self.views.platform(gym, camera, int(days), _now()))

    async def _answer(self, view: Any) -> web.Response:
        """A view's JSON (404 for a gym never heard of; 503 while PostgreSQL fails)."""
        try:
            document = await view
        except psycopg.Error as err:
            logger.warning("hub web: query failed: %s", err)
            return _json({"error": "the database does not answer; try again"}, status=503)
        document["refresh_s"] = self.hub_config.refresh_s
        response = _json(document, status=200 if document.get("known", True) else 404)
        response.enable_compression()  # a chain's overview: 640 KiB of JSON, 10x less gzipped
        return response


def _ids(*names: str) -> tuple[str, ...]:
    """The path's ids, checked (404 for anything that cannot be a gym or camera id)."""
    for name in names:
        if not ID_PATTERN.fullmatch(name):
            raise _http(web.HTTPNotFound, "no such gym or camera\n")
    return names


def _gyms_of(who: Principal) -> tuple[str, ...] | None:
    """The gyms a login sees (None: all); a hub trainer's `cameras` entry names gyms."""
    return None if who is OPEN or who.role is Role.ADMIN or not who.cameras else who.cameras


def _now() -> datetime:
    return datetime.now(UTC)


def _hub_static(name: str) -> web.Response:
    resource = resources.files("edge.hub").joinpath("static", name)
    kind = {"html": "text/html", "js": "text/javascript", "css": "text/css"}[name.rsplit(".")[-1]]
    return web.Response(
        body=resource.read_bytes(), headers={"Content-Type": f"{kind}; charset=utf-8"}
    )
