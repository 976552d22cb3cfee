"""People exposed: how many people live within a distance of active hazard areas, per district.

From a population raster when one is configured (read with rasterio one district window at a
time; a cell counts when its centre lies within a hazard's buffer, drawn by PostGIS on geography),
else from the villages' own populations. The answer says which source
it used, and when the raster is modelled (the demo's is) it says so in every summary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import rasterio
import rasterio.errors
import rasterio.features
import rasterio.io
import rasterio.transform
import rasterio.windows
import shapely
import sqlalchemy as sa
from pyproj import CRS, Transformer

from gis.analysis import pairs, sql
from gis.analysis.common import NO_DATA_NOTICE, active_sql, custom_plans
from gis.analysis.sql import quote
from gis.errors import Forbidden
from gis.spec import LayerSpec, Role

# Tags a raster carries to say it is modelled, not observed (the demo raster sets them).
MODELLED_TAG = "SAFEGROUND_MODELLED"
DESCRIPTION_TAG = "SAFEGROUND_DESCRIPTION"


@dataclass(frozen=True)
class Raster:
    """A population raster named by its settings key (a request never names a path)."""

    key: str
    path: Path


@dataclass(frozen=True)
class Exposure:
    hazard: LayerSpec
    area: LayerSpec
    places: LayerSpec | None  # population fallback: a layer with a population field
    within_m: float
    area_id: int | None
    role: Role
    area_label: str | None = None


def people_exposed(conn: sa.Connection, q: Exposure, raster: Raster | None) -> bytes:
    """Per district: population, people within `within_m` of an active hazard, and the share.

    A FeatureCollection of the districts (geometry null: the figures are the point) with the
    totals and the source in `summary`, as UTF-8 JSON.
    """
    if not q.hazard.readable_by(q.role):
        raise Forbidden(
            "exposure reads the hazard areas, which need an API key of a partner or above"
        )
    custom_plans(conn)
    rows: list[dict[str, Any]]
    if raster is not None and raster.path.is_file():
        rows, source = _from_raster(conn, q, raster), _raster_source(raster)
    else:
        rows, source = _from_places(conn, q), _places_source(q, raster)
    total_people = sum(r["population"] or 0 for r in rows)
    total_exposed = sum(r["people_exposed"] or 0 for r in rows)
    summary = {
        "within_m": q.within_m,
        "districts": len(rows),
        "population": round(total_people),
        "people_exposed": round(total_exposed),
        "exposed_pct": _pct(total_exposed, total_people),
        **source,
    }
    features = [
        {"type": "Feature", "id": r.pop("id"), "geometry": None, "properties": r}
        for r in sorted(rows, key=lambda r: (-(r["people_exposed"] or 0), r["district"] or ""))
    ]
    parameters = {
        "within_m": q.within_m,
        "district": q.area_label,
        "raster": raster.key if raster else None,
        "hazard_layer": q.hazard.name,
    }
    return orjson.dumps(
        {
            "type": "FeatureCollection",
            "features": features,
            "summary": summary,
            "parameters": parameters,
            "notice": NO_DATA_NOTICE,
        }
    )


def _pct(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def _area_sql(q: Exposure) -> tuple[str, str]:
    names = q.area.name_fields
    return (
        f"a.{quote(names[0])}" if names else "a.external_id",
        f"a.{quote(q.area.code_field)}" if q.area.code_field else "CAST(NULL AS text)",
    )


# --- from the raster ---------------------------------------------------------------------------

# OFFSET 0 makes PostgreSQL draw each buffer once rather than once per use.
BUFFERS_SQL = """
SELECT ST_AsBinary(b.geom)
FROM (
    SELECT CAST(ST_Buffer(geography(h.geom), :within_m, 'quad_segs=4') AS geometry) AS geom
    FROM {hazard} h
    WHERE {active}
      AND h.geom && ST_Expand(ST_SetSRID(CAST(:extent AS box2d), 4326), :pad_deg, :pad_deg)
    OFFSET 0
) b
"""


def _from_raster(conn: sa.Connection, q: Exposure, raster: Raster) -> list[dict[str, Any]]:
    """Sum the raster's cells whose centres lie in each district, and those also in a buffer.

    Each district is read as its own window, so memory follows the largest district, not the
    raster. Buffers are drawn by PostGIS around each active hazard (geography, in a local
    projection: far finer than a raster cell).
    """
    name, code = _area_sql(q)
    areas = conn.execute(
        sa.text(
            f"SELECT a.id, {name} AS name, {code} AS code, ST_AsBinary(a.geom) AS wkb FROM {quote(q.area.table.name)} a "
            "WHERE a.deleted_at IS NULL AND (CAST(:area_id AS bigint) IS NULL OR a.id = :area_id) ORDER BY a.id"
        ),
        {"area_id": q.area_id},
    ).all()
    if not areas:
        return []
    shapes = shapely.from_wkb([a.wkb for a in areas])
    extent = shapely.total_bounds(shapes)
    params: dict[str, object] = {
        "within_m": q.within_m,
        "extent": "BOX({} {},{} {})".format(*extent),
        # A degree of latitude is at least 110.5 km, of longitude at least that times cos(lat).
        "pad_deg": q.within_m
        / 110_574.0
        / max(0.01, math.cos(math.radians(max(abs(extent[1]), abs(extent[3]))))),
    }
    sql = BUFFERS_SQL.format(
        hazard=quote(q.hazard.table.name), active=active_sql("h", q.hazard, params)
    )
    buffers = shapely.from_wkb(conn.execute(sa.text(sql), params).scalars().all())
    rows = []
    with rasterio.open(raster.path) as src:
        shapes, buffers = _to_raster_crs(src, shapes), _to_raster_crs(src, buffers)
        tree = shapely.STRtree(buffers)
        for area, shape in zip(areas, shapes, strict=True):
            people, exposed = _window_sums(src, shape, tree)
            rows.append(
                {
                    "id": area.id,
                    "district": area.name,
                    "district_code": area.code,
                    "population": round(people),
                    "people_exposed": round(exposed),
                    "exposed_pct": _pct(exposed, people),
                }
            )
    return rows


def _to_raster_crs(src: rasterio.io.DatasetReader, geoms: np.ndarray) -> np.ndarray:
    crs = CRS.from_user_input(src.crs) if src.crs else CRS.from_epsg(4326)
    if crs.equals(CRS.from_epsg(4326)):
        return geoms
    to_raster = Transformer.from_crs(4326, crs, always_xy=True)
    return shapely.transform(
        geoms, lambda xy: np.column_stack(to_raster.transform(xy[:, 0], xy[:, 1]))
    )


def _window_sums(
    src: rasterio.io.DatasetReader, shape: shapely.Geometry, buffers: shapely.STRtree
) -> tuple[float, float]:
    """(people in the district, people there within a buffer) from one windowed read.

    A cell belongs to the district, or to a buffer, when its centre does: the district mask is
    rasterio's; the buffer mask is the same centre-in-polygon test done by shapely's tree for the
    populated cells only, in C — rasterio would walk each of thousands of buffers in Python.
    """
    full = rasterio.windows.Window(0, 0, src.width, src.height)
    try:
        window = rasterio.windows.from_bounds(*shape.bounds, transform=src.transform)
        window = window.round_offsets(op="floor").round_lengths(op="ceil").intersection(full)
    except rasterio.errors.WindowError:  # the district lies outside the raster
        return 0.0, 0.0
    if window.width < 1 or window.height < 1:
        return 0.0, 0.0
    data = src.read(1, window=window, masked=True).astype("float64").filled(0.0)
    data[~np.isfinite(data) | (data < 0)] = 0.0
    transform = src.window_transform(window)
    inside = rasterio.features.geometry_mask([shape], data.shape, transform, invert=True)
    rows, cols = np.nonzero(inside & (data > 0))
    if not len(rows):
        return 0.0, 0.0
    values = data[rows, cols]
    xs, ys = rasterio.transform.xy(transform, rows, cols, offset="center")
    hits = buffers.query(shapely.points(np.asarray(xs), np.asarray(ys)), predicate="within")[0]
    exposed = np.zeros(len(values), dtype=bool)
    exposed[hits] = True
    return float(values.sum()), float(values[exposed].sum())


def _raster_source(raster: Raster) -> dict[str, object]:
    with rasterio.open(raster.path) as src:
        tags = src.tags()
        cell = src.res
    modelled = tags.get(MODELLED_TAG, "").lower() in ("1", "true", "yes")
    description = tags.get(DESCRIPTION_TAG) or tags.get("TIFFTAG_IMAGEDESCRIPTION") or ""
    source = {
        "source": "raster",
        "raster": raster.key,
        "modelled": modelled,
        "raster_description": description,
        "cell_size": list(cell),
        "method": "people in raster cells whose centre lies within the distance of an "
        "active hazard area (buffers drawn by PostGIS on geography)",
    }
    if modelled:
        source["warning"] = ("MODELLED population, not observed: " + description).strip()
    return source


# --- from the villages -------------------------------------------------------------------------

# Each place counts once, in one district — the coverage rule: on a shared border the district
# asked for wins, else the lowest id — so the districts' figures add up to the total. A place is
# exposed when an active hazard's measured distance (gis/analysis/pairs.py) is within reach.
PLACES_SQL = """
WITH sited AS (
    SELECT DISTINCT ON (p.id) p.id, a.id AS area_id
    FROM {area} a JOIN {places} p ON ST_Intersects(a.geom, p.geom)
    WHERE a.deleted_at IS NULL AND p.deleted_at IS NULL
    ORDER BY p.id, a.id IS NOT DISTINCT FROM CAST(:area_id AS bigint) DESC, a.id
),
near AS (
    SELECT DISTINCT m.target_id AS id
    FROM {pairs} m JOIN {hazard} h ON h.id = m.hazard_id
    WHERE m.pairing = :pairing AND m.distance_m <= :within_m AND {active}
)
SELECT a.id, {name} AS district, {code} AS district_code,
       coalesce(sum(v.population), 0) AS population,
       coalesce(sum(v.population) FILTER (WHERE v.near), 0) AS people_exposed,
       count(v.id) FILTER (WHERE v.near AND v.population IS NULL) AS exposed_places_population_unknown
