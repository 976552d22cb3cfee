"""Geodesic distance on the WGS 84 ellipsoid from points to any geometry, bracketed to a tolerance.

The edge rule: a polygon or line edge is the straight line in longitude/latitude between its
vertices, as GeoJSON (RFC 7946) says and as the maps draw it; a point inside a polygon (lon/lat
point-in-polygon, as the district assignment decides) is 0 m from it. The distance is the least
geodesic distance to any point of the geometry.

How it is bracketed, for a query point P and the distance function f(Q) = geodesic(P, Q)
(GeographicLib through pyproj: accurate to about 15 nanometres):

* Upper bound U: f at a point that lies on the geometry (a vertex, or a lon/lat midpoint of a
  piece of an edge, which lies on that edge). U is a true distance to a true point of the edge.
* Lower bound of a piece from A to B (straight in lon/lat, parameter t in [0, 1]):

  1. Its arc length is at most ``ell = sqrt((M_max dphi)^2 + (C_max dlam)^2)``, with M the
     meridional radius of curvature (largest at the piece's largest |latitude|) and C = N cos(phi)
     the radius of the parallel (largest at its smallest |latitude|): the arc length is the
     integral of ``sqrt(M^2 phi'^2 + C^2 lam'^2)`` with phi', lam' constant, bounded pointwise.
     The same ``ell`` bounds the speed |Q'(t)|.
  2. Triangle inequality: f(Q) >= f(A) - arc(A, Q) and f(Q) >= f(B) - arc(Q, B), so every point of
     the piece is at least ``r_min = (f(A) + f(B) - ell) / 2`` from P.
  3. When r_min > 0, along the piece f''(t) = Hess r(Q', Q') + dr(D_t Q'). The ellipsoid's Gaussian
     curvature is positive, so by the Rauch comparison (m'' + K m = 0 gives (m - r m')' = r K m >= 0)
     the Hessian of the distance r is at most 1/r across the geodesic and 0 along it:
     Hess r(v, v) <= |v|^2 / r_min. The covariant acceleration of the lon/lat-linear
     parametrisation, from the Christoffel symbols of ds^2 = M^2 dphi^2 + C^2 dlam^2, is at most
     ``sqrt(2) (|tan phi|_max + 0.01012) |Q'|^2 / M_min`` (the terms M_phi/M <= 1.5 e^2/(1 - e^2)
     and N_phi/N - tan phi bound every symbol), with M_min = a (1 - e^2). So f'' <= K with
     ``K = ell^2 (1 / r_min + sqrt(2) (|tan phi|_max + 0.01012) / M_min)``. Then
     f(t) - [(1 - t) f(A) + t f(B)] + K t (1 - t) / 2 is concave and 0 at both ends, hence >= 0:
     every point of the piece is at least ``min over t of (1 - t) f(A) + t f(B) - K t (1 - t) / 2``.

  The piece's lower bound is the larger of 2 and 3 (3 is second order: about ell^2 / (8 r) below
  the truth, where 2 is ell / 2). Assumptions: distances under 1,000 km (no cut locus, no conjugate
  point, within |latitude| < 89.9°), edges that do not cross the antimeridian.
* Pieces are halved (at their lon/lat midpoint) while their lower bound is below U - tol; a piece
  whose lower bound is at least U can hold no nearer point and is dropped. When no piece is left
  to halve, the least lower bound L satisfies U - tol <= L <= true distance <= U.

So the reported distance U is never below the truth and at most `tol` above it, with
tol = clip(2e-5 × U, 10 µm, 5 mm): within 1 m and 0.05 % as the issue asks, and a decision
``U <= threshold`` is right for every pair further than 5 mm from the threshold. The azimuth is
the geodesic azimuth from P to the point that gave U; where one point is nearest, a point within
tol of its distance is within sqrt(2 tol / r) radians of it (0.36°).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
import shapely.ops
from pyproj import Geod

GEOD = Geod(ellps="WGS84")
A_M = 6378137.0
E2 = 0.0066943799901413165
M_MIN = A_M * (1 - E2)  # the least meridional radius of curvature (at the equator)
CHRISTOFFEL = 0.01012  # >= 1.5 e^2 / (1 - e^2), the largest |M_phi / M|
MAX_LAT_RAD = np.radians(89.9)
MAX_ROUNDS = 80


def tolerance_m(distance_m: np.ndarray) -> np.ndarray:
    """How far above the least distance a reported distance may lie (see the module's proof)."""
    return np.clip(2e-5 * distance_m, 1e-5, 0.005)


@dataclass(frozen=True)
class Measured:
    """Per pair: the reported distance (an upper bound), a proven lower bound, and the point of the
    geometry that gave the distance with the geodesic azimuth to it (NaN at 0 m)."""

    distance_m: np.ndarray
    lower_m: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    azimuth_deg: np.ndarray


def _rings(geometry: shapely.Geometry) -> list[np.ndarray]:
    """The vertex sequences whose consecutive pairs are the geometry's edges (a lone point is a
    one-vertex sequence): polygon rings (holes too), lines, points."""
    out: list[np.ndarray] = []
    for part in shapely.get_parts(geometry):
        kind = part.geom_type
        if kind == "Polygon":
            out.append(np.asarray(part.exterior.coords)[:, :2])
            out += [np.asarray(r.coords)[:, :2] for r in part.interiors]
        elif kind == "LineString" or kind == "LinearRing":
            out.append(np.asarray(part.coords)[:, :2])
        elif kind == "Point":
            out.append(np.asarray(part.coords)[:, :2])
        else:  # a collection: its members
            out += _rings(part)
    return out


def _vertices(geometries: Sequence[shapely.Geometry]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_rings` of many geometries at once, concatenated: the vertices (lon, lat), the index of
    the geometry each belongs to, and whether each is followed by the next vertex of its
    sequence (the start of a piece). Geometry by geometry, part by part, a polygon's exterior
    before its holes: the order `_rings` gives, so ties between equal distances fall alike."""
    parts, owner = shapely.get_parts(np.asarray(geometries, dtype=object), return_index=True)
    while True:  # a collection's members may themselves be multipart
        kinds = shapely.get_type_id(parts)
        nested = kinds >= 4
        if not nested.any():
            break
        inner, at = shapely.get_parts(parts[nested], return_index=True)
        order = np.argsort(
            np.concatenate([np.nonzero(~nested)[0], np.nonzero(nested)[0][at]]), kind="stable"
        )
        parts = np.concatenate([parts[~nested], inner])[order]
        owner = np.concatenate([owner[~nested], owner[nested][at]])[order]
    polygon = kinds == 3
    rings, ring_part = shapely.get_rings(parts[polygon], return_index=True)
    part_index = np.arange(len(parts))
    sequences = np.concatenate([rings, parts[~polygon]])
    sequence_part = np.concatenate([part_index[polygon][ring_part], part_index[~polygon]])
    order = np.argsort(sequence_part, kind="stable")
    sequences, sequence_part = sequences[order], sequence_part[order]
    xy, sequence = shapely.get_coordinates(sequences, return_index=True)
    piece = np.zeros(len(xy), dtype=bool)
    piece[:-1] = sequence[:-1] == sequence[1:]
    return xy, owner[sequence_part[sequence]], piece


def _pair_vertices(
    geometries: Sequence[shapely.Geometry], pair_geometry: np.ndarray, todo: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the pairs `todo`, in order: each vertex of the pair's geometry with the pair it
    belongs to, and the positions where a piece starts (its end is the next vertex)."""
    if not len(todo):
        return np.zeros(0, dtype=int), np.zeros((0, 2)), np.zeros(0, dtype=int)
    used, local = np.unique(pair_geometry[todo], return_inverse=True)
    xy, owner, piece = _vertices([geometries[g] for g in used])
    counts = np.bincount(owner, minlength=len(used))
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    per_pair = counts[local]
    total = int(per_pair.sum())
    # vertex k of the expansion is vertex first[g] + (k - where its pair's run began)
    begins = np.concatenate([[0], np.cumsum(per_pair)[:-1]])
    index = np.repeat(first[local] - begins, per_pair) + np.arange(total)
    vp = np.repeat(todo, per_pair)
    return vp, xy[index], np.nonzero(piece[index])[0]


def _arc_bound(ay: np.ndarray, by: np.ndarray, dlam: np.ndarray) -> np.ndarray:
    """Upper bound of the arc length (and speed) of lon/lat-straight pieces (proof, step 1)."""
    pa, pb = np.radians(ay), np.radians(by)
    hi = np.minimum(np.maximum(np.abs(pa), np.abs(pb)), MAX_LAT_RAD)
    lo = np.where(pa * pb <= 0, 0.0, np.minimum(np.abs(pa), np.abs(pb)))
    m_max = A_M * (1 - E2) / (1 - E2 * np.sin(hi) ** 2) ** 1.5
    c_max = A_M * np.cos(lo) / np.sqrt(1 - E2 * np.sin(lo) ** 2)
    return np.hypot(m_max * (pb - pa), c_max * np.radians(dlam))


def _lower(
    ay: np.ndarray, by: np.ndarray, dlam: np.ndarray, fa: np.ndarray, fb: np.ndarray
) -> np.ndarray:
    """A proven lower bound of the distance from P to every point of each piece (steps 2, 3)."""
    ell = _arc_bound(ay, by, dlam)
    r_min = (fa + fb - ell) / 2
    hi = np.minimum(np.maximum(np.abs(np.radians(ay)), np.abs(np.radians(by))), MAX_LAT_RAD)
    curve = np.sqrt(2.0) * (np.tan(hi) + CHRISTOFFEL) / M_MIN
    with np.errstate(divide="ignore", invalid="ignore"):
        k = ell**2 * (1 / r_min + curve)
        t = np.clip(0.5 - (fb - fa) / k, 0.0, 1.0)
        quadratic = (1 - t) * fa + t * fb - k * t * (1 - t) / 2
    quadratic = np.where((r_min > 0) & np.isfinite(quadratic), quadratic, -np.inf)
    return np.maximum(np.maximum(r_min, quadratic), 0.0)


def measure(
    points: np.ndarray,
    geometries: Sequence[shapely.Geometry],
    pair_point: np.ndarray,
    pair_geometry: np.ndarray,
) -> Measured:
    """Distances for pairs (point index, geometry index); `points` is an (n, 2) lon/lat array."""
    n = len(pair_point)
    px, py = points[pair_point, 0], points[pair_point, 1]
    upper = np.full(n, np.inf)
    best = np.full((n, 3), np.nan)  # lon, lat, azimuth
    if n == 0:
        return Measured(upper, upper.copy(), best[:, 0], best[:, 1], best[:, 2])
    polygonal = np.array([g.geom_type in ("Polygon", "MultiPolygon") for g in geometries])
    # A point inside (or on) a polygon is 0 m away: lon/lat point-in-polygon, the edge rule.
    inside = np.zeros(n, dtype=bool)
    poly_pairs = np.nonzero(polygonal[pair_geometry])[0]
    if len(poly_pairs):
        geoms = np.asarray(geometries, dtype=object)[pair_geometry[poly_pairs]]
        inside[poly_pairs] = shapely.intersects(
            geoms, shapely.points(points[pair_point[poly_pairs]])
        )
    upper[inside] = 0.0
    best[inside, 0], best[inside, 1] = px[inside], py[inside]

    # Every vertex of every (outside) pair, and the pieces between consecutive vertices.
    todo = np.nonzero(~inside)[0]
    vp, xy, starts = _pair_vertices(geometries, pair_geometry, todo)
    if len(vp):
        az, _, dist = GEOD.inv(px[vp], py[vp], xy[:, 0], xy[:, 1])
        dist, az = np.asarray(dist), np.asarray(az)
        _improve(upper, best, vp, xy[:, 0], xy[:, 1], dist, az)
        pair = vp[starts]
        ax, ay, bx, by = xy[starts, 0], xy[starts, 1], xy[starts + 1, 0], xy[starts + 1, 1]
        fa, fb = dist[starts], dist[starts + 1]
    else:
        pair = np.zeros(0, dtype=int)
        ax = ay = bx = by = fa = fb = np.zeros(0)
    settled = np.full(n, np.inf)
    for _ in range(MAX_ROUNDS):
        if not len(pair):
            break
        low = _lower(ay, by, bx - ax, fa, fb)
        tol = tolerance_m(upper[pair])
        halve = low < upper[pair] - tol
        keep = ~halve & (low < upper[pair])
        np.minimum.at(settled, pair[keep], low[keep])
        pair, ax, ay, bx, by, fa, fb = (v[halve] for v in (pair, ax, ay, bx, by, fa, fb))
        mx, my = (ax + bx) / 2, (ay + by) / 2
        az, _, fm = GEOD.inv(px[pair], py[pair], mx, my)
        fm, az = np.asarray(fm), np.asarray(az)
        _improve(upper, best, pair, mx, my, fm, az)
        pair = np.concatenate([pair, pair])
        ax, ay = np.concatenate([ax, mx]), np.concatenate([ay, my])
        bx, by = np.concatenate([mx, bx]), np.concatenate([my, by])
        fa, fb = np.concatenate([fa, fm]), np.concatenate([fm, fb])
    if len(pair):  # not settled within MAX_ROUNDS: keep the honest lower bound
        np.minimum.at(settled, pair, _lower(ay, by, bx - ax, fa, fb))
    lower = np.minimum(upper, settled)
    best[upper == 0, 2] = np.nan
    return Measured(upper, lower, best[:, 0], best[:, 1], np.mod(best[:, 2], 360.0))


def _improve(
    upper: np.ndarray,
    best: np.ndarray,
    pair: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    dist: np.ndarray,
    az: np.ndarray,
) -> None:
    """Lower each pair's upper bound to the least new distance, remembering where it was found."""
    if not len(pair):
        return
    order = np.lexsort((dist, pair))
    first = np.ones(len(order), dtype=bool)
    first[1:] = pair[order][1:] != pair[order][:-1]
    chosen = order[first]
    better = dist[chosen] < upper[pair[chosen]]
    chosen = chosen[better]
    idx = pair[chosen]
    upper[idx] = dist[chosen]
    best[idx, 0], best[idx, 1], best[idx, 2] = x[chosen], y[chosen], az[chosen]


def measure_one(lon: float, lat: float, geometry: shapely.Geometry) -> Measured:
    """The distance from one point to one geometry."""
    zero = np.zeros(1, dtype=int)
    return measure(np.array([[lon, lat]]), [geometry], zero, zero)


def measure_from(a: shapely.Geometry, others: Sequence[shapely.Geometry]) -> Measured:
    """The distance between geometry `a` (a point, a line or a polygon) and each of `others`; the
    point reported lies on `a` (where `a` comes nearest, or first meets the other).

    For a line or polygon `a`, the distance to another geometry B is the least of D_B over `a`'s
    edges (0 when they meet, by lon/lat intersection: the edge rule). D_B is 1-Lipschitz, and
    along a lon/lat-straight piece of `a` it is a least of distances r_Q, each of which obeys the
    bound of the module's step 3 — so the same piece lower bound holds with the proven lower
    bounds of D_B at the piece's ends in place of f(A) and f(B) (a lower value at an end only
    lowers the bound). Pieces of `a` are halved as in `measure`, each new point measured by it.
    """
    n = len(others)
    if a.geom_type == "Point":
        return measure(
            np.array([[a.x, a.y]]), others, np.zeros(n, dtype=int), np.arange(n, dtype=int)
        )
    upper, settled = np.full(n, np.inf), np.full(n, np.inf)
    best = np.full((n, 3), np.nan)
    if n == 0:
        return Measured(upper, upper.copy(), best[:, 0], best[:, 1], best[:, 2])
    meets = shapely.intersects(np.asarray(others, dtype=object), a)
    for m in np.nonzero(meets)[0].tolist():
        first = _first_point(a, shapely.intersection(a, others[m]))
        upper[m], best[m, 0], best[m, 1] = 0.0, first[0], first[1]
    apart = np.nonzero(~meets)[0]
    rings = _rings(a)
    vertices = np.concatenate(rings)
    starts = np.concatenate(
        [np.arange(o, o + len(r) - 1) for o, r in zip(np.cumsum([0, *map(len, rings[:-1])]), rings)]
    )
    if len(apart):
        # Cheap bounds first, from lon/lat-plane distances (search_degrees' proof, with a band
        # of 0.2 rad, more than the 1,000 km cap; and an upper bound by the lon/lat-straight path
        # to the plane's nearest point, whose radii are at most M(90°) and a): only the vertices
        # that may come nearest are measured, the others keep the cheap lower bound.
        plane = shapely.distance(
            shapely.points(vertices)[None, :], np.asarray(others, dtype=object)[apart][:, None]
        )
        lat = min(MAX_LAT_RAD, float(np.max(np.abs(np.radians(vertices[:, 1])))) + 0.2)
        low_at = np.radians(plane) * min(M_MIN, A_M * np.cos(lat))
        high = np.radians(plane) * A_M / np.sqrt(1 - E2)
        chosen = np.nonzero(low_at <= high.min(axis=1, keepdims=True))
        at = measure(vertices, others, chosen[1], apart[chosen[0]])
        _improve(
            upper,
            best,
            apart[chosen[0]],
            vertices[chosen[1], 0],
            vertices[chosen[1], 1],
            at.distance_m,
            np.full(len(chosen[0]), np.nan),
        )
        low_at[chosen] = at.lower_m
        j = np.repeat(apart, len(starts))
        s = np.tile(starts, len(apart))
        rows = np.repeat(np.arange(len(apart)), len(starts))
        ax, ay, bx, by = vertices[s, 0], vertices[s, 1], vertices[s + 1, 0], vertices[s + 1, 1]
        la, lb = low_at[rows, s], low_at[rows, s + 1]
    else:
        j = np.zeros(0, dtype=int)
        ax = ay = bx = by = la = lb = np.zeros(0)
    for _ in range(MAX_ROUNDS):
        if not len(j):
            break
        low = _lower(ay, by, bx - ax, la, lb)
        tol = tolerance_m(upper[j])
        halve = low < upper[j] - tol
        keep = ~halve & (low < upper[j])
        np.minimum.at(settled, j[keep], low[keep])
        j, ax, ay, bx, by, la, lb = (v[halve] for v in (j, ax, ay, bx, by, la, lb))
        mx, my = (ax + bx) / 2, (ay + by) / 2
        mid = measure(np.column_stack([mx, my]), others, np.arange(len(j)), j)
        _improve(upper, best, j, mx, my, mid.distance_m, np.full(len(j), np.nan))
        j = np.concatenate([j, j])
        ax, ay = np.concatenate([ax, mx]), np.concatenate([ay, my])
        bx, by = np.concatenate([mx, bx]), np.concatenate([my, by])
        la, lb = np.concatenate([la, mid.lower_m]), np.concatenate([mid.lower_m, lb])
    if len(j):
        np.minimum.at(settled, j, _lower(ay, by, bx - ax, la, lb))
    return Measured(upper, np.minimum(upper, settled), best[:, 0], best[:, 1], best[:, 2])


def _first_point(a: shapely.Geometry, where: shapely.Geometry) -> tuple[float, float]:
    """Where `a` first meets a geometry (for a line: nearest its start), from their intersection."""
    points = shapely.get_coordinates(where)
    if not len(points):
        point = shapely.get_coordinates(shapely.point_on_surface(where))[0]
        return float(point[0]), float(point[1])
    if a.geom_type in ("LineString", "MultiLineString"):
        along = shapely.line_locate_point(a, shapely.points(points))
        point = points[int(np.argmin(along))]
    else:
        point = points[0]
    return float(point[0]), float(point[1])


def along_m(line: shapely.LineString, lon: float, lat: float) -> float:
    """Geodesic metres along `line` from its start to the point (which lies on it)."""
    coords = np.asarray(line.coords)[:, :2]
    fraction = shapely.line_locate_point(line, shapely.Point(lon, lat))
    cut = shapely.ops.substring(line, 0, fraction) if fraction > 0 else None
    if cut is None or cut.geom_type != "LineString":
        return 0.0
    del coords
    return float(GEOD.line_length(*np.asarray(cut.coords)[:, :2].T))


def search_degrees(distance_m: float, max_abs_lat: float) -> float:
    """A radius in degrees (lon/lat plane) holding every geometry within `distance_m` of a point or
    geometry whose latitudes are at most `max_abs_lat` in absolute value.

    Proof: along a geodesic of length <= d latitude changes by at most d / M_MIN radians
    (dphi/ds <= 1/M), so every parallel it meets has a radius of at least a cos(|lat| + d / M_MIN)
    (N >= a), and every meridional radius is at least M_MIN. Its length, the integral of
    sqrt(M^2 phi'^2 + C^2 lam'^2), is then at least min(M_MIN, that radius) times the lon/lat
    distance of its ends in radians (Minkowski). A geometry with a point within d therefore has a
    point within d / k degrees in the lon/lat plane, where edges are straight: `ST_DWithin` in
    degrees with this radius leaves none out.
    """
    lat = min(np.radians(89.9), np.radians(abs(max_abs_lat)) + distance_m / M_MIN)
    k = np.pi / 180 * min(M_MIN, A_M * np.cos(lat))
    return float(distance_m / k) + 1e-9
