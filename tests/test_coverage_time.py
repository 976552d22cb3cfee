"""The time rule: coverage counts hazards with their status as of `until`; route checks use
today's status. SafeGround keeps no status history yet, so a status that took effect after
`until` (status_changed_on) is not yet applied: the hazard was still active then."""

from __future__ import annotations

import json
from typing import Any

import shapely
import sqlalchemy as sa

from gis.analysis.answers import CoverageAsk, coverage_answer, route_answer
from gis.settings import AnalysisSettings
from gis.spec import Role
from layers import REGISTRY

from .test_analysis_geo import add, box_north_of, moved

SETTINGS = AnalysisSettings()
V = (47.3, 40.2)


def at_risk(conn: sa.Connection, until: str) -> dict[str, Any]:
    ask = CoverageAsk.from_text(risk_within_m=2000, until=until, status="all")
    body = coverage_answer(conn, REGISTRY, SETTINGS, Role.admin, ask).body
    return {
        f["properties"]["name"]: f["properties"]["hazards_within"]
        for f in json.loads(body)["features"]
    }


def test_hazard_status_is_taken_as_of_until(conn) -> None:
    places = {name: moved(*V, 90.0, 10_000.0 * i) for i, name in enumerate("abcd")}
    for name, where in places.items():
        add(conn, "villages", shapely.Point(where), name=name)
    near = {name: box_north_of(*where, 500.0) for name, where in places.items()}
    # a: recorded in 2024, still confirmed.
    add(conn, "hazard_areas", near["a"], status="confirmed", recorded_on="2024-01-10")
    # b: recorded only in 2025.
    add(conn, "hazard_areas", near["b"], status="suspected", recorded_on="2025-03-01")
    # c: cleared in 2025: active through 2024.
    add(
        conn,
        "hazard_areas",
        near["c"],
        status="cleared",
        recorded_on="2023-05-01",
        status_changed_on="2025-02-01",
    )
    # d: cancelled in 2023.
    add(
        conn,
        "hazard_areas",
        near["d"],
        status="cancelled",
        recorded_on="2022-05-01",
        status_changed_on="2023-02-01",
    )
    assert at_risk(conn, "2024-12-31") == {"a": 1, "b": 0, "c": 1, "d": 0}
    assert at_risk(conn, "2025-06-30") == {"a": 1, "b": 1, "c": 0, "d": 0}
    assert at_risk(conn, "2025-01-31") == {"a": 1, "b": 0, "c": 1, "d": 0}
    assert at_risk(conn, "2025-02-01") == {"a": 1, "b": 0, "c": 0, "d": 0}


def test_route_checks_use_todays_status(conn) -> None:
    start = V
    add(
        conn,
        "hazard_areas",
        box_north_of(*moved(*start, 90.0, 500.0), 100.0),
        status="cleared",
        recorded_on="2023-05-01",
        status_changed_on="2024-02-01",
    )
    line = {"type": "LineString", "coordinates": [start, moved(*start, 90.0, 1000.0)]}
    checked = json.loads(route_answer(conn, REGISTRY, SETTINGS, Role.admin, geojson=line).body)
    assert checked["summary"]["hazards"] == 1 and checked["summary"]["hazards_active"] == 0


def test_the_openapi_description_states_the_time_and_distance_rules(settings) -> None:
    from api.app import create_app

    app = create_app(settings)
    try:
        spec = app.openapi()
    finally:
        app.state.engine.dispose()
    coverage = spec["paths"]["/analysis/coverage"]["get"]
    assert "as they stood on `until`" in coverage["description"]
    assert "straight lines in longitude/latitude" in coverage["description"]
    until = next(p for p in coverage["parameters"] if p["name"] == "until")
    assert "hazard status" in until["description"]
