"""Who may use the web port: users and their roles, display tokens, scrape tokens.

Everything lives in one JSON file (`web.auth.users_file`, mode 0600), written whole and
renamed into place, so the daemon never reads half of it. The daemon re-reads it when it
changes: `hinge-edge users passwd`, `remove` and `display-token --revoke` take effect at
the next request, without a restart. Nothing secret is stored in the clear:

- passwords as PBKDF2-HMAC-SHA256 (`pbkdf2_sha256$<iterations>$<salt>$<hash>`, base64),
  600,000 iterations (OWASP's figure for this KDF);
- display and scrape tokens (256 random bits, shown once when made) as their SHA-256: a
  token is a key, not a password, and needs no slow hash.

Roles (docs/security.md): `admin` sees everything; `trainer` the dashboard, the state,
the event stream and the stills of its cameras (all cameras if none are named);
`display` one camera's display page and the data it needs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from edge.contract import now_iso
from edge.errors import EdgeError

logger = logging.getLogger(__name__)

PBKDF2_ITERATIONS = 600_000
"""OWASP's password storage figure for PBKDF2-HMAC-SHA256 (2023): about 0.3 s a check."""
USERS_FILE_NAME = "web-users.json"
USER_NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,31}$"
MIN_PASSWORD = 10
_SALT_BYTES = 16
_FORMAT = 1


class Role(StrEnum):
    """What a login may do (docs/security.md)."""

    ADMIN = "admin"
    TRAINER = "trainer"
    DISPLAY = "display"


def hash_password(password: str, iterations: int = PBKDF2_ITERATIONS) -> str:
    """The stored form of a password: `pbkdf2_sha256$iterations$salt$hash`."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True if `password` matches a `hash_password` result (constant-time compare)."""
    try:
        scheme, iterations, salt, digest = stored.split("$")
        rounds = int(iterations)
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256" or not 1 <= rounds <= 10_000_000:
        return False
    got = hashlib.pbkdf2_hmac("sha256", password.encode(), _unb64(salt), rounds)
    return hmac.compare_digest(got, _unb64(digest))


def token_digest(token: str) -> str:
    """The stored form of a display or scrape token (hex SHA-256)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_password() -> str:
    """A generated password: 16 characters from a 64-letter alphabet (96 bits)."""
    return secrets.token_urlsafe(12)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode())


@dataclass(frozen=True)
class User:
    """A person's login: role, allowed cameras (empty: all) and password hash."""

    name: str
    role: Role
    password: str
    cameras: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The user's entry in the file."""
        return {"role": self.role.value, "cameras": list(self.cameras), "password": self.password}


@dataclass(frozen=True)
class DisplayToken:
    """A display link's key for one camera."""

    id: str
    camera: str
    digest: str
    created: str


