"""Exposure's point-within-distance decisions against an independent geodesic oracle.

The oracle knows nothing of the projection or of gis/analysis/geodesic.py: a point inside (or on)
a polygon, by shapely in lon/lat, is at 0 m; else its distance is the least pyproj geodesic
distance to the polygon's boundary densified in lon/lat every `ORACLE_STEP_DEG` — points that lie
on the true (lon/lat-straight) edges, so the oracle is never below the truth and at most
piece^2 / (8 d) above it (under 3 mm at the distances drawn here). Points within `CLOSE_M` of the
threshold are too close for the oracle to call and are left out of the comparison.
"""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from gis.analysis.exposure_cells import within_any

GEOD = Geod(ellps="WGS84")
ORACLE_STEP_DEG = 1e-5  # about a metre
COARSE_DEG = 1e-3
CLOSE_M = 0.02


def oracle_m(lonlat: np.ndarray, geometry: shapely.Geometry) -> np.ndarray:
    inside = shapely.covers(geometry, shapely.points(lonlat))
    # Coarse pieces first; only those that may hold a nearer point (triangle inequality: no point
    # of a piece is nearer than (d_a + d_b - its length) / 2) are densified and measured.
    coarse = shapely.segmentize(shapely.boundary(geometry), COARSE_DEG)
    pieces = [
        np.asarray(line.coords)[:, :2] for line in shapely.get_parts(coarse)
    ]  # each line's vertices in order
    a = np.concatenate([p[:-1] for p in pieces])
    b = np.concatenate([p[1:] for p in pieces])
    # A lon/lat-straight piece this short is longer than its geodesic chord by far under 0.1 %.
    length = 1.001 * GEOD.inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])[2]
    out = np.zeros(len(lonlat))
    for i, (lon, lat) in enumerate(lonlat):
        if inside[i]:
            continue
        n = len(a)
        da = GEOD.inv(np.full(n, lon), np.full(n, lat), a[:, 0], a[:, 1])[2]
        db = GEOD.inv(np.full(n, lon), np.full(n, lat), b[:, 0], b[:, 1])[2]
        best = min(da.min(), db.min())
        maybe = (da + db - length) / 2 <= best
        fine = shapely.get_coordinates(
            shapely.segmentize(shapely.linestrings(np.stack([a[maybe], b[maybe]], axis=1)),
                               ORACLE_STEP_DEG)
        )  # fmt: skip
        m = len(fine)
        out[i] = min(
            best, np.min(GEOD.inv(np.full(m, lon), np.full(m, lat), fine[:, 0], fine[:, 1])[2])
        )
    return out


def moved(lon: float, lat: float, azimuth: float, metres: float) -> tuple[float, float]:
    x, y, _ = GEOD.fwd(lon, lat, azimuth, metres)
    return float(x), float(y)


def l_shape(lon: float, lat: float, arm_m: float, width_m: float, turn: float) -> shapely.Polygon:
    """A concave L: two arms of `arm_m` and `width_m`, at right angles."""
    o = (lon, lat)
    a = moved(*o, turn, arm_m)
    b = moved(*o, turn + 90, arm_m)
    a_in = moved(*a, turn + 90, width_m)
    b_in = moved(*b, turn, width_m)
    corner = moved(*moved(*o, turn, width_m), turn + 90, width_m)
    return shapely.Polygon([o, a, a_in, corner, b_in, b])


def band(
    lon: float, lat: float, length_m: float, width_m: float, azimuth: float
) -> shapely.Polygon:
    """A long thin band: two edges of `length_m`, straight in lon/lat (their geodesics bulge)."""
    end = moved(lon, lat, azimuth, length_m)
    return shapely.Polygon(
        [
            (lon, lat),
            end,
            moved(*end, azimuth + 90, width_m),
            moved(lon, lat, azimuth + 90, width_m),
        ]
    )


def holed(lon: float, lat: float, outer_m: float, inner_m: float) -> shapely.Polygon:
    ring = [moved(lon, lat, a, outer_m) for a in range(0, 360, 30)]
    hole = [moved(lon, lat, a, inner_m) for a in range(0, 360, 45)]
    return shapely.Polygon(ring, [hole])


def two_parts(lon: float, lat: float, gap_m: float) -> shapely.MultiPolygon:
    """A long thin part and a small one beyond its middle: for points beside the long part's end,
    the nearer-looking small part is the farther."""
    far = band(*moved(lon, lat, 180, 4000), 8000, 60, 0)
    small = shapely.Polygon([moved(*moved(lon, lat, 90, gap_m), a, 40) for a in (0, 120, 240)])
    return shapely.MultiPolygon([far, small])


