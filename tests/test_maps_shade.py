"""The overview's district choropleth without a browser: each district's figure against an
independent computation (shapely + pyproj for areas, plain SQL for distances), the hatched "no
data" districts, the legend, the palette outside the hazard colours, and bad input refused."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import re

import pytest
import shapely
import sqlalchemy as sa
from pyproj import Geod
from typer.testing import CliRunner

from api.cli import app as cli
from gis.maps import choropleth
from layers import REGISTRY
from tests.browser.records import insert, square
from tests.test_maps import client, world
from tests.test_maps_pages import MIN_DELTA_E, _configs, _lab

__all__ = ["client"]
GEOD = Geod(ellps="WGS84")


@pytest.fixture
def shaded(client, committed):
    """The map tests' world, plus a hazard across the Alpha–Beta border with a second record over
    part of it, and a district whose only hazard is cleared (no active hazard on record: no
    data)."""
    with committed.begin() as conn:
        insert(
            conn, "hazard_areas", square(46.49, 40.4, 0.02), hazard_type="AP_mine",
            status="confirmed", recorded_on=dt.date(2021, 1, 1),
        )  # fmt: skip
        # a second record over a corner of the first: the land they share counts once
        insert(
            conn, "hazard_areas", square(46.49, 40.4, 0.01), hazard_type="UXO_ERW",
            status="suspected", recorded_on=dt.date(2021, 1, 1),
        )  # fmt: skip
        insert(conn, "districts", square(47.0, 40.0, 0.5), name="Gamma", code="T.G")
        insert(
            conn, "hazard_areas", square(47.2, 40.2, 0.01), hazard_type="UXO_ERW",
            status="cleared", recorded_on=dt.date(2021, 1, 1),
        )  # fmt: skip
    return client


def _shade(html: str) -> dict:
    return _configs(html)["districts"]["shade"]


def _district_ids(conn: sa.Connection) -> dict[str, int]:
    rows = conn.execute(sa.text("SELECT code, id FROM districts WHERE deleted_at IS NULL"))
    return {code: int(i) for code, i in rows}


def _hazard_km2_by_shapely(conn: sa.Connection) -> dict[int, float]:
    """Each district's active hazard area, km²: shapely intersections, pyproj geodesic areas."""
    active = REGISTRY["hazard_areas"].active_filter["status"]
    hazards = [
        shapely.from_wkt(w)
        for (w,) in conn.execute(
            sa.text(
                "SELECT ST_AsText(geom) FROM hazard_areas "
                "WHERE deleted_at IS NULL AND status = ANY(:a)"
            ),
            {"a": list(active)},
        )
    ]
    out = {}
    for i, w in conn.execute(sa.text("SELECT id, ST_AsText(geom) FROM districts")):
        district = shapely.from_wkt(w)
        parts = [district.intersection(h) for h in hazards if district.intersects(h)]
        out[int(i)] = abs(GEOD.geometry_area_perimeter(shapely.union_all(parts))[0]) / 1e6
    return out


def test_hazard_km2_per_district_matches_shapely_and_pyproj(shaded, committed) -> None:
    page = shaded.get("/maps/overview", params={"shade": "hazard_km2"})
    assert page.status_code == 200, page.text
    shade = _shade(page.text)
    with committed.connect() as conn:
        expected = _hazard_km2_by_shapely(conn)
        ids = _district_ids(conn)
    assert set(shade["values"]) == {str(i) for i in ids.values()}
    for district, km2 in expected.items():
        text, index, figure = shade["values"][str(district)]
        if km2 == 0:  # no active hazard on record: hatched, no figure, says not safe
            assert index is None and figure is None and "NOT safe" in text
        else:
            assert figure == pytest.approx(km2, rel=1e-6), district
            assert index is not None and 0 <= index < len(shade["colours"])
    # the border-crossing hazard is split between Alpha and Beta, and Gamma's is cleared
    assert shade["values"][str(ids["T.G"])][1] is None
    assert expected[ids["T.A"]] > 0 and expected[ids["T.B"]] > 0
    # the biggest figure is in the darkest class drawn
    top = max(expected, key=lambda k: expected[k])
    assert shade["values"][str(top)][1] == max(
        v[1] for v in shade["values"].values() if v[1] is not None
    )


