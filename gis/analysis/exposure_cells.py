"""Which points (raster cell centres) lie within a geodesic distance of any of some geometries.

The definition is the analyses' own (gis/analysis/geodesic.py): a point is within `d` of a
hazard when the WGS 84 geodesic distance to the nearest point of it is at most `d`; edges are
straight in longitude/latitude; a point inside a polygon is 0 m away. Most points are far from
the threshold, so they are decided in bulk in one local conformal projection, where the distance
is known to within a proven factor; only the points in the thin band the proof cannot decide are
measured by `geodesic.measure`, whose bracket is 5 mm.

The bulk pass, and why it is right. Let T be a transverse Mercator projection on the ellipsoid,
centred on the points (conformal: its scale k is the same in every direction), and
k_lo <= k <= k_hi over the region R = the points' extent grown by the search radius of
`geodesic.search_degrees` (bounded by sampling k on a grid and widening by the largest change
between neighbouring grid nodes, as k is smooth and varies by well under 1e-3 over a country).

* A curve of length s on the ellipsoid inside R has an image of length between k_lo s and k_hi s.
  So for the image p of the point and any point q of a geometry's image, the plane distance
  |p - q| is at most k_hi times their geodesic distance (the image of the geodesic is a curve
  from p to q) and at least k_lo times it (the preimage of the segment [p, q] joins them on the
  ellipsoid), as long as the paths lie in R — which they do for every distance that matters here
  (<= the threshold, whose search radius grew R).
* The geometry's image is drawn with straight edges between the images of its vertices, after
  densifying every edge in lon/lat to pieces of at most `SEGMENT_DEG`. A lon/lat-straight piece of
  arc length <= ell has geodesic curvature <= sqrt(2) (|tan phi|max + 0.01012) / M_min (the
  bound on its covariant acceleration in geodesic.py's proof); a conformal map adds at most
  |grad ln k| to a curve's curvature and scales lengths by <= k_hi. A curve of curvature <= c and
  length L lies within c L^2 / 8 of its chord, so the drawn image is within
  `slack = c (k_hi ell)^2 / 8 + 1 mm` (1 mm: PROJ's transverse Mercator and floating point, both
  far finer) of the true image, and plane distances to the two differ by at most `slack`.

Hence with D the plane distance to the drawn image and d the true geodesic distance:
k_lo d - slack <= D <= k_hi d + slack. A point with D <= k_lo t - slack is within t; a point
with D > k_hi t + slack is not; every other one is measured geodesically. Over Azerbaijan
(k_hi - k_lo ~ 7e-4) the band is about 1.5 m wide at 1 km.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import shapely
from pyproj import CRS, Proj, Transformer

from gis.analysis import geodesic

SEGMENT_DEG = 0.002  # densify edges to pieces of at most this many degrees in lon and in lat
GRID = 65  # nodes per side of the grid on which the projection's scale is bounded
PROJ_SLACK_M = 0.001


def within_any(
    lonlat: np.ndarray, geometries: Sequence[shapely.Geometry], distance_m: float
) -> np.ndarray:
    """Per point of `lonlat` ((n, 2), WGS 84 degrees): is it within `distance_m` geodesic metres
    of any of `geometries` (lon/lat)? True exactly when geodesic.measure's reported distance to
    one of them is at most `distance_m` (its proof: right for every point more than 5 mm from the
    threshold)."""
    n = len(lonlat)
    out = np.zeros(n, dtype=bool)
    if n == 0 or not len(geometries):
        return out
    geoms = np.asarray(geometries, dtype=object)
    # Only the geometries within reach of some point: their bounding boxes grown by a lon/lat
    # radius that leaves none out meet a point.
    max_lat = float(np.max(np.abs(lonlat[:, 1])))
    radius_deg = geodesic.search_degrees(distance_m, max_lat)
    points_ll = shapely.points(lonlat)
    near = np.unique(shapely.STRtree(points_ll).query(_grown(geoms, radius_deg))[0])
    if not len(near):
        return out
    plane = _Plane(lonlat, radius_deg, max_lat)
    drawn = plane.project(_densified(geoms[near]))
    points = plane.project(points_ll)
    surely_in = plane.k_lo * distance_m - plane.slack_m
    maybe_in = plane.k_hi * distance_m + plane.slack_m
    g, p = shapely.STRtree(points).query(_grown(drawn, maybe_in))
    plane_m = shapely.distance(points[p], drawn[g])
    out[p[plane_m <= surely_in]] = True
    band = (plane_m <= maybe_in) & (plane_m > surely_in) & ~out[p]
    if band.any():
        measured = geodesic.measure(lonlat, list(geoms[near]), p[band], g[band])
        out[p[band][measured.distance_m <= distance_m]] = True
    return out


def _grown(geoms: np.ndarray, by: float) -> np.ndarray:
    """The geometries' bounding boxes, grown by `by` on every side."""
    west, south, east, north = shapely.bounds(geoms).T
    return shapely.box(west - by, south - by, east + by, north + by)


