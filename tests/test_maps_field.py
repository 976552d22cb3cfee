"""Field maps in a real browser: on a phone (390 × 844), on paper (A4 PDF, rasterised) and offline
with the device's position — the national demo served on a loopback port (tests/test_maps_browser
fixtures)."""

from __future__ import annotations

import json
import re

import httpx
import pytest
import sqlalchemy as sa

from gis.notices import NOT_SAFE
from gis.spec import geography
from layers import REGISTRY
from tests.browser.boxes import boxes, inside, intersects, visible_points
from tests.browser.chromium import another, open_map, screenshot
from tests.browser.paper import MARGIN_PX, page_px, print_to_pdf
from tests.test_maps_browser import NO_NETWORK, Demo, assert_clean, base_url, browser, demo

__all__ = ["base_url", "browser", "demo"]  # the module-scoped fixtures, shared
PHONE = (390, 844)
DESKTOP = (1280, 800)
ACTIVE = ("suspected", "confirmed")


def hazards_within(demo: Demo, radius_m: float = 5000) -> dict[int, tuple[str, str]]:
    """The hazard areas within reach of the demo's village, by id: (status, name), from SQL."""
    hazards, villages = REGISTRY["hazard_areas"].table, REGISTRY["villages"].table
    centre = (
        sa.select(geography(villages.c.geom)).where(villages.c.id == demo.village).scalar_subquery()
    )
    with demo.engine.connect() as conn:
        rows = conn.execute(
            sa.select(hazards.c.id, hazards.c.status, hazards.c.name).where(
                hazards.c.deleted_at.is_(None),
                sa.func.ST_DWithin(geography(hazards.c.geom), centre, radius_m),
            )
        ).all()
    return {int(r.id): (r.status, r.name) for r in rows}


def assert_clear_of_panels(page, expected_hazards: set[int] | None) -> None:
    found = boxes(page)
    panels = found["panels"]
    assert found["aoi"] is not None and panels
    assert inside(found["aoi"], found["map"]), (found["aoi"], found["map"])
    for panel in panels:
        assert not intersects(panel["box"], found["aoi"]), (panel, found["aoi"])
    if expected_hazards is not None:
        assert {h["id"] for h in found["hazards"]} == expected_hazards
        assert expected_hazards, "the test needs hazards within reach"
    for hazard in found["hazards"] if expected_hazards is not None else []:
        assert inside(hazard["box"], found["map"]), hazard
        for panel in panels:
            assert not intersects(panel["box"], hazard["box"]), (panel, hazard)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_visit_map_opens_with_every_hazard_within_reach_clear_of_the_panels(
    demo, base_url, browser, viewport
) -> None:
    expected = hazards_within(demo)
    url = f"{base_url}/maps/visit?village={demo.village}&radius_m=5000"
    with open_map(browser, url, headers={"X-API-Key": demo.key}, viewport=viewport) as (
        page,
        report,
    ):
        assert_clean(report)
        assert_clear_of_panels(page, set(expected))
        notice = page.locator("#sg-notice .sg-warning").first
        assert notice.is_visible() and NOT_SAFE in notice.inner_text()
        size = "phone" if viewport == PHONE else "desktop"
        screenshot(page, f"visit-{size}")
        if viewport == PHONE:
            # the layer list and the legend are buttons; the notice one line that expands
            assert page.locator(".leaflet-control-layers-list").is_hidden()
            assert page.locator("#sg-legend-more").is_hidden()
            line = page.locator("#sg-notice .sg-bar").bounding_box()
            assert line is not None and line["height"] <= 48
            for button in page.locator(".sg-toggle, .sg-locate-button").all():
                box = button.bounding_box()
                assert box is not None and box["height"] >= 36 and box["width"] >= 44
            page.locator("#sg-legend .sg-sheet-button").click()
            assert page.locator("#sg-legend-more").is_visible()
            assert "Confirmed hazardous area" in page.locator("#sg-legend-more").inner_text()
            screenshot(page, "visit-phone-legend")
            page.locator("#sg-legend .sg-sheet-button").click()
            page.locator("#sg-notice .sg-toggle").click()
            assert page.locator("#sg-notice .sg-synthetic").is_visible()


@pytest.mark.parametrize(
    "path",
    ["/maps/overview?district=Aghdam", "/maps/overview", "/maps/coverage?district=Aghdam"],
    ids=["district", "national", "coverage"],
)
def test_phone_maps_open_on_their_area_of_interest_clear_of_the_panels(
    demo, base_url, browser, path
) -> None:
    with open_map(
        browser, f"{base_url}{path}", headers={"X-API-Key": demo.key}, viewport=PHONE
    ) as (page, report):
        assert_clean(report)
        assert_clear_of_panels(page, None)
        assert page.locator("#sg-notice .sg-warning").first.is_visible()
        name = re.sub(r"\W+", "-", path.strip("/")).strip("-")
        screenshot(page, f"{name}-phone")
    with open_map(browser, f"{base_url}{path}", headers={"X-API-Key": demo.key}) as (page, _):
        screenshot(page, f"{name}-desktop")


