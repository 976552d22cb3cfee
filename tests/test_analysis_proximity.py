"""Nearest, within and route check against an independent geodesic computation."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import shapely
import sqlalchemy as sa

from gis.analysis.answers import nearest_answer, route_answer, within_answer
from gis.errors import Forbidden, InvalidParameter, NotFound
from gis.settings import AnalysisSettings
from gis.spec import Role
from layers import REGISTRY

from .geodesic_oracle import reference
from .test_analysis_geo import (
    GEOD,
    add,
    blob,
    box_north_of,
    close,
    moved,
    point_point_m,
    point_polygon_m,
)

Q = (46.95, 40.05)
SETTINGS = AnalysisSettings(rasters={})


def nearest(conn: sa.Connection, role: Role = Role.admin, **params: Any) -> dict[str, Any]:
    return json.loads(nearest_answer(conn, REGISTRY, SETTINGS, role, **params))


def within(conn: sa.Connection, role: Role = Role.admin, **params: Any) -> dict[str, Any]:
    return json.loads(within_answer(conn, REGISTRY, SETTINGS, role, max_limit=10_000, **params))


def route(conn: sa.Connection, line: Any, role: Role = Role.admin, **params: Any) -> dict[str, Any]:
    return json.loads(route_answer(conn, REGISTRY, SETTINGS, role, geojson=line, **params).body)


def test_nearest_ranks_by_exact_geodesic_distance_with_bearing(conn) -> None:
    rng = np.random.default_rng(7)
    points = [
        moved(*Q, float(a), float(d))
        for a, d in zip(rng.uniform(0, 360, 40), rng.uniform(10, 20_000, 40), strict=True)
    ]
    for i, p in enumerate(points):
        add(conn, "outreach_sessions", shapely.Point(p), place_name=f"s{i}")
    answer = nearest(conn, layer_name="outreach_sessions", lon=Q[0], lat=Q[1], k=7)
    expected = sorted((point_point_m(Q, p), i) for i, p in enumerate(points))[:7]
    got = [
        (f["properties"]["distance_m"], f["properties"]["place_name"]) for f in answer["features"]
    ]
    assert [name for _, name in got] == [f"s{i}" for _, i in expected]
    assert all(close(d, e) for (d, _), (e, _) in zip(got, expected, strict=True))
    for f in answer["features"]:
        lon, lat = f["geometry"]["coordinates"]
        azimuth = GEOD.inv(Q[0], Q[1], lon, lat)[0] % 360
        assert abs((f["properties"]["bearing_deg"] - azimuth + 180) % 360 - 180) < 0.1


def test_nearest_hazard_is_at_zero_inside_it_without_a_bearing(conn) -> None:
    add(conn, "hazard_areas", blob(*Q, 400.0))
    edge = box_north_of(*Q, 900.0)
    add(conn, "hazard_areas", edge)
    features = nearest(conn, layer_name="hazard_areas", lon=Q[0], lat=Q[1], k=2)["features"]
    assert [f["properties"]["distance_m"] for f in features][0] == 0.0
    assert features[0]["properties"]["bearing_deg"] is None
    assert close(features[1]["properties"]["distance_m"], point_polygon_m(Q, edge))
    assert abs(features[1]["properties"]["bearing_deg"] - 0.0) < 1.0  # due north, ±1°


def test_nearest_is_exact_even_when_many_features_share_the_distance(conn) -> None:
    # 60 points on a geodesic circle: KNN on the sphere cannot tell them apart, so the search
    # must fall back to the whole disc; the five nearest on the ellipsoid are still returned.
    ring = [moved(*Q, 6.0 * i, 5_000.0) for i in range(60)]
    for i, p in enumerate(ring):
        add(conn, "outreach_sessions", shapely.Point(p), place_name=f"r{i}")
    closer = moved(*Q, 123.0, 4_999.0)
    add(conn, "outreach_sessions", shapely.Point(closer), place_name="closer")
    features = nearest(conn, layer_name="outreach_sessions", lon=Q[0], lat=Q[1], k=5)["features"]
    assert features[0]["properties"]["place_name"] == "closer"
    assert all(close(f["properties"]["distance_m"], 5_000.0) for f in features[1:])


def test_nearest_by_village_uses_its_location(conn) -> None:
    v = add(conn, "villages", shapely.Point(Q), name="Here")
    add(conn, "outreach_sessions", shapely.Point(moved(*Q, 45.0, 750.0)))
    features = nearest(conn, layer_name="outreach_sessions", village=v, k=1)["features"]
    assert close(features[0]["properties"]["distance_m"], 750.0)
    with pytest.raises(NotFound, match="no villages feature with id 999999"):
        nearest(conn, layer_name="outreach_sessions", village=999_999)
    with pytest.raises(InvalidParameter, match="either lon and lat or village"):
        nearest(conn, layer_name="outreach_sessions", village=v, lon=47.0, lat=40.0)


@pytest.mark.parametrize("k", [0, -1, 1001])
def test_nearest_refuses_k_out_of_range(conn, k) -> None:
    with pytest.raises(InvalidParameter, match="k must be between 1 and 1000"):
        nearest(conn, layer_name="villages", lon=47.0, lat=40.0, k=k)


def test_layers_the_caller_may_not_read_answer_as_unknown(conn) -> None:
    with pytest.raises(NotFound) as hidden:
        nearest(conn, Role.public, layer_name="hazard_areas", lon=47.0, lat=40.0)
    with pytest.raises(NotFound) as unknown:
        nearest(conn, Role.public, layer_name="minefields", lon=47.0, lat=40.0)
    assert str(hidden.value).replace("hazard_areas", "X") == str(unknown.value).replace(
        "minefields", "X"
    )


def test_within_a_point_is_inclusive_and_exact(conn) -> None:
    for d in (999.6, 1000.4):
        add(conn, "facilities", shapely.Point(moved(*Q, 200.0, d)), name=f"at {d}")
    names = [
        f["properties"]["name"]
        for f in within(conn, layer_name="facilities", lon=Q[0], lat=Q[1], distance_m=1000)[
            "features"
        ]
    ]
    assert names == ["at 999.6"]


def test_within_a_line_and_a_polygon(conn) -> None:
    line = [moved(*Q, 270.0, 3000.0), moved(*Q, 90.0, 3000.0)]
    near_line = moved(*Q, 0.0, 450.0)
    add(conn, "villages", shapely.Point(near_line), name="by the road")
    add(conn, "villages", shapely.Point(moved(*Q, 180.0, 700.0)), name="off the road")
    answer = within(
        conn,
        layer_name="villages",
        geojson={"type": "LineString", "coordinates": line},
        distance_m=500,
    )
    assert [f["properties"]["name"] for f in answer["features"]] == ["by the road"]
    # 450 m from Q's meridian point, plus the ~0.6 m by which the line, straight in lon/lat
    # between ends moved along geodesics, lies south of Q: the edge rule, measured by the oracle.
    expected, _ = reference(*near_line, shapely.LineString(line))
    assert abs(expected - 450.59) < 0.05
    assert abs(answer["features"][0]["properties"]["distance_m"] - expected) <= 0.01
    polygon = blob(*Q, 300.0)
    feature = {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(polygon)}
    inside = within(conn, layer_name="villages", geojson=feature, distance_m=0)
    assert inside["features"] == [] and inside["summary"]["count"] == 0


def test_within_limit_says_truncated(conn) -> None:
    for i in range(5):
        add(conn, "villages", shapely.Point(moved(*Q, 72.0 * i, 100.0 + i)), name=f"v{i}")
    answer = within(conn, layer_name="villages", lon=Q[0], lat=Q[1], distance_m=1000, limit=3)
    assert [f["properties"]["name"] for f in answer["features"]] == ["v0", "v1", "v2"]
    assert answer["summary"]["truncated"] is True


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (
            {"type": "MultiPoint", "coordinates": [[47, 40]]},
            "expected Point or LineString or Polygon",
        ),
        ({"type": "Point", "coordinates": [200, 40]}, "lon must be a longitude"),
        ({"type": "Point", "coordinates": ["47", 40]}, "must be \\[lon, lat\\] numbers"),
        (
            {
                "type": "Polygon",
                "coordinates": [[[47, 40], [47.1, 40.1], [47.1, 40], [47, 40.1], [47, 40]]],
            },
            "not a valid Polygon",
        ),
        ({"type": "LineString", "coordinates": [[47, 40]]}, "at least two"),
        ({"type": "Feature", "geometry": None}, "must be a GeoJSON"),
        ([1, 2], "must be a GeoJSON"),
    ],
)
def test_within_refuses_bad_geometries_by_name(conn, body, match) -> None:
    with pytest.raises(InvalidParameter, match=match):
        within(conn, layer_name="villages", geojson=body, distance_m=100)


# --- route check -------------------------------------------------------------------------------


def road(length_m: float = 20_000.0) -> list[tuple[float, float]]:
    """A route due east from Q, in four legs."""
    return [moved(*Q, 90.0, length_m * i / 4) for i in range(5)]


def test_route_check_finds_crossed_and_nearby_hazards_with_their_positions(conn) -> None:
    line = road()
    crossed = blob(*moved(*Q, 90.0, 5_000.0), 300.0, vertices=16)
    add(conn, "hazard_areas", crossed, name="crossed", status="suspected")
    beside = blob(
        *moved(*moved(*Q, 90.0, 12_000.0), 0.0, 500.0), 200.0, vertices=16
    )  # a vertex 300 m off
    add(conn, "hazard_areas", beside, name="beside", status="confirmed")
    add(
        conn,
        "hazard_areas",
        box_north_of(*moved(*Q, 90.0, 15_000.0), 300.0),
        name="cleared",
        status="cleared",
    )
    add(conn, "hazard_areas", box_north_of(*moved(*Q, 90.0, 8_000.0), 700.0), name="beyond")
    add(
        conn,
        "villages",
        shapely.Point(moved(*moved(*Q, 90.0, 18_000.0), 180.0, 200.0)),
        name="Kend",
    )
    answer = route(conn, {"type": "LineString", "coordinates": line}, buffer_m=500)
    props = {f["properties"].get("name"): f["properties"] for f in answer["features"]}
    assert set(props) == {"crossed", "beside", "cleared", "Kend"}
    assert props["crossed"]["crosses"] is True and props["crossed"]["distance_m"] == 0
    assert props["crossed"]["along_km"] == pytest.approx(
        4.7, abs=0.02
    )  # enters 300 m before its centre
    assert props["beside"]["crosses"] is False
    assert close(props["beside"]["distance_m"], 300.0)
    assert props["beside"]["along_km"] == pytest.approx(12.0, abs=0.01)
    assert (props["cleared"]["active"], props["beside"]["active"]) == (False, True)
    assert props["Kend"]["layer"] == "villages" and props["Kend"]["along_km"] == pytest.approx(
        18.0, abs=0.01
    )
    summary = answer["summary"]
    assert (summary["hazards"], summary["hazards_active"], summary["crossing_active"]) == (3, 2, 1)
    assert summary["first_active_at_km"] == pytest.approx(4.7, abs=0.02)
    assert summary["along_the_way"] == {"villages": 1}
    assert summary["route_length_km"] == pytest.approx(20.0, abs=0.001)
    assert "does NOT mean" in answer["notice"]


def test_route_with_nothing_found_says_plainly_it_is_not_known_safe(conn) -> None:
    add(conn, "hazard_areas", box_north_of(*Q, 5_000.0))
    answer = route(
        conn,
        {
            "type": "Feature",
            "properties": {},
            "geometry": {"type": "LineString", "coordinates": road()},
        },
    )
    assert answer["features"] == []
    assert answer["summary"]["hazards_active"] == 0
    assert answer["notice"].startswith(
        "No mapped hazard area lies within 500 m of this route. This does NOT mean the route is safe"
    )


@pytest.mark.parametrize(
    ("body", "params", "match"),
    [
        ({"type": "Point", "coordinates": [47, 40]}, {}, "expected LineString"),
        ({"type": "LineString", "coordinates": [[47, 40], [47, 40]]}, {}, "two distinct points"),
        ({"type": "LineString", "coordinates": [[47, 40], [47, 95]]}, {}, "lat must be a latitude"),
        (
            {"type": "LineString", "coordinates": [[44.5, 38.5], [50.5, 41.8]]},
            {},
            "route checks accept at most 500 km",
        ),
        (
            {"type": "LineString", "coordinates": [[47, 40], [47.1, 40]]},
            {"buffer_m": -5},
            "buffer_m",
        ),
        (
            {"type": "LineString", "coordinates": [[47, 40], [47.1, 40]]},
            {"buffer_m": 1e6},
            "capped at 100,000 m",
        ),
        ("not json", {}, "must be a GeoJSON"),
    ],
)
def test_route_check_refuses_bad_routes_by_name(conn, body, params, match) -> None:
    with pytest.raises(InvalidParameter, match=match):
        route(conn, body, **params)


def test_route_check_needs_a_role_that_may_read_hazards(conn) -> None:
    with pytest.raises(Forbidden, match="partner or above"):
        route(conn, {"type": "LineString", "coordinates": road()}, role=Role.public)


def test_empty_layers_answer_with_empty_collections(conn) -> None:
    assert nearest(conn, layer_name="facilities", lon=Q[0], lat=Q[1], k=3)["features"] == []
    answer = within(conn, layer_name="facilities", lon=Q[0], lat=Q[1], distance_m=5000)
    assert (answer["features"], answer["summary"]["count"], answer["summary"]["nearest_m"]) == (
        [],
        0,
        None,
    )
