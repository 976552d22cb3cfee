"""The coverage map and the route visit map without a browser: they draw exactly what the analyses
answer (same checks, same access), with the summary, the parameters and the notices, names escaped;
over HTTP and from the command line."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from gis.access import create_key
from gis.analysis import answers
from gis.maps import coverage_page, folium_map, route_page
from gis.maps.elements import NOT_SAFE, Panels
from gis.settings import AnalysisSettings
from gis.spec import Role
from layers import REGISTRY
from tests.browser.records import XSS, insert, point
from tests.test_maps import LINKED, OFFLINE, world

ANALYSIS = AnalysisSettings()
WINDOW = {"since": "2024-01-01", "until": "2024-12-31"}
# From west of Alphaville to east of it, along 40.255° N: passes 0.005° south of hazard h_old.
ROUTE = {"type": "LineString", "coordinates": [[46.2, 40.255], [46.3, 40.255]]}
FAR_ROUTE = {"type": "LineString", "coordinates": [[46.0, 40.45], [46.02, 40.45]]}


def drawn_ids(m, key: str) -> list[int]:
    """The ids of the features a map layer holds (as PostgreSQL packed them: id first)."""
    for element in folium_map._walk(m):
        if element.get_name().startswith("geo_json") and f"sg_data_{key}" in element._children:
            return [row[0] for row in json.loads(element._children[f"sg_data_{key}"].text)["rows"]]
    raise AssertionError(f"no layer {key}")


def coverage_world(conn) -> dict[str, int]:
    ids = world(conn)
    # a second village at risk near h_old, with a markup name and no session within reach
    ids["xss"] = insert(
        conn, "villages", point(46.27, 40.27), name=XSS, district_name="Alpha", population=321
    )
    return ids


def test_coverage_map_draws_exactly_the_answers_targets_with_its_figures(conn) -> None:
    ids = coverage_world(conn)
    asked = dict(within_m=500, **WINDOW)
    answer = json.loads(
        answers.coverage_answer(
            conn,
            REGISTRY,
            ANALYSIS,
            Role.partner,
            answers.CoverageAsk.from_text(status="all", **asked),
        ).body
    )
    at_risk = [f for f in answer["features"] if f["properties"]["at_risk"]]
    uncovered = sorted(f["id"] for f in at_risk if not f["properties"]["covered"])
    covered = sorted(f["id"] for f in at_risk if f["properties"]["covered"])
    assert ids["xss"] in uncovered and uncovered  # the world holds uncovered targets

    page = coverage_page.coverage(
        conn,
        REGISTRY,
        ANALYSIS,
        Role.partner,
        answers.CoverageAsk.from_text(status="all", **asked),
        rings=True,
    )
    assert sorted(drawn_ids(page.map, "villages_uncovered")) == uncovered
    assert sorted(drawn_ids(page.map, "villages_covered")) == covered
    assert page.counts["villages_uncovered"] == len(uncovered)
    assert page.counts["hazard_areas"] == 2 and page.counts["outreach_sessions"] == 2  # in window
    html = folium_map.render(page.map, LINKED)
    s = answer["summary"]
    assert (
        f"At risk: {s['at_risk']} villages · Covered: {s['covered']} · "
        f"Uncovered: {s['uncovered']} · Coverage: {s['coverage_pct']} %"
    ) in html
    assert f"People at risk: {s['people_at_risk']:,}" in html
    assert "within 500 m, 2024-01-01 to 2024-12-31" in html and "within 5,000 m" not in html
    assert '"rings":[500.0,5000.0]' in html and '"sizeBy":"population"' in html
    assert NOT_SAFE in html and "Data extracted" in html and "Download" not in html
    assert "<img src=x" not in html and "\\u003cimg src=x onerror=alert(1)\\u003e" in html
    panels = [e for e in folium_map._walk(page.map) if isinstance(e, Panels)]
    assert len(panels) == 1 and "Hazard areas (2)" in panels[0].markup
    layers = {name for name in page.map.to_dict()["children"]}
    assert "sg_layer_configs" in layers and "sg_coverage_configs" in layers


def test_coverage_map_by_priority_and_only_the_status_asked(conn) -> None:
    coverage_world(conn)
    page = coverage_page.coverage(
        conn,
        REGISTRY,
        ANALYSIS,
        Role.staff,
        answers.CoverageAsk.from_text(within_m=500, status="covered", **WINDOW),
        size_by="priority",
    )
    assert page.counts["villages_uncovered"] == 0
    html = folium_map.render(page.map, OFFLINE)
    assert '"sizeBy":"priority"' in html and "<script src" not in html


def test_route_visit_map_labels_every_hazard_the_route_check_found(conn) -> None:
    ids = world(conn)
    checked = json.loads(
        answers.route_answer(
            conn, REGISTRY, ANALYSIS, Role.partner, geojson=ROUTE, buffer_m=7000
        ).body
    )
    hazards = [f for f in checked["features"] if f["properties"]["layer"] == "hazard_areas"]
    assert [f["id"] for f in hazards] == [ids["h_old"]]
    page = route_page.route_visit(
        conn,
        REGISTRY,
        ANALYSIS,
        Role.partner,
        geojson={"type": "Feature", "geometry": ROUTE},
        buffer_m=7000,
    )
    assert drawn_ids(page.map, "hazard_areas") == [ids["h_old"]]
    along = {f["id"] for f in checked["features"] if f["properties"]["layer"] == "facilities"}
    assert set(drawn_ids(page.map, "facilities")) == along and along
    html = folium_map.render(page.map, LINKED)
    distance = round(hazards[0]["properties"]["distance_m"])
    km = f"km {hazards[0]['properties']['along_km']:.1f}"
    assert f"{distance:,} m from the route, {km}" in html
    assert '"label":"route_label"' in html and "sg-corridor" in html and "sg-route" in html
    assert "1 hazard areas within 7.0 km of the route, 1 of them active" in html
    assert checked["notice"] in html and 'sg-alert sg-alert-strong"' not in html
    assert "leaflet-measure" in html


def test_route_visit_map_that_finds_nothing_says_so_loudest(conn) -> None:
    world(conn)
    page = route_page.route_visit(conn, REGISTRY, ANALYSIS, Role.partner, geojson=FAR_ROUTE)
    html = folium_map.render(page.map, LINKED)
    assert page.counts["hazard_areas"] == 0 and 'sg-alert sg-alert-strong"' in html
    assert "This does NOT mean the route is safe" in html and NOT_SAFE in html


@pytest.fixture
def client(settings, committed):
    with committed.begin() as conn:
        coverage_world(conn)
        key = create_key(conn, "analysis map tests", Role.partner)
    with TestClient(create_app(settings)) as client:
        client.headers["X-API-Key"] = key
        yield client


def test_map_routes_draw_coverage_and_routes_with_the_analysis_access(client) -> None:
    page = client.get("/maps/coverage", params={"within_m": 500, "rings": "true", **WINDOW})
    assert page.status_code == 200 and "Coverage of villages by" in page.text
    assert "Download as one offline file" in page.text
    offline = client.get("/maps/coverage", params={"offline": "true", **WINDOW})
    assert offline.status_code == 200 and not re.search(r"<script[^>]+src=", offline.text)
    assert 'filename="safeground-coverage.html"' in offline.headers["content-disposition"]
    route = client.post("/maps/visit", params={"buffer_m": 1000}, json=ROUTE)
    assert route.status_code == 200 and "Route visit:" in route.text
    del client.headers["X-API-Key"]
    assert client.get("/maps/coverage").status_code == 403
    assert client.post("/maps/visit", json=ROUTE).status_code == 403
    anonymous = client.get("/maps/coverage", params={"risk_within_m": "none"})
    assert anonymous.status_code == 200 and "are NOT shown" in anonymous.text


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"within_m": -1}, 400, "within_m"),
        ({"risk_within_m": "far"}, 400, "risk_within_m"),
        ({"status": "some"}, 400, "status"),
        ({"size_by": "colour"}, 400, "size_by"),
        ({"since": "2024-13-01"}, 400, "since"),
        ({"since": "2024-06-01", "until": "2024-01-01"}, 400, "since"),
        ({"district": "Nowhere"}, 400, "unknown district 'Nowhere'"),
        ({"target": "nope"}, 404, "target"),
        ({"rings": "maybe"}, 400, "rings"),
    ],
)
def test_coverage_map_bad_parameters_are_4xx(client, params, status, says) -> None:
    response = client.get("/maps/coverage", params=params)
    assert response.status_code == status, response.text
    assert says in response.json()["description"]


@pytest.mark.parametrize(
    ("params", "body", "status", "says"),
    [
        ({}, {"type": "Point", "coordinates": [46.2, 40.2]}, 400, "route"),
        ({}, {"type": "LineString", "coordinates": [[46.2, 40.2]]}, 400, "route"),
        ({}, {"type": "LineString", "coordinates": [[46.2, 40.2], [300, 40.3]]}, 400, "route"),
        ({"buffer_m": -5}, ROUTE, 400, "buffer_m"),
        ({"buffer_m": "wide"}, ROUTE, 400, "buffer_m"),
        ({}, [1, 2], 400, "body"),
    ],
)
def test_route_visit_bad_input_is_4xx(client, params, body, status, says) -> None:
    response = client.post("/maps/visit", params=params, json=body)
    assert response.status_code == status, response.text
    assert says in response.json()["description"]


def test_cli_writes_coverage_and_route_maps(settings, committed, tmp_path) -> None:
    with committed.begin() as conn:
        coverage_world(conn)
    env = {"SAFEGROUND_DATABASE_URL": settings.database.url}
    runner = CliRunner()
    out = tmp_path / "coverage.html"
    done = runner.invoke(
        cli,
        [
            "map",
            "coverage",
            "--out",
            str(out),
            "--offline",
            "--within-m",
            "500",
            "--since",
            "2024-01-01",
            "--until",
            "2024-12-31",
            "--rings",
        ],
        env=env,
    )
    assert done.exit_code == 0, done.output
    assert "villages_uncovered" in done.output and "<script src" not in out.read_text()
    route = tmp_path / "route.geojson"
    route.write_text(json.dumps({"type": "Feature", "geometry": ROUTE, "properties": {}}))
    visit = runner.invoke(
        cli,
        [
            "map",
            "visit",
            "--route",
            str(route),
            "--buffer-m",
            "1000",
            "--out",
            str(tmp_path / "r.html"),
        ],
        env=env,
    )
    assert visit.exit_code == 0, visit.output
    assert "Route visit:" in (tmp_path / "r.html").read_text()
    bad = runner.invoke(
        cli, ["map", "coverage", "--risk-within-m", "far", "--out", str(out)], env=env
    )
    assert bad.exit_code == 1 and "risk_within_m" in bad.output
    both = runner.invoke(
        cli, ["map", "visit", "--route", str(route), "--village", "x", "--out", str(out)], env=env
    )
    assert both.exit_code == 1 and "not both" in both.output
