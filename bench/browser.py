"""Debian's Chromium, headless, driven by Playwright (a test extra): the map benchmark and the
browser tests launch it the same way. Playwright never downloads a browser here."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser

# Without the background-networking flags Chromium keeps trying hosts this machine cannot reach.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

# Zoom without animation (Leaflet redraws and fires zoomend before setZoom returns), then wait
# until that frame is painted; the zoom reached and the milliseconds it took. It returns numbers,
# never the map: Playwright would serialise the whole Leaflet object graph (every layer and
# feature) as the result, minutes on a national file.
ZOOM = """(level) => new Promise((done) => {
  const map = window.safeground.map, started = performance.now();
  map.setZoom(level, {animate: false});
  requestAnimationFrame(() => setTimeout(() => done([map.getZoom(), performance.now() - started]), 0));
})"""


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise RuntimeError(
            "no chromium on PATH: run `make install-test` (scripts/bootstrap.sh --browser)"
        )
    return found


@contextmanager
def chromium(extra_args: list[str] | None = None) -> Iterator[Browser]:
    """A headless Chromium; Playwright gives each launch a fresh, throw-away profile."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # a test extra: `make install-test` installs it
        raise RuntimeError("driving Chromium needs playwright: pip install -e '.[test]'") from exc
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            args=[*CHROMIUM_ARGS, *(extra_args or [])],
        )
        try:
            yield browser
        finally:
            browser.close()
