"""People exposed: how many people live within a distance of active hazard areas, per district.

From a population raster when one is configured (read with rasterio one district window at a
time; a cell counts when its centre lies within the distance, geodesic on WGS 84, of the nearest
point of an active hazard: gis/analysis/exposure_cells.py), else from the villages' own
populations. The answer says which source
it used, and when the raster is modelled (the demo's is) it says so in every summary.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import rasterio
import rasterio.errors
import rasterio.io
import rasterio.transform
import rasterio.windows
import shapely
import sqlalchemy as sa
from pyproj import CRS, Transformer

from gis.analysis import exposure_cells, geodesic, pairs, sql
from gis.analysis.common import NO_DATA_NOTICE, active_sql, custom_plans
from gis.analysis.pairs_now import PAIRS_NOW_SQL, pairs_now
from gis.analysis.sql import quote
from gis.errors import Forbidden
from gis.items import compile_statement, driver_connection
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

# The active hazards that may be within reach of the cells: their bounding boxes meet the cells'
# extent grown by a lon/lat radius that provably leaves none out (geodesic.search_degrees).
HAZARDS_SQL = """
SELECT ST_AsBinary(h.geom)
FROM {hazard} h
WHERE {active}
  AND h.geom && ST_Expand(ST_MakeEnvelope(:west, :south, :east, :north, 4326), :pad_deg)
"""


@dataclass
class _Cells:
    """The populated cells counted, each once: its district (index into the areas), its people,
    and its centre in lon/lat."""

    area: np.ndarray
    people: np.ndarray
    lonlat: np.ndarray


def _from_raster(conn: sa.Connection, q: Exposure, raster: Raster) -> list[dict[str, Any]]:
    """Sum the raster's cells whose centres lie in each district, and those also within reach.

    Each district is read as its own window, so memory follows the largest district, not the
    raster. A cell is exposed when its centre is within `within_m` geodesic metres of an active
    hazard (gis/analysis/exposure_cells.py: decided in bulk in a local projection with proven
    bounds, the few cells near the threshold measured on the ellipsoid).
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
    with rasterio.open(raster.path) as src:
        cells = _cells(src, _to_raster_crs(src, shapely.from_wkb([a.wkb for a in areas])))
    exposed = np.zeros(len(cells.people), dtype=bool)
    if len(cells.people):
        lon, lat = cells.lonlat[:, 0], cells.lonlat[:, 1]
        params: dict[str, object] = {
            "west": float(lon.min()),
            "south": float(lat.min()),
            "east": float(lon.max()),
            "north": float(lat.max()),
            "pad_deg": geodesic.search_degrees(q.within_m, float(np.abs(lat).max())),
        }
        statement = HAZARDS_SQL.format(
            hazard=quote(q.hazard.table.name), active=active_sql("h", q.hazard, params)
        )
        hazards = shapely.from_wkb(_binary_column(conn, statement, params))
        exposed = exposure_cells.within_any(cells.lonlat, list(hazards), q.within_m)
    n = len(areas)
    people = np.bincount(cells.area, weights=cells.people, minlength=n)
    near = np.bincount(cells.area, weights=np.where(exposed, cells.people, 0.0), minlength=n)
    return [
        {
            "id": area.id,
            "district": area.name,
            "district_code": area.code,
            "population": round(float(people[i])),
            "people_exposed": round(float(near[i])),
            "exposed_pct": _pct(float(near[i]), float(people[i])),
        }
        for i, area in enumerate(areas)
    ]


def _binary_column(conn: sa.Connection, statement: str, params: dict[str, object]) -> list[bytes]:
    """The first column of a statement's rows, fetched in PostgreSQL's binary format: tens of
    thousands of WKB values arrive as they are, not as hex text to decode (half the time)."""
    compiled = compile_statement(sa.text(statement).bindparams(**params))
    with driver_connection(conn).cursor(binary=True) as cur:
        cur.execute(compiled.sql, compiled.constants)
        return [row[0] for row in cur.fetchall()]


