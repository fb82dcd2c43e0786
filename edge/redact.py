"""The one credential cleaner: masks secrets in every URL of a text before it is shown.

Everything that prints or publishes a camera source goes through `redact_url`: log lines
(`edge.log`), `hinge-edge check-config`, config errors and reprs (`edge.settings`), the
capture's display form, error messages and status payloads (`edge.capture`). The forms
covered, as IP cameras and NVRs write them:

    userinfo        rtsp://admin:hunter2@cam/live -> rtsp://admin:***@cam/live
    query           http://cam/snap.cgi?user=admin&pwd=hunter2 -> ...?user=admin&pwd=***
    path key=value  rtsp://nvr/user=admin_password=hunter2_channel=1
                    -> rtsp://nvr/user=admin_password=***_channel=1 (also `&`, `;` between)
    path segments   http://cam/cgi/user/admin/password/hunter2/snap -> .../password/***/snap

A key is secret when it ends in one of `pass`, `password`, `passwd`, `passphrase`, `pas`,
`pwd`, `psw`, `pw`, `token`, `secret`, `key`, `auth`, `sig`, `signature`, `credential(s)`
(any case: `loginpas`, `access_token`, `api_key`, `apikey`, `X-Amz-Signature`,
`streamkey`). User names (`user`, `username`, `usr`) stay. In the userinfo everything up
to the last `@` counts, so a raw `@`, `/` or `?` in a password is masked too;
`host:554/x@y` is a port and a path, not a password.

In a text a URL is `scheme://` (or a stream scheme short of its slashes, `rtsp:cam/x`) up
to the next whitespace, less the punctuation that closes it in prose (`(rtsp://...):`); a
source string given whole (`whole=True`) is one URL, blanks included. Not covered,
because nothing marks them as secret: a bare token as a path segment
(`rtsps://nvr:7441/AbCdEf`, an RTMP stream key `/live2/abcd-efgh`), a percent-encoded key
name. The settings also register every secret found in a camera's source with the log
filter (`url_secrets`), which then masks it anywhere in a log line, URL or not.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

MASK = "***"

_WORDS = r"pass(?:word|wd|phrase)?|pas|pwd|psw|pw|token|secret|key|auth|sig(?:nature)?|credentials?"
# A secret key: ends in one of the words, begins after a non-alphanumeric (or the start).
_KEY = rf"(?<![A-Za-z0-9])[A-Za-z0-9]*?(?:{_WORDS})"
# `scheme://`, or a stream scheme missing its slashes (`rtsp:/cam`, `rtsp:admin:pw@cam`: the
# config refuses those, and its error shows the value).
_SCHEME = r"[A-Za-z][A-Za-z0-9+.-]*://|(?:rtsps?|rtmps?|https?|udp|tcp|srt|rtp):/?"
_URL = re.compile(rf"(?<![A-Za-z0-9+.-])({_SCHEME})(\S+)", re.IGNORECASE)
# A value ends at its separator; punctuation that closes a URL in prose (`(rtsp://...):`)
# is not part of it.
_CLOSING = r"[)\]}>,.:]*"
_QUERY_PARAM = re.compile(rf"({_KEY}=)([^&;#\s'\"]*?)(?={_CLOSING}(?:[&;#\s'\"]|$))", re.IGNORECASE)
# In a path, `_name=` also ends a value (`user=admin_password=x_channel=1`).
_PATH_PARAM = re.compile(
    rf"({_KEY}=)([^/&;?#\s'\"]*?)(?=_[A-Za-z][A-Za-z0-9]*=|{_CLOSING}(?:[/&;?#\s'\"]|$))",
    re.IGNORECASE,
)
_PATH_SEGMENT = re.compile(
    rf"(?<=/)({_KEY}/)([^/?#\s'\"]+?)(?={_CLOSING}(?:[/?#\s'\"]|$))", re.IGNORECASE
)
_QUERY_START = re.compile(r"[?#]")
# `whole` mode: blanks stand in as private-use characters while the URL is parsed, and an
# end mark keeps a source's own last characters from reading as closing punctuation.
_END = "\ue002"
_HIDE_BLANKS = str.maketrans({" ": "\ue000", "\t": "\ue001"})
_SHOW_BLANKS = str.maketrans({"\ue000": " ", "\ue001": "\t", _END: None})


def redact_url(text: str, *, whole: bool = False) -> str:
    """Masks the secrets of every URL in a text (a source string, a message, a log line).

    Args:
        text: Anything; only URLs (`scheme://...`) are touched, the rest comes back as is.
        whole: The text is one source string (a camera's `source`): spaces and tabs in it
            belong to the URL (`rtsp://user:pass word@cam` is masked whole).

    Returns:
        The text with each secret replaced by `***` (see the module docstring for the forms).
    """
    if whole:
        return redact_url(text.translate(_HIDE_BLANKS) + _END).translate(_SHOW_BLANKS)
    return _URL.sub(lambda m: m[1] + _clean(m[2], []), text)


def url_secrets(source: str) -> list[str]:
    """The secret values in a source string, as written and percent-decoded (for the log filter)."""
    found: list[str] = []
    for match in _URL.finditer(source.translate(_HIDE_BLANKS) + _END):
        _clean(match[2], found)
    values = [value.translate(_SHOW_BLANKS) for value in found]
    values += [unquote(value) for value in values]
    return [value for value in dict.fromkeys(values) if value != MASK]


def _clean(rest: str, found: list[str]) -> str:
    """Masks one URL's secrets (`rest` follows `scheme://`), adding each value to `found`."""
    prefix = ""
    userinfo = _userinfo(rest)
    if userinfo is not None:
        user, password, rest = userinfo
        found.append(password)
        prefix = f"{user}:{MASK}@"
    start = _QUERY_START.search(rest)
    split = start.start() if start is not None else len(rest)
    path, query = rest[:split], rest[split:]

    def mask(match: re.Match[str]) -> str:
        if not match[2]:
            return match[0]
        found.append(match[2])
        return match[1] + MASK

    path = _PATH_SEGMENT.sub(mask, _PATH_PARAM.sub(mask, path))
    return prefix + path + _QUERY_PARAM.sub(mask, query)


def _userinfo(rest: str) -> tuple[str, str, str] | None:
    """(user, password, what follows the `@`), or None without a password in the userinfo.

    The userinfo ends at the last `@` before the first `?` or `#` that follows an `@`.
    """
    first = rest.find("@")
    if first < 0:
        return None
    end = _QUERY_START.search(rest, first)
    at = rest.rfind("@", 0, end.start() if end is not None else len(rest))
    user, colon, password = rest[:at].partition(":")
    if not colon or not password or _QUERY_START.search(user) or "/" in user:
        return None  # no password, or the "@" sits in a path or query
    head = re.split(r"[/?#]", password, maxsplit=1)[0]
    if head != password and head.isdigit():
        return None  # host:port/path with an "@" further on
    return user, password, rest[at + 1 :]