SHAPES = st.one_of(
    st.builds(
        l_shape,
        st.just(0.0),
        st.just(0.0),
        st.floats(300, 3000),
        st.floats(30, 290),
        st.floats(0, 360),
    ),
    st.builds(
        band,
        st.just(0.0),
        st.just(0.0),
        st.floats(8000, 30000),
        st.floats(20, 200),
        st.floats(0, 360),
    ),
    st.builds(holed, st.just(0.0), st.just(0.0), st.floats(3000, 6000), st.floats(1500, 2600)),
    st.builds(two_parts, st.just(0.0), st.just(0.0), st.floats(200, 3000)),
)


def placed(shape: shapely.Geometry, lon: float, lat: float) -> shapely.Geometry:
    """The shape (drawn around 0, 0) shifted in lon/lat to (lon, lat): its edges stay straight in
    lon/lat (east-west lengths shrink by cos(lat); the shapes need no exact size)."""
    return shapely.transform(shape, lambda xy: xy + np.array([lon, lat]))


def near_threshold(
    shape: shapely.Geometry, within_m: float, offsets: list[float], seed: int
) -> np.ndarray:
    """Points at about `within_m` from the shape: from points of its boundary (interpolated in
    lon/lat, so on a true edge) moved outward by within_m + offset in random directions, plus a
    few scattered around it; the oracle decides the truth."""
    rng = np.random.default_rng(seed)
    boundary = shapely.boundary(shape)
    pts = []
    for offset in offsets:
        on = shapely.line_interpolate_point(boundary, rng.uniform(0, 1), normalized=True)
        pts.append(moved(on.x, on.y, rng.uniform(0, 360), within_m + offset))
    c = shape.centroid
    for _ in range(20):
        pts.append(moved(c.x, c.y, rng.uniform(0, 360), rng.uniform(0, 8000)))
    return np.asarray(pts)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)  # fmt: skip
@given(
    shapes=st.lists(SHAPES, min_size=1, max_size=3),
    within_m=st.floats(100, 5000),
    offsets=st.lists(
        st.floats(-3.0, 3.0).filter(lambda o: abs(o) > CLOSE_M), min_size=20, max_size=40
    ),
    seed=st.integers(0, 2**16),
)
def test_decisions_match_the_geodesic_oracle_on_adversarial_shapes(
    shapes: list[shapely.Geometry], within_m: float, offsets: list[float], seed: int
) -> None:
    # Shapes at both ends of Azerbaijan's breadth, so the projection is centred ~2.8° from them
    # (scale off by ~7e-4: 0.7 m at 1 km, far more than the offsets drawn).
    rng = np.random.default_rng(seed)
    sites = [(44.9 + 5.4 * (i % 2), 38.6 + rng.uniform(0, 3.2)) for i in range(len(shapes))]
    geoms = [placed(s, lon, lat) for s, (lon, lat) in zip(shapes, sites, strict=True)]
    points = np.concatenate(
        [near_threshold(g, within_m, offsets, seed + i) for i, g in enumerate(geoms)]
    )
    truth = np.min([oracle_m(points, g) for g in geoms], axis=0)
    decided = np.abs(truth - within_m) > CLOSE_M
    got = within_any(points, geoms, within_m)
    assert np.array_equal(got[decided], truth[decided] <= within_m)


def test_points_just_inside_and_outside_a_long_edge_follow_the_lon_lat_edge() -> None:
    # A 20 km edge along the parallel 40° N (the band lies south of it): the geodesic between its
    # ends bulges ~6.6 m north of it at the middle, so a great-circle edge would put both in.
    edge = shapely.box(47.0, 39.99, 47.2347, 40.0)
    # Points due north of the middle of the lon/lat-straight edge, at 1 km ± 0.1 m.
    points = np.array([moved(47.11735, 40.0, 0, 1000 + o) for o in (-0.1, 0.1)])
    truth = oracle_m(points, edge)
    assert truth[0] < 1000 < truth[1]
    assert within_any(points, [edge], 1000.0).tolist() == [True, False]


def test_nothing_in_reach_and_nothing_to_reach() -> None:
    far = np.array([[47.0, 40.0]])
    assert within_any(far, [band(48.0, 40.0, 1000, 100, 90)], 1000.0).tolist() == [False]
    assert within_any(far, [], 1000.0).tolist() == [False]
    assert within_any(np.zeros((0, 2)), [band(48.0, 40.0, 1000, 100, 90)], 1000.0).tolist() == []
