"""Maps in a real browser (Debian's Chromium, headless): the app served on a loopback port over a
throw-away database holding the national demo, plus records whose names are markup.

Each map must load without a JavaScript error, draw exactly the features SQL counts, keep names
inert, and — offline — render with every network request refused. Screenshots go to
artifacts/screenshots/ (git-ignored); no test writes into docs/ (`make screenshots` does).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from api.app import create_app
from gis.access import create_key
from gis.maps.builders import TILE_ABOVE
from gis.maps.folium_map import CANVAS_ABOVE
from gis.notices import NOT_SAFE
from gis.settings import ApiSettings
from gis.spec import Role, geography
from layers import REGISTRY
from tests.browser.chromium import another, chromium, drawn, open_map, saved_map, screenshot, zoom
from tests.browser.records import XSS, insert, point, square
from tests.conftest import DemoTemplate, settings_for
from tests.serving import serving

# Proxy everything (loopback included) to a port where nothing listens: no request can leave.
NO_NETWORK = ["--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]
SINCE = dt.date(2024, 1, 1)


@dataclass(frozen=True)
class Demo:
    engine: sa.Engine
    key: str
    xss_facility: int
    xss_village: int
    xss_district: str
    village: int  # a village of Aghdam, for the visit map


@pytest.fixture(scope="module")
def demo(demo_copy: sa.URL) -> Iterator[Demo]:
    engine = sa.create_engine(demo_copy)
    try:
        with engine.begin() as conn:
            facility = insert(
                conn, "facilities", point(46.95, 39.95), facility_type="school", name=XSS
            )
            village = insert(
                conn, "villages", point(46.96, 39.96), name=XSS, district_name="Aghdam"
            )
            insert(conn, "districts", square(50.7, 38.6, 0.05), name=XSS, code="XSS.1")
            aghdam = conn.scalar(
                sa.text(
                    "SELECT id FROM villages WHERE district_name = 'Aghdam' AND name <> :x "
                    "ORDER BY population DESC NULLS LAST, id LIMIT 1"
                ),
                {"x": XSS},
            )
            key = create_key(conn, "browser tests", Role.partner)
        yield Demo(engine, key, facility, village, "XSS.1", int(aghdam))
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def base_url(demo: Demo, demo_template: DemoTemplate) -> Iterator[str]:
    settings = settings_for(demo.engine.url, demo_template.raster_dir)
    # no key cache: a revoked key's map session fails at its next tile, not seconds later
    settings = settings.model_copy(update={"api": ApiSettings(key_cache_seconds=0)})
    with serving(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def sql_counts(
    engine: sa.Engine, where: dict[str, list[sa.ColumnElement]] | None = None
) -> dict[str, int]:
    """Live features per layer a partner may read, counted directly (not by the map code)."""
    counts = {}
    with engine.connect() as conn:
        for spec in REGISTRY.readable(Role.partner):
            t = spec.table
            extra = (where or {}).get(spec.name, [])
            counts[spec.name] = conn.scalar(
                sa.select(sa.func.count()).select_from(t).where(t.c.deleted_at.is_(None), *extra)
            )
    return counts


# The feature ids a canvas renderer draws for a layer (its _layers: what it paints each frame).
CANVAS_IDS = """
(key) => {
  const ids = [];
  window.safeground.map.eachLayer((l) => {
    if (!(l instanceof L.Canvas)) return;
    for (const id in l._layers) {
      const shape = l._layers[id];
      if ((shape.options.className || "").split(" ").includes(`sg-p-${key}`)) ids.push(shape.feature.id);
    }
  });
  return ids;
}
"""


def assert_clean(report) -> None:
    assert report.errors == [], report.errors
    assert report.dialogs == [] and report.refused == []


# The shapes each tiled layer draws at this zoom (its tiles are canvases: tiles.js keeps them).
TILED = """() => Object.fromEntries([...document.querySelectorAll('.sg-tiled')].map((el) => {
  const key = [...el.classList].find((c) => c.startsWith('sg-tiled-')).slice(9);
  return [key, SG.tiledBoxes(key).length]; }))"""
# Of a tiled layer's shapes a few pixels across, how many are painted, and how many not: a pixel
# of the tile canvas under the shape's centre (or next to it) is not transparent.
PAINTED = """(key) => {
  const canvases = [...document.querySelectorAll('.sg-tiled-' + key + ' canvas')];
  let painted = 0, blank = 0;
  for (const b of SG.tiledBoxes(key)) {
    if (b.right - b.left > 12 || b.bottom - b.top > 12) continue;
    const x = (b.left + b.right) / 2, y = (b.top + b.bottom) / 2;
    const c = canvases.find((el) => { const r = el.getBoundingClientRect();
      return x >= r.left + 2 && x < r.right - 2 && y >= r.top + 2 && y < r.bottom - 2; });
    if (!c) continue;
    const r = c.getBoundingClientRect(), k = c.width / r.width;
    const px = c.getContext('2d').getImageData(Math.round((x - r.left) * k) - 1,
                                               Math.round((y - r.top) * k) - 1, 3, 3).data;
    let on = false;
    for (let i = 3; i < px.length; i += 4) on = on || px[i] > 0;
    if (on) painted++; else blank++;
  }
  return [painted, blank];
}"""
WARNING = ".sg-tile-failed-hazard"


def live_ids(engine: sa.Engine, layer: str) -> list[int]:
    t = REGISTRY[layer].table
    with engine.connect() as conn:
        return sorted(conn.scalars(sa.select(t.c.id).where(t.c.deleted_at.is_(None))))


def tiled_ids(page, key: str) -> list[int]:
    return sorted(page.evaluate("(key) => SG.tiledIds(key)", key))


def test_overview_draws_every_feature_a_partner_may_see(demo, base_url, browser) -> None:
    """Small layers inline, every feature drawn; big ones — the partner's hazard areas too — from
    their vector tiles (whose contents tests/test_tiles.py checks), read with the page's session
    cookie: the key goes with the page's request only, as a client sends it; villages only
    zoomed in."""
    expected = sql_counts(demo.engine)
    with open_map(browser, f"{base_url}/maps/overview", page_headers={"X-API-Key": demo.key}) as (
        page,
        report,
    ):
        page.wait_for_load_state("networkidle")
        assert_clean(report)
        tiled = {k for k, n in expected.items() if n > TILE_ABOVE}
        assert {"hazard_areas", "outreach_sessions", "villages"} <= tiled
        inline = {k: n for k, n in expected.items() if k not in tiled}
        assert drawn(page, list(inline)) == inline
        for key in tiled:  # the legend still counts them all
            assert f"({expected[key]:,})" in page.locator("#sg-legend").inner_text()
        requested = {
            u.split("/collections/")[1].split("/")[0] for u in report.requests if "/tiles/" in u
        }
        assert requested == tiled - {"villages"}  # villages: off at national zoom
        # the hazard areas' tiles first: every other layer's are asked for once they are drawn
        order = [
            u.split("/collections/")[1].split("/")[0] for u in report.requests if "/tiles/" in u
        ]
        first_other = next(i for i, k in enumerate(order) if k != "hazard_areas")
        assert first_other > 0 and "hazard_areas" not in order[first_other:], order
        # every hazard area on record, drawn from tiles at national zoom, none dropped
        assert tiled_ids(page, "hazard_areas") == live_ids(demo.engine, "hazard_areas")
        shapes = page.evaluate(TILED)
        assert shapes["hazard_areas"] >= len(live_ids(demo.engine, "hazard_areas"))
        assert shapes["outreach_sessions"] > 0
        # the small hazard areas (a few pixels across at this zoom) are each painted
        painted, blank = page.evaluate(PAINTED, "hazard_areas")
        assert painted > 0 and blank == 0, (painted, blank)
        assert page.locator(WARNING).count() == 0
        # the hazard tiles sit in their own pane, above every marker and cluster
        assert page.locator(".leaflet-sgHazards-pane .sg-tiled-hazard_areas").count() > 0
        cookie = next(c for c in page.context.cookies() if c["name"] == "sg_map_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert cookie["path"] == "/collections"
        assert cookie["value"] not in page.content()
        assert "sg_map_session" not in page.evaluate("document.cookie")
        assert demo.key not in page.content()
        screenshot(page, "overview")
        assert zoom(page, 10) == 10
        # the page went network-idle long ago: wait for the villages' tiles themselves
        page.wait_for_function(f"({TILED})().villages > 0", timeout=30_000)
        assert any("/collections/villages/tiles/" in u for u in report.requests)
        assert (
            page.locator("#sg-notice").is_visible()
            and page.locator("#sg-notice .sg-synthetic").is_visible()
        )
        assert NOT_SAFE in page.locator("#sg-notice").inner_text()


def test_anonymous_overview_has_no_hazard_tiles_and_says_so(demo, base_url, browser) -> None:
    with open_map(browser, f"{base_url}/maps/overview") as (page, report):
        page.wait_for_load_state("networkidle")
        assert_clean(report)
        assert not any("/collections/hazard_areas/" in u for u in report.requests)
        assert tiled_ids(page, "hazard_areas") == [] and drawn(page, ["hazard_areas"]) == {
            "hazard_areas": 0
        }
        assert "Hazard areas are NOT shown" in page.locator("#sg-notice").inner_text()
        assert not any(c["name"] == "sg_map_session" for c in page.context.cookies())


def zoom_in(page) -> None:
    """Zoom in on the map's centre, so new tiles are fetched."""
    page.evaluate(
        "window.safeground.map.setZoom(window.safeground.map.getZoom() + 2, {animate: false})"
    )
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("failure", ["refused", "expired", "revoked", "unreachable"])
def test_a_hazard_tile_that_fails_to_load_shows_a_warning(demo, base_url, browser, failure) -> None:
    """Blank must never pass for safe: whatever makes a hazard tile fail — the server refusing
    it, the session cookie gone (expired), its key revoked, the network — the map warns."""
    with demo.engine.begin() as conn:
        key = create_key(conn, f"browser {failure}", Role.partner)
    with open_map(browser, f"{base_url}/maps/overview", page_headers={"X-API-Key": key}) as (
        page,
        report,
    ):
        page.wait_for_load_state("networkidle")
        assert_clean(report)
        assert page.locator(WARNING).count() == 0
        context = page.context
        if failure == "refused":
            context.route(
                "**/collections/hazard_areas/tiles/**", lambda r: r.fulfill(status=500, body="x")
            )
        elif failure == "expired":  # the browser drops the cookie at its Max-Age
            context.clear_cookies()
        elif failure == "revoked":
            with demo.engine.begin() as conn:
                conn.execute(
                    sa.text("UPDATE api_keys SET revoked_at = now() WHERE name = :n"),
                    {"n": f"browser {failure}"},
                )
        else:
            context.route("**/collections/hazard_areas/tiles/**", lambda r: r.abort("failed"))
        zoom_in(page)
        warning = page.locator(WARNING)
        warning.wait_for(state="visible", timeout=20_000)
        assert "hazard layer could not be loaded" in warning.inner_text()
        assert "reload" in warning.inner_text()
        page.wait_for_timeout(1_000)
        assert warning.is_visible()  # it stays
        screenshot(page, f"overview-hazard-tiles-{failure}")