@pytest.mark.parametrize("landscape", [False, True], ids=["portrait", "landscape"])
def test_printed_visit_map_shows_every_hazard_within_reach_and_lists_them(
    demo, base_url, browser, tmp_path, landscape
) -> None:
    expected = hazards_within(demo)
    url = f"{base_url}/maps/visit?village={demo.village}&radius_m=5000"
    with open_map(browser, url, headers={"X-API-Key": demo.key}) as (page, report):
        page.emulate_media(media="print")
        page.wait_for_function("document.documentElement.dataset.sgPrintFit === '1'")
        found = boxes(page)
        assert [p["name"] for p in found["panels"]] == ["leaflet-control-scale leaflet-control"]
        assert {h["id"] for h in found["hazards"]} == set(expected)
        for hazard in found["hazards"]:
            assert inside(hazard["box"], found["map"]), hazard
        points = visible_points(page)
        rows = page.locator("#sg-facts-table tbody tr")
        listed = [int(r.get_attribute("data-sg-id") or 0) for r in rows.all()]
        assert sorted(listed) == sorted(expected)
        distances = [r.locator("td").nth(2).inner_text() for r in rows.all()]
        name = f"visit-{'landscape' if landscape else 'portrait'}.pdf"
        sheet = print_to_pdf(page, tmp_path / name, landscape=landscape)
        assert_clean(report)
    width, height = page_px(landscape)
    mx, my = found["map"][0], found["map"][1]
    assert found["map"][2] - mx + 2 * MARGIN_PX <= width + 1
    assert found["map"][3] - my + 2 * MARGIN_PX <= height + 1
    colours = REGISTRY["hazard_areas"].style.colors
    opacity = REGISTRY["hazard_areas"].style.fill_opacity
    for hazard_id, (status, _) in expected.items():
        spots = points[str(hazard_id)]
        assert spots, f"hazard {hazard_id} is covered wherever it is drawn"
        fill = [int(colours[status][i : i + 2], 16) for i in (1, 3, 5)]
        tinted = [round(c * opacity + 255 * (1 - opacity)) for c in fill]
        seen = []
        for x, y in spots:
            px = sheet.pixels[round(y - my + MARGIN_PX), round(x - mx + MARGIN_PX)].tolist()
            seen.append(px)
        # the area's own colour shows on paper where the screen says nothing covers it (an
        # overlapping area may tint some spots: one clean spot is enough)
        assert any(max(abs(a - b) for a, b in zip(px, tinted, strict=True)) <= 40 for px in seen), (
            hazard_id,
            status,
            tinted,
            seen[:5],
            spots[:5],
            found["map"],
        )
    assert "Hazard areas within reach" in sheet.text and NOT_SAFE.split(":")[0] in sheet.text
    for distance in distances:
        assert distance in sheet.text
    assert "Data extracted" in sheet.text and "Who's On First" in sheet.text


def test_printed_route_map_keeps_the_corridor_and_its_hazards_on_the_page(
    demo, base_url, browser, tmp_path
) -> None:
    hazards = REGISTRY["hazard_areas"].table
    with demo.engine.connect() as conn:
        x, y = conn.execute(
            sa.text("SELECT ST_X(geom), ST_Y(geom) FROM villages WHERE id = :id"),
            {"id": demo.village},
        ).one()
        route = {"type": "LineString", "coordinates": [[x - 0.05, y], [x + 0.05, y + 0.02]]}
        line = sa.func.geography(sa.func.ST_GeomFromGeoJSON(json.dumps(route)))
        expected = set(
            conn.scalars(
                sa.select(hazards.c.id).where(
                    hazards.c.deleted_at.is_(None),
                    sa.func.ST_DWithin(geography(hazards.c.geom), line, 1000),
                )
            )
        )
    assert expected
    url = f"{base_url}/maps/visit?buffer_m=1000"
    with open_map(
        browser, url, headers={"X-API-Key": demo.key}, post_json=route, viewport=PHONE
    ) as (page, report):
        assert_clean(report)
        assert_clear_of_panels(page, expected)
        screenshot(page, "route-phone")
        page.emulate_media(media="print")
        page.wait_for_function("document.documentElement.dataset.sgPrintFit === '1'")
        found = boxes(page)
        corridor = page.evaluate(
            """() => { let b = null; window.safeground.map.eachLayer(l => {
                 if (l.options && l.options.className === 'sg-corridor') b = l.getBounds(); });
               const m = window.safeground.map, c = m.getContainer().getBoundingClientRect();
               const a = m.latLngToContainerPoint(b.getNorthWest()),
                     z = m.latLngToContainerPoint(b.getSouthEast());
               return [c.left + a.x, c.top + a.y, c.left + z.x, c.top + z.y]; }"""
        )
        assert inside(corridor, found["map"])
        for hazard in found["hazards"]:
            assert inside(hazard["box"], found["map"]), hazard
        listed = page.locator("#sg-facts-table tbody tr[data-sg-id]").count()
        assert listed == len(expected)
        sheet = print_to_pdf(page, tmp_path / "route.pdf", landscape=False)
    assert "Hazard areas in the corridor" in sheet.text


