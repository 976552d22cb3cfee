"""Coverage, within and nearest through PostGIS on adversarial shapes, against the pyproj oracle:
decisions right for every threshold more than 2.5 cm away, distances within 1.5 cm (answers are
rounded to the centimetre), bearings within 1°."""

from __future__ import annotations

import json

import shapely
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gis.analysis.answers import CoverageAsk, coverage_answer, nearest_answer, within_answer
from gis.settings import AnalysisSettings
from gis.spec import Role
from layers import REGISTRY

from . import map_packed
from .geodesic_oracle import GEOD, SHAPES, angle_between, reference, square
from .test_analysis_geo import add

SETTINGS = AnalysisSettings(rasters={})
CHECKED = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@CHECKED
@given(case=SHAPES, offset=st.floats(0.025, 0.3), side=st.sampled_from([1.0, -1.0]))
def test_coverage_within_and_nearest_on_adversarial_shapes(
    conn: sa.Connection, case, offset: float, side: float
) -> None:
    (lon, lat), shape = case
    expected, azimuth = reference(lon, lat, shape)
    threshold = round(max(1.0, expected + side * offset), 3)
    savepoint = conn.begin_nested()
    try:
        add(conn, "villages", shapely.Point(lon, lat), name="here")
        add(conn, "hazard_areas", shape)
        coverage = json.loads(
            coverage_answer(
                conn,
                REGISTRY,
                SETTINGS,
                Role.admin,
                CoverageAsk(risk_within_m=threshold, status="all"),
            ).body
        )
        within = json.loads(
            within_answer(
                conn,
                REGISTRY,
                SETTINGS,
                Role.admin,
                layer_name="hazard_areas",
                distance_m=threshold,
                max_limit=10,
                limit=10,
                lon=lon,
                lat=lat,
            )
        )
        nearest = json.loads(
            nearest_answer(
                conn,
                REGISTRY,
                SETTINGS,
                Role.admin,
                layer_name="hazard_areas",
                k=1,
                lon=lon,
                lat=lat,
            )
        )
    finally:
        savepoint.rollback()
    inside = expected <= threshold
    [village] = coverage["features"]
    assert village["properties"]["at_risk"] is inside
    assert within["summary"]["count"] == (1 if inside else 0)
    [found] = nearest["features"]
    assert abs(found["properties"]["distance_m"] - expected) <= 0.015
    if inside:
        assert abs(village["properties"]["nearest_hazard_m"] - expected) <= 0.015
    if expected > 1.0 and found["properties"]["bearing_deg"] is not None:
        bearing = found["properties"]["bearing_deg"]
        # A tie (a hole's ring seen from its centre) may point at another nearest point.
        tie = shape.geom_type == "Polygon" and len(shape.interiors) > 0
        assert tie or angle_between(bearing, azimuth) <= 1.0, (bearing, azimuth)


def test_visit_map_distances_are_the_analyses_distances_for_a_two_part_hazard(conn) -> None:
    # Due north at 3,000 m, due east at 3,006 m: the sphere ranks the eastern part nearer.
    from gis.maps.nearby import Place, visit

    lon, lat = 47.1, 40.3
    north = GEOD.fwd(lon, lat, 0, 3000 + 50)[:2]
    east = GEOD.fwd(lon, lat, 90, 3006 + 50)[:2]
    shape = shapely.MultiPolygon([square(*north, 100.0), square(*east, 100.0)])
    expected, _ = reference(lon, lat, shape)
    add(conn, "hazard_areas", shape)
    found = visit(conn, REGISTRY, Role.admin, Place(lon, lat), 5000.0)
    assert found.active_within == 1
    assert found.nearest_active_m is not None and abs(found.nearest_active_m - expected) <= 0.01
    [hazards] = [layer for layer in found.selection.layers if layer.spec.name == "hazard_areas"]
    [feature] = map_packed.features(hazards)
    assert feature["properties"]["distance"] == f"{expected / 1000:,.1f} km"