def test_district_overview_draws_the_district_and_recent_activities(
    demo, base_url, browser
) -> None:
    districts = REGISTRY["districts"].table
    aghdam = sa.select(districts.c.geom).where(districts.c.name == "Aghdam").scalar_subquery()
    where = {}
    for spec in REGISTRY.readable(Role.partner):
        where[spec.name] = [sa.func.ST_Intersects(spec.table.c.geom, aghdam)]
        if spec.temporal_field and spec.name != "hazard_areas":
            where[spec.name].append(spec.table.c[spec.temporal_field] >= SINCE)
    expected = sql_counts(demo.engine, where)
    url = f"{base_url}/maps/overview?district=aghdam&since={SINCE}"
    with open_map(browser, url, headers={"X-API-Key": demo.key}) as (page, report):
        assert_clean(report)
        assert drawn(page, list(expected)) == expected
        assert page.locator("#sg-title h1").inner_text() == "SafeGround overview: Aghdam"
        screenshot(page, "overview-aghdam")


def test_visit_map_draws_what_lies_within_reach_and_prints(demo, base_url, browser) -> None:
    villages = REGISTRY["villages"].table
    centre = (
        sa.select(geography(villages.c.geom)).where(villages.c.id == demo.village).scalar_subquery()
    )
    where = {
        name: [sa.func.ST_DWithin(geography(REGISTRY[name].table.c.geom), centre, 5000)]
        for name in ("districts", "hazard_areas", "villages", "facilities", "outreach_sessions")
    }
    expected = {k: v for k, v in sql_counts(demo.engine, where).items() if k in where}
    expected["outreach_sessions_last"] = min(1, expected["outreach_sessions"])
    url = f"{base_url}/maps/visit?village={demo.village}&radius_m=5000"
    with open_map(browser, url, headers={"X-API-Key": demo.key}) as (page, report):
        assert_clean(report)
        assert drawn(page, list(expected)) == expected
        assert page.locator(".leaflet-control-measure").count() == 1
        assert page.locator(".leaflet-control-scale").count() == 1
        title = page.locator("#sg-title").inner_text()
        assert "Visit:" in title and "reach 5.0 km" in title and "° N" in title
        screenshot(page, "visit")
        page.emulate_media(media="print")
        assert (
            page.locator(".leaflet-control-layers").evaluate("e => getComputedStyle(e).display")
            == "none"
        )
        # on paper the panels leave the map; the notice is printed below it
        assert page.locator("#sg-print .sg-warning").first.is_visible()
        assert NOT_SAFE in page.locator("#sg-print").inner_text()
        screenshot(page, "visit-print")


