"""The distance engine against an independent oracle (pyproj Geod + shapely) on adversarial shapes.

Distances within 1 cm (the engine promises 5 mm, the oracle about 1 mm), bearings within 1°,
the proven lower bound never above the oracle, and threshold decisions right for every pair more
than 2 cm from the threshold.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gis.analysis.geodesic import measure, measure_from, measure_one

from .geodesic_oracle import (
    GEOD,
    SHAPES,
    angle_between,
    bands,
    holes,
    l_shapes,
    long_edges,
    reference,
    two_parts,
)

CHECKED = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _agrees(case: tuple[tuple[float, float], shapely.Geometry]) -> None:
    (lon, lat), shape = case
    expected, azimuth = reference(lon, lat, shape)
    got = measure_one(lon, lat, shape)
    assert abs(got.distance_m[0] - expected) <= 0.01, (got.distance_m[0], expected)
    assert got.lower_m[0] <= expected + 0.002
    assert got.distance_m[0] >= expected - 0.002  # an upper bound: a true point of the edge
    if expected > 1.0 and angle_between(got.azimuth_deg[0], azimuth) > 1.0:
        # Only a tie may point elsewhere: the engine's point is then on the edge and as near.
        found = shapely.Point(got.lon[0], got.lat[0])
        assert shapely.distance(found, shape.boundary) < 1e-9
        az, _, metres = GEOD.inv(lon, lat, got.lon[0], got.lat[0])
        assert abs(metres - expected) <= 0.01 and angle_between(az % 360, got.azimuth_deg[0]) < 1e-6
    else:
        assert expected > 0 or math.isnan(got.azimuth_deg[0])


@CHECKED
@given(two_parts())
def test_two_parts_the_truly_nearer_part_wins(case: tuple) -> None:
    _agrees(case)


@CHECKED
@given(bands())
def test_thin_bands(case: tuple) -> None:
    _agrees(case)


@CHECKED
@given(l_shapes())
def test_l_shapes_seen_from_anywhere(case: tuple) -> None:
    _agrees(case)


@CHECKED
@given(long_edges())
def test_twenty_km_edges_are_straight_in_lon_lat(case: tuple) -> None:
    _agrees(case)


@CHECKED
@given(holes())
def test_inside_a_hole_the_ring_is_the_nearest_ground(case: tuple) -> None:
    _agrees(case)


@CHECKED
@given(SHAPES, st.floats(0.021, 0.2), st.sampled_from([1.0, -1.0]))
def test_decisions_a_few_centimetres_from_the_threshold(
    case: tuple, offset: float, side: float
) -> None:
    (lon, lat), shape = case
    expected, _ = reference(lon, lat, shape)
    threshold = max(0.0, expected + side * offset)
    got = measure_one(lon, lat, shape)
    assert (got.distance_m[0] <= threshold) == (expected <= threshold)


def test_a_point_three_metres_inside_a_long_edge_is_inside_and_outside_is_three_metres() -> None:
    # A 20 km east–west edge along 40.5° N: a great circle between its ends bulges ~3.5 m north.
    shape = shapely.box(47.0, 40.5, 47.236, 40.6)
    inside = measure_one(*GEOD.fwd(47.118, 40.5, 0, 3.0)[:2], shape)
    outside = measure_one(*GEOD.fwd(47.118, 40.5, 180, 3.0)[:2], shape)
    assert inside.distance_m[0] == 0.0
    assert abs(outside.distance_m[0] - 3.0) < 0.01


def test_many_pairs_at_once_match_one_at_a_time() -> None:
    rng = np.random.default_rng(9)
    shapes = [shapely.box(47.0, 40.5, 47.05, 40.52), shapely.Point(47.2, 40.6).buffer(0.01)]
    points = rng.uniform([46.9, 40.4], [47.3, 40.7], (40, 2))
    pair_point = np.repeat(np.arange(40), 2)
    pair_geometry = np.tile(np.arange(2), 40)
    batch = measure(points, shapes, pair_point, pair_geometry)
    for i in range(len(pair_point)):
        one = measure_one(*points[pair_point[i]], shapes[pair_geometry[i]])
        assert batch.distance_m[i] == one.distance_m[0]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(SHAPES, min_size=2, max_size=3), st.permutations(range(5)))
def test_one_batch_of_every_family_and_lone_points_agrees_with_the_oracle(
    cases: list, shuffle: list[int]
) -> None:
    # The batch path expands every pair's vertices at once (holes, parts, lone points and
    # lines mixed, geometries shared by pairs in any order): each pair against the oracle.
    shapes: list[shapely.Geometry] = [shape for _, shape in cases]
    shapes += [shapely.Point(*cases[0][0]), shapely.LineString([c[0] for c in cases])]
    points = np.array([c[0] for c in cases])
    pairs = [(p, g) for p in range(len(points)) for g in range(len(shapes))]
    order = sorted(range(len(pairs)), key=lambda i: shuffle[i % len(shuffle)] * len(pairs) + i)
    pair_point = np.array([pairs[i][0] for i in order])
    pair_geometry = np.array([pairs[i][1] for i in order])
    got = measure(points, shapes, pair_point, pair_geometry)
    for k, (p, g) in enumerate(zip(pair_point, pair_geometry, strict=True)):
        shape = shapes[g]
        if shape.geom_type == "Point":  # no edge: the oracle is one geodesic
            expected = GEOD.inv(*points[p], shape.x, shape.y)[2]
        else:
            expected, _ = reference(*points[p], shape)
        assert abs(got.distance_m[k] - expected) <= 0.01, (p, g, got.distance_m[k], expected)
        assert got.lower_m[k] <= expected + 0.002


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SHAPES, st.floats(0, 360), st.floats(20, 60))
def test_a_short_route_is_as_near_as_its_nearest_point(
    case: tuple, azimuth: float, length: float
) -> None:
    (lon, lat), shape = case
    end = GEOD.fwd(lon, lat, azimuth, length)[:2]
    route = shapely.LineString([(lon, lat), end])
    t = np.linspace(0.0, 1.0, int(length / 0.5) + 1)
    samples = [(lon + (end[0] - lon) * s, lat + (end[1] - lat) * s) for s in t]
    expected = min(reference(x, y, shape)[0] for x, y in samples)
    got = measure_from(route, [shape])
    # Sampling the route every 0.5 m overstates the least distance by at most 0.5 m (where the
    # route runs straight at the shape) and the engine by at most 5 mm; never below the truth.
    assert got.lower_m[0] <= expected + 0.002
    assert expected - 0.5 <= got.distance_m[0] <= expected + 0.005
    if expected == 0:
        assert got.distance_m[0] == 0