def _positions(demo: Demo) -> dict[str, tuple[float, float]]:
    """Points inside, 40 m north of and 1.5 km north of the active hazard area nearest the
    demo village (north of its northernmost point, so that area stays the nearest one)."""
    with demo.engine.connect() as conn:
        row = conn.execute(
            sa.text(
                """
                WITH h AS (
                  SELECT h.id, h.geom FROM hazard_areas h, villages v
                  WHERE v.id = :id AND h.deleted_at IS NULL AND h.status IN ('suspected', 'confirmed')
                  ORDER BY h.geom <-> v.geom LIMIT 1),
                top AS (
                  SELECT (dp).geom AS p FROM (SELECT ST_DumpPoints(geom) AS dp FROM h) d
                  ORDER BY ST_Y((dp).geom) DESC LIMIT 1)
                SELECT ST_X(ST_PointOnSurface(h.geom)), ST_Y(ST_PointOnSurface(h.geom)),
                       ST_X(ST_Project(geography(top.p), 40, 0)::geometry),
                       ST_Y(ST_Project(geography(top.p), 40, 0)::geometry),
                       ST_X(ST_Project(geography(top.p), 1500, 0)::geometry),
                       ST_Y(ST_Project(geography(top.p), 1500, 0)::geometry)
                FROM h, top
                """
            ),
            {"id": demo.village},
        ).one()
    return {"inside": (row[0], row[1]), "near": (row[2], row[3]), "far": (row[4], row[5])}


def _server_nearest_active_m(base_url: str, key: str, lon: float, lat: float) -> float:
    answer = httpx.get(
        f"{base_url}/analysis/nearest",
        params={"layer": "hazard_areas", "lon": lon, "lat": lat, "k": 50},
        headers={"X-API-Key": key},
        timeout=60,
    ).json()
    active = [f["properties"]["distance_m"] for f in answer["features"]]
    active = [
        f["properties"]["distance_m"]
        for f in answer["features"]
        if f["properties"].get("status") in ACTIVE
    ] or active
    return min(active)


def test_where_am_i_warns_inside_near_and_with_poor_accuracy_offline(
    demo, base_url, browser, tmp_path
) -> None:
    spots = _positions(demo)
    response = httpx.get(
        f"{base_url}/maps/visit",
        params={"village": demo.village, "radius_m": 5000, "offline": "true"},
        headers={"X-API-Key": demo.key},
        timeout=60,
    )
    assert response.status_code == 200
    offline = tmp_path / "visit.html"
    offline.write_bytes(response.content)
    lon, lat = spots["far"]
    start = {"latitude": lat, "longitude": lon, "accuracy": 10}
    with (
        another(browser, NO_NETWORK) as isolated,
        open_map(isolated, offline.as_uri(), offline=True, viewport=PHONE, geolocation=start) as (
            page,
            report,
        ),
    ):
        page.locator(".sg-locate-button").click()
        banner = page.locator("#sg-locate")

        def at(where: str, accuracy: float) -> dict[str, object]:
            lon, lat = spots[where]
            page.context.set_geolocation({"latitude": lat, "longitude": lon, "accuracy": accuracy})
            page.wait_for_function(
                "([lat, acc]) => { const l = document.getElementById('sg-locate');"
                " return l.textContent.includes(lat.toFixed(5)) &&"
                " window.safeground.located && window.safeground.located.accuracy === acc; }",
                arg=[lat, accuracy],
            )
            assert banner.is_visible()
            return {
                "level": banner.get_attribute("data-sg-level"),
                "warnings": (banner.get_attribute("data-sg-warnings") or "").split(),
                "text": banner.inner_text(),
                "m": page.evaluate("window.safeground.located.m"),
            }

        far = at("far", 10)
        assert far["level"] == "far" and far["warnings"] == []
        server = _server_nearest_active_m(base_url, demo.key, *spots["far"])
        assert far["m"] == pytest.approx(server, rel=0.01)
        assert "safe" not in str(far["text"]).replace(NOT_SAFE, "").lower()
        assert NOT_SAFE in str(far["text"])
        screenshot(page, "locate-far-phone")

        near = at("near", 5)
        assert near["level"] == "near" and "DANGER" in str(near["text"])
        server = _server_nearest_active_m(base_url, demo.key, *spots["near"])
        assert near["m"] == pytest.approx(server, rel=0.01)
        screenshot(page, "locate-near-phone")

        inside_ = at("inside", 5)
        assert inside_["level"] == "inside" and inside_["m"] == 0
        assert "INSIDE" in str(inside_["text"])
        screenshot(page, "locate-inside-phone")

        poor = at("far", 800)
        assert poor["level"] == "poor" and "too uncertain" in str(poor["text"])
        assert_clean(report)
        assert [u for u in report.requests if not u.startswith(("file:", "data:"))] == []
