"""Builders and an independent geodesic reference for the analysis tests (and their own checks).

The reference never touches PostGIS: pyproj's Geod (GeographicLib, exact on WGS 84) for
point-to-point, and for point-to-polygon the minimum over each edge taken as a geodesic, found by
sampling the edge and refining the best bracket by golden-section search.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from pyproj import Geod

from layers import REGISTRY

GEOD = Geod(ellps="WGS84")
DEFAULTS: dict[str, dict[str, Any]] = {
    "hazard_areas": {"hazard_type": "AP_mine", "status": "confirmed", "recorded_on": "2023-01-01"},
    "outreach_sessions": {"held_on": "2025-05-01"},
    "villages": {"name": "village"},
    "districts": {"name": "District", "code": "AZ.XX"},
    "facilities": {"facility_type": "school", "name": "school"},
    "distributions": {"distributed_on": "2025-05-01", "item_category": "food"},
}
_ids = itertools.count(1)


def add(conn: sa.Connection, layer: str, geometry: shapely.Geometry, **properties: Any) -> int:
    """Insert one live feature straight into a layer's table; returns its id."""
    spec = REGISTRY[layer]
    if spec.geometry_type == "MultiPolygon" and geometry.geom_type == "Polygon":
        geometry = shapely.MultiPolygon([geometry])
    values = {**DEFAULTS[layer], **properties}
    return conn.execute(
        sa.insert(spec.table)
        .values(
            external_id=f"test:{layer}:{next(_ids)}",
            source="test",
            geom=sa.func.ST_GeomFromText(geometry.wkt, 4326),
            **values,
        )
        .returning(spec.table.c.id)
    ).scalar_one()


def moved(lon: float, lat: float, azimuth_deg: float, distance_m: float) -> tuple[float, float]:
    x, y, _ = GEOD.fwd(lon, lat, azimuth_deg, distance_m)
    return float(x), float(y)


def blob(
    lon: float, lat: float, radius_m: float, vertices: int = 8, turn_deg: float = 0.0
) -> shapely.Polygon:
    """A convex polygon whose vertices lie `radius_m` (geodesic) around a centre."""
    ring = [moved(lon, lat, turn_deg + 360.0 * i / vertices, radius_m) for i in range(vertices)]
    return shapely.Polygon(ring)


def box_north_of(
    lon: float, lat: float, gap_m: float, width_m: float = 200.0, depth_m: float = 200.0
) -> shapely.Polygon:
    """A small box whose southern edge is centred `gap_m` due north of the point.

    The point's nearest point of the box is then the middle of that edge, at `gap_m` (a short
    edge differs from the parallel through its middle by well under a millimetre).
    """
    mid = moved(lon, lat, 0.0, gap_m)
    sw, se = moved(*mid, 270.0, width_m / 2), moved(*mid, 90.0, width_m / 2)
    nw, ne = moved(*sw, 0.0, depth_m), moved(*se, 0.0, depth_m)
    return shapely.Polygon([sw, se, ne, nw])


def point_point_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


def _edge_m(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    azimuth, _, length = GEOD.inv(a[0], a[1], b[0], b[1])
    if length == 0:
        return point_point_m(p, a)

    def at(s: np.ndarray) -> np.ndarray:
        x, y, _ = GEOD.fwd(
            np.full_like(s, a[0]), np.full_like(s, a[1]), np.full_like(s, azimuth), s
        )
        return GEOD.inv(np.full_like(s, p[0]), np.full_like(s, p[1]), x, y)[2]

    s = np.linspace(0.0, length, 65)
    d = at(s)
    i = int(np.argmin(d))
    lo, hi = s[max(i - 1, 0)], s[min(i + 1, len(s) - 1)]
    golden = (np.sqrt(5) - 1) / 2
    for _ in range(60):
        m1, m2 = hi - golden * (hi - lo), lo + golden * (hi - lo)
        f1, f2 = at(np.array([m1, m2]))
        if f1 <= f2:
            hi = m2
        else:
            lo = m1
    return float(min(d.min(), at(np.array([(lo + hi) / 2]))[0]))


def point_polygon_m(p: tuple[float, float], polygon: shapely.Polygon) -> float:
    """Geodesic metres from a point to a polygon: 0 inside, else to the nearest edge."""
    if polygon.covers(shapely.Point(p)):
        return 0.0
    coords = list(polygon.exterior.coords)
    return min(_edge_m(p, a, b) for a, b in itertools.pairwise(coords))


def close(actual: float, expected: float) -> bool:
    """The issue's tolerance: 0.5 m or 0.01 %."""
    return abs(actual - expected) <= max(0.5, 1e-4 * expected)


# --- the reference's own checks ------------------------------------------------------------------


def test_box_north_of_is_at_the_gap_from_the_point() -> None:
    box = box_north_of(47.0, 40.0, 1990.0)
    assert point_polygon_m((47.0, 40.0), box) == pytest.approx(1990.0, abs=0.01)


def test_point_inside_a_blob_is_at_zero_and_outside_at_its_edge() -> None:
    shape = blob(46.9, 39.9, 500.0, vertices=12)
    assert point_polygon_m((46.9, 39.9), shape) == 0.0
    outside = moved(46.9, 39.9, 15.0, 1500.0)  # 15°: a vertex is at 0°/30°, the edge between
    assert point_polygon_m(outside, shape) == pytest.approx(
        1500.0 - 500.0 * np.cos(np.radians(15.0)), abs=0.5
    )