@dataclass
class Credentials:
    """The users file's content."""

    users: dict[str, User] = field(default_factory=dict)
    displays: dict[str, DisplayToken] = field(default_factory=dict)
    scrape: dict[str, str] = field(default_factory=dict)  # token id -> digest

    def dumps(self) -> str:
        """The file's text."""
        return json.dumps(
            {
                "format": _FORMAT,
                "users": {u.name: u.to_dict() for u in self.users.values()},
                "display_tokens": {
                    t.id: {"camera": t.camera, "sha256": t.digest, "created": t.created}
                    for t in self.displays.values()
                },
                "scrape_tokens": {i: {"sha256": d} for i, d in self.scrape.items()},
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str, where: str) -> Credentials:
        """Parses the file's text.

        Raises:
            EdgeError: It is not a users file of this format.
        """
        try:
            data = json.loads(text)
            users = {
                name: User(name, Role(u["role"]), u["password"], tuple(u.get("cameras", ())))
                for name, u in data["users"].items()
            }
            displays = {
                i: DisplayToken(i, t["camera"], t["sha256"], t.get("created", ""))
                for i, t in data.get("display_tokens", {}).items()
            }
            scrape = {i: t["sha256"] for i, t in data.get("scrape_tokens", {}).items()}
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise EdgeError(
                f"{where}: not a hinge-edge users file ({err!r}); fix it, or move it away "
                "and start again for a new admin password"
            ) from None
        return cls(users, displays, scrape)


class UserStore:
    """The users file, re-read whenever it changes on disk; thread-safe.

    Reads (`user`, `display_token`, `scrape_ok`) are what the web side asks on every
    request; they cost one `stat` of the file. Writes (`add_user` and the rest) are the
    CLI's, and replace the file atomically.
    """

    def __init__(self, path: Path) -> None:
        """Opens (does not create) the users file at `path`."""
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._creds = Credentials()

    # ------------------------------------------------------------ reading
    def current(self) -> Credentials:
        """The file's content as it is now (empty if there is no file).

        Raises:
            EdgeError: The file is not a users file.
        """
        with self._lock:
            try:
                st = self.path.stat()
            except FileNotFoundError:
                self._stamp, self._creds = None, Credentials()
                return self._creds
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
            if stamp != self._stamp:
                self._creds = Credentials.from_json(self.path.read_text(), str(self.path))
                self._stamp = stamp
            return self._creds

    @property
    def exists(self) -> bool:
        """Whether the file exists."""
        return self.path.is_file()

    def user(self, name: str) -> User | None:
        """A user by name, or None."""
        return self.current().users.get(name)

    def display_token(self, token: str) -> DisplayToken | None:
        """The entry of display token `token` (its camera), or None if none such (or revoked)."""
        digest = token_digest(token)
        for entry in self.current().displays.values():
            if hmac.compare_digest(entry.digest, digest):
                return entry
        return None

    def scrape_ok(self, token: str) -> bool:
        """Whether `token` is a valid scrape token."""
        digest = token_digest(token)
        return any(hmac.compare_digest(d, digest) for d in self.current().scrape.values())

    # ------------------------------------------------------------ writing
    def _write(self, creds: Credentials) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(creds.dumps())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def _edit(self) -> Credentials:
        creds = self.current()
        return Credentials(dict(creds.users), dict(creds.displays), dict(creds.scrape))

    def add_user(
        self,
        name: str,
        role: Role,
        password: str,
        cameras: tuple[str, ...] = (),
        iterations: int = PBKDF2_ITERATIONS,
    ) -> User:
        """Adds a user (or replaces one of the same name).

        Raises:
            ValueError: A bad name or a password shorter than `MIN_PASSWORD`.
        """
        if not re.fullmatch(USER_NAME_PATTERN, name):
            raise ValueError(
                f"invalid user name {name!r}: 1 to 32 of a-z, 0-9, '_', '.', '-', "
                "starting with a letter or digit"
            )
        if role is Role.DISPLAY:
            raise ValueError("displays sign in with a display link: hinge-edge display-token")
        check_password(password)
        user = User(name, role, hash_password(password, iterations), tuple(cameras))
        creds = self._edit()
        creds.users[name] = user
        self._write(creds)
        return user

    def set_password(self, name: str, password: str, iterations: int = PBKDF2_ITERATIONS) -> None:
        """Changes a user's password (their sessions end).

        Raises:
            KeyError: No such user.
            ValueError: The password is too short.
        """
        check_password(password)
        creds = self._edit()
        old = creds.users[name]
        creds.users[name] = User(name, old.role, hash_password(password, iterations), old.cameras)
        self._write(creds)

    def remove_user(self, name: str) -> None:
        """Removes a user (their sessions end).

        Raises:
            KeyError: No such user.
        """
        creds = self._edit()
        del creds.users[name]
        self._write(creds)

    def new_display_token(self, camera_id: str) -> tuple[DisplayToken, str]:
        """Makes a display token for a camera: (its entry, the token, shown only now)."""
        token = secrets.token_urlsafe(32)
        entry = DisplayToken(secrets.token_hex(4), camera_id, token_digest(token), now_iso())
        creds = self._edit()
        creds.displays[entry.id] = entry
        self._write(creds)
        return entry, token

    def revoke_display_tokens(
        self, camera_id: str | None = None, token_id: str | None = None
    ) -> int:
        """Revokes one token (by id), or every token of a camera; returns how many."""
        creds = self._edit()
        gone = [
            t.id
            for t in creds.displays.values()
            if (token_id is not None and t.id == token_id)
            or (token_id is None and t.camera == camera_id)
        ]
        for token in gone:
            del creds.displays[token]
        self._write(creds)
        return len(gone)

    def new_scrape_token(self, replace: bool = True) -> str:
        """Makes a scrape token for /metrics (by default replacing the others); returns it."""
        token = secrets.token_urlsafe(32)
        creds = self._edit()
        if replace:
            creds.scrape.clear()
        creds.scrape[secrets.token_hex(4)] = token_digest(token)
        self._write(creds)
        return token

    def bootstrap(self) -> str | None:
        """On first start (no file): creates it with user `admin`; returns the password.

        The password is returned once, to be shown once; only its hash is stored.
        """
        if self.exists:
            return None
        password = new_password()
        self.add_user("admin", Role.ADMIN, password)
        return password


def check_password(password: str) -> None:
    """Refuses a password shorter than `MIN_PASSWORD` characters.

    Raises:
        ValueError: Too short.
    """
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")


def users_path(users_file: Path | None, spool_dir: Path) -> Path:
    """Where the users file is: `web.auth.users_file`, or web-users.json in the spool folder."""
    return users_file if users_file is not None else spool_dir / USERS_FILE_NAME


def describe(creds: Credentials) -> list[dict[str, Any]]:
    """Users and tokens without their secrets, for `hinge-edge users list`."""
    rows: list[dict[str, Any]] = [
        {"user": u.name, "role": u.role.value, "cameras": list(u.cameras) or "all"}
        for u in sorted(creds.users.values(), key=lambda u: u.name)
    ]
    rows += [
        {"display_token": t.id, "camera": t.camera, "created": t.created}
        for t in sorted(creds.displays.values(), key=lambda t: (t.camera, t.created))
    ]
    rows += [{"scrape_token": i} for i in sorted(creds.scrape)]
    return rows
