"""The choropleth, the place labels and the map language in a real browser (Debian's Chromium) at
desktop and phone size, over the national demo (tests/test_maps_browser fixtures): each district
filled with the class of its figure (checked against shapely + pyproj) or hatched, the hazard
areas above it, village labels clear of every hazard area, Russian names with lang=ru, and the
offline file with the network refused."""

from __future__ import annotations

import re

import pytest
import shapely
import sqlalchemy as sa
from pyproj import Geod

from gis.maps import choropleth, nearby
from gis.spec import geography
from layers import REGISTRY
from tests.browser.boxes import boxes, intersects
from tests.browser.chromium import another, open_map, saved_map, screenshot
from tests.test_maps_browser import NO_NETWORK, Demo, assert_clean, base_url, browser, demo
from tests.test_maps_pages import _configs

__all__ = ["base_url", "browser", "demo"]  # the module-scoped fixtures, shared
PHONE, DESKTOP = (390, 844), (1280, 800)
GEOD = Geod(ellps="WGS84")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")

DISTRICTS = """() => {
  const out = {};
  window.safeground.map.eachLayer((l) => {
    if (l.feature && l._path && l._path.classList.contains("sg-p-districts")) {
      out[l.feature.id] = l._path.getAttribute("fill");
    }
  });
  return out;
}"""

LABELS = """() => [...document.querySelectorAll(".leaflet-tooltip.sg-label")].map((el) => {
  const r = el.getBoundingClientRect();
  return { text: el.textContent, place: el.classList.contains("sg-label-place"),
           hazard: el.classList.contains("sg-label-hazard_areas"),
           shown: getComputedStyle(el).display !== "none",
           box: [r.left, r.top, r.right, r.bottom] };
})"""


def _hazard_km2(demo: Demo) -> dict[int, float]:
    """Per district, the active hazard area inside it (km²) by shapely and pyproj's geodesic area."""
    with demo.engine.connect() as conn:
        hazards = [
            shapely.from_wkb(bytes(w))
            for (w,) in conn.execute(
                sa.text(
                    "SELECT ST_AsBinary(geom) FROM hazard_areas WHERE deleted_at IS NULL "
                    "AND status IN ('suspected', 'confirmed')"
                )
            )
        ]
        districts = {
            int(i): shapely.from_wkb(bytes(w))
            for i, w in conn.execute(
                sa.text("SELECT id, ST_AsBinary(geom) FROM districts WHERE deleted_at IS NULL")
            )
        }
    tree = shapely.STRtree(hazards)
    out = {}
    for i, district in districts.items():
        parts = [district.intersection(hazards[j]) for j in tree.query(district, "intersects")]
        out[i] = abs(GEOD.geometry_area_perimeter(shapely.union_all(parts))[0]) / 1e6
    return out


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_choropleth_fills_each_district_by_its_figure_under_the_hazards(
    demo, base_url, browser, viewport
) -> None:
    expected = _hazard_km2(demo)
    assert any(v > 0 for v in expected.values()) and any(v == 0 for v in expected.values())
    url = f"{base_url}/maps/overview?shade=hazard_km2"
    with open_map(browser, url, headers={"X-API-Key": demo.key}, viewport=viewport) as (
        page,
        report,
    ):
        assert_clean(report)
        fills = page.evaluate(DISTRICTS)
        config = _configs(page.content())["districts"]["shade"]
        assert set(map(int, fills)) == set(expected)
        for district, km2 in expected.items():
            text, index, figure = config["values"][str(district)]
            if km2 == 0:  # no active hazard on record: hatched, never a colour of its own
                assert fills[str(district)] == "url(#sg-hatch)", district
                assert index is None and "NOT safe" in text
            else:
                assert figure == pytest.approx(km2, rel=1e-5, abs=1e-6), district
                assert fills[str(district)] == config["colours"][index]
                assert fills[str(district)] in choropleth.PALETTE
        # classes follow the figures: a bigger figure is never in a lighter class
        ranked = sorted((v[2], v[1]) for v in config["values"].values() if v[1] is not None)
        assert [c for _, c in ranked] == sorted(c for _, c in ranked)
        # the hazard areas are drawn above the shaded districts: the served overview draws them
        # from their tiles (t11), in the hazard pane, stacked above the district fills' pane
        page.wait_for_load_state("networkidle")
        drawn, hazard_z, district_z = page.evaluate(
            """() => { const pane = (el) => el.closest(".leaflet-pane:not(.leaflet-map-pane)");
                 const hz = document.querySelector(".sg-tiled-hazard_areas");
                 const d = document.querySelector("path.sg-p-districts");
                 return [hz ? SG.tiledBoxes("hazard_areas").length : 0,
                         +getComputedStyle(pane(hz)).zIndex, +getComputedStyle(pane(d)).zIndex]; }"""
        )
        assert drawn > 0 and hazard_z > district_z
        assert page.locator(".sg-tile-failed").count() == 0
        page.evaluate("() => window.safeground.map.setZoom(7, { animate: false })")
        if viewport == DESKTOP:
            legend = page.locator("#sg-legend-more").inner_text()
            assert "Active hazard area (km²)" in legend and "No data — NOT safe" in legend
            assert "whatever the date they were recorded" in legend
        # a district's popup gives its figure and what the figure means
        popup = page.evaluate(
            """(id) => { let out = null; window.safeground.map.eachLayer((l) => {
                 if (l.feature && l.feature.id == id && l._path
                     && l._path.classList.contains("sg-p-districts")) {
                   l.openPopup(); out = document.querySelector(".leaflet-popup-content").innerText; }
               }); return out; }""",
            max(expected, key=lambda k: expected[k]),
        )
        assert "km²" in popup and "Definition" in popup and "geodesic" in popup
        screenshot(page, f"overview-shaded-{'phone' if viewport == PHONE else 'desktop'}")


