"""Map timings for `make bench`: how long each map takes to build, how big its page is, and how
long headless Chromium takes to open it until the map is drawn (map.js marks that moment).

Targets (issues 5 and 11): the national overview builds in under 2 s and, served (its big layers
from vector tiles), is ready in Chromium in under 2 s, also on the large demo; a visit map builds in
under 500 ms and is ready at phone size (390 x 844) in under 1 s; zooming the offline national
overview one step takes well under a second (target 500 ms at p95). "Ready" is map.js's mark: the
map framed, every inline layer and label in the page and that frame painted; each row also counts
the hazard areas drawn then, which must equal the features the map was built with. Chromium is
Debian's, driven by Playwright (a test extra), never downloaded.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import sqlalchemy as sa

from bench.browser import ZOOM, chromium
from gis.access import ANONYMOUS, principal_for
from gis.maps import builders, folium_map
from gis.maps.assets import MapAssets, MapSettings
from gis.spec import Role
from layers import REGISTRY

REPEAT = 3
# The offline overview zoomed one step at a time from its opening zoom to this one and back out.
ZOOM_IN_TO = 13
TARGET_ZOOM_STEP_MS = 500.0
HAZARDS = "hazard_areas"
# Hazard areas drawn inline: SVG paths, or the shapes of a canvas renderer (a big inline layer is
# drawn on a canvas); tiled ones are in .sg-tiled.
HAZARDS_DRAWN = (
    f"document.querySelectorAll('path.sg-p-{HAZARDS}').length + (() => {{ let n = 0; "
    "const m = window.safeground && window.safeground.map; if (m) m.eachLayer((l) => { "
    "if (l instanceof L.Canvas) for (const id in l._layers) "
    f"if ((l._layers[id].options.className || '').split(' ').includes('sg-p-{HAZARDS}')) n++; }}); "
    "return n; })()"
)


@dataclass(frozen=True)
class Case:
    name: str
    path: str  # under the app's base URL
    build: Callable[[sa.Connection, Role], builders.BuiltMap]
    target_build_ms: float | None
    target_ready_ms: float | None
    viewport: tuple[int, int] = (1280, 800)
    # how the served page is built (big layers from tiles); the offline file is built untiled
    served: Callable[[sa.Connection, Role], builders.BuiltMap] | None = None


def cases(village: int | None) -> list[Case]:
    overview = Case(
        "map: overview (national)",
        "/maps/overview",
        lambda conn, role: builders.overview(conn, REGISTRY, role),
        2000,
        2000,
        served=lambda conn, role: builders.overview(conn, REGISTRY, role, tiled=True),
    )
    district = Case(
        "map: overview (Aghdam, since 2024-01-01)",
        "/maps/overview?district=Aghdam&since=2024-01-01",
        lambda conn, role: builders.overview(
            conn, REGISTRY, role, district="Aghdam", since=_since()
        ),
        None,
        None,
    )
    found = [overview, district]
    if village is not None:
        found.append(
            Case(
                "map: visit (a village of Aghdam, 5 km)",
                f"/maps/visit?{urlencode({'village': village})}",
                lambda conn, role: builders.visit(conn, REGISTRY, role, village=str(village)),
                500,
                1000,
                viewport=(390, 844),
            )
        )
    return found


def run(engine_url: str, base_url: str, headers: dict[str, str]) -> list[dict[str, object]]:
    """One row per map: build time (median of REPEAT, query + Folium + HTML), page sizes (linked
    and offline), and the time until Chromium shows the served page ready (median of REPEAT)."""
    engine = sa.create_engine(engine_url)
    try:
        with engine.connect() as conn:
            key = headers.get("X-API-Key") or headers.get("x-api-key")
            role = principal_for(conn, key).role if key else ANONYMOUS.role
            village = conn.scalar(
                sa.text(
                    "SELECT id FROM villages WHERE district_name = 'Aghdam' AND deleted_at IS NULL "
                    "ORDER BY population DESC NULLS LAST, id LIMIT 1"
                )
            )
        settings = MapSettings()
        rows = []
        for case in cases(village):
            build_ms, html, counts = _build(
                engine, case.served or case.build, role, MapAssets.from_settings(settings)
            )
            with engine.connect() as conn:
                offline = folium_map.render(
                    case.build(conn, role).map, MapAssets.from_settings(settings, inline=True)
                )
            rows.append(
                {
                    "name": case.name,
                    "role": role.name,
                    "features": counts,
                    "build_ms": round(build_ms, 1),
                    "html_bytes": len(html.encode()),
                    "offline_html_bytes": len(offline.encode()),
                    "target_build_ms": case.target_build_ms,
                    "target_ready_ms": case.target_ready_ms,
                    "viewport": f"{case.viewport[0]}x{case.viewport[1]}",
                }
            )
        timings = _browser_ready_ms(
            base_url, headers, [(c.path, c.viewport) for c in cases(village)]
        )
        for row, (ready, render, hazards, tiles, by_layer) in zip(rows, timings, strict=True):
            row["browser_ready_ms"], row["browser_render_ms"] = ready, render
            row["hazards_drawn_at_ready"] = hazards
            row["browser_tiles_drawn_ms"] = tiles
            row["browser_tiles_drawn_ms_by_layer"] = by_layer or None
        with engine.connect() as conn:
            national = builders.overview(conn, REGISTRY, role)
        offline = folium_map.render(national.map, MapAssets.from_settings(settings, inline=True))
        rows.append(_zoom_steps(offline, national.counts))
        return rows
    finally:
        engine.dispose()


def _since() -> dt.date:
    return dt.date(2024, 1, 1)


def _build(
    engine: sa.Engine,
    build: Callable[[sa.Connection, Role], builders.BuiltMap],
    role: Role,
    assets: MapAssets,
) -> tuple[float, str, dict[str, int]]:
    times, html, counts = [], "", {}
    for _ in range(REPEAT):
        started = time.perf_counter()
        with engine.connect() as conn:
            page = build(conn, role)
        html = folium_map.render(page.map, assets)
        times.append((time.perf_counter() - started) * 1000)
        counts = page.counts
    return statistics.median(times), html, counts


def _browser_ready_ms(
    base_url: str, headers: dict[str, str], paths: list[tuple[str, tuple[int, int]]]
) -> list[tuple[float, float, int, float | None, dict[str, float]]]:
    """Per page, medians of REPEAT fresh loads: from navigation start to map.js's ready mark
    (which includes the server building the page), and from the end of the response to it (the
    browser's own work); the hazard areas drawn inline at that mark; and from navigation start
    until the tiles of every layer shown at the opening view are drawn (hazard areas included;
    None for a page with no tiled layer), and that per tiled layer."""
    results: list[tuple[float, float, int, float | None, dict[str, float]]] = []
    with chromium() as browser:  # one browser for every page and repeat
        for path, (width, height) in paths:
            ready, render, drawn, tiles = [], [], 0, []
            by_layer: dict[str, list[float]] = {}
            for _ in range(REPEAT):
                context = browser.new_context(viewport={"width": width, "height": height})
                url = base_url.rstrip("/") + path
                # The key goes with the page's request only, as a client sends it: the page's tile
                # requests read with its session cookie (api/map_session.py).
                context.route(url, lambda r: r.continue_(headers=r.request.headers | headers))
                page = context.new_page()
                page.goto(url, wait_until="load", timeout=120_000)
                page.wait_for_function(
                    "document.documentElement.dataset.sgReady === '1'", timeout=120_000
                )
                if page.evaluate("document.querySelector('.sg-tiled') !== null"):
                    page.wait_for_function("window.safeground.tilesMs > 0", timeout=120_000)
                timing = page.evaluate(
                    "[window.safeground.readyMs, "
                    f"performance.getEntriesByType('navigation')[0].responseEnd, {HAZARDS_DRAWN}, "
                    "window.safeground.tilesMs || null, window.safeground.tilesMsBy || {}]"
                )
                ready.append(float(timing[0]))
                render.append(float(timing[0]) - float(timing[1]))
                drawn = int(timing[2])
                if timing[3] is not None:
                    tiles.append(float(timing[3]))
                for key, ms in timing[4].items():
                    by_layer.setdefault(key, []).append(float(ms))
                context.close()
            results.append(
                (
                    round(statistics.median(ready), 1),
                    round(statistics.median(render), 1),
                    drawn,
                    round(statistics.median(tiles), 1) if tiles else None,
                    {k: round(statistics.median(v), 1) for k, v in by_layer.items()},
                )
            )
    return results


def _zoom_steps(html: str, counts: dict[str, int]) -> dict[str, object]:
    """The offline national overview (one file, no network) zoomed one step at a time, without
    animation, from its opening zoom in to ZOOM_IN_TO and back out: p50 and p95 of the time from
    setZoom until the redrawn frame is painted (villages appear on the way in)."""
    steps: list[float] = []
    with tempfile.TemporaryDirectory() as folder, chromium() as browser:
        path = f"{folder}/overview-offline.html"
        with open(path, "w", encoding="utf-8") as out:
            out.write(html)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith(("file:", "data:"))
                else route.abort("internetdisconnected")
            ),
        )
        page = context.new_page()
        page.goto(f"file://{path}", wait_until="load", timeout=300_000)
        page.wait_for_function("document.documentElement.dataset.sgReady === '1'", timeout=300_000)
        opening = float(page.evaluate("window.safeground.map.getZoom()"))
        drawn = int(page.evaluate(HAZARDS_DRAWN))
        first = math.floor(opening) + 1
        levels = [*range(first, ZOOM_IN_TO + 1), *range(ZOOM_IN_TO - 1, first - 2, -1)]
        for level in levels:
            _, ms = page.evaluate(ZOOM, level)
            steps.append(float(ms))
        context.close()
    ordered = sorted(steps)
    return {
        "name": f"map: offline national overview, zoom {opening:g} to {ZOOM_IN_TO} and back",
        "features": counts,
        "offline_html_bytes": len(html.encode()),
        "viewport": "1280x800",
        "hazards_drawn_at_ready": drawn,
        "zoom_steps": len(steps),
        "zoom_step_p50_ms": round(statistics.median(steps), 1),
        "zoom_step_p95_ms": round(ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)], 1),
        "target_zoom_step_ms": TARGET_ZOOM_STEP_MS,
    }
