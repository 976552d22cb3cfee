"""Property tests: PostGIS answers against an independent geodesic computation (pyproj's Geod).

Random villages, hazard areas and sessions over Azerbaijan's latitudes; distances must agree
within 0.5 m or 0.01 %, and the coverage sets (at risk, covered) must be identical. Examples
where a reference distance lies within that tolerance of a threshold are skipped: there the two
methods may honestly disagree.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pytest
import shapely
import sqlalchemy as sa
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gis.analysis import coverage
from gis.analysis.answers import CoverageAsk, coverage_answer, nearest_answer
from gis.settings import AnalysisSettings
from gis.spec import Role
from layers import REGISTRY

from .test_analysis_geo import add, blob, close, moved, point_point_m, point_polygon_m

SINCE, UNTIL = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
ACTIVE = ("suspected", "confirmed")
lons = st.floats(44.8, 50.6)
lats = st.floats(38.4, 41.9)


@dataclass(frozen=True)
class Hazard:
    shape: shapely.Polygon
    status: str


@dataclass(frozen=True)
class Session:
    at: tuple[float, float]
    held_on: dt.date


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[tuple[float, float]], list[Hazard], list[Session]]:
    villages = [(draw(lons), draw(lats)) for _ in range(draw(st.integers(1, 4)))]
    hazards = []
    for _ in range(draw(st.integers(0, 4))):
        base = villages[draw(st.integers(0, len(villages) - 1))]
        centre = moved(*base, draw(st.floats(0, 360)), draw(st.floats(0, 7000)))
        shape = blob(
            *centre, draw(st.floats(30, 800)), draw(st.integers(4, 10)), draw(st.floats(0, 90))
        )
        hazards.append(
            Hazard(shape, draw(st.sampled_from(["suspected", "confirmed", "cleared", "reduced"])))
        )
    sessions = []
    for _ in range(draw(st.integers(0, 5))):
        base = villages[draw(st.integers(0, len(villages) - 1))]
        at = moved(*base, draw(st.floats(0, 360)), draw(st.floats(0, 3500)))
        sessions.append(
            Session(at, dt.date(2024, 6, 1) + dt.timedelta(days=draw(st.integers(0, 730))))
        )
    return villages, hazards, sessions


def clear_of(distance: float, threshold: float) -> bool:
    return abs(distance - threshold) > max(0.5, 1e-4 * threshold) + 0.05


@pytest.mark.parametrize("drive_ratio", [0, 10**6], ids=["targets drive", "sessions drive"])
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds(), within_m=st.floats(100, 3000), risk_within_m=st.floats(500, 8000))
def test_coverage_matches_an_independent_geodesic_computation(
    conn: sa.Connection,
    monkeypatch: pytest.MonkeyPatch,
    drive_ratio,
    world,
    within_m,
    risk_within_m,
) -> None:
    # Both ways of searching the window's sessions (coverage.sql, `drive`) must give this answer.
    monkeypatch.setattr(coverage, "DRIVE_RATIO", drive_ratio)
    villages, hazards, sessions = world
    within_m, risk_within_m = round(within_m, 3), round(risk_within_m, 3)
    expected = {}
    for i, v in enumerate(villages):
        to_hazards = [point_polygon_m(v, h.shape) for h in hazards if h.status in ACTIVE]
        to_sessions = [(point_point_m(v, s.at), s.held_on) for s in sessions if s.held_on <= UNTIL]
        assume(all(clear_of(d, risk_within_m) for d in to_hazards))
        assume(all(clear_of(d, within_m) for d, _ in to_sessions))
        near = [d for d in to_hazards if d <= risk_within_m]
        reach = [(d, on) for d, on in to_sessions if d <= within_m]
        in_window = [d for d, on in reach if on >= SINCE]
        expected[f"v{i}"] = {
            "at_risk": bool(near),
            "hazards_within": len(near),
            "nearest_hazard_m": min(near, default=None),
            "covered": bool(in_window),
            "nearest_by_m": min(in_window, default=None),
            "last_by_on": max((on for _, on in reach), default=None),
        }
    savepoint = conn.begin_nested()
    try:
        for i, v in enumerate(villages):
            add(conn, "villages", shapely.Point(v), name=f"v{i}")
        for h in hazards:
            add(conn, "hazard_areas", h.shape, status=h.status, status_changed_on="2024-01-01")
        for s in sessions:
            add(conn, "outreach_sessions", shapely.Point(s.at), held_on=s.held_on.isoformat())
        answer = json.loads(
            coverage_answer(
                conn,
                REGISTRY,
                AnalysisSettings(rasters={}),
                Role.admin,
                CoverageAsk(
                    within_m=within_m,
                    risk_within_m=risk_within_m,
                    since=SINCE,
                    until=UNTIL,
                    status="all",
                ),
            ).body
        )
    finally:
        savepoint.rollback()
    got = {f["properties"]["name"]: f["properties"] for f in answer["features"]}
    assert set(got) == set(expected)
    for name, want in expected.items():
        p = got[name]
        assert (p["at_risk"], p["hazards_within"], p["covered"]) == (
            want["at_risk"],
            want["hazards_within"],
            want["covered"],
        ), name
        assert p["last_by_on"] == (
            want["last_by_on"].isoformat() if want["last_by_on"] else None
        ), name
        for key in ("nearest_hazard_m", "nearest_by_m"):
            assert (p[key] is None) == (want[key] is None), (name, key)
            if want[key] is not None:
                assert close(p[key], want[key]), (name, key, p[key], want[key])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lon=lons,
    lat=lats,
    shapes=st.lists(
        st.tuples(
            st.floats(0, 360),
            st.floats(0, 60_000),
            st.floats(20, 2000),
            st.integers(3, 12),
            st.floats(0, 120),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_nearest_distances_match_an_independent_geodesic_computation(
    conn: sa.Connection, lon, lat, shapes
) -> None:
    polygons = [blob(*moved(lon, lat, a, d), r, n, turn) for a, d, r, n, turn in shapes]
    expected = sorted(point_polygon_m((lon, lat), p) for p in polygons)
    savepoint = conn.begin_nested()
    try:
        for i, p in enumerate(polygons):
            add(conn, "hazard_areas", p, name=f"h{i}")
        answer = json.loads(
            nearest_answer(
                conn,
                REGISTRY,
                AnalysisSettings(rasters={}),
                Role.admin,
                layer_name="hazard_areas",
                lon=lon,
                lat=lat,
                k=len(polygons),
            )
        )
    finally:
        savepoint.rollback()
    got = [f["properties"]["distance_m"] for f in answer["features"]]
    assert len(got) == len(expected)
    assert all(close(g, e) for g, e in zip(got, expected, strict=True)), (got, expected)