def test_offline_file_renders_everything_with_the_network_refused(
    demo, base_url, browser, tmp_path
) -> None:
    url = f"{base_url}/maps/overview?offline=true"
    offline = saved_map(url, demo.key, tmp_path / "safeground-overview.html")
    expected = sql_counts(demo.engine)
    with (
        another(browser, NO_NETWORK) as isolated,
        open_map(isolated, offline.as_uri(), offline=True) as (
            page,
            report,
        ),
    ):
        assert_clean(report)
        villages = expected.pop("villages")  # off at national zoom, on from a regional one
        assert drawn(page, [*expected, "villages"]) == expected | {"villages": 0}
        # every hazard area on record is drawn, each once: the ids the canvas renderer draws (the
        # layer is too big for SVG paths) are exactly the live ones, and shapes come with the file
        assert expected["hazard_areas"] > CANVAS_ABOVE
        assert sorted(page.evaluate(CANVAS_IDS, "hazard_areas")) == live_ids(
            demo.engine, "hazard_areas"
        )
        assert page.locator("path.sg-p-hazard_areas").count() == 0
        notice = page.locator("#sg-title").text_content() or ""
        assert "simplified for display at this scale" in notice
        screenshot(page, "overview-offline")
        assert zoom(page, 0) < 9  # zoomed out as far as the map goes: villages off
        assert drawn(page, ["villages"]) == {"villages": 0}
        assert zoom(page, 9) == 9
        assert 0 < drawn(page, ["villages"])["villages"] <= villages
        assert [u for u in report.requests if not u.startswith(("file:", "data:"))] == []