FROM {area} a
LEFT JOIN (
    SELECT s.area_id, p.id, CAST(p.{population} AS bigint) AS population, n.id IS NOT NULL AS near
    FROM sited s
    JOIN {places} p ON p.id = s.id
    LEFT JOIN near n ON n.id = p.id
) v ON v.area_id = a.id
WHERE a.deleted_at IS NULL AND (CAST(:area_id AS bigint) IS NULL OR a.id = :area_id)
GROUP BY a.id
ORDER BY a.id
"""


def _from_places(conn: sa.Connection, q: Exposure) -> list[dict[str, Any]]:
    if q.places is None or q.places.population_field is None or not q.places.readable_by(q.role):
        return []
    if q.within_m <= pairs.REACH_M:
        pairs.refresh(conn, q.hazard, q.places)
        source = "analysis_pairs"
    else:
        source = pairs.temporary_pairs(conn, q.hazard, q.places, q.within_m)
    name, code = _area_sql(q)
    params: dict[str, object] = {
        "within_m": q.within_m,
        "area_id": q.area_id,
        "pairing": pairs.pairing(q.hazard, q.places),
    }
    statement = sql.fill(
        PLACES_SQL,
        {
            "name": name,
            "code": code,
            "area": quote(q.area.table.name),
            "places": quote(q.places.table.name),
            "population": quote(q.places.population_field),
            "pairs": quote(source),
            "hazard": quote(q.hazard.table.name),
            "active": active_sql("h", q.hazard, params),
        },
    )
    rows = []
    for r in conn.execute(sa.text(statement), params).mappings():
        row = {k: int(v) if k in ("population", "people_exposed") else v for k, v in r.items()}
        row["exposed_pct"] = _pct(row["people_exposed"], row["population"])
        rows.append(row)
    return rows


def _places_source(q: Exposure, raster: Raster | None) -> dict[str, object]:
    layer = q.places.name if q.places else None
    source: dict[str, object] = {
        "source": "places",
        "layer": layer,
        "modelled": False,
        "method": f"sum of the known populations of {layer} within the distance (geodesic, to "
        "the nearest point) of an active hazard area, each place counted once, in one district; "
        "places of unknown population count as none",
    }
    if raster is not None:
        source["note"] = (
            f"raster '{raster.key}' is configured but its file is missing; figures from {layer}"
        )
    return source