def _densified(geoms: np.ndarray) -> np.ndarray:
    """The geometries with every edge cut into pieces of at most SEGMENT_DEG in lon and in lat
    (only those with a longer step between consecutive coordinates are segmentized)."""
    xy, index = shapely.get_coordinates(geoms, return_index=True)
    step = np.abs(np.diff(xy, axis=0)).max(axis=1, initial=0.0)
    long = np.unique(index[1:][(step > SEGMENT_DEG) & (index[1:] == index[:-1])])
    if not len(long):
        return geoms
    out = geoms.copy()
    out[long] = shapely.segmentize(geoms[long], SEGMENT_DEG)
    return out


@functools.lru_cache(maxsize=16)
def _projection(lon0: float, lat0: float) -> tuple[Transformer, Proj]:
    """A transverse Mercator centred on (lon0, lat0), scale 1 there (pyproj's Transformer and Proj
    are safe to share between threads since pyproj 3.1)."""
    crs = CRS.from_proj4(
        f"+proj=tmerc +lat_0={lat0!r} +lon_0={lon0!r} +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m"
    )
    return Transformer.from_crs(4326, crs, always_xy=True), Proj(crs)


class _Plane:
    """A transverse Mercator projection centred on the points, with the proven bounds of its scale
    over the region that matters and the slack of its straight-edged drawing (module docstring)."""

    def __init__(self, lonlat: np.ndarray, radius_deg: float, max_lat: float) -> None:
        west, south = lonlat.min(axis=0) - radius_deg
        east, north = lonlat.max(axis=0) + radius_deg
        south, north = max(south, -89.0), min(north, 89.0)
        # The centre, rounded so that repeated questions reuse one projection: the bounds below
        # are computed for whichever centre is used.
        self._to, proj = _projection(
            round(float(west + east) / 2, 1), round(float(south + north) / 2, 1)
        )
        gx, gy = np.meshgrid(np.linspace(west, east, GRID), np.linspace(south, north, GRID))
        factors = proj.get_factors(gx, gy)
        k = np.stack([np.asarray(factors.meridional_scale), np.asarray(factors.parallel_scale)])
        # Between grid nodes k can pass its node values by at most the largest neighbour change.
        step = max(
            float(np.max(np.abs(np.diff(k, axis=1)), initial=0.0)),
            float(np.max(np.abs(np.diff(k, axis=2)), initial=0.0)),
        )
        self.k_lo, self.k_hi = float(k.min()) - step, float(k.max()) + step
        # |grad ln k| from the same grid, doubled; the grid spacing in metres is at least
        # M_min x (the spacing in radians) x cos(latitude) for the longitude direction.
        cos_min = np.cos(np.radians(max(abs(south), abs(north))))
        spacing_m = geodesic.M_MIN * np.radians(
            min((east - west) * cos_min, north - south) / (GRID - 1)
        )
        grad = 2 * step / self.k_lo / spacing_m if spacing_m > 0 else 0.0
        phi = np.radians(min(abs(max_lat) + radius_deg, 89.0))
        curvature = np.sqrt(2.0) * (np.tan(phi) + geodesic.CHRISTOFFEL) / geodesic.M_MIN
        curvature = (curvature + grad) / self.k_lo
        # Every radius of curvature, M and C, is at most a / sqrt(1 - e^2).
        ell = np.sqrt(2.0) * geodesic.A_M / np.sqrt(1 - geodesic.E2) * np.radians(SEGMENT_DEG)
        self.slack_m = float(curvature * (self.k_hi * ell) ** 2 / 8) + PROJ_SLACK_M

    def project(self, geoms: np.ndarray) -> np.ndarray:
        return shapely.transform(
            geoms, lambda xy: np.column_stack(self._to.transform(xy[:, 0], xy[:, 1]))
        )
