"""Vector tiles (Mapbox Vector Tile, built by PostGIS `ST_AsMVT`) of any layer, in the
WebMercatorQuad tile matrix set, for OGC API – Tiles, the served maps and QGIS.

A tile holds exactly the live features whose geometry intersects the tile, with the fields the
caller's role may read (the same `visible_fields` as the items) and the feature id. The filter
runs in the column's own CRS (the tile's envelope is transformed, never the indexed column), so the
GiST index is used. A polygon too small to survive the tile's 4096-unit grid at a low zoom is kept
as a point inside its part of the tile: a tile never drops a hazard area.

Below `LIGHT_BELOW` a tile is light: the id and only the fields the layer's style reads (a
hazard area's status), since at national zoom a tile holds thousands of features and their
popup fields made it megabytes; a map fetches a clicked feature's fields from its item. A client
asks for other fields with `properties` (any zoom); the tileset metadata says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from gis.errors import InvalidParameter
from gis.spec import LayerSpec, Role

TILE_MATRIX_SET = "WebMercatorQuad"
TILE_MATRIX_SET_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
MIN_ZOOM, MAX_ZOOM = 0, 22
# MVT units across a tile. A coarser grid for the light tiles was measured and left: at 1024 the
# large demo's national hazard tile shrinks from 0.43 to 0.24 MB gzipped, but 5,253 of its 19,728
# areas collapse to points (32 at 4096), which the map draws as rings far bigger than the specks
# the other areas make, and the browser draws both grids in the same time (tilecanvas.js).
EXTENT = 4096
# Tiles of a lower zoom are light (see above). Measured on the large demo: at z 7 the fields make
# more than half of a hazard tile (1.87 MB full, 0.82 MB light) and two thirds of a sessions tile
# (4.1 / 1.4 MB); from z 11 a full tile is a few kilobytes (sessions: 12 kB), so a client there
# gets every field in the tile and needs no item requests.
LIGHT_BELOW = 11
BUFFER = 64  # units drawn beyond the tile's edge, so strokes join across tiles
MVT = "application/vnd.mapbox-vector-tile"


@dataclass(frozen=True)
class TileId:
    z: int
    row: int  # y, counted from the north
    col: int  # x, counted from the west

    def check(self) -> None:
        if not (MIN_ZOOM <= self.z <= MAX_ZOOM):
            raise InvalidParameter(f"tileMatrix {self.z} is outside {MIN_ZOOM}…{MAX_ZOOM}")
        size = 2**self.z
        if not (0 <= self.row < size and 0 <= self.col < size):
            raise InvalidParameter(
                f"tile {self.z}/{self.row}/{self.col} is outside the matrix: tileRow and tileCol "
                f"must be in 0…{size - 1} at tileMatrix {self.z}"
            )

    def bounds_lonlat(self) -> tuple[float, float, float, float]:
        """The tile's box in lon/lat (west, south, east, north)."""
        n = 2**self.z

        def lon(col: int) -> float:
            return col / n * 360.0 - 180.0

        def lat(row: int) -> float:
            return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

        return (lon(self.col), lat(self.row + 1), lon(self.col + 1), lat(self.row))


def tile_fields(spec: LayerSpec, role: Role) -> tuple[str, ...]:
    """Every property a tile may carry for this role: those the items show it, nothing hidden."""
    return spec.visible_fields(role)


def light_fields(spec: LayerSpec, role: Role) -> tuple[str, ...]:
    """What a light tile carries besides the id: the fields the map's style reads (map.js colours
    a tiled feature by `style.color_by`, nothing else), if the role may read them."""
    wanted = {spec.style.color_by} - {None}
    return tuple(f for f in tile_fields(spec, role) if f in wanted)


def default_fields(spec: LayerSpec, role: Role, z: int) -> tuple[str, ...]:
    """The fields of a tile asked for without `properties`: light below `LIGHT_BELOW`."""
    return light_fields(spec, role) if z < LIGHT_BELOW else tile_fields(spec, role)


def chosen_fields(spec: LayerSpec, role: Role, names: str) -> tuple[str, ...]:
    """The fields named by a `properties` parameter (comma-separated), in the spec's order; a
    name the role may not read is refused as unknown (a hidden field's name is not confirmed)."""
    visible = tile_fields(spec, role)
    asked = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in asked if n not in visible]
    if unknown:
        raise InvalidParameter(
            f"properties: no field {unknown[0][:40]!r} in {spec.name}'s tiles; "
            f"fields: {', '.join(visible)}"
        )
    return tuple(f for f in visible if f in asked)


def _sql(fields: tuple[str, ...], spec: LayerSpec, bind: Callable[[str], str]) -> str:
    t = spec.table
    # Identifiers come from the spec only (quoted); values are bound.
    quote = postgresql.dialect().identifier_preparer.quote
    columns = "".join(f", t.{quote(f)}" for f in fields)
    passed = "".join(f", hit.{quote(f)}" for f in fields)
    return f"""
WITH env AS (SELECT ST_TileEnvelope({bind("z")}, {bind("x")}, {bind("y")}) AS e),
box AS (SELECT e, ST_Transform(e, 4326) AS b FROM env),
hit AS (
  SELECT t.id AS id{columns}, ST_Transform(t.geom, 3857) AS g, box.e
  FROM {quote(t.name)} t, box
  WHERE t.deleted_at IS NULL AND t.geom && box.b AND ST_Intersects(t.geom, box.b)
),
mvt AS (
  SELECT hit.id{passed},
         COALESCE(
           ST_AsMVTGeom(hit.g, hit.e, {EXTENT}, {BUFFER}, true),
           -- collapsed on the grid: a point on the area, inside the tile. When the area's box
           -- lies in the tile's, any point on it will do and the costly intersection is spared;
           -- the boxes are rounded outwards, so a point that still falls outside the tile (NULL)
           -- goes to the intersection's
           ST_AsMVTGeom(CASE WHEN hit.g @ hit.e THEN ST_PointOnSurface(hit.g) END,
                        hit.e, {EXTENT}, 0, true),
           ST_AsMVTGeom(ST_PointOnSurface(ST_Intersection(hit.g, hit.e)), hit.e, {EXTENT}, 0, true)
         ) AS geom
  FROM hit
)
SELECT COALESCE(ST_AsMVT(mvt, {bind("layer")}, {EXTENT}, 'geom', 'id'), ''::bytea) FROM mvt
"""