def _cells(src: rasterio.io.DatasetReader, shapes: np.ndarray) -> _Cells:
    """The populated cells whose centre lies in a district (on or inside its boundary), each
    counted once — in the first district by id, as places are (the coverage rule) — so the
    districts add up to the total. Read in strips of rows over the districts' extent, keeping only
    populated cells, so memory follows a strip, not the raster."""
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for rows, cols, values in _populated(src, shapely.total_bounds(shapes)):
        xs, ys = rasterio.transform.xy(src.transform, rows, cols, offset="center")
        centres = shapely.points(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
        cell, area = shapely.STRtree(centres).query(shapes, predicate="intersects")[::-1]
        # The lowest district index per cell (the areas come sorted by id).
        order = np.lexsort((area, cell))
        first = order[np.r_[True, cell[order][1:] != cell[order][:-1]]] if len(order) else order
        found.append((area[first], values[cell[first]], np.column_stack([xs, ys])[cell[first]]))
    if not found:
        return _Cells(np.zeros(0, dtype=int), np.zeros(0), np.zeros((0, 2)))
    area, people, xy = (np.concatenate(f) for f in zip(*found, strict=True))
    return _Cells(area, people, _to_lonlat(src, xy[:, 0], xy[:, 1]))


STRIP_CELLS = 4_000_000  # cells read at a time


def _populated(
    src: rasterio.io.DatasetReader, bounds: np.ndarray
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(row, column, people) of the cells with people (finite, > 0; nodata is nobody) in the
    window of `bounds` (raster CRS), strip by strip; rows and columns are the raster's."""
    full = rasterio.windows.Window(0, 0, src.width, src.height)
    try:
        window = rasterio.windows.from_bounds(*bounds, transform=src.transform)
        window = window.round_offsets(op="floor").round_lengths(op="ceil").intersection(full)
    except rasterio.errors.WindowError:  # the districts lie outside the raster
        return
    col0, row0 = int(window.col_off), int(window.row_off)
    width, height = int(window.width), int(window.height)
    step = max(1, STRIP_CELLS // max(width, 1))
    for top in range(row0, row0 + height, step):
        strip = rasterio.windows.Window(col0, top, width, min(step, row0 + height - top))
        data = src.read(1, window=strip, masked=True).astype("float64").filled(0.0)
        data[~np.isfinite(data)] = 0.0
        rows, cols = np.nonzero(data > 0)
        if len(rows):
            yield rows + top, cols + col0, data[rows, cols]


def _to_raster_crs(src: rasterio.io.DatasetReader, geoms: np.ndarray) -> np.ndarray:
    crs = CRS.from_user_input(src.crs) if src.crs else CRS.from_epsg(4326)
    if crs.equals(CRS.from_epsg(4326)):
        return geoms
    to_raster = Transformer.from_crs(4326, crs, always_xy=True)
    return shapely.transform(
        geoms, lambda xy: np.column_stack(to_raster.transform(xy[:, 0], xy[:, 1]))
    )


def _to_lonlat(src: rasterio.io.DatasetReader, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    crs = CRS.from_user_input(src.crs) if src.crs else CRS.from_epsg(4326)
    if not crs.equals(CRS.from_epsg(4326)):
        xs, ys = Transformer.from_crs(crs, 4326, always_xy=True).transform(xs, ys)
    return np.column_stack([xs, ys])


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
        "method": "people in raster cells whose centre lies within the distance (geodesic on "
        "WGS 84, to the nearest point) of an active hazard area, each cell counted once, in one "
        "district",
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
    FROM ({pairs_now}) m JOIN {hazard} h ON h.id = m.hazard_id
    WHERE m.distance_m <= :within_m AND {active}
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
    # read-only, like coverage: stored pairs of fresh rows plus those measured now (pairs_now.py)
    now = pairs_now(conn, q.hazard, q.places, q.within_m)
    name, code = _area_sql(q)
    params: dict[str, object] = {
        "within_m": q.within_m,
        "area_id": q.area_id,
        "pairing": pairs.pairing(q.hazard, q.places),
    } | now.params()
    measured = sql.fill(PAIRS_NOW_SQL, {"pairs": quote(pairs.pairs_table.name), "pairs_needed": ""})
    statement = sql.fill(
        PLACES_SQL,
        {
            "name": name,
            "code": code,
            "area": quote(q.area.table.name),
            "places": quote(q.places.table.name),
            "population": quote(q.places.population_field),
            "pairs_now": measured,
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