def test_villages_at_risk_and_coverage_match_an_independent_count(shaded, committed) -> None:
    with committed.connect() as conn:
        ids = _district_ids(conn)
        at_risk = dict(
            conn.execute(
                sa.text(
                    "SELECT d.id, count(DISTINCT v.id) FROM districts d "
                    "JOIN villages v ON ST_Intersects(d.geom, v.geom) "
                    "JOIN hazard_areas h ON h.status IN ('confirmed', 'suspected') "
                    " AND h.deleted_at IS NULL "
                    " AND ST_Distance(geography(h.geom), geography(v.geom)) <= 5000 "
                    "GROUP BY d.id"
                )
            ).all()
        )
    page = shaded.get("/maps/overview", params={"shade": "villages_at_risk"})
    shade = _shade(page.text)
    assert at_risk, "the world has villages at risk"
    for code, district in ids.items():
        text, index, figure = shade["values"][str(district)]
        n = at_risk.get(district, 0)
        if n:
            assert figure == n and index is not None, code
        else:
            assert index is None and "NOT safe" in text, code
    # coverage in a window holding Alphaville's 2024 session: 100 % in Alpha; Beta has no
    # village at risk, so no figure
    page = shaded.get("/maps/overview", params={"shade": "coverage", "since": "2024-01-01"})
    shade = _shade(page.text)
    assert shade["values"][str(ids["T.A"])][2] == 100.0
    assert shade["values"][str(ids["T.A"])][1] == 0  # the lightest: fully covered
    assert shade["values"][str(ids["T.B"])][1] is None
    assert "2024" in shade["window"] and "Jan" in shade["window"]


def test_legend_names_the_figure_its_classes_the_window_and_no_data(shaded) -> None:
    html = shaded.get("/maps/overview", params={"shade": "hazard_km2"}).text
    legend = re.search(r'<div class="sg-shade-legend">(.*?)</div>', html, re.S)
    assert legend is not None
    text = legend.group(1)
    assert "Active hazard area (km²)" in text and "No data — NOT safe" in text
    assert "whatever the date they were recorded" in text and "geodesic" in text
    assert 'id="sg-hatch"' in html  # the pattern the hatched districts are filled with
    for colour in _shade(html)["colours"]:
        assert colour in text


def test_shade_palette_stays_out_of_the_hazard_palette() -> None:
    hazard = REGISTRY["hazard_areas"].style
    palette = [_lab(c) for c in (hazard.color, *hazard.colors.values())]
    for colour in choropleth.PALETTE:
        nearest = min(math.dist(_lab(colour), h) for h in palette)
        assert nearest >= MIN_DELTA_E, f"{colour}: ΔE {nearest:.1f}"
    # and the classes are told apart from each other
    labs = [_lab(c) for c in choropleth.PALETTE]
    assert all(math.dist(a, b) >= MIN_DELTA_E for a, b in itertools.pairwise(labs))


def test_unknown_shade_is_400_naming_it_and_the_public_is_refused(client) -> None:
    bad = client.get("/maps/overview", params={"shade": "danger"})
    assert bad.status_code == 400 and "shade" in bad.text
    key = client.headers.pop("X-API-Key")
    public = client.get("/maps/overview", params={"shade": "hazard_km2"})
    assert public.status_code == 403 and "hazard areas" in public.json()["description"]
    client.headers["X-API-Key"] = key
    plain = client.get("/maps/overview")
    assert plain.status_code == 200 and "sg-shade-legend" not in plain.text


def test_cli_overview_shade(settings, committed, tmp_path) -> None:
    with committed.begin() as conn:
        world(conn)
    env = {"SAFEGROUND_DATABASE_URL": settings.database.url}
    out = tmp_path / "o.html"
    runner = CliRunner()
    done = runner.invoke(
        cli, ["map", "overview", "--out", str(out), "--shade", "villages_at_risk"], env=env
    )
    assert done.exit_code == 0, done.output
    assert "Villages at risk" in out.read_text()
    assert json.dumps(choropleth.PALETTE[0]) in out.read_text()
    bad = runner.invoke(cli, ["map", "overview", "--out", str(out), "--shade", "x"], env=env)
    assert bad.exit_code == 1 and "shade must be one of" in bad.output
