"""Checking every row of an input against a layer spec, collecting every problem with its row.

Nothing is written until all rows pass; the problems found are returned together so a data
manager can fix a file in one go.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import ValidationError

from gis.errors import InvalidInput, RowError
from gis.settings import ImportSettings
from gis.spec import LayerSpec

# Columns a file may carry that are not properties and are not worth a warning.
BOOKKEEPING = {"id", "fid", "ogc_fid", "created_at", "updated_at", "deleted_at", "import_batch_id"}


@dataclass
class ValidRows:
    """Rows ready to write: property dicts and EWKB hex geometries, in file order."""

    records: list[dict[str, object]]
    geometries: list[str]
    ignored_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def validate_frame(
    frame: gpd.GeoDataFrame,
    spec: LayerSpec,
    limits: ImportSettings,
    *,
    id_field: str = "external_id",
    default_source: str | None = None,
    make_valid: bool = False,
) -> ValidRows:
    if len(frame) == 0:
        raise InvalidInput([RowError(None, None, "the input has no features")])
    errors: list[RowError] = [
        RowError(row, "geometry", "the geometry could not be parsed")
        for row in frame.attrs.get("unparseable_geometry_rows", [])
    ]
    frame = _restore_shapefile_names(frame, {*spec.property_names, id_field, "source"})
    columns = [c for c in frame.columns if c != frame.geometry.name]
    if id_field not in columns:
        raise InvalidInput(
            [
                RowError(
                    None,
                    id_field,
                    f"no '{id_field}' column: every row needs a stable id so that re-importing "
                    f"updates instead of duplicating (columns found: {', '.join(columns) or 'none'})",
                )
            ]
        )
    if "source" not in columns and not default_source:
        raise InvalidInput(
            [RowError(None, "source", "no 'source' column and no default source given")]
        )
    known = set(spec.property_names)
    ignored = sorted(c for c in columns if c not in known | {id_field, "source"} | BOOKKEEPING)
    unparseable = set(frame.attrs.get("unparseable_geometry_rows", []))
    geometries, geometry_errors = _check_geometries(
        frame.geometry.to_numpy(), spec, limits, make_valid
    )
    errors += [e for e in geometry_errors if e.row not in unparseable]

    records: list[dict[str, object]] = []
    seen: dict[str, int] = {}
    props = [c for c in columns if c in known]
    for i, raw in enumerate(
        frame[[id_field, *props, *(["source"] if "source" in columns else [])]].itertuples(
            index=False
        )
    ):
        row = i + 1
        values = {name: _plain(v) for name, v in zip([id_field, *props, "source"], raw)}
        external_id = values.pop(id_field)
        if external_id is None or str(external_id).strip() == "":
            errors.append(RowError(row, id_field, "missing id"))
            continue
        external_id = _id_text(external_id)
        if external_id in seen:
            errors.append(
                RowError(
                    row, id_field, f"id '{external_id}' is also used by row {seen[external_id]}"
                )
            )
            continue
        seen[external_id] = row
        source = values.pop("source", None) or default_source
        try:
            model = spec.properties.model_validate(
                {k: v for k, v in values.items() if v is not None}
            )
        except ValidationError as exc:
            errors.extend(_row_errors(row, exc))
            continue
        records.append(
            {"external_id": external_id, "source": str(source), **model.model_dump(mode="python")}
        )
    if errors:
        raise InvalidInput(sorted(errors, key=lambda e: (e.row or 0, e.field or "")))
    warnings = []
    if frame.attrs.get("crs_assumed"):
        warnings.append("no CRS declared: coordinates taken as longitude/latitude (EPSG:4326)")
    return ValidRows(records, geometries, ignored, warnings)


def _restore_shapefile_names(frame: gpd.GeoDataFrame, known: set[str]) -> gpd.GeoDataFrame:
    """Shapefiles cut field names to 10 characters: map 'external_i' back to 'external_id'."""
    renames = {}
    for column in frame.columns:
        if column not in known and len(column) == 10:
            matches = [k for k in known if k.startswith(column)]
            if len(matches) == 1:
                renames[column] = matches[0]
    return frame.rename(columns=renames) if renames else frame


def _plain(value: object) -> object:
    """Numpy/pandas scalars to plain Python; missing values to None; midnight timestamps to dates."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.time() == dt.time(0) and value.tzinfo is None:
        return value.date()
    if isinstance(value, str):
        return value.strip() or None
    return value


def _id_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _row_errors(row: int, exc: ValidationError) -> list[RowError]:
    out = []
    for err in exc.errors(include_url=False):
        field_name = ".".join(str(p) for p in err["loc"]) or None
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        out.append(RowError(row, field_name, message))
    return out


def _check_geometries(
    geoms: np.ndarray, spec: LayerSpec, limits: ImportSettings, make_valid: bool
) -> tuple[list[str], list[RowError]]:
    errors: list[RowError] = []
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for i in np.nonzero(missing)[0]:
        errors.append(RowError(int(i) + 1, "geometry", "the feature has no geometry"))
    geoms = np.where(missing, shapely.Point(0, 0), geoms)
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
    for i in np.nonzero(checked)[0]:
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