def test_names_that_are_markup_stay_text_everywhere(demo, base_url, browser) -> None:
    with open_map(browser, f"{base_url}/maps/overview") as (
        page,
        report,
    ):  # anonymous: public layers
        opened = page.evaluate(
            """(id) => {
                let found = null;
                window.safeground.map.eachLayer(l => {
                    if (l.feature && l.feature.id === id) found = l;
                });
                if (!found) return null;
                found.openPopup();
                found.openTooltip();
                return [document.querySelector('.leaflet-popup-content').textContent,
                        document.querySelector('.leaflet-tooltip').textContent];
            }""",
            demo.xss_facility,
        )
        assert opened is not None, "the XSS facility is not on the map"
        popup, tooltip = opened
        assert XSS in popup and tooltip == XSS
        page.wait_for_timeout(200)  # an onerror would have fired by now
        assert page.evaluate("window.__alerts") == [] and page.locator('img[src="x"]').count() == 0
        assert_clean(report)
    for url, title in (
        (f"{base_url}/maps/overview?district={demo.xss_district}", f"SafeGround overview: {XSS}"),
        (f"{base_url}/maps/visit?village={demo.xss_village}", f"Visit: {XSS} (Aghdam)"),
    ):
        with open_map(browser, url) as (page, report):
            assert page.locator("#sg-title h1").inner_text() == title
            assert page.title() == title
            assert (
                page.evaluate("window.__alerts") == [] and page.locator('img[src="x"]').count() == 0
            )
            assert_clean(report)


def test_anonymous_visit_map_says_hazards_are_not_shown(demo, base_url, browser) -> None:
    with open_map(browser, f"{base_url}/maps/visit?village={demo.village}") as (page, report):
        assert_clean(report)
        notice = page.locator("#sg-notice").inner_text()
        assert "Hazard areas are NOT shown" in notice and NOT_SAFE in notice
        assert drawn(page, ["hazard_areas"]) == {"hazard_areas": 0}
