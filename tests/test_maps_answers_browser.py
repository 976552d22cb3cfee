"""The analyses' maps in a real browser (Debian's Chromium, headless), over the national demo
(tests/test_maps_browser fixtures): the coverage map draws the coverage analysis's targets and
rings, served and offline with every network request refused, and a route's visit map draws every
hazard area in its corridor.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from gis.analysis import answers
from gis.notices import NOT_SAFE
from gis.settings import AnalysisSettings
from gis.spec import Role, geography
from layers import REGISTRY
from tests.browser.chromium import another, drawn, open_map, saved_map, screenshot
from tests.test_maps_browser import NO_NETWORK, Demo, assert_clean, base_url, browser, demo

__all__ = ["base_url", "browser", "demo"]  # the module-scoped fixtures, shared


def coverage_expected(demo: Demo, **params: object) -> dict[str, int]:
    """Uncovered and covered targets at risk, as the coverage analysis answers them."""
    with demo.engine.connect() as conn:
        answer = json.loads(
            answers.coverage_answer(
                conn,
                REGISTRY,
                AnalysisSettings(),
                Role.partner,
                answers.CoverageAsk.from_text(status="all", **params),
            ).body
        )
    at_risk = [f["properties"] for f in answer["features"] if f["properties"]["at_risk"]]
    return {
        "villages_uncovered": sum(not p["covered"] for p in at_risk),
        "villages_covered": sum(bool(p["covered"]) for p in at_risk),
    }


def test_coverage_map_draws_the_answers_targets_and_rings(demo, base_url, browser) -> None:
    expected = coverage_expected(demo, district="Aghdam", within_m=3000)
    assert expected["villages_uncovered"] > 0
    url = f"{base_url}/maps/coverage?district=Aghdam&within_m=3000&rings=true"
    with open_map(browser, url, headers={"X-API-Key": demo.key}) as (page, report):
        assert_clean(report)
        assert drawn(page, list(expected)) == expected
        rings = page.locator("path.sg-ring-villages_uncovered").count()
        assert rings == 2 * expected["villages_uncovered"]
        assert "Coverage:" in page.locator("#sg-title").inner_text()
        assert NOT_SAFE in page.locator("#sg-notice").inner_text()
        screenshot(page, "coverage")


def test_offline_coverage_file_renders_with_the_network_refused(
    demo, base_url, browser, tmp_path
) -> None:
    url = f"{base_url}/maps/coverage?district=Aghdam&offline=true"
    offline = saved_map(url, demo.key, tmp_path / "safeground-coverage.html")
    expected = coverage_expected(demo, district="Aghdam")
    with (
        another(browser, NO_NETWORK) as isolated,
        open_map(isolated, offline.as_uri(), offline=True) as (page, report),
    ):
        assert_clean(report)
        assert drawn(page, list(expected)) == expected
        assert [u for u in report.requests if not u.startswith(("file:", "data:"))] == []
        screenshot(page, "coverage-offline")


def test_route_visit_map_draws_every_hazard_in_the_corridor(demo, base_url, browser) -> None:
    hazards = REGISTRY["hazard_areas"].table
    with demo.engine.connect() as conn:
        # from the Aghdam village to the nearest hazard area, and 2 km on
        x, y, hx, hy = conn.execute(
            sa.text(
                "SELECT ST_X(v.geom), ST_Y(v.geom), ST_X(h.p), ST_Y(h.p) FROM villages v, LATERAL "
                "(SELECT ST_PointOnSurface(geom) AS p FROM hazard_areas WHERE deleted_at IS NULL "
                "ORDER BY geom <-> v.geom LIMIT 1) h WHERE v.id = :id"
            ),
            {"id": demo.village},
        ).one()
        route = {
            "type": "LineString",
            "coordinates": [[x, y], [hx, hy], [hx + 2 * (hx - x) + 0.02, hy + 0.01]],
        }
        line = sa.func.geography(sa.func.ST_GeomFromGeoJSON(json.dumps(route)))
        expected = conn.scalar(
            sa.select(sa.func.count()).where(
                hazards.c.deleted_at.is_(None),
                sa.func.ST_DWithin(geography(hazards.c.geom), line, 500),
            )
        )
    assert expected > 0
    url = f"{base_url}/maps/visit?buffer_m=500"
    with open_map(browser, url, headers={"X-API-Key": demo.key}, post_json=route) as (
        page,
        report,
    ):
        assert_clean(report)
        assert drawn(page, ["hazard_areas"]) == {"hazard_areas": expected}
        assert page.locator(".sg-label").count() >= expected  # distance and km along, labelled
        assert page.locator("path.sg-route").count() == 1
        assert page.locator("path.sg-corridor").count() == 1
        notice = page.locator("#sg-notice").inner_text()
        assert NOT_SAFE in notice
        screenshot(page, "route-visit")
