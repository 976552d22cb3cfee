"""Debian's Chromium (`scripts/bootstrap.sh --browser` installs it), headless, driven by Playwright.

Playwright never downloads a browser here: it drives /usr/bin/chromium through `executable_path`.
A page is opened with its console errors, uncaught exceptions, dialogs (alert!) and network requests
recorded; with `offline=True` every request that is not file: or data: is refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, Route

from bench.browser import CHROMIUM_ARGS, ZOOM, chromium, chromium_path

__all__ = ["another", "chromium", "drawn", "open_map", "saved_map", "screenshot", "zoom"]

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
# Replaces window.alert & co. before any script of the page runs: a call is recorded, never shown.
ALERT_TRAP = """
window.__alerts = [];
for (const name of ["alert", "confirm", "prompt"]) {
  window[name] = (...args) => { window.__alerts.push([name, ...args.map(String)]); };
}
"""
# What is drawn, per layer key: SVG paths, the shapes a canvas renderer draws (its _layers: a big
# polygon layer is drawn on one canvas), single markers, and the points inside cluster bubbles.
DRAWN = """
(keys) => {
  const out = {};
  const canvases = [];
  const map = window.safeground && window.safeground.map;
  if (map) map.eachLayer((l) => { if (l instanceof L.Canvas) canvases.push(l); });
  for (const key of keys) {
    let painted = 0;
    for (const c of canvases) {
      for (const id in c._layers) {
        const names = (c._layers[id].options.className || "").split(" ");
        if (names.includes(`sg-p-${key}`)) painted += 1;
      }
    }
    const paths = document.querySelectorAll(`path.sg-p-${key}`).length + painted;
    const markers = document.querySelectorAll(`.leaflet-marker-icon.sg-m-${key}`).length;
    let clustered = 0;
    for (const el of document.querySelectorAll(`.sg-c-${key}`)) {
      clustered += parseInt(el.textContent, 10);
    }
    out[key] = paths + markers + clustered;
  }
  return out;
}
"""


@contextmanager
def another(browser: Browser, extra_args: list[str]) -> Iterator[Browser]:
    """A second Chromium with other flags (e.g. no network), from the same Playwright."""
    second = browser.browser_type.launch(
        executable_path=chromium_path(), headless=True, args=[*CHROMIUM_ARGS, *extra_args]
    )
    try:
        yield second
    finally:
        second.close()


@dataclass
class Report:
    """What happened while a page loaded."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return self.console_errors + self.page_errors


@contextmanager
def open_map(
    browser: Browser,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    page_headers: dict[str, str] | None = None,
    offline: bool = False,
    viewport: tuple[int, int] = (1280, 800),
    post_json: object = None,
    geolocation: dict[str, float] | None = None,
) -> Iterator[tuple[Page, Report]]:
    """Open a map page and wait until it says it is ready (map.js sets data-sg-ready); with
    `post_json`, the page itself is requested by a POST of that JSON body (e.g. a route); with
    `geolocation` (latitude, longitude, accuracy), the device's position is that, permitted.
    `headers` go with every request; `page_headers` with the page's own request only (as a client
    that sends its key for the page, while the page's tile requests carry none)."""
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]},
        extra_http_headers=headers or {},
        service_workers="block",
        geolocation=geolocation,  # type: ignore[arg-type]
        permissions=["geolocation"] if geolocation else [],
    )
    report = Report()
    page = context.new_page()
    page.add_init_script(ALERT_TRAP)
    page.on("console", lambda m: m.type == "error" and report.console_errors.append(m.text))
    page.on("pageerror", lambda e: report.page_errors.append(str(e)))
    page.on("dialog", lambda d: (report.dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: report.requests.append(r.url))
    if offline:

        def refuse(route: Route) -> None:
            if route.request.url.startswith(("file:", "data:")):
                route.continue_()
            else:
                report.refused.append(route.request.url)
                route.abort("internetdisconnected")

        context.route("**/*", refuse)
    if page_headers:

        def with_headers(route: Route) -> None:
            route.continue_(headers=route.request.headers | page_headers)

        context.route(url, with_headers)
    if post_json is not None:
        body = json.dumps(post_json)

        def post(route: Route) -> None:
            headers = route.request.all_headers() | {"content-type": "application/json"}
            route.continue_(method="POST", post_data=body, headers=headers)

        context.route(url, post)
    try:
        page.goto(url, wait_until="load")
        try:
            page.wait_for_function(
                "document.documentElement.dataset.sgReady === '1'", timeout=30_000
            )
        except Exception as exc:
            raise AssertionError(f"the map at {url} never became ready: {report}") from exc
        yield page, report
    finally:
        context.close()


def drawn(page: Page, keys: list[str]) -> dict[str, int]:
    return page.evaluate(DRAWN, keys)


def zoom(page: Page, level: float) -> float:
    """Zoom the map to `level` (clamped to the map's range), once painted; the zoom reached."""
    return float(page.evaluate(ZOOM, level)[0])


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def saved_map(url: str, key: str, path: Path, timeout: float = 60) -> Path:
    """The map at `url` downloaded with the API key, as a user saves it, into `path`."""
    response = httpx.get(url, headers={"X-API-Key": key}, timeout=timeout)
    assert response.status_code == 200, response.text[:500]
    path.write_bytes(response.content)
    return path
