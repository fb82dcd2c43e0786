"""Debian's headless Chromium for the page tests: where it is and how to start it here."""

import shutil

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# ../shared/FIELD-NOTES.md: the flags that keep headless Chromium quiet and offline here.
HEADLESS_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
