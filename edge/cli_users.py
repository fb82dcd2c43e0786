"""`hinge-edge users`, `display-token` and `scrape-token`: the web port's credentials.

They edit the users file the daemon reads (`web.auth.users_file`; docs/security.md). A
running daemon sees each change at its next request: no restart.

    hinge-edge users --config gym.yaml add coach --role trainer --cameras platform-1,platform-2
    hinge-edge users --config gym.yaml passwd admin
    hinge-edge users --config gym.yaml list
    hinge-edge display-token --config gym.yaml platform-1          # prints the display link
    hinge-edge display-token --config gym.yaml platform-1 --revoke # every link of platform-1
    hinge-edge scrape-token --config gym.yaml                      # a new /metrics token
"""

from __future__ import annotations

import argparse
import getpass
import json
import socket
import sys
from pathlib import Path

from edge.daemon.auth import Role, UserStore, describe, new_password, users_path
from edge.errors import ConfigError


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Adds the three commands to `hinge-edge`'s subcommands."""
    users = commands.add_parser("users", help="add, change, remove or list web logins")
    _where(users)
    actions = users.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add a user (or replace one of that name)")
    add.add_argument("name")
    add.add_argument("--role", choices=[Role.ADMIN.value, Role.TRAINER.value], required=True)
    add.add_argument(
        "--cameras", default="", help="comma-separated camera ids a trainer may see (default all)"
    )
    _password_source(add)
    passwd = actions.add_parser("passwd", help="set a user's password (their logins end)")
    passwd.add_argument("name")
    _password_source(passwd)
    remove = actions.add_parser("remove", help="remove a user (their logins end)")
    remove.add_argument("name")
    actions.add_parser("list", help="users and tokens, without secrets")

    display = commands.add_parser(
        "display-token", help="make (or revoke) a display link for one camera's TV"
    )
    _where(display)
    display.add_argument("camera")
    display.add_argument("--revoke", action="store_true", help="revoke every link of the camera")
    display.add_argument("--revoke-id", help="revoke one token by its id (see `users list`)")
    display.add_argument(
        "--base-url", help="how displays reach this box (default http(s)://HOSTNAME:web.port)"
    )
    scrape = commands.add_parser(
        "scrape-token", help="make a bearer token for /metrics (replaces the previous one)"
    )
    _where(scrape)


def _where(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="the daemon's YAML config file")
    parser.add_argument(
        "--users-file",
        type=Path,
        help="the users file itself (default: the config's web.auth.users_file, or "
        "web-users.json in its spool folder; without either, the demo's)",
    )


def _password_source(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    group.add_argument(
        "--generate", action="store_true", help="generate a password and print it once"
    )


def run(args: argparse.Namespace) -> int:
    """Runs one of the commands; returns the exit code."""
    try:
        store, cameras, base = _open(args)
    except ConfigError as err:
        print(f"{args.config}: invalid configuration", file=sys.stderr)
        for issue in err.issues or [str(err)]:
            print(issue, file=sys.stderr)
        return 1
    try:
        if args.command == "users":
            return _users(args, store, cameras)
        if args.command == "display-token":
            return _display(args, store, cameras, base)
        print(store.new_scrape_token())
        print(
            f"(the only copy; send it as 'Authorization: Bearer ...' to {base}/metrics)",
            file=sys.stderr,
        )
        return 0
    except (KeyError, ValueError) as err:
        print(f"hinge-edge {args.command}: {str(err).strip(chr(39))}", file=sys.stderr)
        return 1


def _open(args: argparse.Namespace) -> tuple[UserStore, set[str] | None, str]:
    """(the store, the configured camera ids or None, the web port's base URL)."""
    if args.config is not None:
        from edge.settings import load_settings

        settings = load_settings(args.config)
        web = settings.web
        path = args.users_file or users_path(web.auth.users_file, settings.spool.path)
        scheme = "https" if web.tls.enabled else "http"
        return UserStore(path), set(settings.cameras), f"{scheme}://{_host()}:{web.port}"
    if args.users_file is None:
        from edge.synth.demo import home

        args.users_file = users_path(None, home() / "spool")
    return UserStore(args.users_file), None, f"http://{_host()}:8080"


def _host() -> str:
    return socket.gethostname() or "localhost"


def _users(args: argparse.Namespace, store: UserStore, cameras: set[str] | None) -> int:
    if args.action == "list":
        for row in describe(store.current()):
            print(json.dumps(row))
        return 0
    if args.action == "remove":
        store.remove_user(args.name)
        print(f"removed {args.name}")
        return 0
    if args.action == "passwd" and store.user(args.name) is None:
        raise KeyError(f"no user {args.name!r}")
    password = _password(args)
    if args.action == "passwd":
        store.set_password(args.name, password)
        print(f"password of {args.name} changed; their logins have ended")
        return 0
    allowed = tuple(c for c in args.cameras.split(",") if c)
    unknown = sorted(set(allowed) - cameras) if cameras is not None else []
    if unknown:
        raise ValueError(f"no camera {', '.join(unknown)} in {args.config}")
    user = store.add_user(args.name, Role(args.role), password, allowed)
    print(f"{user.name}: {user.role}, cameras {', '.join(user.cameras) or 'all'}")
    return 0


def _password(args: argparse.Namespace) -> str:
    if args.generate:
        password = new_password()
        print(f"password: {password}  (shown this once)")
        return password
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("new password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def _display(
    args: argparse.Namespace, store: UserStore, cameras: set[str] | None, base: str
) -> int:
    if cameras is not None and args.camera not in cameras:
        raise ValueError(f"no camera {args.camera} in {args.config}")
    if args.revoke or args.revoke_id:
        count = store.revoke_display_tokens(args.camera, args.revoke_id)
        print(f"revoked {count} display link(s); those displays are signed out now")
        return 0
    entry, token = store.new_display_token(args.camera)
    base = (args.base_url or base).rstrip("/")
    print(f"{base}/display/{args.camera}?token={token}")
    print(
        f"(token {entry.id}: open it once on the display; revoke with "
        f"hinge-edge display-token {args.camera} --revoke-id {entry.id})",
        file=sys.stderr,
    )
    return 0