def test_offline_shaded_file_renders_with_the_network_refused(
    demo, base_url, browser, tmp_path
) -> None:
    url = f"{base_url}/maps/overview?offline=true&shade=coverage&lang=ru"
    offline = saved_map(url, demo.key, tmp_path / "shaded.html", timeout=120)
    with (
        another(browser, NO_NETWORK) as isolated,
        open_map(isolated, offline.as_uri(), offline=True) as (page, report),
    ):
        assert_clean(report)
        fills = page.evaluate(DISTRICTS)
        assert fills and set(fills.values()) <= {*choropleth.PALETTE, "url(#sg-hatch)"}
        assert "url(#sg-hatch)" in fills.values()  # districts with no village at risk
        assert [u for u in report.requests if not u.startswith(("file:", "data:"))] == []


def _places_within(demo: Demo) -> dict[int, tuple[str | None, str | None, str]]:
    villages = REGISTRY["villages"].table
    centre = (
        sa.select(geography(villages.c.geom)).where(villages.c.id == demo.village).scalar_subquery()
    )
    with demo.engine.connect() as conn:
        rows = conn.execute(
            sa.select(villages.c.id, villages.c.name_ru, villages.c.name_az, villages.c.name).where(
                villages.c.deleted_at.is_(None),
                sa.func.ST_DWithin(geography(villages.c.geom), centre, nearby.DEFAULT_RADIUS_M),
            )
        ).all()
    return {int(r[0]): (r[1], r[2], r[3]) for r in rows}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("lang", ["az", "ru"])
def test_visit_labels_name_places_clear_of_every_hazard_area(
    demo, base_url, browser, viewport, lang
) -> None:
    places = _places_within(demo)
    assert places
    url = f"{base_url}/maps/visit?village={demo.village}&lang={lang}"
    with open_map(browser, url, headers={"X-API-Key": demo.key}, viewport=viewport) as (
        page,
        report,
    ):
        assert_clean(report)
        labels = page.evaluate(LABELS)
        hazards = boxes(page)["hazards"]
        assert hazards, "the visit needs hazard areas within reach"
        names = [label for label in labels if label["place"]]
        # one label per place within reach, in the map's language (Azerbaijani by default)
        chosen = [
            (ru if lang == "ru" and ru else None) or az or name for ru, az, name in places.values()
        ]
        assert sorted(label["text"] for label in names) == sorted(chosen)
        shown = [label for label in names if label["shown"]]
        assert shown, "some names are shown"
        for label in shown:
            for hazard in hazards:
                assert not intersects(label["box"], hazard["box"]), (label, hazard)
        placed = [label for label in labels if label["shown"]]
        for i, a in enumerate(placed):
            for b in placed[i + 1 :]:
                assert not intersects(a["box"], b["box"]), (a, b)
        if lang == "ru" and any(ru for ru, _, _ in places.values()):
            assert any(CYRILLIC.search(label["text"]) for label in names)
        # hazard areas say their status and their distance
        statuses = ("confirmed", "suspected", "reduced", "cleared", "cancelled")
        assert any(label["hazard"] for label in labels)
        for label in (label for label in labels if label["hazard"]):
            assert re.fullmatch(rf"({'|'.join(statuses)}) · [\d.,]+ k?m", label["text"]), label
        screenshot(page, f"visit-labels-{lang}-{'phone' if viewport == PHONE else 'desktop'}")
