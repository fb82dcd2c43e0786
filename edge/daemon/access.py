"""The web port's gatekeeping parts: sessions, the login rate limit and the Host check.

Each is small and pure (time is passed in where it matters), used from the server's one
event-loop thread; docs/security.md says why each is there.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from collections import OrderedDict
from dataclasses import dataclass

from edge.daemon.auth import Role

MAX_SESSIONS = 1000
"""Logins kept at most; the oldest goes first (a gym has a handful of trainers)."""
FREE_FAILURES = 5
"""Failed logins allowed before the back-off starts (per user and per address)."""
MAX_LOCKOUT_S = 300.0
_MAX_TRACKED = 10_000  # failure records kept at most (a spray of names cannot grow it)


@dataclass(frozen=True)
class Session:
    """A login: who, which role, until when (monotonic seconds), the password it used."""

    user: str
    role: Role
    expires: float
    password_hash: str  # a changed password ends the session


class Sessions:
    """The server-side session table: random tokens, with an expiry, bounded."""

    def __init__(self, lifetime_s: float) -> None:
        """Sessions last `lifetime_s` from login."""
        self.lifetime_s = lifetime_s
        self._table: OrderedDict[str, Session] = OrderedDict()

    def open(self, user: str, role: Role, password_hash: str, now: float) -> str:
        """Starts a session; returns its token (the cookie's value)."""
        token = secrets.token_urlsafe(32)
        self._table[token] = Session(user, role, now + self.lifetime_s, password_hash)
        while len(self._table) > MAX_SESSIONS:
            self._table.popitem(last=False)
        return token

    def get(self, token: str, now: float) -> Session | None:
        """The live session of a token, or None (unknown or expired: forgotten)."""
        session = self._table.get(token)
        if session is not None and session.expires <= now:
            del self._table[token]
            return None
        return session

    def close(self, token: str) -> None:
        """Ends a session (logout)."""
        self._table.pop(token, None)

    def __len__(self) -> int:
        """Sessions held (expired ones included until they are looked up)."""
        return len(self._table)


class LoginLimiter:
    """Exponential back-off of failed logins, per client address and per user name.

    After `FREE_FAILURES` failures a key is locked for 1 s, then 2, 4... up to
    `MAX_LOCKOUT_S`; a locked key's attempts are refused (429) without the password being
    checked. A success clears the user's and the address's record.
    """

    def __init__(self) -> None:
        """No failures yet."""
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def retry_after(self, keys: tuple[str, ...], now: float) -> float:
        """Seconds until these keys may try again (0: now)."""
        wait = 0.0
        for key in keys:
            count, last = self._failures.get(key, (0, 0.0))
            if count >= FREE_FAILURES:
                lockout = min(2.0 ** (count - FREE_FAILURES), MAX_LOCKOUT_S)
                wait = max(wait, last + lockout - now)
        return wait

    def failed(self, keys: tuple[str, ...], now: float) -> None:
        """Counts a failed login against each key."""
        for key in keys:
            count, _ = self._failures.pop(key, (0, 0.0))
            self._failures[key] = (count + 1, now)
        while len(self._failures) > _MAX_TRACKED:
            self._failures.popitem(last=False)

    def succeeded(self, keys: tuple[str, ...]) -> None:
        """Clears the keys' records."""
        for key in keys:
            self._failures.pop(key, None)


class HostCheck:
    """Whether a request's Host header names this box (against DNS rebinding).

    Allowed: localhost, this machine's hostname (and hostname.local), any IP literal (a
    rebinding attack needs a name the attacker controls) and the configured names
    (`*.example` allows every name under example).
    """

    def __init__(self, names: tuple[str, ...]) -> None:
        """`names`: web.allowed_hosts (lower case)."""
        own = socket.gethostname().lower()
        self._names = {"localhost", own, f"{own}.local", *names}
        self._suffixes = tuple(n[1:] for n in names if n.startswith("*."))

    def allows(self, host_header: str | None) -> bool:
        """Whether the Host header (with or without a port) is allowed."""
        if not host_header:
            return False
        host = _strip_port(host_header.strip().lower()).rstrip(".")
        if host in self._names or host.endswith(self._suffixes or ("\0",)):
            return True
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return False
        return True


def _strip_port(host: str) -> str:
    if host.startswith("["):  # [v6]:port
        return host.split("]", 1)[0] + "]"
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host
