"""Vector tiles (Mapbox Vector Tile, built by PostGIS `ST_AsMVT`) of any layer, in the
WebMercatorQuad tile matrix set, for OGC API – Tiles, the served maps and QGIS.

A tile holds exactly the live features whose geometry intersects the tile, with the fields the
caller's role may read (the same `visible_fields` as the items) and the feature id. The filter
runs in the column's own CRS (the tile's envelope is transformed, never the indexed column), so the
GiST index is used. A polygon too small to survive the tile's 4096-unit grid at a low zoom is kept
as a point inside its part of the tile: a tile never drops a hazard area.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from gis.errors import InvalidParameter
from gis.spec import LayerSpec, Role

TILE_MATRIX_SET = "WebMercatorQuad"
TILE_MATRIX_SET_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
MIN_ZOOM, MAX_ZOOM = 0, 22
EXTENT = 4096  # MVT units across a tile
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
    """The properties a tile carries for this role: those the items show it, nothing hidden."""
    return spec.visible_fields(role)


def tile_statement(
    spec: LayerSpec, role: Role, tile: TileId
) -> tuple[sa.TextClause, dict[str, object]]:
    """One statement returning the tile's bytes (empty bytes for an empty tile)."""
    t = spec.table
    fields = tile_fields(spec, role)
    # Identifiers come from the spec only (quoted); values are bound.
    quote = postgresql.dialect().identifier_preparer.quote
    columns = "".join(f", t.{quote(f)}" for f in fields)
    passed = "".join(f", hit.{quote(f)}" for f in fields)
    sql = f"""
WITH env AS (SELECT ST_TileEnvelope(:z, :x, :y) AS e),
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
           ST_AsMVTGeom(ST_PointOnSurface(ST_Intersection(hit.g, hit.e)), hit.e, {EXTENT}, 0, true)
         ) AS geom
  FROM hit
)
SELECT COALESCE(ST_AsMVT(mvt, :layer, {EXTENT}, 'geom', 'id'), ''::bytea) FROM mvt
"""
    return sa.text(sql), {"z": tile.z, "x": tile.col, "y": tile.row, "layer": spec.name}


def build_tile(conn: sa.Connection, spec: LayerSpec, role: Role, tile: TileId) -> bytes:
    """The tile as MVT bytes; the caller has checked that `role` may read `spec`."""
    tile.check()
    stmt, values = tile_statement(spec, role, tile)
    return bytes(conn.execute(stmt, values).scalar_one())


def tileset(spec: LayerSpec, role: Role) -> dict[str, object]:
    """What a client needs to read the layer's tiles, without links (the API adds them): the
    tile matrix set, the zoom range, the data type and the one vector layer with its fields."""
    types = {"Point": "points", "MultiPolygon": "polygons", "LineString": "lines"}
    return {
        "title": f"{spec.title} (vector tiles)",
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