def _values(spec: LayerSpec, tile: TileId) -> dict[str, object]:
    return {"z": tile.z, "x": tile.col, "y": tile.row, "layer": spec.name}


def tile_statement(
    spec: LayerSpec, role: Role, tile: TileId, fields: tuple[str, ...] | None = None
) -> tuple[sa.TextClause, dict[str, object]]:
    """One statement returning the tile's bytes (empty bytes for an empty tile); `fields`
    default to the zoom's (`default_fields`)."""
    shape = default_fields(spec, role, tile.z) if fields is None else fields
    return sa.text(_sql(shape, spec, lambda name: f":{name}")), _values(spec, tile)


# The statement's text per layer and field list, in psycopg's placeholders: a tile is a hot path,
# and SQLAlchemy's handling of a text statement costs about a millisecond a request. Bounded: a
# client's `properties` lists can make many shapes.
_PSYCOPG_SQL: dict[tuple[str, tuple[str, ...]], str] = {}
_REMEMBERED = 512


def counted_tile(
    conn: sa.Connection,
    spec: LayerSpec,
    role: Role,
    tile: TileId,
    fields: tuple[str, ...],
    kept_version: int | None,
) -> tuple[int, bytes | None]:
    """In one statement, so in one snapshot: the layer's change counter (gis/layer_versions.py)
    and the tile as MVT bytes, built only when the counter differs from `kept_version` (None
    when the bytes come back). The caller has checked that `role` may read `spec` and that
    `fields` are visible to it."""
    tile.check()
    sql = _PSYCOPG_SQL.get((spec.name, fields))
    if sql is None:
        if len(_PSYCOPG_SQL) >= _REMEMBERED:
            _PSYCOPG_SQL.clear()
        built = _sql(fields, spec, lambda name: f"%({name})s")
        # The tile is a scalar subquery, run only when its value is needed: a CASE that takes
        # the other branch never runs it (PostgreSQL evaluates an InitPlan on first use).
        sql = _PSYCOPG_SQL[(spec.name, fields)] = f"""
SELECT v.version,
       CASE WHEN v.version = CAST(%(kept)s AS bigint) THEN NULL ELSE ({built}) END
FROM (SELECT COALESCE((SELECT version FROM layer_versions WHERE layer = %(table)s), 0)
             AS version) v
"""
    values = _values(spec, tile) | {"kept": kept_version, "table": str(spec.table.name)}
    driver: psycopg.Connection = conn.connection.driver_connection  # type: ignore[assignment]
    with driver.cursor() as cur:
        # prepared on each pooled connection from its first tile on (planning is about a
        # quarter of a millisecond, as much as PostgreSQL takes to build a small tile)
        row = cur.execute(sql, values, prepare=True).fetchone()
    if row is None:  # the FROM is one row, always
        raise RuntimeError("the tile statement returned no row")
    return int(row[0]), None if row[1] is None else bytes(row[1])


def tileset(spec: LayerSpec, role: Role) -> dict[str, object]:
    """What a client needs to read the layer's tiles, without links (the API adds them): the
    tile matrix set, the zoom range, the data type and the one vector layer with its fields."""
    types = {"Point": "points", "MultiPolygon": "polygons", "LineString": "lines"}
    light = light_fields(spec, role)
    return {
        "title": f"{spec.title} (vector tiles)",
        "description": (
            f"Below tileMatrix {LIGHT_BELOW} a tile carries only the feature id"
            + (f" and {', '.join(light)}" if light else "")
            + f"; from {LIGHT_BELOW} on, every field listed in propertiesSchema. At any "
            "tileMatrix, ?properties=a,b (comma-separated names from propertiesSchema) gives "
            "the id and exactly those fields; every tile holds every feature in its bounds."
        ),
        "lightBelowTileMatrix": LIGHT_BELOW,
        "lightProperties": list(light),
        "dataType": "vector",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "tileMatrixSetURI": TILE_MATRIX_SET_URI,
        "tileMatrixSetLimits": [],
        "minzoom": MIN_ZOOM,
        "maxzoom": MAX_ZOOM,
        "layers": [
            {
                "id": spec.name,
                "title": spec.title,
                "dataType": "vector",
                "geometryType": types.get(spec.geometry_type, spec.geometry_type),
                "minTileMatrix": str(MIN_ZOOM),
                "maxTileMatrix": str(MAX_ZOOM),
                "propertiesSchema": {
                    "type": "object",
                    "properties": {"id": {"type": "integer"}}
                    | {f: {"type": "string"} for f in tile_fields(spec, role)},
                },
            }
        ],
    }
