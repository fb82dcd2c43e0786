"""The display tells a frozen daemon (stale data) and a dead one (connection lost), and
reconnects by itself when the daemon is back, starting again from its snapshot.

A frozen daemon (SIGSTOP) keeps the page's connection open and silent: no error ever
comes, so the page itself must notice the silence, say so, and at last drop the
connection and open a new one.
"""

from __future__ import annotations

# The daemon pings after 5 s of silence; the page calls the data stale after 2.5 pings
# (12.5 s) and reconnects after 5 (25 s).
STALE_WITHIN_S = 20.0
RECONNECT_WITHIN_S = 20.0  # after the stale banner
LOST = "document.querySelector('#connection').innerText === 'Connection lost: reconnecting'"


def test_stale_then_lost_then_back(swing_clip, daemon_factory, browser):
    clip, _ = swing_clip
    daemon = daemon_factory(
        {"platform-1": {"source": str(clip), "exercise": "swing", "loop": True}}
    ).start()
    display = browser.page(daemon.display_link("platform-1"), 1280, 720)
    display.wait_for("document.querySelector('#connection').innerText === 'Live'")
    assert display.text("#banner") is None  # hidden: the camera is online
    run_id = daemon.state()["run_id"]

    # Frozen (SIGSTOP): the stream stays open but says nothing. The page says so.
    daemon.freeze()
    try:
        banner = display.wait_for(
            "(() => { const b = document.querySelector('#banner');"
            " return b.offsetParent !== null && b.innerText; })()",
            STALE_WITHIN_S,
        )
        assert banner.startswith("No update for")
        assert display.text("#connection").startswith("Stale: no update for")
        assert display.evaluate("document.querySelector('#stage').classList.contains('dim')")
        # Still nothing: the page gives up on that connection and opens another.
        display.wait_for(LOST, RECONNECT_WITHIN_S)
        assert display.text("#banner") == "CAMERA DOWN: no connection to hinge-edge: reconnecting"
    finally:
        daemon.thaw()
    # The new connection is answered once the daemon runs again: a fresh snapshot.
    display.wait_for("document.querySelector('#connection').innerText === 'Live'", 10)
    display.wait_for("document.querySelector('#banner').hidden")
    assert display.evaluate("hingeLive.connects") == 2

    # Killed: the connection drops, the camera is shown DOWN.
    daemon.kill()
    display.wait_for(LOST, 10)
    banner = display.text("#banner")
    assert banner == "CAMERA DOWN: no connection to hinge-edge: reconnecting"

    # Back (a new run on the same port): the page reconnects by itself from the snapshot.
    daemon.start()
    display.wait_for("document.querySelector('#connection').innerText === 'Live'", 20)
    display.wait_for("document.querySelector('#banner').hidden", 10)
    assert display.evaluate("hingeLive.runId") == daemon.state()["run_id"] != run_id
    assert display.evaluate("hingeLive.connects") == 3
    # No script error. A reconnect tried while the daemon was dead is refused, and Chromium
    # logs the refused load: that is the page doing its job (a busy box starts the daemon
    # again later than the page's first retry), not an error of the page.
    refused = "net::ERR_CONNECTION_REFUSED"
    errors = [e for e in display.errors() if not (refused in e and "/api/events" in e)]
    assert errors == []
