"""An independent reference for distances to lon/lat-straight edges, and adversarial shapes.

The oracle samples every edge as the straight line in longitude/latitude (pyproj's Geod at each
sample, shapely for inside), coarsely, then within a few metres of the least sample finely (1 mm
steps): near the nearest point the distance grows quadratically, so its error is far below a
millimetre for points more than a metre away. It shares nothing with `gis.analysis.geodesic`
but pyproj.

The shapes are the ones that fooled PostGIS geography: two parts where the truly nearer one looks
farther on the sphere, thin bands, L-shapes seen from their notch, 20 km edges, holes.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from hypothesis import strategies as st
from pyproj import Geod

GEOD = Geod(ellps="WGS84")
COARSE_M, FINE_M = 2.0, 0.001


def _edge_samples(ax: float, ay: float, bx: float, by: float, step: float) -> np.ndarray:
    length = GEOD.inv(ax, ay, bx, by)[2]
    t = np.linspace(0.0, 1.0, max(2, int(length / step) + 2))
    return np.column_stack([ax + (bx - ax) * t, ay + (by - ay) * t])


def _edges(geometry: shapely.Geometry) -> list[tuple[float, float, float, float]]:
    out = []
    for part in shapely.get_parts(geometry):
        rings = [part.exterior, *part.interiors] if part.geom_type == "Polygon" else [part]
        for ring in rings:
            c = np.asarray(ring.coords)
            out += [(*c[i, :2], *c[i + 1, :2]) for i in range(len(c) - 1)]
    return out


def reference(lon: float, lat: float, geometry: shapely.Geometry) -> tuple[float, float]:
    """(distance in metres, azimuth in degrees to the nearest sample); (0, nan) inside."""
    if geometry.geom_type.endswith("Polygon") and geometry.intersects(shapely.Point(lon, lat)):
        return 0.0, math.nan
    coarse = []
    for edge in _edges(geometry):
        xy = _edge_samples(*edge, COARSE_M)
        d = GEOD.inv(np.full(len(xy), lon), np.full(len(xy), lat), xy[:, 0], xy[:, 1])[2]
        coarse.append((edge, xy, np.asarray(d)))
    least = min(d.min() for _, _, d in coarse)
    best, azimuth = math.inf, math.nan
    for _edge, xy, d in coarse:
        left = np.r_[np.inf, d[:-1]]
        right = np.r_[d[1:], np.inf]
        for i in np.nonzero((d <= least + COARSE_M) & (d <= left) & (d <= right))[0]:
            lo, hi = max(0, i - 1), min(len(xy) - 1, i + 1)
            fine = _edge_samples(*xy[lo], *xy[hi], FINE_M)
            az, _, fd = GEOD.inv(
                np.full(len(fine), lon), np.full(len(fine), lat), fine[:, 0], fine[:, 1]
            )
            j = int(np.argmin(fd))
            if fd[j] < best:
                best, azimuth = float(fd[j]), float(az[j]) % 360
    return best, azimuth


def angle_between(a: float, b: float) -> float:
    return abs((a - b + 180) % 360 - 180)


def at(lon: float, lat: float, azimuth: float, metres: float) -> tuple[float, float]:
    x, y, _ = GEOD.fwd(lon, lat, azimuth, metres)
    return float(x), float(y)


def square(lon: float, lat: float, side_m: float) -> shapely.Polygon:
    """A square of about `side_m` metres centred on lon/lat."""
    h = side_m / 2
    dx = h / (111_320 * math.cos(math.radians(lat)))
    dy = h / 110_574
    return shapely.box(lon - dx, lat - dy, lon + dx, lat + dy)


lats = st.floats(38.4, 41.9)
lons = st.floats(44.8, 50.6)


@st.composite
def two_parts(draw: st.DrawFn) -> tuple[tuple[float, float], shapely.Geometry]:
    """A point, and two parts: one due north at d, one due east a hair farther (0.05–0.35 %), which
    a sphere ranks nearer (north–south metres are shorter on the ellipsoid than on the sphere at
    these latitudes, east–west ones longer)."""
    lon, lat = draw(lons), draw(lats)
    d = draw(st.floats(200, 9000))
    factor = 1 + draw(st.floats(0.0005, 0.0035))
    side = draw(st.floats(20, 400))
    nx, ny = at(lon, lat, 0, d + side / 2)
    ex, ey = at(lon, lat, 90, d * factor + side / 2)
    parts = [square(nx, ny, side), square(ex, ey, side)]
    return (lon, lat), shapely.MultiPolygon(parts)


@st.composite
def bands(draw: st.DrawFn) -> tuple[tuple[float, float], shapely.Geometry]:
    """A thin band (10–80 m wide, 2–20 km long) at any angle, the point on either side of it."""
    lon, lat = draw(lons), draw(lats)
    azimuth, length = draw(st.floats(0, 180)), draw(st.floats(2000, 20000))
    width = draw(st.floats(10, 80))
    a, b = at(lon, lat, azimuth, length / 2), at(lon, lat, azimuth + 180, length / 2)
    a1, a2 = at(*a, azimuth + 90, width / 2), at(*a, azimuth - 90, width / 2)
    b1, b2 = at(*b, azimuth + 90, width / 2), at(*b, azimuth - 90, width / 2)
    band = shapely.Polygon([a1, a2, b2, b1])
    side = draw(st.sampled_from([90.0, -90.0]))
    along = draw(st.floats(-length / 2, length / 2))
    centre = at(lon, lat, azimuth, along)
    point = at(*centre, azimuth + side, width / 2 + draw(st.floats(1, 6000)))
    return point, band


@st.composite
def l_shapes(draw: st.DrawFn) -> tuple[tuple[float, float], shapely.Geometry]:
    """An L (concave), the point anywhere around it, often in its notch."""
    lon, lat = draw(lons), draw(lats)
    arm, thick = draw(st.floats(500, 8000)), draw(st.floats(30, 400))
    kx, ky = 111_320 * math.cos(math.radians(lat)), 110_574.0
    coords = [(0, 0), (arm, 0), (arm, thick), (thick, thick), (thick, arm), (0, arm)]
    shape = shapely.Polygon([(lon + x / kx, lat + y / ky) for x, y in coords])
    angle = draw(st.floats(0, 360))
    reach = draw(st.floats(thick + 5, arm * 1.5))
    point = at(lon, lat, angle, reach)
    return point, shape


@st.composite
def long_edges(draw: st.DrawFn) -> tuple[tuple[float, float], shapely.Geometry]:
    """A quadrilateral with a 20 km edge in any direction, the point 1 m to 3 km off its middle."""
    lon, lat = draw(lons), draw(lats)
    azimuth = draw(st.floats(0, 360))
    a, b = at(lon, lat, azimuth, 10_000), at(lon, lat, azimuth + 180, 10_000)
    depth = draw(st.floats(200, 5000))
    c, d = at(*b, azimuth - 90, depth), at(*a, azimuth - 90, depth)
    shape = shapely.Polygon([a, b, c, d])
    if not shape.is_valid:
        shape = shapely.Polygon([a, d, c, b])
    t = draw(st.floats(-0.3, 0.3))
    mid = (lon + t * (a[0] - b[0]), lat + t * (a[1] - b[1]))  # on the lon/lat-straight edge
    point = at(*mid, azimuth + 90, draw(st.floats(1, 3000)))
    return point, shape


@st.composite
def holes(draw: st.DrawFn) -> tuple[tuple[float, float], shapely.Geometry]:
    """A polygon with a hole; the point inside the hole (its nearest ground is the hole's ring)."""
    lon, lat = draw(lons), draw(lats)
    outer, inner = draw(st.floats(2000, 9000)), draw(st.floats(200, 1500))
    kx, ky = 111_320 * math.cos(math.radians(lat)), 110_574.0

    def ring(r: float, n: int) -> list[tuple[float, float]]:
        return [
            (
                lon + r * math.cos(2 * math.pi * i / n) / kx,
                lat + r * math.sin(2 * math.pi * i / n) / ky,
            )
            for i in range(n)
        ]

    shape = shapely.Polygon(ring(outer, 12), [ring(inner, draw(st.integers(3, 9)))])
    point = at(lon, lat, draw(st.floats(0, 360)), draw(st.floats(0, inner * 0.45)))
    return point, shape


SHAPES = st.one_of(two_parts(), bands(), l_shapes(), long_edges(), holes())
