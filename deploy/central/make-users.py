#!/usr/bin/env python3
"""Makes the central cluster's accounts: one MQTT-only user per box, and the hub's.

    deploy/central/make-users.py boxes.txt            # every account anew
    deploy/central/make-users.py --add gym-7 box-2    # one more box, the others kept
    deploy/central/make-users.py --hub hub-2          # one more hub account
    deploy/central/make-users.py --remove gym-7 box-2 # lock a box out

`boxes.txt` lists one box a line, `<gym> <box>` (ids: a-z 0-9 _ -, 1-32 characters, no
dots: NATS turns '.' in an MQTT topic into '//'); blank lines and `#` comments are skipped.

Writes, beside this script (or into --out):
- `auth.conf`: the `authorization { users: [...] }` block that nats.conf includes. Each box
  user may publish only under `hinge/<gym>/<box>/` (NATS subject `hinge.<gym>.<box>.>`);
  a hub user may subscribe to `hinge/#`. Both get the internal `$MQTT.` subjects that NATS
  2.9 checks against the user's permissions for QoS 1 (see BOX_INTERNAL/HUB_INTERNAL).
  Users can connect over MQTT only (`allowed_connection_types`).
- `users.json`: the accounts and their password hashes, read back by `--add`.
- `credentials/<user>.env`: each new account's password in plain text, once, for the box's
  `upstream:` config (HINGE_EDGE_UPSTREAM__USERNAME/PASSWORD). Move it to the box, then
  delete it.

Passwords are random (24 characters of [A-Za-z0-9]) and stored as bcrypt hashes, which
nats-server checks natively; the hash is made with the C library's crypt(3) through
Python's `crypt` module (Debian's libxcrypt, Python <= 3.12). Where that is missing the
password is stored in plain text, said on stderr; every file written is mode 0600 either
way. The prefix `hinge` is `upstream.topic_prefix` of the boxes' config; another one:
--prefix. Only the Python standard library is needed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import string
import sys
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
# NATS 2.9 checks a user's permissions on one internal subject of its MQTT layer (found
# by trying, see tests/central/test_acl.py): a QoS 1 subscription is delivered by a
# JetStream consumer to `$MQTT.sub.<id>`, which the client's connection subscribes to;
# without `$MQTT.sub.>` the server logs a subscription violation and the filter gets no
# messages. Publishing QoS 1 (PUBACK, retained, last will) and the subscriber's PUBACKs
# need nothing beyond the topic itself (nats-server 2.12 grants `$MQTT.` implicitly:
# nats-io/nats-server#7637).
BOX_INTERNAL: dict[str, list[str]] = {"publish": [], "subscribe": []}
HUB_INTERNAL: dict[str, list[str]] = {"publish": [], "subscribe": ["$MQTT.sub.>"]}
BCRYPT_COST = 11  # 2^11 rounds: about 0.1 s per connect on a server core (NATS's default)


@dataclass
class Account:
    """One NATS user: who it is, its password hash, what it may publish and subscribe to."""

    user: str
    password: str  # a bcrypt hash ("$2b$..."), or the plain password where crypt is missing
    publish: list[str] = field(default_factory=list)
    subscribe: list[str] = field(default_factory=list)


def box_user(gym: str, box: str) -> str:
    """A box's account name, `box.<gym>.<box>` (no id holds a '.', so no two boxes clash)."""
    return f"box.{gym}.{box}"


def box_account(
    gym: str, box: str, password: str, prefix: str = "hinge", cost: int = BCRYPT_COST
) -> Account:
    """A box's account: publish under `<prefix>.<gym>.<box>.>` only, subscribe to nothing."""
    for value in (gym, box):
        if not ID.match(value):
            raise ValueError(f"ids are 1-32 of a-z 0-9 _ - (starting a-z 0-9): {value!r}")
    subject = f"{_subject(prefix)}.{gym}.{box}.>"
    return Account(
        box_user(gym, box),
        hash_password(password, cost),
        publish=[subject, *BOX_INTERNAL["publish"]],
        subscribe=list(BOX_INTERNAL["subscribe"]),
    )


def hub_account(
    name: str, password: str, prefix: str = "hinge", cost: int = BCRYPT_COST
) -> Account:
    """A hub worker's account: subscribe to `<prefix>.>`, publish nothing of its own."""
    if not ID.match(name):
        raise ValueError(f"hub names are 1-32 of a-z 0-9 _ -: {name!r}")
    return Account(
        name,
        hash_password(password, cost),
        publish=list(HUB_INTERNAL["publish"]),
        # `hinge/#` is two NATS subscriptions, `hinge.>` and `hinge` (MQTT's '#' matches
        # its parent level too): both must be allowed or the SUBACK refuses the filter.
        subscribe=[_subject(prefix), f"{_subject(prefix)}.>", *HUB_INTERNAL["subscribe"]],
    )


def _subject(prefix: str) -> str:
    levels = prefix.split("/")
    if not all(ID.match(level) for level in levels):
        raise ValueError(f"the topic prefix is levels of a-z 0-9 _ - joined by '/': {prefix!r}")
    return ".".join(levels)


