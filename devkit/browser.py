"""Headless Debian Chromium driven over the DevTools protocol on a pipe, standard library only.

Chromium started with `--remote-debugging-pipe` reads DevTools commands (JSON, each ended
by a NUL byte) on its file descriptor 3 and writes replies and events on 4. No websocket
client, no Playwright, no browser download: one long-lived page that keeps its
EventSource open, so a test sees the live updates and reconnects a person would see,
which a fresh `--dump-dom` load per poll could not show.

    with Browser(profile_dir) as browser:
        page = browser.page("http://127.0.0.1:8080/", width=1280, height=800)
        page.wait_for("document.querySelector('#reps').innerText === '3'")
        page.screenshot(path)
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devkit.chromium import CHROMIUM, HEADLESS_FLAGS

FLAGS = [
    *HEADLESS_FLAGS,
    "--hide-scrollbars",
    "--remote-debugging-pipe",
]
# DevTools' replies while a tab moves between documents (no execution context yet)
_NAVIGATING = ("Inspected target navigated or closed", "Cannot find default execution context")


def missing_chromium() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if CHROMIUM is None:
        return "needs Debian's chromium (apt-get install chromium)"
    return None


class BrowserError(RuntimeError):
    """Chromium answered a command with an error, or went away."""


class Browser:
    """One headless Chromium process; `page()` opens tabs on it."""

    def __init__(self, profile: Path, timeout_s: float = 20.0) -> None:
        """Starts Chromium with a fresh profile folder (its log goes to `profile/chromium.log`)."""
        assert CHROMIUM is not None, missing_chromium()
        profile.mkdir(parents=True, exist_ok=True)
        self.timeout_s = timeout_s
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # High descriptor numbers, so `3<&N 4>&M` cannot clobber one with the other (bash: dash
        # takes single-digit descriptors only).
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 20) for fd in (to_chrome_r, from_chrome_w)]
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        script = f'exec "$@" 3<&{high[0]} 4>&{high[1]} {high[0]}<&- {high[1]}>&-'
        self.log_path = profile / "chromium.log"
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                ["/bin/bash", "-c", script, "bash", CHROMIUM, *FLAGS, f"--user-data-dir={profile}"],
                pass_fds=high,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        for fd in high:
            os.close(fd)
        self._next_id = 0
        self._lock = threading.Lock()
        self._replies: dict[int, dict] = {}
        self._events: list[dict] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, name="cdp", daemon=True)
        self._reader.start()
        self.send("Target.setDiscoverTargets", {"discover": False})

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._replies[-1] = {"error": {"message": "chromium went away"}}
                    self._cond.notify_all()
                return
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            with self._cond:
                for raw in messages:
                    message = json.loads(raw)
                    if "id" in message:
                        self._replies[message["id"]] = message
                    else:
                        self._events.append(message)
                self._cond.notify_all()

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Sends one command and returns its result; raises BrowserError on an error reply."""
        with self._lock:
            self._next_id += 1
            command_id = self._next_id
        message: dict[str, Any] = {"id": command_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout_s
        with self._cond:
            while command_id not in self._replies and -1 not in self._replies:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise BrowserError(f"{method}: no reply in {self.timeout_s} s")
                self._cond.wait(remaining)
            reply = self._replies.pop(command_id, None) or self._replies[-1]
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def events(self, session: str, method: str) -> list[dict]:
        """The params of every event `method` received so far for a page's session."""
        with self._cond:
            return [
                e["params"]
                for e in self._events
                if e.get("sessionId") == session and e["method"] == method
            ]

    def page(self, url: str, width: int = 1280, height: int = 800) -> Page:
        """Opens `url` in a new tab of the given viewport size and waits for it to load."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        page = Page(self, session, target)
        for domain in ("Page", "Runtime", "Log"):
            page.send(f"{domain}.enable")
        page.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        page.goto(url)
        return page

    def close(self) -> None:
        """Ends Chromium: asks it to close, kills it if it does not within 5 s."""
        try:
            self.send("Browser.close")
        except (BrowserError, OSError):
            pass  # already gone
        os.close(self._to_chrome)
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        os.close(self._from_chrome)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Page:
    """One tab: evaluate JavaScript, wait for what it shows, take screenshots."""

    def __init__(self, browser: Browser, session: str, target: str) -> None:
        self.browser = browser
        self.session = session
        self.target = target

    def send(self, method: str, params: dict | None = None) -> dict:
        """A DevTools command in this tab's session."""
        return self.browser.send(method, params, self.session)

    def goto(self, url: str) -> None:
        """Navigates and waits until the document has loaded."""
        self.send("Page.navigate", {"url": url})
        self.wait_for(f"location.href === {json.dumps(url)} && document.readyState === 'complete'")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (JSON-serialisable), awaited if a promise."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"{expression!r} threw {text}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float = 20.0, every_s: float = 0.2) -> Any:
        """Polls `expression` until it is truthy; returns its value or raises TimeoutError.

        A page between two documents (a form just submitted, a redirect) has no context to
        evaluate in for a moment: that reads as not yet, not as a failure.
        """

        def probe() -> Any:
            try:
                return self.evaluate(expression)
            except BrowserError as e:
                if any(cue in str(e) for cue in _NAVIGATING):
                    return None
                raise

        return poll(probe, timeout_s, every_s, expression)

    def text(self, selector: str) -> str | None:
        """What a person reads in the element (`innerText`), None if absent or not shown."""
        return self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " return e && e.offsetParent !== null ? e.innerText : null; })()"
        )

    def errors(self) -> list[str]:
        """Uncaught exceptions, console errors and failed loads the page reported so far."""
        out = []
        for event in self.browser.events(self.session, "Runtime.exceptionThrown"):
            details = event["exceptionDetails"]
            out.append(details.get("exception", {}).get("description") or details["text"])
        for event in self.browser.events(self.session, "Runtime.consoleAPICalled"):
            if event["type"] in ("error", "assert"):
                args = event["args"]
                out.append(" ".join(str(a.get("value", a.get("description"))) for a in args))
        for event in self.browser.events(self.session, "Log.entryAdded"):
            if event["entry"]["level"] == "error":
                out.append(f"{event['entry']['text']} {event['entry'].get('url', '')}")
        return out

    def screenshot(self, path: Path) -> Path:
        """Writes what the viewport shows as a PNG."""
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        """Closes the tab."""
        self.browser.send("Target.closeTarget", {"targetId": self.target})


def poll(
    probe: Callable[[], Any], timeout_s: float, every_s: float = 0.2, what: str = "condition"
) -> Any:
    """Calls `probe` until it returns something truthy; raises TimeoutError with the last value."""
    deadline = time.monotonic() + timeout_s
    value = None
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(every_s)
    raise TimeoutError(f"{what} not true within {timeout_s} s (last value {value!r})")
