"""Checking the geometries of an input against a layer: type, range, area of interest, validity."""

from __future__ import annotations

import numpy as np
import shapely

from gis.errors import RowError
from gis.settings import ImportSettings
from gis.spec import LayerSpec


def check_geometries(
    geoms: np.ndarray, spec: LayerSpec, limits: ImportSettings, make_valid: bool
) -> tuple[list[str], list[RowError]]:
    errors: list[RowError] = []
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for i in np.nonzero(missing)[0]:
        errors.append(RowError(int(i) + 1, "geometry", "the feature has no geometry"))
    geoms = np.where(missing, shapely.Point(0, 0), geoms)
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
    types = shapely.get_type_id(geoms)
    if spec.geometry_type == "MultiPolygon":
        allowed = {3, 6}  # Polygon, MultiPolygon
        polygons = np.nonzero(types == 3)[0]
        geoms[polygons] = [shapely.MultiPolygon([g]) for g in geoms[polygons]]
    else:
        allowed = {0}  # Point
    names = {
        0: "Point",
        1: "LineString",
        2: "LinearRing",
        3: "Polygon",
        4: "MultiPoint",
        5: "MultiLineString",
        6: "MultiPolygon",
        7: "GeometryCollection",
    }
    wrong_type = ~np.isin(types, list(allowed)) & ~missing
    for i in np.nonzero(wrong_type)[0]:
        errors.append(
            RowError(
                int(i) + 1,
                "geometry",
                f"the geometry is a {names.get(int(types[i]), 'geometry')}, but layer "
                f"'{spec.name}' takes {spec.geometry_type}"
                + (" (Polygon is accepted too)" if spec.geometry_type == "MultiPolygon" else ""),
            )
        )
    checked = ~missing & ~wrong_type
    geoms = shapely.transform(geoms, lambda c: np.round(c, limits.coordinate_decimals))
    bounds = shapely.bounds(geoms)
    aoi = limits.aoi_bbox
    b = bounds.T
    fine = (
        (aoi[0] <= b[0]) & (b[2] <= aoi[2]) & (aoi[1] <= b[1]) & (b[3] <= aoi[3])
    )  # inside the area of interest (so in range): only the others are looked at one by one
    for i in np.nonzero(checked & ~fine)[0]:
        row = int(i) + 1
        minx, miny, maxx, maxy = bounds[i]
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            errors.append(
                RowError(
                    row,
                    "geometry",
                    f"longitude/latitude out of range (x {minx:g}…{maxx:g}, y {miny:g}…{maxy:g}): longitude must be within ±180 and latitude within ±90",
                )
            )
            checked[i] = False
        elif not _inside(aoi, minx, miny, maxx, maxy):
            if _inside(aoi, miny, minx, maxy, maxx):
                reason = (
                    f"latitude and longitude look swapped: ({minx:g}, {miny:g}) is outside the "
                    f"area of interest, ({miny:g}, {minx:g}) would be inside it"
                )
            else:
                reason = (
                    f"the feature (x {minx:g}…{maxx:g}, y {miny:g}…{maxy:g}) falls outside the "
                    f"area of interest {list(aoi)}"
                )
            errors.append(RowError(row, "geometry", reason))
            checked[i] = False
    invalid_rows = np.nonzero(checked & ~shapely.is_valid(geoms))[0]
    for i in invalid_rows:
        if make_valid:
            geoms[i] = _repaired(geoms[i])
            if geoms[i] is None:
                errors.append(RowError(int(i) + 1, "geometry", "the polygon could not be repaired"))
        else:
            errors.append(
                RowError(
                    int(i) + 1,
                    "geometry",
                    f"the polygon is not valid ({shapely.is_valid_reason(geoms[i])}): "
                    "fix it, or import with --make-valid to repair it",
                )
            )
    wkb = shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True)
    return list(wkb), errors


def _repaired(geom: shapely.Geometry) -> shapely.Geometry | None:
    fixed = shapely.make_valid(geom)
    parts = [g for g in shapely.get_parts(fixed) if shapely.get_type_id(g) in (3, 6)]
    polys = [p for g in parts for p in shapely.get_parts(g)]
    return shapely.MultiPolygon(polys) if polys else None


def _inside(
    aoi: tuple[float, float, float, float], minx: float, miny: float, maxx: float, maxy: float
) -> bool:
    return aoi[0] <= minx and maxx <= aoi[2] and aoi[1] <= miny and maxy <= aoi[3]