def random_password() -> str:
    """24 characters of [A-Za-z0-9]: nothing that needs quoting in YAML, .env or a shell."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(24))


def hash_password(password: str, cost: int = BCRYPT_COST) -> str:
    """A bcrypt hash of `password` (2^cost rounds), or the password itself without crypt(3)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # removed in Python 3.13
            import crypt
    except ImportError:
        return password
    hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=2**cost))
    return hashed if hashed and hashed.startswith("$2") else password


def render_auth(accounts: Iterable[Account]) -> str:
    """The `auth.conf` text: an authorization block with every account, MQTT connections only."""
    lines = [
        "# Made by make-users.py: who may connect and what each may do. Do not edit by hand;",
        "# rerun make-users.py (--add keeps the others). Anonymous clients are refused.",
        "authorization {",
        "  users: [",
    ]
    for account in accounts:
        lines += [
            "    {",
            f"      user: {json.dumps(account.user)}",
            f"      password: {json.dumps(account.password)}",
            '      allowed_connection_types: ["MQTT"]',
            "      permissions: {",
            f"        publish: {_grant(account.publish)}",
            f"        subscribe: {_grant(account.subscribe)}",
            "      }",
            "    }",
        ]
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def _grant(subjects: list[str]) -> str:
    # An empty allow list means no restriction at all to NATS: nothing is `deny: [">"]`.
    return f"{{ allow: {json.dumps(subjects)} }}" if subjects else '{ deny: [">"] }'


def write_private(path: Path, text: str) -> None:
    """Writes `text` to `path`, readable by its owner only (0600) from the first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(path, 0o600)


def read_boxes(path: Path) -> list[tuple[str, str]]:
    """`(gym, box)` pairs from a boxes list: `<gym> <box>` a line, `#` comments."""
    boxes = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].split()
        if not line:
            continue
        if len(line) != 2:
            raise ValueError(f"{path}:{number}: expected '<gym> <box>', got {raw!r}")
        boxes.append((line[0], line[1]))
    return boxes


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module docstring."""
    args = _parser().parse_args(argv)
    out = Path(args.out)
    fresh = args.boxes is not None
    if not fresh and not (args.add or args.hub or args.remove):
        print(
            "give a boxes list, or --add GYM BOX / --hub NAME / --remove GYM BOX", file=sys.stderr
        )
        return 2
    accounts: dict[str, Account] = {}
    if not fresh:
        if not (out / "users.json").is_file():
            print(f"--add/--hub need an existing {out / 'users.json'}", file=sys.stderr)
            return 2
        accounts = {a["user"]: Account(**a) for a in json.loads((out / "users.json").read_text())}
    new: dict[str, str] = {}  # user -> plain password, shown once
    for gym, box in [] if fresh else args.remove or []:
        if accounts.pop(box_user(gym, box), None) is None:
            print(f"{box_user(gym, box)} has no account", file=sys.stderr)
            return 2
    try:
        boxes = read_boxes(Path(args.boxes)) if fresh else [tuple(pair) for pair in args.add or []]
        made = [box_account(gym, box, _new(new, box_user(gym, box)), args.prefix, args.cost)
                for gym, box in boxes]  # fmt: skip
        hubs = args.hub or (["hub"] if fresh else [])
        made += [hub_account(name, _new(new, name), args.prefix, args.cost) for name in hubs]
        for account in made:
            if account.user in accounts:
                raise ValueError(f"{account.user} is listed twice or already has an account")
            accounts[account.user] = account
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    _write(out, accounts, new)
    return 0


def _new(passwords: dict[str, str], user: str) -> str:
    passwords[user] = random_password()
    return passwords[user]


def _write(out: Path, accounts: dict[str, Account], new: dict[str, str]) -> None:
    plain = [a.user for a in accounts.values() if not a.password.startswith("$2")]
    if plain:
        print("crypt(3) with bcrypt unavailable: passwords kept in plain text", file=sys.stderr)
    write_private(out / "auth.conf", render_auth(accounts.values()))
    write_private(out / "users.json", json.dumps([asdict(a) for a in accounts.values()], indent=1))
    for user, password in new.items():
        env = f"HINGE_EDGE_UPSTREAM__USERNAME={user}\nHINGE_EDGE_UPSTREAM__PASSWORD={password}\n"
        write_private(out / "credentials" / f"{user}.env", env)
        print(f"{user}: password in {out / 'credentials' / (user + '.env')}")
    print(f"wrote {out / 'auth.conf'} ({len(accounts)} accounts)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("boxes", nargs="?", help="boxes list: '<gym> <box>' a line")
    parser.add_argument("--add", nargs=2, action="append", metavar=("GYM", "BOX"),
                        help="one more box, the other accounts kept (repeatable)")  # fmt: skip
    parser.add_argument("--remove", nargs=2, action="append", metavar=("GYM", "BOX"),
                        help="lock a box out: its account removed (repeatable)")  # fmt: skip
    parser.add_argument("--hub", action="append", metavar="NAME",
                        help="hub account (repeatable; a new list makes `hub`)")  # fmt: skip
    parser.add_argument("--prefix", default="hinge", help="upstream topic prefix (hinge)")
    parser.add_argument("--cost", type=int, default=BCRYPT_COST, help="bcrypt cost, 4-31 (11)")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent), help="folder")
    return parser


if __name__ == "__main__":
    sys.exit(main())
